/**
 * Asymmetric keys of the local KMS server (docs/kms-local.md#asymmetric-keys), through the real
 * @aws-sdk/client-kms: RSA keys decrypt what their public key encrypted (OAEP SHA-1 and SHA-256),
 * ECC keys derive the ECDH shared secret, and every request AWS KMS refuses for a key's usage is
 * refused with AWS's exception name.
 */
import {
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { constants, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startLocalKms } from '../../src/testing/index.js'
import { useLocalKms } from '../support/local-kms.js'

const local = useLocalKms({
  keys: [
    { id: 'sym' },
    { id: 'rsa-2048', keySpec: 'RSA_2048', aliases: ['alias/rsa'] },
    { id: 'rsa-3072', keySpec: 'RSA_3072' },
    { id: 'p256', keySpec: 'ECC_NIST_P256' },
    { id: 'p384', keySpec: 'ECC_NIST_P384' },
    { id: 'p521', keySpec: 'ECC_NIST_P521' },
    { id: 'rsa-no-decrypt', keySpec: 'RSA_2048', operations: ['GetPublicKey', 'DescribeKey'] },
  ],
})
const client = () => new KMSClient(local().clientConfig())

/** The exception name a call fails with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (e) {
    return (e as Error).name
  }
  throw new Error('the call succeeded')
}

const spkiOf = async (keyId: string) => {
  const out = await client().send(new GetPublicKeyCommand({ KeyId: keyId }))
  return createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' })
}

describe('local KMS: RSA keys', () => {
  it('GetPublicKey answers DER SPKI, KeySpec, KeyUsage and the OAEP algorithms, as AWS KMS does', async () => {
    const out = await client().send(new GetPublicKeyCommand({ KeyId: 'alias/rsa' }))
    expect(out.KeyId).toBe(local().arn('rsa-2048'))
    expect(out.KeySpec).toBe('RSA_2048')
    expect(out.KeyUsage).toBe('ENCRYPT_DECRYPT')
    expect(out.EncryptionAlgorithms).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'])
    expect(out.KeyAgreementAlgorithms).toBeUndefined()
    const key = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' })
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  for (const [keyId, hash, algorithm] of [
    ['rsa-2048', 'sha1', 'RSAES_OAEP_SHA_1'],
    ['rsa-2048', 'sha256', 'RSAES_OAEP_SHA_256'],
    ['rsa-3072', 'sha256', 'RSAES_OAEP_SHA_256'],
  ] as const) {
    it(`Decrypt ${keyId} ${algorithm}: what the public key encrypted offline, and Encrypt's own output`, async () => {
      const publicKey = await spkiOf(keyId)
      const plaintext = Buffer.from('48 bytes of digest and 32 of data key, say')
      const offline = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext)
      const out = await client().send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: offline, EncryptionAlgorithm: algorithm }))
      expect(Buffer.from(out.Plaintext!)).toEqual(plaintext)
      expect(out.KeyId).toBe(local().arn(keyId))
      expect(out.EncryptionAlgorithm).toBe(algorithm)

      const enc = await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionAlgorithm: algorithm }))
      expect(enc.EncryptionAlgorithm).toBe(algorithm)
      const back = await client().send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: algorithm }))
      expect(Buffer.from(back.Plaintext!)).toEqual(plaintext)
    })
  }

  it('a ciphertext decrypted with the other OAEP hash, tampered, or of the wrong length is InvalidCiphertextException', async () => {
    const offline = publicEncrypt({ key: await spkiOf('rsa-2048'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'))
    expect(await failure(client().send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: offline, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })))).toBe('InvalidCiphertextException')
    const tampered = Buffer.from(offline)
    tampered[100]! ^= 1
    expect(await failure(client().send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: tampered, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidCiphertextException')
    expect(await failure(client().send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: offline.subarray(1), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidCiphertextException')
    // Under another RSA key of the same size.
    const other = publicEncrypt({ key: await spkiOf('rsa-no-decrypt'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'))
    expect(await failure(client().send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: other, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidCiphertextException')
  })

  it('refuses what AWS KMS refuses for an RSA key', async () => {
    const blob = publicEncrypt({ key: await spkiOf('rsa-2048'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'))
    const c = client()
    // Symmetric operations, and Decrypt/Encrypt without an RSA algorithm.
    expect(await failure(c.send(new GenerateDataKeyCommand({ KeyId: 'rsa-2048', KeySpec: 'AES_256' })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: 'rsa-2048', KeySpec: 'AES_256' })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: blob })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new EncryptCommand({ KeyId: 'rsa-2048', Plaintext: Buffer.from('x') })))).toBe('InvalidKeyUsageException')
    // RSA has no additional authenticated data: an encryption context is refused.
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })))).toBe('ValidationException')
    expect(await failure(c.send(new EncryptCommand({ KeyId: 'rsa-2048', Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })))).toBe('ValidationException')
    // The ciphertext names no key, so the key must be named.
    expect(await failure(c.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('ValidationException')
    // Longer than OAEP allows for the key and hash (RSA-2048, SHA-256: 190 bytes).
    await c.send(new EncryptCommand({ KeyId: 'rsa-2048', Plaintext: Buffer.alloc(190, 1), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))
    expect(await failure(c.send(new EncryptCommand({ KeyId: 'rsa-2048', Plaintext: Buffer.alloc(191, 1), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('ValidationException')
    // An algorithm KMS does not have.
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' as never })))).toBe('ValidationException')
    // Key agreement on an encryption key.
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' })
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'rsa-2048', KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })))).toBe('InvalidKeyUsageException')
    // The key's operation list still applies.
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'rsa-no-decrypt', CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('AccessDeniedException')
  })

  it('ReEncrypt moves an RSA ciphertext to a symmetric key and back', async () => {
    const c = client()
    const enc = await c.send(new EncryptCommand({ KeyId: 'rsa-2048', Plaintext: Buffer.from('moved'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }))
    const toSym = await c.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceKeyId: 'rsa-2048', SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', DestinationKeyId: 'sym' }))
    expect(toSym.SourceKeyId).toBe(local().arn('rsa-2048'))
    expect(toSym.SourceEncryptionAlgorithm).toBe('RSAES_OAEP_SHA_1')
    const toRsa = await c.send(new ReEncryptCommand({ CiphertextBlob: toSym.CiphertextBlob, DestinationKeyId: 'rsa-3072', DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))
    expect(toRsa.DestinationEncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256')
    const out = await c.send(new DecryptCommand({ KeyId: 'rsa-3072', CiphertextBlob: toRsa.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))
    expect(Buffer.from(out.Plaintext!).toString()).toBe('moved')
  })
})

describe('local KMS: ECC key agreement keys', () => {
  for (const [keyId, spec, curve, zLength] of [
    ['p256', 'ECC_NIST_P256', 'prime256v1', 32],
    ['p384', 'ECC_NIST_P384', 'secp384r1', 48],
    ['p521', 'ECC_NIST_P521', 'secp521r1', 66],
  ] as const) {
    it(`${spec}: GetPublicKey and DeriveSharedSecret give the ECDH Z the peer computes`, async () => {
      const pub = await client().send(new GetPublicKeyCommand({ KeyId: keyId }))
      expect(pub.KeySpec).toBe(spec)
      expect(pub.KeyUsage).toBe('KEY_AGREEMENT')
      expect(pub.KeyAgreementAlgorithms).toEqual(['ECDH'])
      expect(pub.EncryptionAlgorithms).toBeUndefined()
      const kmsPublic = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' })
      expect(kmsPublic.asymmetricKeyDetails?.namedCurve).toBe(curve)

      const peer = generateKeyPairSync('ec', { namedCurve: curve })
      const out = await client().send(
        new DeriveSharedSecretCommand({ KeyId: keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }) }),
      )
      const expected = diffieHellman({ privateKey: peer.privateKey, publicKey: kmsPublic })
      expect(Buffer.from(out.SharedSecret!)).toEqual(expected)
      expect(out.SharedSecret!.length).toBe(zLength)
      expect(out.KeyId).toBe(local().arn(keyId))
      expect(out.KeyAgreementAlgorithm).toBe('ECDH')
      expect(out.KeyOrigin).toBe('AWS_KMS')
    })
  }

  it('refuses a public key on another curve, not DER SPKI, off the curve, or another algorithm, with ValidationException', async () => {
    const c = client()
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ format: 'der', type: 'spki' })
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'p256', KeyAgreementAlgorithm: 'ECDH', PublicKey: p384 })))).toBe('ValidationException')
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' })
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'p256', KeyAgreementAlgorithm: 'ECDH', PublicKey: rsa })))).toBe('ValidationException')
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'p256', KeyAgreementAlgorithm: 'ECDH', PublicKey: Buffer.from('not a key') })))).toBe('ValidationException')
    // A P-256 SPKI whose point is moved off the curve (last byte of y changed).
    const offCurve = Buffer.from(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' }))
    offCurve[offCurve.length - 1]! ^= 1
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'p256', KeyAgreementAlgorithm: 'ECDH', PublicKey: offCurve })))).toBe('ValidationException')
    const good = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' })
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'p256', KeyAgreementAlgorithm: 'ECDH_X' as never, PublicKey: good })))).toBe('ValidationException')
  })

  it('refuses encryption and data keys on a key agreement key with InvalidKeyUsageException', async () => {
    const c = client()
    expect(await failure(c.send(new GenerateDataKeyCommand({ KeyId: 'p256', KeySpec: 'AES_256' })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new EncryptCommand({ KeyId: 'p256', Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'p256', CiphertextBlob: Buffer.alloc(256, 1), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidKeyUsageException')
  })
})

describe('local KMS: symmetric keys next to asymmetric ones', () => {
  it('GetPublicKey on a symmetric key is UnsupportedOperationException; DeriveSharedSecret is InvalidKeyUsageException', async () => {
    const c = client()
    expect(await failure(c.send(new GetPublicKeyCommand({ KeyId: 'sym' })))).toBe('UnsupportedOperationException')
    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' })
    expect(await failure(c.send(new DeriveSharedSecretCommand({ KeyId: 'sym', KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })))).toBe('InvalidKeyUsageException')
  })

  it('an RSA EncryptionAlgorithm on a symmetric key is InvalidKeyUsageException', async () => {
    const c = client()
    const enc = await c.send(new EncryptCommand({ KeyId: 'sym', Plaintext: Buffer.from('x') }))
    expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT')
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'sym', CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidKeyUsageException')
    expect(await failure(c.send(new EncryptCommand({ KeyId: 'sym', Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })))).toBe('InvalidKeyUsageException')
    // Symmetric Decrypt without a KeyId still works, and a symmetric blob sent to an RSA key is refused.
    expect(Buffer.from((await c.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('x')
    expect(await failure(c.send(new DecryptCommand({ KeyId: 'rsa-2048', CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })))).toBe('InvalidCiphertextException')
  })

  it('a forged symmetric ciphertext naming an RSA key is InvalidCiphertextException, never an AES key made of its material', async () => {
    const ref = Buffer.from('111122223333/rsa-2048')
    const forged = Buffer.concat([Buffer.from([1, ref.length]), ref, Buffer.alloc(12 + 5 + 16, 7)])
    expect(await failure(client().send(new DecryptCommand({ CiphertextBlob: forged })))).toBe('InvalidCiphertextException')
  })

  it('DescribeKey names KeySpec, KeyUsage and the algorithms of every kind of key', async () => {
    const c = client()
    const meta = async (keyId: string) => (await c.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!
    expect(await meta('sym')).toMatchObject({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] })
    expect(await meta('rsa-3072')).toMatchObject({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT', EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] })
    expect(await meta('p521')).toMatchObject({ KeySpec: 'ECC_NIST_P521', KeyUsage: 'KEY_AGREEMENT', KeyAgreementAlgorithms: ['ECDH'] })
  })
})

describe('local KMS: creating asymmetric keys', () => {
  it('takes given PKCS#8 material that fits the key spec and refuses material that does not', async () => {
    const kms = local()
    const pair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    const material = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')
    kms.createKey({ id: 'given-p384', keySpec: 'ECC_NIST_P384', material })
    const pub = await client().send(new GetPublicKeyCommand({ KeyId: 'given-p384' }))
    expect(Buffer.from(pub.PublicKey!)).toEqual(pair.publicKey.export({ format: 'der', type: 'spki' }))
    expect(() => kms.createKey({ keySpec: 'ECC_NIST_P256', material })).toThrow(/not a ECC_NIST_P256 private key/)
    expect(() => kms.createKey({ keySpec: 'RSA_2048', material: Buffer.alloc(32).toString('base64') })).toThrow(/PKCS#8/)
    expect(() => kms.createKey({ keySpec: 'RSA_1024' as never })).toThrow(/key spec must be one of/)
    expect(() => kms.ensureKey({ id: 'given-p384', keySpec: 'RSA_2048' })).toThrow(/exists as a ECC_NIST_P384 key/)
  })
})

const FIXTURES = join(import.meta.dirname, 'fixtures')

describe('local KMS: persisted keys across versions', () => {
  it('loads a keys file written by the version-1 server and decrypts its ciphertexts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-kms-compat-'))
    const path = join(dir, 'keys.json')
    const written = readFileSync(join(FIXTURES, 'kms-local-keys.v1.json'), 'utf8')
    writeFileSync(path, written)
    const kms = await startLocalKms({ persistPath: path })
    try {
      const c = new KMSClient(kms.clientConfig())
      const ciphertexts = JSON.parse(readFileSync(join(FIXTURES, 'kms-local-ciphertexts.v1.json'), 'utf8')) as Record<string, { plaintext: string; ciphertext: string; encryptionContext: Record<string, string> }>
      for (const [keyId, { plaintext, ciphertext, encryptionContext }] of Object.entries(ciphertexts)) {
        if (keyId === 'encrypt-only') {
          expect(await failure(c.send(new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertext, 'base64'), EncryptionContext: encryptionContext })))).toBe('AccessDeniedException')
          continue
        }
        const out = await c.send(new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertext, 'base64'), EncryptionContext: encryptionContext }))
        expect(Buffer.from(out.Plaintext!).toString(), keyId).toBe(plaintext)
      }
      expect(kms.getKey('off')?.enabled).toBe(false)
      expect(kms.getKey('alias/compat')?.id).toBe('sym-1')
      expect(kms.getKey('sym-1')?.keySpec).toBe('SYMMETRIC_DEFAULT')
      // Rewritten as version 2 with the same keys and material.
      kms.createKey({ id: 'new-rsa', keySpec: 'RSA_2048' })
      const rewritten = JSON.parse(readFileSync(path, 'utf8'))
      expect(rewritten.version).toBe(2)
      const old = JSON.parse(written).keys as { id: string; material: string }[]
      for (const k of old) expect(rewritten.keys.find((n: { id: string }) => n.id === k.id)).toEqual({ ...k, keySpec: 'SYMMETRIC_DEFAULT' })
    } finally {
      await kms.close()
    }
  })

  it('keeps asymmetric keys across a restart and refuses a file of an unknown version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-kms-compat-'))
    const path = join(dir, 'keys.json')
    const first = await startLocalKms({ persistPath: path, keys: [{ id: 'r', keySpec: 'RSA_2048' }, { id: 'e', keySpec: 'ECC_NIST_P256' }] })
    const blob = publicEncrypt({ key: createPublicKey(createPrivateKey({ key: Buffer.from(first.getKey('r')!.material, 'base64'), format: 'der', type: 'pkcs8' })), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('kept'))
    const ePublic = (await new KMSClient(first.clientConfig()).send(new GetPublicKeyCommand({ KeyId: 'e' }))).PublicKey
    await first.close()
    const second = await startLocalKms({ persistPath: path })
    try {
      const c = new KMSClient(second.clientConfig())
      expect(Buffer.from((await c.send(new DecryptCommand({ KeyId: 'r', CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).Plaintext!).toString()).toBe('kept')
      expect((await c.send(new GetPublicKeyCommand({ KeyId: 'e' }))).PublicKey).toEqual(ePublic)
    } finally {
      await second.close()
    }
    writeFileSync(path, JSON.stringify({ version: 3, keys: [] }))
    await expect(startLocalKms({ persistPath: path })).rejects.toThrow(/version 3 is not supported/)
  })
})
