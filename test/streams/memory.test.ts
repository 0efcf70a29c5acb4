/**
 * Bounded memory, measured by counters rather than RSS or time: 64 MiB go
 * through an encrypt | rechunk | decrypt pipeline with 4 KiB frames while a
 * probe samples, at every chunk, what each stage holds:
 * - the cores' own buffers (`bufferedBytes`: a partial frame, a held final frame),
 * - the Node stream buffers around them (readableLength / writableLength).
 * Every sample must stay under a small multiple of the frame length (or of the
 * slice size the adapters cut writes into), whatever the message size.
 */
import { createHash } from 'node:crypto'
import { getDefaultHighWaterMark, Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { RegularFrame } from '../../src/format/frame.js'
import { patterned } from '../support/keys.js'
import { keyring, requireClient } from './helpers.js'

const MiB = 1 << 20
const F = 4096
/** One regular frame on the wire. */
const FRAME = F + RegularFrame.OVERHEAD

describe('bounded memory', () => {
  it('64 MiB through encrypt | decrypt: the decryptor never holds more than two frames', async () => {
    const total = 64 * MiB
    const block = patterned(MiB + 7919)
    // Plaintext in odd-sized chunks taken from a shifting window of one block, so nothing lines up with frames.
    const source = Readable.from(
      (function* () {
        let sent = 0
        let at = 0
        while (sent < total) {
          const n = Math.min(total - sent, 10_007 + (sent % 3) * 20_011)
          at = (at + 7919) % (block.length - n)
          sent += n
          yield block.subarray(at, at + n)
        }
      })(),
    )
    const inputHash = createHash('sha256')
    const tap = new Transform({
      transform(chunk: Uint8Array, _e, cb) {
        inputHash.update(chunk)
        cb(null, chunk)
      },
    })

    const encrypt = requireClient.encryptStream(keyring, { frameLength: F })
    const decrypt = requireClient.decryptStream(keyring)
    const peak = { decryptCore: 0, encryptCore: 0, decryptReadable: 0, decryptWritable: 0, encryptReadable: 0, samples: 0 }
    const sample = () => {
      peak.samples++
      peak.decryptCore = Math.max(peak.decryptCore, decrypt.bufferedBytes)
      peak.encryptCore = Math.max(peak.encryptCore, encrypt.bufferedBytes)
      peak.decryptReadable = Math.max(peak.decryptReadable, decrypt.readableLength)
      peak.decryptWritable = Math.max(peak.decryptWritable, decrypt.writableLength)
      peak.encryptReadable = Math.max(peak.encryptReadable, encrypt.readableLength)
    }
    // Ciphertext re-cut into 3-byte and 9,001-byte pieces: most writes end inside a frame.
    let flip = false
    const rechunk = new Transform({
      transform(chunk: Uint8Array, _e, cb) {
        for (let o = 0; o < chunk.length; ) {
          const n = (flip = !flip) ? 3 : 9001
          this.push(chunk.subarray(o, o + n))
          o += n
        }
        sample()
        cb()
      },
    })
    const outputHash = createHash('sha256')
    let received = 0
    const sink = new Transform({
      transform(chunk: Uint8Array, _e, cb) {
        sample()
        outputHash.update(chunk)
        received += chunk.length
        cb()
      },
    })

    await pipeline(source, tap, encrypt, rechunk, decrypt, sink)

    expect(received).toBe(total)
    expect(outputHash.digest('hex')).toBe(inputHash.digest('hex'))
    expect(peak.samples).toBeGreaterThan(10_000)
    // The probe did see partial frames held (so the bound below is not vacuous)...
    expect(peak.decryptCore).toBeGreaterThan(0)
    // ...and never more than a frame in progress plus a held final frame.
    expect(peak.decryptCore).toBeLessThanOrEqual(2 * FRAME)
    expect(peak.encryptCore).toBeLessThanOrEqual(F)
    // Stream buffers: the high-water mark plus one output (a 4 KiB frame; a 64 KiB slice of frames for encrypt).
    // The mark is Node's default, which Node 22 raised from 16 KiB to 64 KiB.
    const hwm = getDefaultHighWaterMark(false)
    for (const stream of [encrypt, decrypt]) expect([stream.readableHighWaterMark, stream.writableHighWaterMark]).toEqual([hwm, hwm])
    expect(peak.decryptReadable).toBeLessThanOrEqual(hwm + FRAME)
    expect(peak.decryptWritable).toBeLessThanOrEqual(hwm + 9001)
    expect(peak.encryptReadable).toBeLessThanOrEqual(hwm + 2 * 64 * 1024)
  })
})
