// @ts-check
// Encrypt to a KMS RSA key's public key: the sender needs no AWS access at all, only the public key;
// only principals allowed kms:Decrypt on the key can read the message.
//
// Runs against the KMS-compatible local server that ships with envelope-sdk (no AWS account).
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { createClient, defaultClientProvider, KmsRsaKeyring } from 'envelope-sdk'
import { startLocalKms } from 'envelope-sdk/testing'

const local = await startLocalKms()
try {
  const keyArn = local.createKey({ keySpec: 'RSA_2048' })
  // Published once by the key's owner (aws kms get-public-key): DER SubjectPublicKeyInfo.
  const { PublicKey } = await new KMSClient(local.clientConfig()).send(new GetPublicKeyCommand({ KeyId: keyArn }))
  local.resetCalls()

  // Sender: the public key only. KMS RSA refuses signed suites (the default 0x0578 is one): use 0x0478.
  const sender = new KmsRsaKeyring({ keyId: keyArn, publicKey: PublicKey, encryptionAlgorithm: 'RSAES_OAEP_SHA_256' })
  const client = createClient()
  const encryptionContext = { purpose: 'kms-rsa example' }
  const { ciphertext } = await client.encrypt(sender, 'Hello, envelope!', { suiteId: 0x0478, encryptionContext })
  console.log(`encrypted ${ciphertext.length} bytes with ${local.calls.length} KMS calls`)

  // Recipient: KMS Decrypt with the key.
  const recipient = new KmsRsaKeyring({ keyId: keyArn, encryptionAlgorithm: 'RSAES_OAEP_SHA_256', clientProvider: defaultClientProvider(local.clientConfig()) })
  const { plaintext } = await client.decrypt(recipient, ciphertext, { encryptionContext })
  console.log(`decrypted: ${new TextDecoder().decode(plaintext)} (KMS calls: ${local.calls.map((c) => c.operation).join(', ')})`)
} finally {
  await local.close()
}
