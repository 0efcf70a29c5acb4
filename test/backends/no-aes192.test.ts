/**
 * A node:crypto without aes-192-gcm, as Deno's is (ERR_CRYPTO_UNKNOWN_CIPHER; Deno resolves the
 * "node" condition to the Node build): the node backend probes once when it is made and sends
 * AES-192 keys to the pure-JS backend (src/crypto/node.ts, spec/backends.md#node). The runtime
 * matrix (test/runtimes/matrix.test.ts) checks the same in a real Deno.
 */
import { createCipheriv, randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>()
  const unknown = (algorithm: string) => {
    if (algorithm.toLowerCase() !== 'aes-192-gcm') return
    throw Object.assign(new TypeError(`Unknown cipher: ${algorithm}`), { code: 'ERR_CRYPTO_UNKNOWN_CIPHER' })
  }
  return {
    ...actual,
    createCipheriv: (algorithm: string, ...rest: unknown[]) => (unknown(algorithm), (actual.createCipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest)),
    createDecipheriv: (algorithm: string, ...rest: unknown[]) => (unknown(algorithm), (actual.createDecipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest)),
  }
})

const { ALL_SUITES, createClient, RawAesKeyring } = await import('../../src/index.js')
const { nodeBackend } = await import('../../src/crypto/node.js')
const { RawAesKey } = await import('../../src/crypto/noble-aes.js')

describe('node backend on a node:crypto without aes-192-gcm', () => {
  it('the stand-in really lacks it, as Deno does', () => {
    expect(() => createCipheriv('aes-192-gcm', new Uint8Array(24), new Uint8Array(12))).toThrow(/Unknown cipher/)
    expect(() => createCipheriv('aes-256-gcm', new Uint8Array(32), new Uint8Array(12))).not.toThrow()
  })

  it('imports AES-192 keys into pure JS, AES-128/256 keys into node:crypto (which may parallelise them)', () => {
    const [k16, k24, k32] = [16, 24, 32].map((n) => nodeBackend.importAesKey(new Uint8Array(n).fill(1)))
    expect([k16 instanceof RawAesKey, k24 instanceof RawAesKey, k32 instanceof RawAesKey]).toEqual([false, true, false])
    // The frame pool runs node:crypto, so an AES-192 run stays on this thread.
    expect(nodeBackend.sealFramesInParallel!(k24!, new Uint8Array(0), 1, 4096, new Uint8Array(1 << 20))).toBeUndefined()
  })

  const aes192Suites = ALL_SUITES.filter((suite) => suite.keyLength === 24)
  it.each(aes192Suites.map((suite) => [suite.name, suite] as const))('%s round-trips under an AES-192 wrapping key', async (_name, suite) => {
    const keyring = new RawAesKeyring({ keyNamespace: 'deno', keyName: 'aes-192', wrappingKey: new Uint8Array(randomBytes(24)) })
    const client = createClient({ commitmentPolicy: suite.committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
    const plaintext = new Uint8Array(randomBytes(10_000))
    const { ciphertext } = await client.encrypt(keyring, plaintext, { suiteId: suite.id, frameLength: 4096 })
    const { plaintext: back } = await client.decrypt(keyring, ciphertext)
    expect(new Uint8Array(back)).toEqual(plaintext)
  })

  it('covers every AES-192 suite', () => {
    expect(aes192Suites.length).toBe(3)
  })
})
