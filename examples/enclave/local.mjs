// @ts-check
// Runs the enclave example locally: a simulated enclave (test PKI and NSM-like documents) and the
// local KMS server enforcing the key's attestation condition. No AWS account, no Nitro hardware.
import { KMSClient } from '@aws-sdk/client-kms'
import { createClient, KmsKeyring } from 'envelope-sdk'
import { createTestEnclave, startLocalKms } from 'envelope-sdk/testing'
import { startEnclaveService } from './enclave.mjs'
import { forward, produce } from './parent.mjs'

const enclave = await createTestEnclave()
const kms = await startLocalKms({ attestation: { rootCertificates: [enclave.rootCertificate] } })
// As a key policy with kms:RecipientAttestation:PCR0 on kms:Decrypt.
const keyArn = kms.createKey({ requireAttestation: { pcrs: { 0: enclave.pcrs[0] } } })
const clientProvider = () => new KMSClient(kms.clientConfig())
const service = await startEnclaveService({
  keyArn,
  clientProvider,
  attestationDocument: async () => enclave.attestationDocument(),
  privateKey: enclave.privateKey,
})
try {
  const ciphertext = await produce(keyArn, clientProvider, 'the quick brown fox jumps over the lazy dog')
  console.log('enclave says:', JSON.stringify(await forward(service.url, ciphertext)))
  // The parent itself cannot decrypt: KMS wants the enclave's document.
  const denied = await createClient()
    .decrypt(new KmsKeyring({ generatorKeyId: keyArn, clientProvider }), ciphertext)
    .catch((e) => e.attempts?.[0]?.reason ?? e.message)
  console.log('parent decrypt:', denied.includes('AccessDeniedException') ? 'denied (AccessDeniedException)' : denied)
} finally {
  await service.close()
  await kms.close()
}
