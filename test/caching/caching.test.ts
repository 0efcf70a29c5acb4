/** CachingCmm limits, single flight, bypasses, wiping and interop, counted at the keyring. */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import {
  CachingCmm,
  createClient,
  LocalCache,
  RawAesKeyring,
  RequiredEncryptionContextCmm,
  type DecryptionMaterials,
  type EncryptionMaterials,
  type Keyring,
} from '../../src/index.js'
import { aesKey } from '../support/keys.js'
import { peerAesKeyring, peerAllow } from '../support/peer.js'

const key = aesKey(32)
const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })

/** A raw AES keyring that counts how often it is asked for a new data key or a decrypt. */
function counting() {
  const inner = new RawAesKeyring({ keyNamespace: 'cache', keyName: 'k', wrappingKey: key })
  const calls = { encrypt: 0, decrypt: 0 }
  const keyring: Keyring = {
    async onEncrypt(m, c) {
      calls.encrypt++
      return inner.onEncrypt(m, c)
    },
    async onDecrypt(m, e, c) {
      calls.decrypt++
      return inner.onDecrypt(m, e, c)
    },
  }
  return { keyring, calls }
}

describe('encrypt limits', () => {
  it.each([1, 3, 10])('maxMessagesEncrypted = %i: E encrypts cost ceil(E / M) data keys', async (m) => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: m })
    const keys = new Set<string>()
    for (let i = 0; i < 25; i++) {
      const { header } = await client.encrypt(cmm, `message ${i}`, { encryptionContext: { a: 'b' } })
      keys.add(Buffer.from(header.encryptedDataKeys[0]!.ciphertext).toString('hex'))
    }
    expect(calls.encrypt).toBe(Math.ceil(25 / m))
    expect(keys.size).toBe(Math.ceil(25 / m))
    expect(cmm.stats()).toMatchObject({ underlyingCalls: Math.ceil(25 / m) })
  })

  it('maxBytesEncrypted: a key serves messages until the next one would pass the limit', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxBytesEncrypted: 1000 })
    for (let i = 0; i < 10; i++) await client.encrypt(cmm, new Uint8Array(300))
    // 300 + 300 + 300 fit, the fourth does not: keys serve 3 messages each -> ceil(10 / 3).
    expect(calls.encrypt).toBe(4)
    await client.encrypt(cmm, new Uint8Array(1001))
    expect(cmm.stats().bypasses).toBe(1)
  })

  it('maxAge, with an injected clock', async () => {
    const { keyring, calls } = counting()
    let now = 0
    const cmm = new CachingCmm({ keyring, maxAge: 1000, clock: () => now })
    await client.encrypt(cmm, 'x')
    now = 999
    await client.encrypt(cmm, 'x')
    expect(calls.encrypt).toBe(1)
    now = 1000
    await client.encrypt(cmm, 'x')
    expect(calls.encrypt).toBe(2)
    expect(cmm.stats().evictions).toBeGreaterThanOrEqual(1)
  })

  it('different contexts and suites do not share keys', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    await client.encrypt(cmm, 'x', { encryptionContext: { t: '1' } })
    await client.encrypt(cmm, 'x', { encryptionContext: { t: '2' } })
    await client.encrypt(cmm, 'x', { encryptionContext: { t: '1' }, suiteId: 0x0478 })
    await client.encrypt(cmm, 'x', { encryptionContext: { t: '1' } })
    expect(calls.encrypt).toBe(3)
  })

  it('clients with different commitment policies can share one CMM: each gets a key for its own default suite', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    const legacy = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
    const strict = createClient()
    const first = await strict.encrypt(cmm, 'x', { encryptionContext: { t: '1' } })
    const second = await legacy.encrypt(cmm, 'x', { encryptionContext: { t: '1' } })
    const third = await client.encrypt(cmm, 'x', { encryptionContext: { t: '1' } })
    expect([first.header.suiteId, second.header.suiteId, third.header.suiteId]).toEqual([0x0578, 0x0378, 0x0578])
    // The two committing policies share the 0x0578 entry; the legacy one has its own.
    expect(calls.encrypt).toBe(2)
    expect(Buffer.from((await legacy.decrypt(cmm, second.ciphertext)).plaintext).toString()).toBe('x')
  })
})

describe('concurrency', () => {
  it('100 concurrent encrypts on a cold cache make exactly 1 underlying call', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.encrypt(cmm, `m${i}`)))
    expect(calls.encrypt).toBe(1)
    for (const r of results.slice(0, 5)) expect(new TextDecoder().decode((await client.decrypt(cmm, r.ciphertext)).plaintext)).toMatch(/^m\d+$/)
  })

  it('limits hold under concurrency: no key serves more than M messages', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: 7 })
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.encrypt(cmm, `m${i}`)))
    const perKey = new Map<string, number>()
    for (const r of results) {
      const id = Buffer.from(r.header.encryptedDataKeys[0]!.ciphertext).toString('hex')
      perKey.set(id, (perKey.get(id) ?? 0) + 1)
    }
    expect(Math.max(...perKey.values())).toBeLessThanOrEqual(7)
    expect(calls.encrypt).toBe(Math.ceil(100 / 7))
  })
})

describe('bypasses and decrypt', () => {
  it('identity-KDF suites and unknown lengths go straight to the underlying CMM', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
    await forbid.encrypt(cmm, 'x', { suiteId: 0x0014 })
    await forbid.encrypt(cmm, 'x', { suiteId: 0x0014 })
    expect(calls.encrypt).toBe(2)
    const sink = new Writable({ write: (_c, _e, cb) => cb() })
    await pipeline(Readable.from(['streamed']), client.encryptStream(cmm), sink)
    await pipeline(Readable.from(['streamed']), client.encryptStream(cmm), new Writable({ write: (_c, _e, cb) => cb() }))
    expect(calls.encrypt).toBe(4)
    expect(cmm.stats().bypasses).toBe(4)
  })

  it('decrypts of messages that share data keys hit the cache', async () => {
    const { keyring, calls } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    const messages = await Promise.all([1, 2, 3].map((i) => client.encrypt(cmm, `m${i}`, { encryptionContext: { k: 'v' } })))
    for (const m of messages) await client.decrypt(cmm, m.ciphertext)
    expect(calls.decrypt).toBe(1)
    // The three encrypts share one flight (misses); the second and third decrypt are hits.
    expect(cmm.stats().hits).toBe(2)
  })

  it('wipes the data key of an evicted entry, and never hands out a wiped one', async () => {
    const seen: (EncryptionMaterials | DecryptionMaterials)[] = []
    const inner = new RawAesKeyring({ keyNamespace: 'cache', keyName: 'k', wrappingKey: key })
    const keyring: Keyring = {
      onEncrypt: async (m, c) => {
        const out = await inner.onEncrypt(m, c)
        seen.push(out)
        return out
      },
      onDecrypt: (m, e, c) => inner.onDecrypt(m, e, c),
    }
    const cmm = new CachingCmm({ keyring, cache: new LocalCache({ capacity: 1 }), maxAge: 60_000 })
    const first = await client.encrypt(cmm, 'one', { encryptionContext: { n: '1' } })
    await client.encrypt(cmm, 'two', { encryptionContext: { n: '2' } }) // evicts the first entry
    expect(seen[0]!.plaintextDataKey!.every((b) => b === 0)).toBe(true)
    expect(new TextDecoder().decode((await client.decrypt(inner, first.ciphertext)).plaintext)).toBe('one')
  })

  it('validates its options', () => {
    const { keyring } = counting()
    expect(() => new CachingCmm({ keyring, maxAge: 0 })).toThrow(RangeError)
    expect(() => new CachingCmm({ keyring, maxAge: 1, maxMessagesEncrypted: 0 })).toThrow(RangeError)
    expect(() => new CachingCmm({ maxAge: 1 } as never)).toThrow(TypeError)
  })
})

describe('composition and interop', () => {
  it('composes with RequiredEncryptionContextCmm in both orders', async () => {
    const { keyring, calls } = counting()
    const outer = new RequiredEncryptionContextCmm({ cmm: new CachingCmm({ keyring, maxAge: 60_000 }), requiredEncryptionContextKeys: ['tenant'] })
    const inner = new CachingCmm({ cmm: new RequiredEncryptionContextCmm({ keyring, requiredEncryptionContextKeys: ['tenant'] }), maxAge: 60_000 })
    for (const cmm of [outer, inner]) {
      const a = await client.encrypt(cmm, 'a', { encryptionContext: { tenant: 't' } })
      const b = await client.encrypt(cmm, 'b', { encryptionContext: { tenant: 't' } })
      expect(a.header.encryptionContext).not.toHaveProperty('tenant')
      expect(new TextDecoder().decode((await client.decrypt(cmm, b.ciphertext, { encryptionContext: { tenant: 't' } })).plaintext)).toBe('b')
      await expect(client.decrypt(cmm, a.ciphertext)).rejects.toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
    }
    expect(calls.encrypt).toBe(2)
  })

  it('messages written through the cache decrypt with @aws-crypto/client-node', async () => {
    const { keyring } = counting()
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: 2 })
    for (let i = 0; i < 5; i++) {
      const { ciphertext } = await client.encrypt(cmm, `peer ${i}`, { encryptionContext: { k: 'v' } })
      expect((await peerAllow.decrypt(peerAesKeyring('cache', 'k', key), ciphertext)).plaintext.toString()).toBe(`peer ${i}`)
    }
  })
})
