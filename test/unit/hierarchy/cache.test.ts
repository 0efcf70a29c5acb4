import { nodeBackend } from '../../../src/crypto/node.js'
import { describe, expect, it } from 'vitest'
import {
  BranchKeyCache,
  createClient,
  createDecryptionMaterials,
  createEncryptionMaterials,
  findSuite,
  KeyringError,
  KmsHierarchicalKeyring,
  type BranchKeyMaterials,
} from '../../../src/index.js'
import { manualClock, MemoryBranchKeys } from '../../support/branch-keys.js'

const client = createClient()
const materials = () => createEncryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined })

function setup(ttlSeconds = 60, capacity?: number) {
  const clock = manualClock()
  const cache = new BranchKeyCache({ clock: clock.now, capacity })
  const store = new MemoryBranchKeys()
  store.rotate('bk')
  const keyring = (extra: Record<string, unknown> = {}) => new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds, cache, ...extra })
  return { clock, cache, store, keyring }
}

/** Keeps every branch key the store hands out, to see when the cache zeroes it. */
function watchKeys(store: MemoryBranchKeys): Uint8Array[] {
  const handed: Uint8Array[] = []
  const active = store.getActiveBranchKey.bind(store)
  const version = store.getBranchKeyVersion.bind(store)
  const keep = (m: BranchKeyMaterials) => (handed.push(m.branchKey), m)
  store.getActiveBranchKey = async (id) => keep(await active(id))
  store.getBranchKeyVersion = async (id, v) => keep(await version(id, v))
  return handed
}

const zeroed = (key: Uint8Array) => key.every((b) => b === 0)

describe('BranchKeyCache', () => {
  it('defaults to 1000 entries and validates its options', () => {
    expect(new BranchKeyCache().capacity).toBe(1000)
    expect(() => new BranchKeyCache({ capacity: 0 })).toThrow(RangeError)
    expect(() => new BranchKeyCache({ capacity: 1.5 })).toThrow(RangeError)
    expect(() => new BranchKeyCache({ clock: 5 as never })).toThrow(TypeError)
  })

  it('serves repeated encrypts and decrypts from one key store call each', async () => {
    const { store, keyring } = setup()
    const k = keyring()
    const messages = []
    for (let i = 0; i < 5; i++) messages.push((await client.encrypt(k, `m${i}`)).ciphertext)
    for (const m of messages) await client.decrypt(k, m)
    expect(store.calls.map((c) => c.op)).toEqual(['active', 'version'])
  })

  it('reloads after the TTL: usable at exactly ttl, reloaded 1 ms later, and a rotation is picked up then', async () => {
    const { clock, store, keyring } = setup(10)
    const k = keyring()
    const first = await client.encrypt(k, 'x')
    const newVersion = store.rotate('bk')
    clock.advance(10_000)
    const still = await client.encrypt(k, 'x')
    expect(store.calls).toHaveLength(1)
    expect(still.header.encryptedDataKeys[0]!.ciphertext.subarray(28, 44)).toEqual(first.header.encryptedDataKeys[0]!.ciphertext.subarray(28, 44))
    clock.advance(1)
    const after = await client.encrypt(k, 'x')
    expect(store.calls).toHaveLength(2)
    expect(Buffer.from(after.header.encryptedDataKeys[0]!.ciphertext.subarray(28, 44)).toString('hex')).toBe(newVersion.replaceAll('-', ''))
  })

  it('makes one key store call for N concurrent misses (single-flight), and shares a failure the same way', async () => {
    const { store, cache } = setup()
    let reached = 0
    const get = cache.get.bind(cache)
    cache.get = (...args) => (reached++, get(...args))
    const k = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 60, cache })
    let open!: () => void
    store.gate = new Promise((resolve) => (open = resolve))
    const pending = Array.from({ length: 20 }, () => k.onEncrypt(materials(), { backend: nodeBackend }))
    // A macrotask: every microtask has run, so all 20 are waiting on the one load.
    await new Promise((resolve) => setImmediate(resolve))
    expect([reached, store.calls.length]).toEqual([20, 1])
    open()
    const results = await Promise.all(pending)
    expect(store.calls).toHaveLength(1)
    expect(new Set(results.map((r) => Buffer.from(r.encryptedDataKeys[0]!.ciphertext.subarray(28, 44)).toString('hex'))).size).toBe(1)

    store.failure = new Error('down')
    store.gate = new Promise((resolve) => (open = resolve))
    const other = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 60, cache })
    const failing = Array.from({ length: 5 }, () => other.onEncrypt(materials(), { backend: nodeBackend }).catch((e) => e))
    await new Promise((resolve) => setImmediate(resolve))
    open()
    expect((await Promise.all(failing)).every((e) => e instanceof KeyringError && e.cause === store.failure)).toBe(true)
    expect(store.calls).toHaveLength(2)
    // A failed load is not cached: the next call asks again.
    store.failure = undefined
    store.gate = undefined
    await other.onEncrypt(materials(), { backend: nodeBackend })
    expect(store.calls).toHaveLength(3)
  })

  it('zeroes a branch key when its entry is evicted by capacity', async () => {
    const { store, keyring, cache } = setup(60, 1)
    store.rotate('bk2')
    const handed = watchKeys(store)
    await client.encrypt(keyring(), 'x')
    expect(zeroed(handed[0]!)).toBe(false)
    await client.encrypt(keyring({ branchKeyId: 'bk2' }), 'x')
    expect(cache.size).toBe(1)
    expect(zeroed(handed[0]!)).toBe(true)
    expect(zeroed(handed[1]!)).toBe(false)
  })

  it('zeroes a branch key when it expires, when it is replaced, and on clear()', async () => {
    const { clock, store, keyring, cache } = setup(10)
    const handed = watchKeys(store)
    const k = keyring()
    await client.encrypt(k, 'x')
    clock.advance(10_001)
    expect(cache.prune()).toBe(1)
    expect(zeroed(handed[0]!)).toBe(true)
    expect(cache.size).toBe(0)
    await client.encrypt(k, 'x')
    clock.advance(10_001)
    // Read after expiry: the old entry goes (zeroed) and a new one is loaded.
    await client.encrypt(k, 'x')
    expect(zeroed(handed[1]!)).toBe(true)
    expect(zeroed(handed[2]!)).toBe(false)
    cache.clear()
    expect(zeroed(handed[2]!)).toBe(true)
    expect(cache.size).toBe(0)
  })

  it('keeps keyrings with different partition ids apart in a shared cache, and shares between equal ones', async () => {
    const { store, keyring } = setup()
    await client.encrypt(keyring({ partitionId: 'a' }), 'x')
    await client.encrypt(keyring({ partitionId: 'b' }), 'x')
    expect(store.calls).toHaveLength(2)
    await client.encrypt(keyring({ partitionId: 'a' }), 'x')
    expect(store.calls).toHaveLength(2)
    // The default partition is random per keyring: two such keyrings never share.
    await client.encrypt(keyring(), 'x')
    await client.encrypt(keyring(), 'x')
    expect(store.calls).toHaveLength(4)
  })

  it('keeps key stores with different logical names apart', async () => {
    const { cache } = setup()
    const one = new MemoryBranchKeys('one')
    const two = new MemoryBranchKeys('two')
    one.rotate('bk')
    two.rotate('bk')
    await client.encrypt(new KmsHierarchicalKeyring({ keyStore: one, branchKeyId: 'bk', ttlSeconds: 60, cache, partitionId: 'p' }), 'x')
    await client.encrypt(new KmsHierarchicalKeyring({ keyStore: two, branchKeyId: 'bk', ttlSeconds: 60, cache, partitionId: 'p' }), 'x')
    expect([one.calls.length, two.calls.length]).toEqual([1, 1])
  })

  it('applies the reading keyring’s TTL to a shared entry', async () => {
    const { clock, store, cache } = setup()
    const long = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 600, cache, partitionId: 'p' })
    const short = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 5, cache, partitionId: 'p' })
    await client.encrypt(long, 'x')
    clock.advance(5_000)
    await client.encrypt(short, 'x')
    expect(store.calls).toHaveLength(1)
    clock.advance(1)
    await client.encrypt(short, 'x')
    expect(store.calls).toHaveLength(2)
  })

  it('never uses a key its cache wiped while the keyring awaited it: it loads the key again', async () => {
    const { store, cache } = setup(60, 1)
    store.rotate('bk2')
    const a = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 60, cache })
    const b = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk2', ttlSeconds: 60, cache })
    let open!: () => void
    store.gate = new Promise((resolve) => (open = resolve))
    const wrapA = a.onEncrypt(materials(), { backend: nodeBackend })
    const wrapB = b.onEncrypt(materials(), { backend: nodeBackend })
    await new Promise((resolve) => setImmediate(resolve))
    // Both loads finish in one turn: b's entry evicts (and zeroes) a's before a resumes.
    open()
    const [edkA, edkB] = (await Promise.all([wrapA, wrapB])).map((m) => m.encryptedDataKeys[0]!)
    expect(store.calls.map((c) => c.branchKeyId)).toEqual(['bk', 'bk2', 'bk'])
    // Neither key was wrapped under a zeroed branch key: fresh keyrings unwrap both.
    const fresh = (id: string) => new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: id, ttlSeconds: 60 })
    const decryption = createDecryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
    await fresh('bk').onDecrypt(decryption, [edkA!], { backend: nodeBackend })
    await fresh('bk2').onDecrypt(decryption, [edkB!], { backend: nodeBackend })
  })

  it('gives up with a typed error when the entry is wiped before every use', async () => {
    class Thrashing extends BranchKeyCache {
      override async get(...args: Parameters<BranchKeyCache['get']>) {
        const entry = await super.get(...args)
        this.clear()
        return entry
      }
    }
    const store = new MemoryBranchKeys()
    store.rotate('bk')
    const k = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'bk', ttlSeconds: 60, cache: new Thrashing() })
    const err = await k.onEncrypt(materials(), { backend: nodeBackend }).catch((e) => e)
    expect(err).toBeInstanceOf(KeyringError)
    expect(err.message).toMatch(/larger capacity/)
    expect(store.calls).toHaveLength(3)
  })
})
