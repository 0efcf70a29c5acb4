/**
 * The header parser restarts from the first byte on each attempt. A large
 * header trickled in a byte at a time must cost a bounded number of attempts
 * (linear work), not one per field (quadratic work): counted, not timed.
 */
import { describe, expect, it, vi } from 'vitest'
import { IncrementalDecryptor } from '../../src/core/decryptor.js'
import { decodeHeader } from '../../src/format/header.js'
import { ALL_SUITES, withEncryptedDataKey, type Keyring } from '../../src/index.js'
import { toCmm } from '../../src/materials/cmm.js'
import { patterned } from '../support/keys.js'
import { concat } from '../support/helpers.js'
import { createClient } from '../../src/index.js'
import { keyring, same, settingsFor } from './helpers.js'

vi.mock('../../src/format/header.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/format/header.js')>()
  return { ...actual, decodeHeader: vi.fn(actual.decodeHeader) }
})

/** Adds `count` encrypted data keys no keyring can open, to make the header large. */
function padded(count: number): Keyring {
  return {
    async onEncrypt(materials, context) {
      let m = await keyring.onEncrypt(materials, context)
      const edks = Array.from({ length: count }, (_, i) => ({ providerId: 'padding', providerInfo: patterned(8, i), ciphertext: patterned(60, i + 1) }))
      for (const edk of edks) m = withEncryptedDataKey(m, edk)
      return m
    },
    onDecrypt: (materials, edks, context) => keyring.onDecrypt(materials, edks, context),
  }
}

/** Headers of thousands of data keys need the EDK limit lifted (64 by default); the decryptors below have it at 65,535. */
const requireClient = createClient({ maxEncryptedDataKeys: false })

describe('header parsing cost', () => {
  it('a 240 KB header pushed one byte at a time takes a bounded number of parse attempts', async () => {
    const suite = ALL_SUITES.find((s) => s.id === 0x0478)!
    const plaintext = patterned(1000)
    const { ciphertext } = await requireClient.encrypt(padded(3000), plaintext, { suiteId: suite.id })
    expect(ciphertext.length).toBeGreaterThan(240_000)
    const parse = vi.mocked(decodeHeader)
    parse.mockClear()

    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(suite))
    const out: Uint8Array[] = []
    let firstOutputAt = -1
    for (let i = 0; i < ciphertext.length; i++) {
      const released = await decryptor.push(ciphertext.subarray(i, i + 1))
      if (released.length > 0 && firstOutputAt < 0) {
        firstOutputAt = i
        expect(decryptor.info?.header.encryptedDataKeys.length).toBe(3001)
      }
      out.push(...released)
    }
    out.push(...(await decryptor.end()))
    expect(same(concat(out), plaintext)).toBe(true)
    // One attempt per field is ~9,000 here; eager attempts below 4 KiB plus doublings stay in the low hundreds.
    expect(parse.mock.calls.length).toBeLessThan(400)
  })

  it('a header whose last attempt was deferred is parsed at end()', async () => {
    const suite = ALL_SUITES.find((s) => s.id === 0x0478)!
    const { ciphertext } = await requireClient.encrypt(padded(100), patterned(10), { suiteId: suite.id })
    expect(ciphertext.length).toBeGreaterThan(5000)
    expect(ciphertext.length).toBeLessThan(10_000)
    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(suite))
    // A failed attempt at 5,000 bytes: the next one waits for 10,000 bytes, which never come.
    expect(await decryptor.push(ciphertext.subarray(0, 5000))).toEqual([])
    expect(await decryptor.push(ciphertext.subarray(5000))).toEqual([])
    expect(decryptor.info).toBeUndefined()
    expect(same(concat(await decryptor.end()), patterned(10))).toBe(true)
    expect(decryptor.info?.header.encryptedDataKeys.length).toBe(101)
  })

  it('a truncated large header still fails at end()', async () => {
    const suite = ALL_SUITES.find((s) => s.id === 0x0478)!
    const { ciphertext } = await requireClient.encrypt(padded(100), patterned(10), { suiteId: suite.id })
    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(suite))
    await decryptor.push(ciphertext.subarray(0, 5000))
    await decryptor.push(ciphertext.subarray(5000, 7000))
    await expect(decryptor.end()).rejects.toMatchObject({ code: 'ERR_TRUNCATED' })
  })
})
