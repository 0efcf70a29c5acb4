/**
 * Every suite round-trips through both stream APIs, with input cut at random
 * sizes (1 byte, odd sizes, larger than a frame) and lengths around the frame
 * boundaries. Each message is also decrypted by the one-shot path and by the
 * other stream API, so the adapters check each other.
 */
import { describe, expect, it } from 'vitest'
import { ALL_SUITES } from '../../src/index.js'
import { patterned } from '../support/keys.js'
import { chunked, clientFor, keyring, randomSizes, same, throughNode, throughWeb } from './helpers.js'

const F = 64
const LENGTHS = [0, 1, F - 1, F, F + 1, 2 * F, 3 * F + 7]
const CHUNKINGS: [string, number[]][] = [
  ['1-byte chunks', [1]],
  ['odd chunks', [3, 7, 13]],
  ['chunks larger than a frame', [2 * F + 5]],
  ['random chunks (seed 1)', randomSizes(1, 64, 3 * F)],
]

describe.each(ALL_SUITES.map((s) => [s.name, s] as const))('%s', (_name, suite) => {
  const client = clientFor(suite)
  const options = { suiteId: suite.id, frameLength: F, encryptionContext: { purpose: 'round-trip' } }

  it.each(CHUNKINGS)('Node encryptStream -> decryptStream / decryptWebStream / decrypt, %s', async (_label, sizes) => {
    for (const length of LENGTHS) {
      const plaintext = patterned(length, length + 3)
      const ciphertext = await throughNode(chunked(plaintext, sizes), client.encryptStream(keyring, options))
      const oneShot = await client.decrypt(keyring, ciphertext)
      expect(same(oneShot.plaintext, plaintext), `one-shot len=${length}`).toBe(true)
      expect(oneShot.header.suiteId).toBe(suite.id)
      expect(same(await throughNode(chunked(ciphertext, sizes), client.decryptStream(keyring)), plaintext), `node len=${length}`).toBe(true)
      expect(same(await throughWeb(chunked(ciphertext, sizes), client.decryptWebStream(keyring)), plaintext), `web len=${length}`).toBe(true)
    }
  })

  it.each(CHUNKINGS)('encryptWebStream -> decryptWebStream / decryptStream / decrypt, %s', async (_label, sizes) => {
    for (const length of LENGTHS) {
      const plaintext = patterned(length, length + 5)
      const ciphertext = await throughWeb(chunked(plaintext, sizes), client.encryptWebStream(keyring, options))
      expect(same((await client.decrypt(keyring, ciphertext)).plaintext, plaintext), `one-shot len=${length}`).toBe(true)
      expect(same(await throughWeb(chunked(ciphertext, sizes), client.decryptWebStream(keyring)), plaintext), `web len=${length}`).toBe(true)
      expect(same(await throughNode(chunked(ciphertext, sizes), client.decryptStream(keyring)), plaintext), `node len=${length}`).toBe(true)
    }
  })
})

describe('one-shot messages through the stream decryptors', () => {
  it.each([
    ['framed, 4096', 4096],
    ['non-framed (legacy)', 0],
  ])('%s', async (_l, frameLength) => {
    const plaintext = patterned(10_000)
    const client = clientFor(ALL_SUITES.find((s) => s.id === 0x0578)!)
    const { ciphertext } = await client.encrypt(keyring, plaintext, { frameLength })
    for (const sizes of [[1], [4099], randomSizes(2, 32, 9000)]) {
      expect(same(await throughNode(chunked(ciphertext, sizes), client.decryptStream(keyring)), plaintext)).toBe(true)
      expect(same(await throughWeb(chunked(ciphertext, sizes), client.decryptWebStream(keyring)), plaintext)).toBe(true)
    }
  })
})
