/**
 * CachingCmm safety (issue 14, items 2, 7 and 13): materials of a suite without
 * key derivation are never cached even when the underlying CMM picks that suite
 * itself; expired entries are wiped by a sweep that never keeps a process
 * alive (a real process exiting with a live entry: test/package/process-exit.test.ts);
 * the default partition takes its randomness from the client's backend.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CachingCmm,
  createClient,
  DefaultCmm,
  LocalCache,
  RawAesKeyring,
  type CacheEntry,
  type Cmm,
  type DecryptionMaterials,
  type EncryptionMaterials,
  type Keyring,
} from '../../src/index.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { createDecryptionMaterials } from '../../src/materials/materials.js'
import { getSuite } from '../../src/format/suites.js'
import { bytesToHex } from '../support/helpers.js'
import { aesKey } from '../support/keys.js'

const key = aesKey(32)
const legacy = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })

/** A raw AES keyring that remembers every materials object it returns (the originals the cache would hold). */
function recording() {
  const inner = new RawAesKeyring({ keyNamespace: 'safety', keyName: 'k', wrappingKey: key })
  const encrypted: EncryptionMaterials[] = []
  const decrypted: DecryptionMaterials[] = []
  const keyring: Keyring = {
    async onEncrypt(m, c) {
      const out = await inner.onEncrypt(m, c)
      encrypted.push(out)
      return out
    },
    async onDecrypt(m, e, c) {
      const out = await inner.onDecrypt(m, e, c)
      decrypted.push(out)
      return out
    },
  }
  return { inner, keyring, encrypted, decrypted }
}

/** A legacy CMM: when the request names no suite it picks 0x0078 (AES-256, no KDF) itself. */
function legacyCmm(keyring: Keyring) {
  const inner = new DefaultCmm(keyring)
  const calls = { encrypt: 0, decrypt: 0 }
  const cmm: Cmm = {
    getEncryptionMaterials(request, context) {
      calls.encrypt++
      return inner.getEncryptionMaterials({ ...request, suiteId: request.suiteId ?? 0x0078 }, context)
    },
    decryptMaterials(request, context) {
      calls.decrypt++
      return inner.decryptMaterials(request, context)
    },
  }
  return { cmm, calls }
}

describe('suites without key derivation chosen by the underlying CMM (item 2)', () => {
  it('two encrypts never share a data key, one after the other', async () => {
    const { inner, keyring } = recording()
    const { cmm: underlying, calls } = legacyCmm(keyring)
    const cache = new LocalCache({ capacity: 10 })
    const cmm = new CachingCmm({ cmm: underlying, cache, maxAge: 60_000 })
    const a = await legacy.encrypt(cmm, 'attack at dawn', { encryptionContext: { k: 'v' } })
    const b = await legacy.encrypt(cmm, 'attack at dusk', { encryptionContext: { k: 'v' } })
    expect([a.header.suiteId, b.header.suiteId]).toEqual([0x0078, 0x0078])
    expect(calls.encrypt).toBe(2)
    expect(bytesToHex(a.header.encryptedDataKeys[0]!.ciphertext)).not.toBe(bytesToHex(b.header.encryptedDataKeys[0]!.ciphertext))
    expect(cache.size).toBe(0)
    expect(cmm.stats()).toMatchObject({ hits: 0, bypasses: 2 })
    expect(new TextDecoder().decode((await legacy.decrypt(inner, b.ciphertext)).plaintext)).toBe('attack at dusk')
  })

  it('a suite object that claims cacheSafe for a suite without key derivation is not believed (the suite table decides)', async () => {
    const { keyring } = recording()
    const inner = new DefaultCmm(keyring)
    const spoofed: Cmm = {
      async getEncryptionMaterials(request, context) {
        const m = await inner.getEncryptionMaterials({ ...request, suiteId: 0x0014 }, context)
        // A copy of the 0x0014 suite that says it may be cached, on a materials object of the same shape.
        return Object.freeze(Object.create(Object.getPrototypeOf(m), {
          ...Object.getOwnPropertyDescriptors(m),
          suite: { value: { ...getSuite(0x0014), cacheSafe: true }, enumerable: true },
          plaintextDataKey: { value: m.plaintextDataKey, enumerable: false },
        })) as EncryptionMaterials
      },
      decryptMaterials: (request, context) => inner.decryptMaterials(request, context),
    }
    const cache = new LocalCache({ capacity: 10 })
    const cmm = new CachingCmm({ cmm: spoofed, cache, maxAge: 60_000 })
    const a = await legacy.encrypt(cmm, 'attack at dawn')
    const b = await legacy.encrypt(cmm, 'attack at dusk')
    expect([a.header.suiteId, b.header.suiteId]).toEqual([0x0014, 0x0014])
    expect(bytesToHex(a.header.encryptedDataKeys[0]!.ciphertext)).not.toBe(bytesToHex(b.header.encryptedDataKeys[0]!.ciphertext))
    expect(cache.size).toBe(0)
    expect(cmm.stats()).toMatchObject({ hits: 0 })
  })

  it('concurrent encrypts that share one underlying call each get their own data key', async () => {
    const { keyring, encrypted } = recording()
    const { cmm: underlying, calls } = legacyCmm(keyring)
    const cmm = new CachingCmm({ cmm: underlying, maxAge: 60_000 })
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => legacy.encrypt(cmm, `m${i}`)))
    expect(calls.encrypt).toBe(8)
    expect(new Set(results.map((r) => bytesToHex(r.header.encryptedDataKeys[0]!.ciphertext))).size).toBe(8)
    // Every message had its own key, and each key was used (and wiped by the client) once.
    expect(encrypted).toHaveLength(8)
  })

  it('decrypt materials of a suite without key derivation are handed out, never cached', async () => {
    const { keyring } = recording()
    const underlyingCalls = { count: 0 }
    const inner = new DefaultCmm(keyring)
    // Answers for a KDF suite with materials of 0x0078, as a broken or hostile CMM might.
    const underlying: Cmm = {
      getEncryptionMaterials: (r, c) => inner.getEncryptionMaterials(r, c),
      async decryptMaterials(request, context) {
        underlyingCalls.count++
        const m = await inner.decryptMaterials(request, context)
        return createDecryptionMaterials({ ...m, suite: getSuite(0x0078) }, m.plaintextDataKey)
      },
    }
    const cache = new LocalCache({ capacity: 10 })
    const cmm = new CachingCmm({ cmm: underlying, cache, maxAge: 60_000 })
    const { ciphertext } = await legacy.encrypt(inner, 'x', { suiteId: 0x0178 })
    // The client refuses materials for another suite, and the cache keeps nothing from either call.
    await expect(legacy.decrypt(cmm, ciphertext)).rejects.toMatchObject({ code: 'ERR_COMMITMENT_POLICY' })
    await expect(legacy.decrypt(cmm, ciphertext)).rejects.toMatchObject({ code: 'ERR_COMMITMENT_POLICY' })
    expect(underlyingCalls.count).toBe(2)
    expect(cache.size).toBe(0)
  })

  it('decrypt: concurrent callers sharing a flight whose materials cannot be cached each ask the underlying CMM', async () => {
    const { keyring } = recording()
    const inner = new DefaultCmm(keyring)
    const seen: DecryptionMaterials[] = []
    const underlying: Cmm = {
      getEncryptionMaterials: (r, c) => inner.getEncryptionMaterials(r, c),
      async decryptMaterials(request, context) {
        const m = await inner.decryptMaterials(request, context)
        const out = createDecryptionMaterials({ ...m, suite: getSuite(0x0014) }, m.plaintextDataKey)
        seen.push(out)
        return out
      },
    }
    const cmm = new CachingCmm({ cmm: underlying, maxAge: 60_000 })
    const { header } = await legacy.encrypt(inner, 'x', { suiteId: 0x0178 })
    const request = { suite: getSuite(0x0178), commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' as const, encryptedDataKeys: header.encryptedDataKeys, encryptionContext: header.encryptionContext }
    const got = await Promise.all([1, 2, 3].map(() => cmm.decryptMaterials(request, { backend: nobleBackend })))
    expect(seen).toHaveLength(3)
    // Each caller holds its own key bytes: none is a copy kept in, or shared through, the cache.
    expect(new Set(got.map((m) => m.plaintextDataKey!.buffer)).size).toBe(3)
    expect(cmm.stats().hits).toBe(0)
  })
})

describe('expired entries are wiped without being accessed (item 7)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('an encrypt entry past maxAge has its key zeroed and leaves the store, with no further call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { keyring, encrypted } = recording()
    const cache = new LocalCache({ capacity: 10 })
    const events: string[] = []
    const cmm = new CachingCmm({ keyring, cache, maxAge: 5_000, clock: () => Date.now(), onEvent: (e) => events.push(`${e.type}:${e.reason ?? ''}`) })
    await legacy.encrypt(cmm, 'x')
    const original = encrypted[0]!.plaintextDataKey!
    expect(original.some((b) => b !== 0)).toBe(true)
    vi.advanceTimersByTime(4_999)
    expect(original.some((b) => b !== 0)).toBe(true)
    expect(cache.size).toBe(1)
    vi.advanceTimersByTime(1)
    expect(original.every((b) => b === 0)).toBe(true)
    expect(cache.size).toBe(0)
    expect(events).toContain('eviction:maxAge')
  })

  it('decrypt entries are swept too, and the sweep re-arms for entries that expire later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { keyring, inner, decrypted } = recording()
    const cache = new LocalCache({ capacity: 10 })
    const cmm = new CachingCmm({ keyring, cache, maxAge: 10_000, clock: () => Date.now() })
    const first = await legacy.encrypt(inner, 'one', { encryptionContext: { n: '1' } })
    const second = await legacy.encrypt(inner, 'two', { encryptionContext: { n: '2' } })
    await legacy.decrypt(cmm, first.ciphertext)
    vi.advanceTimersByTime(4_000)
    await legacy.decrypt(cmm, second.ciphertext)
    expect(cache.size).toBe(2)
    vi.advanceTimersByTime(6_000)
    expect(decrypted[0]!.plaintextDataKey!.every((b) => b === 0)).toBe(true)
    expect(decrypted[1]!.plaintextDataKey!.some((b) => b !== 0)).toBe(true)
    expect(cache.size).toBe(1)
    // The second entry expires at 14 s; the sweep may coalesce, but runs within a second of it.
    vi.advanceTimersByTime(5_000)
    expect(decrypted[1]!.plaintextDataKey!.every((b) => b === 0)).toBe(true)
    expect(cache.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('an entry found expired on access is wiped even by a store that does not wipe on delete', async () => {
    const { keyring, encrypted } = recording()
    const map = new Map<string, CacheEntry>()
    const store = { get: (id: string) => map.get(id), put: (id: string, e: CacheEntry) => void map.set(id, e), delete: (id: string) => void map.delete(id) }
    let now = 0
    const cmm = new CachingCmm({ keyring, cache: store, maxAge: 1_000, clock: () => now })
    await legacy.encrypt(cmm, 'x')
    now = 1_000
    await legacy.encrypt(cmm, 'y')
    expect(encrypted[0]!.plaintextDataKey!.every((b) => b === 0)).toBe(true)
    expect(map.size).toBe(1)
  })

  it('where timers are numbers (Deno), the sweep timer is unref\'d through Deno.unrefTimer', async () => {
    const unrefTimer = vi.fn()
    const setTimer = vi.fn(() => 42)
    vi.stubGlobal('Deno', { unrefTimer })
    vi.stubGlobal('setTimeout', setTimer)
    try {
      const { keyring } = recording()
      await legacy.encrypt(new CachingCmm({ keyring, maxAge: 60_000 }), 'x')
    } finally {
      vi.unstubAllGlobals()
    }
    expect(setTimer).toHaveBeenCalledTimes(1)
    expect(unrefTimer).toHaveBeenCalledWith(42)
  })
})

describe('the default partition comes from the backend (item 13)', () => {
  afterEach(() => {
    delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID
  })

  it('works where crypto.randomUUID does not exist (insecure browser contexts), drawing from the client backend', async () => {
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true })
    expect(globalThis.crypto.randomUUID).toBeUndefined()
    const client = createClient({ backend: nobleBackend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
    const { keyring } = recording()
    const one = new CachingCmm({ keyring, maxAge: 60_000 })
    const two = new CachingCmm({ keyring, maxAge: 60_000 })
    expect(one.partition).toBeUndefined()
    const { ciphertext } = await client.encrypt(one, 'x')
    expect(new TextDecoder().decode((await client.decrypt(one, ciphertext)).plaintext)).toBe('x')
    await client.encrypt(two, 'x')
    expect(one.partition).toBeTypeOf('string')
    expect(one.partition).not.toBe(two.partition)
    // Fixed once drawn.
    const partition = one.partition
    await client.encrypt(one, 'y', { encryptionContext: { other: 'context' } })
    expect(one.partition).toBe(partition)
  })

  it('a given partition is used as is', () => {
    const { keyring } = recording()
    expect(new CachingCmm({ keyring, maxAge: 1, partition: 'p' }).partition).toBe('p')
  })
})
