/**
 * KMS keyrings with `recipient` in a simulated Nitro enclave, through the real
 * @aws-sdk/client-kms against the local KMS server enforcing attestation
 * (spec/nitro.md#recipient). No client.send is stubbed.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createClient,
  KmsDiscoveryKeyring,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  KmsMrkKeyring,
  NoMatchingKeyError,
  RecipientError,
  type KmsClientProvider,
} from '../../src/index.js'
import { createTestEnclave, startLocalKms, type LocalKms, type TestEnclave } from '../../src/testing/index.js'
import { localProvider } from '../support/local-kms.js'

const client = createClient()
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const HOUR = 3_600_000

let enclave: TestEnclave
let stranger: TestEnclave
let kms: LocalKms
let clock = Date.now()
let attested: string
let plain: string
let mrk: string

beforeAll(async () => {
  enclave = await createTestEnclave({ now: () => clock })
  stranger = await createTestEnclave({ now: () => clock })
  kms = await startLocalKms({ attestation: { rootCertificates: [enclave.rootCertificate] } })
  // The key policy: only an enclave with PCR 0 and 8 as measured may use it.
  attested = kms.createKey({ requireAttestation: { pcrs: { 0: Buffer.from(enclave.pcrs[0]!).toString('hex'), 8: enclave.pcrs[8]! } } })
  plain = kms.createKey()
  mrk = kms.createKey({ id: 'mrk-nitro', regions: ['us-west-2', 'us-east-1'], requireAttestation: { pcrs: { 0: enclave.pcrs[0]! } } })
})
afterAll(async () => {
  await kms?.close()
})

function recipient(e: TestEnclave = enclave, doc: Parameters<TestEnclave['attestationDocument']>[0] = {}) {
  return { attestationDocument: async () => e.attestationDocument(doc), privateKey: e.privateKeyPem }
}

/** Encrypts outside the enclave (the parent, or any service with kms:Encrypt) with a plain keyring. */
async function encryptFor(keyId: string, message = 'for the enclave only') {
  const keyring = new KmsKeyring({ generatorKeyId: keyId, clientProvider: localProvider(kms) })
  return (await client.encrypt(keyring, message, { encryptionContext: { purpose: 'nitro' } })).ciphertext
}

async function reason(promise: Promise<unknown>): Promise<NoMatchingKeyError> {
  const e = await promise.then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(NoMatchingKeyError)
  return e as NoMatchingKeyError
}

describe('KMS keyrings with a recipient (Nitro Enclaves)', () => {
  it('decrypts in the enclave: Recipient sent, CiphertextForRecipient opened with the enclave key', async () => {
    const ciphertext = await encryptFor(attested)
    kms.resetCalls()
    const keyring = new KmsKeyring({ generatorKeyId: attested, clientProvider: localProvider(kms), recipient: recipient() })
    const { plaintext } = await client.decrypt(keyring, ciphertext)
    expect(text(plaintext)).toBe('for the enclave only')
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(1)
  })

  it('a plain keyring is refused a key whose policy requires attestation', async () => {
    const ciphertext = await encryptFor(attested)
    const e = await reason(client.decrypt(new KmsKeyring({ generatorKeyId: attested, clientProvider: localProvider(kms) }), ciphertext))
    expect(e.message).toContain('AccessDeniedException')
  })

  it('encrypts in the enclave with GenerateDataKey (Recipient) and decrypts the result', async () => {
    const keyring = new KmsKeyring({ generatorKeyId: attested, clientProvider: localProvider(kms), recipient: recipient() })
    const { ciphertext } = await client.encrypt(keyring, 'made inside')
    expect(text((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('made inside')
  })

  it('discovery, MRK and MRK discovery keyrings take a recipient too', async () => {
    const ciphertext = await encryptFor(attested)
    const discovery = new KmsDiscoveryKeyring({ clientProvider: localProvider(kms), recipient: recipient() })
    expect(text((await client.decrypt(discovery, ciphertext)).plaintext)).toBe('for the enclave only')
    const east = kms.arn('mrk-nitro', 'us-east-1')
    const fromWest = await encryptFor(mrk)
    const strict = new KmsMrkKeyring({ keyId: east, clientProvider: localProvider(kms), recipient: recipient() })
    expect(text((await client.decrypt(strict, fromWest)).plaintext)).toBe('for the enclave only')
    const mrkDiscovery = new KmsMrkDiscoveryKeyring({ region: 'us-east-1', clientProvider: localProvider(kms), recipient: recipient() })
    expect(text((await client.decrypt(mrkDiscovery, fromWest)).plaintext)).toBe('for the enclave only')
  })

  it('takes the document as bytes and the private key as DER or a KeyObject', async () => {
    const ciphertext = await encryptFor(attested)
    for (const privateKey of [enclave.privateKey, new Uint8Array(enclave.privateKey.export({ type: 'pkcs8', format: 'der' }))]) {
      const keyring = new KmsKeyring({ generatorKeyId: attested, clientProvider: localProvider(kms), recipient: { attestationDocument: enclave.attestationDocument(), privateKey } })
      expect(text((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('for the enclave only')
    }
  })

  it('a document of another image (PCR mismatch) is denied', async () => {
    const ciphertext = await encryptFor(attested)
    const keyring = new KmsKeyring({ generatorKeyId: attested, clientProvider: localProvider(kms), recipient: recipient(enclave, { pcrs: { 0: new Uint8Array(48).fill(7) } }) })
    const e = await reason(client.decrypt(keyring, ciphertext))
    expect(e.message).toContain('AccessDeniedException')
    expect(e.message).toContain('PCR0')
  })

  it('documents from an untrusted root, with a bad signature, or expired are invalid (ValidationException)', async () => {
    const ciphertext = await encryptFor(plain)
    const untrusted = new KmsKeyring({ generatorKeyId: plain, clientProvider: localProvider(kms), recipient: recipient(stranger) })
    expect((await reason(client.decrypt(untrusted, ciphertext))).message).toMatch(/ValidationException.*untrusted-root/)

    const forged = enclave.attestationDocument()
    forged[forged.length - 1]! ^= 1
    const badSignature = new KmsKeyring({ generatorKeyId: plain, clientProvider: localProvider(kms), recipient: { attestationDocument: forged, privateKey: enclave.privateKey } })
    expect((await reason(client.decrypt(badSignature, ciphertext))).message).toMatch(/ValidationException.*signature/)

    const later = await startLocalKms({ attestation: { rootCertificates: [enclave.rootCertificate], now: () => clock + 4 * HOUR } })
    try {
      const key = later.createKey()
      const keyring = new KmsKeyring({ generatorKeyId: key, clientProvider: localProvider(later), recipient: recipient() })
      const e = await client.encrypt(keyring, 'x').then(() => undefined, (x: unknown) => x)
      expect(String((e as Error).message)).toMatch(/ValidationException.*leaf certificate is not valid/)
    } finally {
      await later.close()
    }
  })

  it('a document without public_key and a wrong KeyEncryptionAlgorithm are invalid', async () => {
    const ciphertext = await encryptFor(plain)
    const noKey = new KmsKeyring({ generatorKeyId: plain, clientProvider: localProvider(kms), recipient: recipient(enclave, { publicKey: null }) })
    expect((await reason(client.decrypt(noKey, ciphertext))).message).toMatch(/ValidationException.*no public key/)
    // The keyring only ever sends RSAES_OAEP_SHA_256; the server's refusal of anything else, through the SDK:
    const sdk = new KMSClient(kms.clientConfig())
    const { DecryptCommand } = await import('@aws-sdk/client-kms')
    const keyring = new KmsKeyring({ generatorKeyId: plain, clientProvider: localProvider(kms) })
    const { ciphertext: again } = await client.encrypt(keyring, 'x')
    const { header, encryptionContext } = await client.decrypt(keyring, again)
    const edk = header.encryptedDataKeys[0]!
    const refused = await sdk
      .send(new DecryptCommand({ CiphertextBlob: edk.ciphertext, EncryptionContext: { ...encryptionContext }, Recipient: { KeyEncryptionAlgorithm: 'RSA_PKCS1' as 'RSAES_OAEP_SHA_256', AttestationDocument: enclave.attestationDocument() } }))
      .then(() => undefined, (x: unknown) => x as Error)
    expect(refused?.name).toBe('ValidationException')
  })

  /** A KMS-shaped endpoint that sends `answer` to every call. */
  async function fakeKms(answer: object, use: (provider: KmsClientProvider) => Promise<void>): Promise<void> {
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify(answer))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      await use(() => new KMSClient({ region: 'us-west-2', endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }))
    } finally {
      await new Promise((r) => server.close(r))
    }
  }

  it('refuses a KMS that answers a recipient request with a plaintext key', async () => {
    // It ignored Recipient: the key would have crossed the parent in clear.
    await fakeKms({ KeyId: plain, Plaintext: Buffer.alloc(32, 1).toString('base64'), CiphertextBlob: Buffer.alloc(64, 2).toString('base64') }, async (provider) => {
      const keyring = new KmsKeyring({ generatorKeyId: plain, clientProvider: provider, recipient: recipient() })
      const e = await client.encrypt(keyring, 'x').then(() => undefined, (x: unknown) => x)
      expect(e).toBeInstanceOf(RecipientError)
      expect((e as RecipientError).failure).toBe('plaintext-returned')
      const d = await reason(client.decrypt(keyring, await encryptFor(plain)))
      expect(d.attempts[0]!.cause).toBeInstanceOf(RecipientError)
      expect((d.attempts[0]!.cause as RecipientError).failure).toBe('plaintext-returned')
    })
  })

  it('no CiphertextForRecipient, or one that is not KMS CMS, is refused', async () => {
    const cases: [object, string][] = [
      [{ KeyId: plain, CiphertextBlob: Buffer.alloc(64, 2).toString('base64') }, 'missing-ciphertext'],
      [{ KeyId: plain, CiphertextBlob: Buffer.alloc(64, 2).toString('base64'), CiphertextForRecipient: Buffer.from('3080', 'hex').toString('base64') }, 'malformed-cms'],
    ]
    for (const [answer, failure] of cases) {
      await fakeKms(answer, async (provider) => {
        const keyring = new KmsKeyring({ generatorKeyId: plain, clientProvider: provider, recipient: recipient() })
        const e = await client.encrypt(keyring, 'x').then(() => undefined, (x: unknown) => x)
        expect(e).toBeInstanceOf(RecipientError)
        expect((e as RecipientError).failure).toBe(failure)
      })
    }
  })

  it('a document supplier that fails is a typed error', async () => {
    const keyring = new KmsKeyring({
      generatorKeyId: plain,
      clientProvider: localProvider(kms),
      recipient: { attestationDocument: async () => Promise.reject(new Error('NSM busy')), privateKey: enclave.privateKey },
    })
    const e = await client.encrypt(keyring, 'x').then(() => undefined, (x: unknown) => x)
    expect(e).toBeInstanceOf(RecipientError)
    expect((e as RecipientError).failure).toBe('document')
  })

  it('the wrong enclave key cannot open CiphertextForRecipient', async () => {
    const keyring = new KmsKeyring({
      generatorKeyId: plain,
      clientProvider: localProvider(kms),
      recipient: { attestationDocument: () => Promise.resolve(enclave.attestationDocument()), privateKey: stranger.privateKey },
    })
    const e = await client.encrypt(keyring, 'x').then(() => undefined, (x: unknown) => x)
    expect(e).toBeInstanceOf(RecipientError)
    expect((e as RecipientError).failure).toBe('unwrap-failed')
  })
})
