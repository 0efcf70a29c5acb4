/**
 * KmsEcdhKeyring (spec/ecdh.md#kms) through the real @aws-sdk/client-kms against the local KMS
 * server's KEY_AGREEMENT keys, and its interop with RawEcdhKeyring: the server holds the same
 * private keys as the raw keyrings, imported as key material.
 */
import { describe, expect, it } from 'vitest'
import { createClient, KeyringError, KmsEcdhKeyring, KmsError, NoMatchingKeyError, RawEcdhKeyring } from '../../src/index.js'
import { BACKENDS } from '../support/backends.js'
import { ecKeyPair } from '../support/keys.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'

const alice = ecKeyPair('P-256')
const bob = ecKeyPair('P-256')
const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64')
const local = useLocalKms({
  keys: [
    { id: 'alice', keySpec: 'ECC_NIST_P256', material: b64(alice.privateDer) },
    { id: 'bob', keySpec: 'ECC_NIST_P256', material: b64(bob.privateDer) },
    { id: 'p384', keySpec: 'ECC_NIST_P384' },
    { id: 'rsa', keySpec: 'RSA_2048' },
    { id: 'symmetric' },
  ],
})
const arn = (id: string) => `arn:aws:kms:us-west-2:111122223333:key/${id}`
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const ec = { purpose: 'kms-ecdh' }

function kms(scheme: any, curve: 'P-256' | 'P-384' = 'P-256') {
  return new KmsEcdhKeyring({ curve, scheme, clientProvider: localProvider(local()) })
}

describe.each(BACKENDS)('KmsEcdhKeyring on the %s backend', (_name, backend) => {
  const client = createClient({ backend })

  it('static: the sender key encrypts, the recipient decrypts statically and by discovery, and so do raw keyrings', async () => {
    const aliceKms = kms({ kind: 'static', senderKmsKeyId: arn('alice'), recipientPublicKey: bob.publicDer })
    const { ciphertext, header } = await client.encrypt(aliceKms, 'to bob', { encryptionContext: ec })
    expect(header.encryptedDataKeys.map((e) => e.providerId)).toEqual(['aws-kms-ecdh'])
    const readers = [
      kms({ kind: 'static', senderKmsKeyId: arn('bob'), recipientPublicKey: alice.publicPem }),
      kms({ kind: 'discovery', recipientKmsKeyId: arn('bob') }),
      // The sender reads its own message (the keys match in the other orientation).
      aliceKms,
      new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'discovery', recipientPrivateKey: bob.privatePem } }),
      new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'static', senderPrivateKey: bob.privatePem, recipientPublicKey: alice.publicPem } }),
    ]
    for (const reader of readers) expect(text((await client.decrypt(reader, ciphertext)).plaintext)).toBe('to bob')
  })

  it('raw-ecdh messages decrypt with the KMS keyring whose key holds the recipient private key', async () => {
    for (const writer of [
      new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'ephemeral', recipientPublicKey: bob.publicPem } }),
      new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'static', senderPrivateKey: alice.privatePem, recipientPublicKey: bob.publicPem } }),
    ]) {
      const { ciphertext } = await client.encrypt(writer, 'from raw', { encryptionContext: ec })
      expect(text((await client.decrypt(kms({ kind: 'discovery', recipientKmsKeyId: arn('bob') }), ciphertext)).plaintext)).toBe('from raw')
    }
  })
})

describe('KmsEcdhKeyring: KMS calls and refusals', () => {
  const client = createClient()

  it('calls GetPublicKey once when no public key is given, never when one is', async () => {
    local().resetCalls()
    const fetched = kms({ kind: 'static', senderKmsKeyId: arn('alice'), recipientPublicKey: bob.publicDer })
    await client.encrypt(fetched, 'a')
    await client.encrypt(fetched, 'b')
    expect(local().countCalls({ operation: 'GetPublicKey' })).toBe(1)
    expect(local().countCalls({ operation: 'DeriveSharedSecret' })).toBe(2)
    local().resetCalls()
    const given = kms({ kind: 'static', senderKmsKeyId: arn('alice'), senderPublicKey: alice.publicDer, recipientPublicKey: bob.publicDer })
    const { ciphertext } = await client.encrypt(given, 'c')
    expect(local().countCalls({ operation: 'GetPublicKey' })).toBe(0)
    const discovery = kms({ kind: 'discovery', recipientKmsKeyId: arn('bob'), recipientPublicKey: bob.publicPem })
    expect(text((await client.decrypt(discovery, ciphertext)).plaintext)).toBe('c')
    expect(local().countCalls({ operation: 'GetPublicKey' })).toBe(0)
  })

  it('refuses a key whose KeyUsage is not KEY_AGREEMENT, or on another curve', async () => {
    const rsa = await client.encrypt(kms({ kind: 'static', senderKmsKeyId: arn('rsa'), recipientPublicKey: bob.publicDer }), 'x').catch((e) => e)
    expect(rsa).toBeInstanceOf(KmsError)
    expect(rsa.kmsErrorName).toBe('InvalidKeyUsage')
    const curve = await client.encrypt(kms({ kind: 'static', senderKmsKeyId: arn('p384'), recipientPublicKey: bob.publicDer }), 'x').catch((e) => e)
    expect(curve).toBeInstanceOf(KmsError)
    expect(curve.message).toMatch(/ECC_NIST_P384, not ECC_NIST_P256/)
    // A symmetric key has no public key: KMS itself refuses GetPublicKey.
    const symmetric = await client.encrypt(kms({ kind: 'static', senderKmsKeyId: arn('symmetric'), recipientPublicKey: bob.publicDer }), 'x').catch((e) => e)
    expect(symmetric).toBeInstanceOf(KmsError)
    expect(symmetric.kmsErrorName).toBe('UnsupportedOperationException')
  })

  it('discovery cannot encrypt', async () => {
    await expect(client.encrypt(kms({ kind: 'discovery', recipientKmsKeyId: arn('bob') }), 'x')).rejects.toThrow(KeyringError)
  })

  it('a message to someone else: the EDK is skipped, not sent to KMS', async () => {
    const { ciphertext } = await client.encrypt(new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'ephemeral', recipientPublicKey: alice.publicPem } }), 'x')
    local().resetCalls()
    const err = await client.decrypt(kms({ kind: 'discovery', recipientKmsKeyId: arn('bob'), recipientPublicKey: bob.publicDer }), ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0].skipped).toBe(true)
    expect(local().countCalls({ operation: 'DeriveSharedSecret' })).toBe(0)
  })

  it('refuses unknown options', () => {
    expect(() => new KmsEcdhKeyring({ curve: 'P-256', scheme: { kind: 'discovery', recipientKmsKeyId: arn('bob') }, region: 'x' } as any)).toThrow(/unknown KmsEcdhKeyring option "region"/)
    expect(() => new KmsEcdhKeyring({ curve: 'P-256', scheme: { kind: 'discovery', recipientKmsKeyId: arn('bob'), senderKmsKeyId: 'x' } as any })).toThrow(/unknown KmsEcdhKeyring discovery scheme option "senderKmsKeyId"/)
  })
})
