import { nodeBackend } from '../../../src/crypto/node.js'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ALL_SUITES,
  BranchKeyCache,
  createClient,
  createDecryptionMaterials,
  createEncryptionMaterials,
  EnvelopeError,
  findSuite,
  KeyringError,
  KmsError,
  KmsHierarchicalKeyring,
  NoMatchingKeyError,
  RawAesKeyring,
  type EncryptedDataKey,
  type EncryptionContext,
} from '../../../src/index.js'
import { kdfCtrHmac } from '../../../src/crypto/kdf-ctr.js'
import { BACKENDS } from '../../support/backends.js'
import { MemoryBranchKeys } from '../../support/branch-keys.js'

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))
const services = { backend: nodeBackend }
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const client = createClient()

function keyring(store: MemoryBranchKeys, extra: Record<string, unknown> = {}): KmsHierarchicalKeyring {
  return new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 60, ...extra })
}

function storeWith(id = 'bk'): MemoryBranchKeys {
  const store = new MemoryBranchKeys()
  store.rotate(id)
  return store
}

async function wrapOne(k: KmsHierarchicalKeyring, context: EncryptionContext = {}, suiteId = 0x0478) {
  const suite = findSuite(suiteId)!
  const fields = { suite, encryptionContext: context, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined }
  const materials = await k.onEncrypt(createEncryptionMaterials(fields), services)
  return { dataKey: materials.plaintextDataKey!, edk: materials.encryptedDataKeys[0]!, suite }
}

function decryptionMaterials(suiteId: number, context: EncryptionContext = {}) {
  return createDecryptionMaterials({ suite: findSuite(suiteId)!, encryptionContext: context, requiredEncryptionContextKeys: [], verificationKey: undefined })
}

describe('KDF in counter mode', () => {
  it('derives the known wrapping key of the Dafny vector 2b58c34f (spec/hierarchy.md#wrapping), on every backend', () => {
    const branchKey = new Uint8Array(Buffer.from('tJwf65epYvUt5HMiQsl/6jlvLxS0tgdjIuvFy2BLIwg=', 'base64'))
    for (const [, backend] of BACKENDS) {
      const key = kdfCtrHmac(backend, 'sha256', branchKey, new TextEncoder().encode('aws-kms-hierarchy'), hex('d86a6ebe06dc2489de50d2841132fb1b'), 32)
      expect(Buffer.from(key).toString('hex')).toBe('8eba95be4942e83899d6d9d15dd07b96af4063d26a2ba2a93044c3543e8564e8')
    }
  })

  it('every backend\'s HMAC equals node:crypto HMAC, for short, block-length and long keys', () => {
    for (const [, backend] of BACKENDS) {
      for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
        for (const keyLength of [0, 1, 32, 64, 65, 128, 129, 300]) {
          const key = randomBytes(keyLength)
          const data = randomBytes(keyLength + 7)
          expect(Buffer.from(backend.hmac(hash, key, data)).toString('hex')).toBe(createHmac(hash, key).update(data).digest('hex'))
        }
      }
    }
  })

  it('counts blocks from 1 and puts L in bits at the end, over several blocks', () => {
    const key = randomBytes(32)
    const label = new TextEncoder().encode('label')
    const context = randomBytes(16)
    const block = (i: number) => createHmac('sha256', key).update(Buffer.concat([Buffer.from([0, 0, 0, i]), label, Buffer.from([0]), context, Buffer.from([0, 0, 0x02, 0x00])])).digest()
    const expected = Buffer.concat([block(1), block(2)])
    expect(Buffer.from(kdfCtrHmac(nodeBackend, 'sha256', key, label, context, 64))).toEqual(expected)
    expect(() => kdfCtrHmac(nodeBackend, 'sha256', key, label, context, 0)).toThrow(RangeError)
  })
})

describe('KmsHierarchicalKeyring options', () => {
  const store = storeWith()
  it('needs a key store, a TTL > 0 and exactly one of branchKeyId and branchKeyIdSupplier', () => {
    const base = { keyStore: store, ttlSeconds: 1 }
    expect(() => new KmsHierarchicalKeyring({ ...base } as never)).toThrow(/exactly one/)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', branchKeyIdSupplier: () => 'a' })).toThrow(/exactly one/)
    for (const ttlSeconds of [0, -1, Number.NaN, Infinity]) {
      expect(() => new KmsHierarchicalKeyring({ ...base, ttlSeconds, branchKeyId: 'a' } as never)).toThrow(RangeError)
    }
    // A wrong type is a TypeError, as for every constructor (spec/client.md#strict-options).
    expect(() => new KmsHierarchicalKeyring({ ...base, ttlSeconds: '5', branchKeyId: 'a' } as never)).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ttlSeconds: 1, branchKeyId: 'a' } as never)).toThrow(/keyStore/)
    expect(() => new KmsHierarchicalKeyring({ ...base, keyStore: { ...store, logicalKeyStoreName: '' }, branchKeyId: 'a' } as never)).toThrow(/keyStore/)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: '' })).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyIdSupplier: 'a' } as never)).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', cache: 0 })).toThrow(RangeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', cache: {} } as never)).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', partitionId: 5 } as never)).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', legacyContextOrder: 'on' } as never)).toThrow(TypeError)
    expect(() => new KmsHierarchicalKeyring({ ...base, branchKeyId: 'a', maxUnwrapAttempts: 0 })).toThrow(TypeError)
  })

  it('rejects unknown options, such as the peer name cacheLimitTtl', () => {
    expect(() => new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 1, branchKeyId: 'a', cacheLimitTtl: 5 } as never)).toThrow(/cacheLimitTtl/)
  })

  it('prints no key material', () => {
    const k = keyring(store)
    expect(JSON.stringify(k)).toBe('{"type":"KmsHierarchicalKeyring","branchKeyId":"bk","logicalKeyStoreName":"store","ttlSeconds":60}')
  })
})

describe('KmsHierarchicalKeyring round trips', () => {
  it.each(ALL_SUITES.map((s) => [s.id.toString(16).padStart(4, '0'), s.id] as const))('suite %s, every backend', async (_, suiteId) => {
    const store = storeWith()
    const k = keyring(store)
    const suite = findSuite(suiteId)!
    const c = suite.committing ? client : forbid
    const encryptionContext = { tenant: 'a', B: 'x', é: 'y', '𝒳': 'z' }
    for (const [, backend] of BACKENDS) {
      const using = createClient({ backend, commitmentPolicy: suite.committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
      const { ciphertext } = await using.encrypt(k, 'hierarchy', { suiteId, encryptionContext })
      expect(new TextDecoder().decode((await c.decrypt(k, ciphertext)).plaintext)).toBe('hierarchy')
    }
    // One key store call for all backends: the encrypt entry is cached, and so is the decrypt entry.
    expect(store.calls.map((call) => call.op)).toEqual(['active', 'version'])
  })

  it('writes the EDK layout of spec/hierarchy.md: provider id, branch key id, salt, iv, version, wrapped key and tag', async () => {
    const store = new MemoryBranchKeys()
    const version = store.rotate('bk', randomBytes(32), '0f9bd5a2-71c4-4c1c-8a3b-5d7e3f3a8b10')
    for (const [suiteId, length] of [[0x0014, 76], [0x0146, 84], [0x0578, 92]] as const) {
      const { edk } = await wrapOne(keyring(store), {}, suiteId)
      expect(edk.providerId).toBe('aws-kms-hierarchy')
      expect(new TextDecoder().decode(edk.providerInfo)).toBe('bk')
      expect(edk.ciphertext.length).toBe(length)
      expect(Buffer.from(edk.ciphertext.subarray(28, 44)).toString('hex')).toBe(version.replaceAll('-', ''))
    }
    const a = await wrapOne(keyring(store))
    const b = await wrapOne(keyring(store))
    // Fresh salt and IV per data key.
    expect(Buffer.from(a.edk.ciphertext.subarray(0, 28))).not.toEqual(Buffer.from(b.edk.ciphertext.subarray(0, 28)))
  })

  it('wraps an existing data key without replacing it (as a MultiKeyring child)', async () => {
    const store = storeWith()
    const suite = findSuite(0x0478)!
    const dataKey = randomBytes(32)
    const fields = { suite, encryptionContext: {}, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined }
    const out = await keyring(store).onEncrypt(createEncryptionMaterials(fields, new Uint8Array(dataKey)), services)
    expect(Buffer.from(out.plaintextDataKey!)).toEqual(dataKey)
    const back = await keyring(store).onDecrypt(decryptionMaterials(0x0478), out.encryptedDataKeys, services)
    expect(Buffer.from(back.plaintextDataKey!)).toEqual(dataKey)
  })

  it('decrypts a message written before a rotation with the old version', async () => {
    const store = storeWith()
    const { ciphertext } = await client.encrypt(keyring(store), 'old')
    store.rotate('bk')
    const fresh = keyring(store)
    await client.encrypt(fresh, 'new')
    expect(new TextDecoder().decode((await client.decrypt(fresh, ciphertext)).plaintext)).toBe('old')
    const [, , versionCall] = store.calls
    expect(versionCall).toEqual({ op: 'version', branchKeyId: 'bk', version: store.versions.get('bk')![0]!.version })
  })
})

describe('KmsHierarchicalKeyring branch key id supplier', () => {
  const store = new MemoryBranchKeys()
  store.rotate('tenant-a')
  store.rotate('tenant-b')

  it('picks the branch key from the context, sync or async, on encrypt and decrypt', async () => {
    for (const supplier of [(ec: EncryptionContext) => `tenant-${ec.tenant}`, async (ec: EncryptionContext) => `tenant-${ec.tenant}`]) {
      const k = new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 60, branchKeyIdSupplier: supplier })
      const a = await client.encrypt(k, 'a', { encryptionContext: { tenant: 'a' } })
      const b = await client.encrypt(k, 'b', { encryptionContext: { tenant: 'b' } })
      expect(new TextDecoder().decode(a.header.encryptedDataKeys[0]!.providerInfo)).toBe('tenant-a')
      expect(new TextDecoder().decode(b.header.encryptedDataKeys[0]!.providerInfo)).toBe('tenant-b')
      expect((await client.decrypt(k, b.ciphertext)).plaintext.length).toBe(1)
    }
  })

  it('a supplier that throws or returns no id fails with a typed KeyringError, the cause kept', async () => {
    const boom = new Error('no tenant')
    const throwing = new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 60, branchKeyIdSupplier: () => { throw boom } })
    const err = await client.encrypt(throwing, 'x').catch((e) => e)
    expect(err).toBeInstanceOf(KeyringError)
    expect(err.code).toBe('ERR_KEYRING')
    expect(err.cause).toBe(boom)
    const rejecting = new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 60, branchKeyIdSupplier: () => Promise.reject(boom) })
    await expect(client.encrypt(rejecting, 'x')).rejects.toBeInstanceOf(KeyringError)
    for (const bad of ['', undefined, 5]) {
      const k = new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 60, branchKeyIdSupplier: () => bad as never })
      await expect(client.encrypt(k, 'x')).rejects.toThrow(/returned no branch key id/)
    }
    const { ciphertext } = await client.encrypt(new KmsHierarchicalKeyring({ keyStore: store, ttlSeconds: 60, branchKeyId: 'tenant-a' }), 'x')
    await expect(client.decrypt(throwing, ciphertext)).rejects.toBeInstanceOf(KeyringError)
  })
})

describe('KmsHierarchicalKeyring decrypt failures', () => {
  it('skips keys of other providers and other branch keys, naming each', async () => {
    const store = storeWith('bk')
    store.rotate('other')
    const { ciphertext } = await client.encrypt(keyring(store, { branchKeyId: 'other' }), 'x')
    const err = await client.decrypt(keyring(store), ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts).toEqual([expect.objectContaining({ keyring: 'KmsHierarchicalKeyring', keyName: 'other', reason: 'not branch key "bk"', skipped: true })])
    const raw = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: randomBytes(32) })
    const other = await client.encrypt(raw, 'x')
    const err2 = await client.decrypt(keyring(store), other.ciphertext).catch((e) => e)
    expect(err2.attempts[0]).toMatchObject({ providerId: 'ns', skipped: true })
    // No key store call for keys that are not this keyring's.
    expect(store.calls.filter((c) => c.op === 'version')).toEqual([])
  })

  it('fails every altered field of the EDK and the context, and leaves the materials untouched', async () => {
    const store = storeWith()
    const k = keyring(store)
    const context = { purpose: 'test' }
    const { edk } = await wrapOne(k, context)
    const materials = decryptionMaterials(0x0478, context)
    const flip = (offset: number): EncryptedDataKey => {
      const ciphertext = new Uint8Array(edk.ciphertext)
      ciphertext[offset]! ^= 1
      return { ...edk, ciphertext }
    }
    // salt, iv, wrapped key, tag
    for (const offset of [0, 15, 16, 27, 44, 75, 76, 91]) {
      const err = await k.onDecrypt(materials, [flip(offset)], services).catch((e) => e)
      expect(err, `offset ${offset}`).toBeInstanceOf(NoMatchingKeyError)
      expect(err.attempts[0].reason).toMatch(/^unwrap failed/)
    }
    // version: the store has no such version
    const err = await k.onDecrypt(materials, [flip(30)], services).catch((e) => e)
    expect(err.attempts[0].reason).toMatch(/^could not get version/)
    // context
    await expect(k.onDecrypt(decryptionMaterials(0x0478, { purpose: 'other' }), [edk], services)).rejects.toBeInstanceOf(NoMatchingKeyError)
    // length
    const short = await k.onDecrypt(materials, [{ ...edk, ciphertext: edk.ciphertext.subarray(1) }], services).catch((e) => e)
    expect(short.attempts[0].reason).toBe('wrapped key is 91 bytes, expected 92')
    // the untouched original still decrypts
    expect((await k.onDecrypt(materials, [edk], services)).plaintextDataKey).toBeDefined()
    // branch key id bound in the AAD: the same key under another id does not unwrap
    const twin = new MemoryBranchKeys()
    const original = store.versions.get('bk')![0]!
    twin.rotate('bk2', original.key, original.version)
    const renamed = { ...edk, providerInfo: new TextEncoder().encode('bk2') }
    const err3 = await keyring(twin, { branchKeyId: 'bk2' }).onDecrypt(materials, [renamed], services).catch((e) => e)
    expect(err3.attempts[0].reason).toMatch(/^unwrap failed/)
  })

  it('refuses materials that already have a data key', async () => {
    const store = storeWith()
    const { edk } = await wrapOne(keyring(store))
    const materials = createDecryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined }, randomBytes(32))
    await expect(keyring(store).onDecrypt(materials, [edk], services)).rejects.toBeInstanceOf(KeyringError)
  })

  it('tries at most maxUnwrapAttempts keys per message', async () => {
    const store = storeWith()
    const { edk } = await wrapOne(keyring(store))
    const forged = { ...edk, ciphertext: new Uint8Array(edk.ciphertext).fill(7, 44) }
    const err = await keyring(store, { maxUnwrapAttempts: 2 }).onDecrypt(decryptionMaterials(0x0478), [forged, forged, forged, edk], services).catch((e) => e)
    expect(err.attempts.map((a: { reason: string }) => a.reason.split(':')[0])).toEqual(['unwrap failed with version ' + store.versions.get('bk')![0]!.version, expect.anything(), 'not tried', 'not tried'])
  })

  it('reports key store failures per key on decrypt (typed errors kept, retryable counted) and as typed errors on encrypt', async () => {
    const store = storeWith()
    const { edk } = await wrapOne(keyring(store))
    const throttled = new KmsError('arn:aws:kms:us-east-1:111122223333:key/k', 'ThrottlingException', 'slow down', true)
    store.failure = throttled
    const err = await keyring(store).onDecrypt(decryptionMaterials(0x0478), [edk], services).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0].cause).toBe(throttled)
    expect(err.retryable).toBe(true)
    await expect(keyring(store).onEncrypt(createEncryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined }), services)).rejects.toBe(throttled)
    const plain = new Error('socket hang up')
    store.failure = plain
    const err2 = await client.encrypt(keyring(store), 'x').catch((e) => e)
    expect(err2).toBeInstanceOf(KeyringError)
    expect(err2.cause).toBe(plain)
  })

  it('refuses key store answers for another key, another version, or a key of the wrong length, without leaking the key', async () => {
    const store = storeWith()
    const { edk } = await wrapOne(keyring(store))
    const good = store.versions.get('bk')![0]!
    const answers = [
      { branchKeyId: 'nope', branchKeyVersion: good.version, branchKey: new Uint8Array(good.key), encryptionContext: {} },
      { branchKeyId: 'bk', branchKeyVersion: '0f9bd5a2-71c4-4c1c-8a3b-5d7e3f3a8b10', branchKey: new Uint8Array(good.key), encryptionContext: {} },
      { branchKeyId: 'bk', branchKeyVersion: good.version, branchKey: good.key.subarray(0, 31), encryptionContext: {} },
      { branchKeyId: 'bk', branchKeyVersion: 'v1', branchKey: new Uint8Array(good.key), encryptionContext: {} },
    ]
    for (const answer of answers) {
      const lying = { logicalKeyStoreName: 'store', getActiveBranchKey: async () => answer, getBranchKeyVersion: async () => answer }
      const k = new KmsHierarchicalKeyring({ keyStore: lying, branchKeyId: 'bk', ttlSeconds: 60 })
      const err = await k.onDecrypt(decryptionMaterials(0x0478), [edk], services).catch((e) => e)
      expect(err).toBeInstanceOf(NoMatchingKeyError)
      expect(err.attempts[0].cause).toBeInstanceOf(KeyringError)
      expect(err.message).not.toContain(Buffer.from(good.key).toString('hex'))
      // On encrypt any version may be the active one; the other answers are refused there too.
      if (answer !== answers[1]) await expect(client.encrypt(k, 'x')).rejects.toBeInstanceOf(EnvelopeError)
    }
  })
})

describe('KmsHierarchicalKeyring cache ids', () => {
  class RecordingCache extends BranchKeyCache {
    readonly ids: string[] = []
    override get(id: string, ...rest: Parameters<BranchKeyCache['get']> extends [string, ...infer R] ? R : never) {
      this.ids.push(id)
      return super.get(id, ...rest)
    }
  }

  it('are the SHA-384 formulas of spec/hierarchy.md#cache-ids, in hex', async () => {
    const store = storeWith('bk')
    const version = store.versions.get('bk')![0]!.version
    const cache = new RecordingCache()
    const k = keyring(store, { cache, partitionId: 'p' })
    const { edk } = await wrapOne(k)
    await k.onDecrypt(decryptionMaterials(0x0478), [edk], services)
    const sha384 = (...parts: (string | number[])[]) => createHash('sha384').update(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))).digest('hex')
    expect(cache.ids).toEqual([sha384([2, 0, 1, 0], 'p', [0], 'store', [0], 'bk'), sha384([2, 0, 2, 0], 'p', [0], 'store', [0], 'bk', [0], version)])
  })
})
