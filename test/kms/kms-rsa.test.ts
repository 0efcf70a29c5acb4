/**
 * KmsRsaKeyring (spec/keyrings.md#aws-kms-rsa) through the real @aws-sdk/client-kms against the
 * local KMS server's RSA keys: every rule of the MPL's AWS KMS RSA keyring, on every backend.
 */
import { nodeBackend } from '../../src/crypto/node.js'
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createClient, KmsRsaKeyring, MultiKeyring, NoMatchingKeyError, PolicyError, RawAesKeyring, type KmsClientLike } from '../../src/index.js'
import { encodeEncryptionContext } from '../../src/format/encryption-context.js'
import { ALL_SUITES, getSuite } from '../../src/format/suites.js'
import { createDecryptionMaterials } from '../../src/materials/materials.js'
import { BACKENDS } from '../support/backends.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'

const WEST = 'us-west-2'
const EAST = 'us-east-1'
const local = useLocalKms({
  keys: [
    { id: 'rsa-key', keySpec: 'RSA_2048' },
    { id: 'mrk-rsa', keySpec: 'RSA_3072', regions: [WEST, EAST] },
    { id: 'other-rsa', keySpec: 'RSA_2048' },
  ],
})
const arn = (id: string, region = WEST) => `arn:aws:kms:${region}:111122223333:key/${id}`
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

async function publicKeyDer(keyId: string): Promise<Uint8Array> {
  const out = await new KMSClient(local().clientConfig()).send(new GetPublicKeyCommand({ KeyId: keyId }))
  return out.PublicKey!
}
const pemOf = (der: Uint8Array) => createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString()

/** A keyring on the local server. */
async function keyring(options: { keyId?: string; algorithm?: 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'; publicKey?: boolean } = {}) {
  const keyId = options.keyId ?? arn('rsa-key')
  return new KmsRsaKeyring({
    keyId,
    encryptionAlgorithm: options.algorithm ?? 'RSAES_OAEP_SHA_256',
    ...(options.publicKey === false ? {} : { publicKey: await publicKeyDer(keyId) }),
    clientProvider: localProvider(local()),
  })
}

const UNSIGNED = ALL_SUITES.filter((s) => !s.signature)
const SIGNED = ALL_SUITES.filter((s) => s.signature)
const policyFor = (committing: boolean) => (committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT')

describe('KmsRsaKeyring: round trips', () => {
  for (const algorithm of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const) {
    for (const [backendName, backend] of BACKENDS) {
      it(`${algorithm} on ${backendName}: every unsigned suite, with and without a context; encrypt makes no KMS call, decrypt one Decrypt`, async () => {
        const kms = local()
        const sender = await keyring({ algorithm })
        const recipient = await keyring({ algorithm, publicKey: false })
        for (const suite of UNSIGNED) {
          const client = createClient({ backend, commitmentPolicy: policyFor(suite.committing) })
          for (const encryptionContext of [{}, { tenant: 't1', 'ünï': 'cödé' }] as Record<string, string>[]) {
            kms.resetCalls()
            const { ciphertext, header } = await client.encrypt(sender, 'rsa secret', { suiteId: suite.id, encryptionContext })
            expect(kms.calls).toEqual([])
            expect(header.encryptedDataKeys.map((e) => [e.providerId, text(e.providerInfo)])).toEqual([['aws-kms-rsa', arn('rsa-key')]])
            expect(text((await client.decrypt(recipient, ciphertext)).plaintext)).toBe('rsa secret')
            expect(kms.calls.map((c) => [c.operation, c.status])).toEqual([['Decrypt', 200]])
          }
        }
      })
    }
  }

  it('wraps SHA-384(canonical context) ‖ data key with OAEP and the configured hash (MGF1 the same, empty label)', async () => {
    const kms = local()
    const sender = await keyring({ algorithm: 'RSAES_OAEP_SHA_1' })
    const context = { b: '2', a: '1' }
    const { header } = await createClient().encrypt(sender, 'x', { suiteId: 0x0478, encryptionContext: context })
    const privateKey = createPrivateKey({ key: Buffer.from(kms.getKey('rsa-key')!.material, 'base64'), format: 'der', type: 'pkcs8' })
    const inner = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, header.encryptedDataKeys[0]!.ciphertext)
    expect(inner.length).toBe(48 + 32)
    expect(inner.subarray(0, 48)).toEqual(createHash('sha384').update(encodeEncryptionContext(context)).digest())
    // An empty context hashes the empty string.
    const empty = await createClient().encrypt(sender, 'x', { suiteId: 0x0478 })
    const emptyInner = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, empty.header.encryptedDataKeys[0]!.ciphertext)
    expect(emptyInner.subarray(0, 48)).toEqual(createHash('sha384').update('').digest())
  })

  it('takes the public key as DER SPKI bytes or as PEM, and adds its EDK after another keyring made the data key', async () => {
    const der = await publicKeyDer(arn('rsa-key'))
    const fromPem = new KmsRsaKeyring({ keyId: arn('rsa-key'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256', publicKey: pemOf(der), clientProvider: localProvider(local()) })
    const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32).fill(7) })
    const { ciphertext, header } = await createClient().encrypt(new MultiKeyring({ generator: aes, children: [fromPem] }), 'both', { suiteId: 0x0478 })
    expect(header.encryptedDataKeys.map((e) => e.providerId)).toEqual(['ns', 'aws-kms-rsa'])
    expect(text((await createClient().decrypt(await keyring({ publicKey: false }), ciphertext)).plaintext)).toBe('both')
  })

  it('decrypts an EDK naming a replica of its multi-region key (MRK match), calling KMS with its own key ARN', async () => {
    const kms = local()
    const west = await keyring({ keyId: arn('mrk-rsa', WEST) })
    const { ciphertext } = await createClient().encrypt(west, 'replica', { suiteId: 0x0478 })
    const east = new KmsRsaKeyring({ keyId: arn('mrk-rsa', EAST), encryptionAlgorithm: 'RSAES_OAEP_SHA_256', clientProvider: localProvider(kms) })
    kms.resetCalls()
    expect(text((await createClient().decrypt(east, ciphertext)).plaintext)).toBe('replica')
    expect(kms.calls.map((c) => [c.operation, c.region, c.keyArn])).toEqual([['Decrypt', EAST, arn('mrk-rsa', EAST)]])
  })
})

describe('KmsRsaKeyring: signed suites', () => {
  it('refuses every signed suite on encrypt, naming the suite and what to choose instead (the default suite 0x0578 is signed)', async () => {
    const sender = await keyring()
    for (const suite of SIGNED) {
      const client = createClient({ commitmentPolicy: policyFor(suite.committing) })
      const error = await client.encrypt(sender, 'x', { suiteId: suite.id }).catch((e) => e)
      expect(error, suite.name).toBeInstanceOf(PolicyError)
      expect(error.code).toBe('ERR_SIGNED_NOT_ALLOWED')
      expect(error.message).toContain(suite.name)
      expect(error.message).toContain('0x0478')
    }
    const byDefault = await createClient().encrypt(sender, 'x').catch((e) => e)
    expect(byDefault.code).toBe('ERR_SIGNED_NOT_ALLOWED')
  })

  it('refuses a signed message on decrypt without calling KMS', async () => {
    const kms = local()
    // Any signed message: the keyring refuses it before looking at its EDKs.
    const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32).fill(7) })
    const { ciphertext } = await createClient().encrypt(aes, 'signed', { suiteId: 0x0578 })
    kms.resetCalls()
    const error = await createClient().decrypt(new MultiKeyring({ children: [await keyring({ publicKey: false })] }), ciphertext).catch((e) => e)
    expect(error).toBeInstanceOf(NoMatchingKeyError)
    expect(error.attempts.map((a: { cause?: unknown }) => (a.cause as PolicyError | undefined)?.code)).toEqual(['ERR_SIGNED_NOT_ALLOWED'])
    const alone = await createClient().decrypt(await keyring({ publicKey: false }), ciphertext).catch((e) => e)
    expect(alone).toBeInstanceOf(PolicyError)
    expect(alone.code).toBe('ERR_SIGNED_NOT_ALLOWED')
    expect(kms.calls).toEqual([])
  })
})

describe('KmsRsaKeyring: decrypt failures', () => {
  it('a different encryption context fails on the digest, though KMS decrypts the EDK', async () => {
    const kms = local()
    const { header } = await createClient().encrypt(await keyring(), 'x', { suiteId: 0x0478, encryptionContext: { purpose: 'a' } })
    // The message's header authenticates its context, so the keyring is given the other context directly.
    const materials = createDecryptionMaterials({ suite: getSuite(0x0478), encryptionContext: { purpose: 'b' }, requiredEncryptionContextKeys: [], verificationKey: undefined })
    kms.resetCalls()
    const error = await (await keyring({ publicKey: false })).onDecrypt(materials, header.encryptedDataKeys, { backend: nodeBackend }).catch((e) => e)
    expect(error).toBeInstanceOf(NoMatchingKeyError)
    expect(error.attempts[0].reason).toContain('SHA-384 digest mismatch')
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(1)
  })

  it('skips EDKs of another key or provider, and records one whose provider info is not a key ARN, without calling KMS', async () => {
    const kms = local()
    const { header } = await createClient().encrypt(await keyring({ keyId: arn('other-rsa') }), 'x', { suiteId: 0x0478 })
    const edk = header.encryptedDataKeys[0]!
    const recipient = await keyring({ publicKey: false })
    const materials = createDecryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
    const enc = new TextEncoder()
    const edks = [
      edk,
      { ...edk, providerId: 'aws-kms' , providerInfo: enc.encode(arn('rsa-key')) },
      { ...edk, providerInfo: enc.encode('alias/rsa') },
      { ...edk, providerInfo: enc.encode(`arn:aws:kms:${WEST}:111122223333:alias/rsa`) },
    ]
    kms.resetCalls()
    const error = await recipient.onDecrypt(materials, edks, { backend: nodeBackend }).catch((e) => e)
    expect(error).toBeInstanceOf(NoMatchingKeyError)
    expect(error.attempts.map((a: { reason: string }) => a.reason)).toEqual([
      `not key ${arn('rsa-key')}`,
      'not this keyring\'s namespace ("aws-kms-rsa")',
      'provider info is not a KMS key ARN',
      'provider info is not a KMS key ARN',
    ])
    expect(kms.calls).toEqual([])
  })

  it('an EDK wrapped under another key with this key ARN fails in KMS, and the reason says InvalidCiphertextException', async () => {
    const other = await keyring({ keyId: arn('other-rsa') })
    // Encrypt with other-rsa's public key, but under this key's ARN.
    const forged = new KmsRsaKeyring({ keyId: arn('rsa-key'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256', publicKey: await publicKeyDer(arn('other-rsa')), clientProvider: localProvider(local()) })
    const { ciphertext } = await createClient().encrypt(forged, 'x', { suiteId: 0x0478 })
    const error = await createClient().decrypt(await keyring({ publicKey: false }), ciphertext).catch((e) => e)
    expect(error).toBeInstanceOf(NoMatchingKeyError)
    expect(error.attempts[0].reason).toContain('InvalidCiphertextException')
    expect(text((await createClient().decrypt(other, (await createClient().encrypt(other, 'y', { suiteId: 0x0478 })).ciphertext)).plaintext)).toBe('y')
  })

  it('requires KMS to answer with the configured key ARN, and the plaintext to be digest and data key', async () => {
    const { ciphertext } = await createClient().encrypt(await keyring(), 'x', { suiteId: 0x0478 })
    const real = new KMSClient(local().clientConfig())
    const lying = (patch: (out: any) => any): KmsClientLike => ({ send: async (command: any) => patch(await real.send(command)) })
    const make = (client: KmsClientLike) => new KmsRsaKeyring({ keyId: arn('rsa-key'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256', client })
    const wrongKey = await createClient().decrypt(make(lying((o) => ({ ...o, KeyId: arn('other-rsa') }))), ciphertext).catch((e) => e)
    expect(wrongKey.attempts[0].reason).toContain('KeyIdMismatch')
    const short = await createClient().decrypt(make(lying((o) => ({ ...o, Plaintext: o.Plaintext.subarray(0, 79) }))), ciphertext).catch((e) => e)
    expect(short.attempts[0].reason).toContain('not the 48-byte context digest and a 32-byte data key')
    // The command carries the configured KeyId and EncryptionAlgorithm, and no EncryptionContext.
    const seen: any[] = []
    await createClient().decrypt(make({ send: async (command: any) => (seen.push(command.input), real.send(command)) }), ciphertext)
    expect(seen).toHaveLength(1)
    expect(seen[0].KeyId).toBe(arn('rsa-key'))
    expect(seen[0].EncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256')
    expect(seen[0].EncryptionContext).toBeUndefined()
  })

  it('sends at most maxUnwrapAttempts EDKs naming its key to KMS (default 4) and records the rest', async () => {
    const kms = local()
    const { header } = await createClient().encrypt(await keyring({ keyId: arn('other-rsa') }), 'x', { suiteId: 0x0478 })
    // Six EDKs that name this keyring's key but were wrapped under another: each costs a Decrypt.
    const forged = Array.from({ length: 6 }, () => ({ ...header.encryptedDataKeys[0]!, providerInfo: new TextEncoder().encode(arn('rsa-key')) }))
    const materials = createDecryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
    kms.resetCalls()
    const error = await (await keyring({ publicKey: false })).onDecrypt(materials, forged, { backend: nodeBackend }).catch((e) => e)
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(4)
    expect(error.attempts.map((a: { reason: string }) => a.reason.startsWith('not tried'))).toEqual([false, false, false, false, true, true])
  })

  it('refuses decryption materials that already hold a data key', async () => {
    const materials = createDecryptionMaterials({ suite: getSuite(0x0478), encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined }, new Uint8Array(32))
    const error = await (await keyring({ publicKey: false })).onDecrypt(materials, [], { backend: nodeBackend }).catch((e) => e)
    expect(error.code).toBe('ERR_KEYRING')
    expect(error.message).toContain('already hold a data key')
  })
})

describe('KmsRsaKeyring: configuration', () => {
  it('without a public key it cannot encrypt, and says where to get one', async () => {
    const error = await createClient().encrypt(await keyring({ publicKey: false }), 'x', { suiteId: 0x0478 }).catch((e) => e)
    expect(error.code).toBe('ERR_KEYRING')
    expect(error.message).toContain('GetPublicKey')
  })

  it('refuses an alias, a bare key id, an unknown algorithm or option, and public keys that are not RSA SPKI of 2048+ bits', async () => {
    const der = await publicKeyDer(arn('rsa-key'))
    const base = { keyId: arn('rsa-key'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const }
    expect(() => new KmsRsaKeyring({ ...base, keyId: 'alias/rsa' })).toThrow(/must be a key ARN/)
    expect(() => new KmsRsaKeyring({ ...base, keyId: `arn:aws:kms:${WEST}:111122223333:alias/rsa` })).toThrow(/must be a key ARN/)
    expect(() => new KmsRsaKeyring({ ...base, keyId: 'rsa-key' })).toThrow(/must be a key ARN/)
    expect(() => new KmsRsaKeyring({ ...base, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' as never })).toThrow(/encryptionAlgorithm must be one of RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256/)
    expect(() => new KmsRsaKeyring({ ...base, kmsKeyId: arn('rsa-key') } as never)).toThrow(/unknown KmsRsaKeyring option "kmsKeyId"/)
    expect(() => new KmsRsaKeyring({ ...base, publicKey: der.subarray(1) })).toThrow(/DER SubjectPublicKeyInfo bytes, or PEM text/)
    expect(() => new KmsRsaKeyring({ ...base, publicKey: 'not a key' })).toThrow(/-----BEGIN PUBLIC KEY-----/)
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
    expect(() => new KmsRsaKeyring({ ...base, publicKey: small.publicKey.export({ format: 'der', type: 'spki' }) })).toThrow(/1024-bit modulus/)
    const pkcs1 = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'pkcs1' }).toString()
    expect(() => new KmsRsaKeyring({ ...base, publicKey: pkcs1 })).toThrow(/-----BEGIN PUBLIC KEY-----/)
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' })
    expect(() => new KmsRsaKeyring({ ...base, publicKey: ec })).toThrow(/DER SubjectPublicKeyInfo/)
    expect(() => new KmsRsaKeyring({ ...base, publicKey: 42 as never })).toThrow(/got number/)
  })
})
