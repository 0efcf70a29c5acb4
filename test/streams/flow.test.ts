/**
 * Slow producers and slow consumers round-trip, and backpressure holds: with
 * nobody reading, a stream stops taking input instead of buffering it.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { patterned } from '../support/keys.js'
import { concat } from '../support/helpers.js'
import { chunked, forbidClient, keyring, nodeSink, nodeSource, readAllWeb, requireClient, same, sha256, webSource } from './helpers.js'

const F = 256

describe('slow producers and slow consumers', () => {
  const plaintext = patterned(30 * F + 3)

  it.each([
    ['signed, committing (0x0578)', 0x0578, requireClient],
    ['unsigned (0x0178)', 0x0178, forbidClient],
  ] as const)('Node: encrypt | decrypt with delays on both ends, %s', async (_l, suiteId, client) => {
    const sink = nodeSink(2)
    await pipeline(nodeSource(chunked(plaintext, [37, 1, 600]), 1), client.encryptStream(keyring, { suiteId, frameLength: F }), client.decryptStream(keyring), sink)
    expect(same(concat(sink.parts), plaintext)).toBe(true)
  })

  it('web: encrypt | decrypt with delays on both ends', async () => {
    const parts: Uint8Array[] = []
    const slowSink = new WritableStream<Uint8Array>(
      {
        async write(chunk) {
          await sleep(2)
          parts.push(chunk)
        },
      },
      { highWaterMark: 1 },
    )
    await webSource(chunked(plaintext, [37, 1, 600]), 1)
      .pipeThrough(requireClient.encryptWebStream(keyring, { frameLength: F }))
      .pipeThrough(requireClient.decryptWebStream(keyring))
      .pipeTo(slowSink)
    expect(same(concat(parts), plaintext)).toBe(true)
  })

  it('Node: a consumer that stops reading for a while mid-stream', async () => {
    const encrypt = requireClient.encryptStream(keyring, { frameLength: F })
    const decrypt = requireClient.decryptStream(keyring)
    const parts: Uint8Array[] = []
    const consume = (async () => {
      for await (const d of decrypt) {
        parts.push(d as Uint8Array)
        if (parts.length === 3) await sleep(30)
      }
    })()
    await Promise.all([pipeline(nodeSource(chunked(plaintext, [100])), encrypt, decrypt), consume])
    expect(same(concat(parts), plaintext)).toBe(true)
  })
})

describe('backpressure', () => {
  /** A lazy source of `total` bytes in `size` chunks that counts what was pulled from it. */
  function countingSource(total: number, size: number) {
    const block = patterned(size)
    let pulled = 0
    const readable = new Readable({
      read() {
        if (pulled >= total) return void this.push(null)
        pulled += size
        this.push(block)
      },
    })
    return { readable, pulled: () => pulled, block }
  }

  it('Node: with no reader, encryptStream stops pulling its source', async () => {
    const total = 32 << 20
    const source = countingSource(total, 64 << 10)
    const encrypt = requireClient.encryptStream(keyring)
    source.readable.pipe(encrypt)
    await sleep(100)
    // Readable + writable high-water marks and one chunk in flight: well under 1 MiB of 32 MiB.
    expect(source.pulled()).toBeLessThan(1 << 20)
    // Reading resumes the flow to the end.
    const sink = nodeSink()
    await pipeline(encrypt, requireClient.decryptStream(keyring), sink)
    expect(source.pulled()).toBe(total)
    expect(sink.parts.reduce((n, p) => n + p.length, 0)).toBe(total)
  })

  it('Node: one huge write is released a slice at a time, as the reader asks', async () => {
    const encrypt = requireClient.encryptStream(keyring, { frameLength: 4096 })
    const huge = patterned(8 << 20)
    let written = false
    encrypt.write(huge, () => (written = true))
    await sleep(50)
    expect(written).toBe(false)
    // Only the header and the first slice's frames wait in the readable buffer, not 8 MiB.
    expect(encrypt.readableLength).toBeLessThan(256 << 10)
    encrypt.end()
    const sink = nodeSink()
    const decrypt = requireClient.decryptStream(keyring)
    await pipeline(encrypt, decrypt, sink)
    expect(written).toBe(true)
    expect(sha256(sink.parts)).toBe(sha256([huge]))
  })

  it('Node: with no reader, decryptStream stops pulling its source', async () => {
    const { ciphertext } = await requireClient.encrypt(keyring, patterned(8 << 20), { frameLength: 4096 })
    let pulled = 0
    const source = Readable.from(
      (function* () {
        for (const c of chunked(ciphertext, [64 << 10])) {
          pulled += c.length
          yield c
        }
      })(),
    )
    const decrypt = requireClient.decryptStream(keyring)
    source.pipe(decrypt)
    await sleep(100)
    expect(pulled).toBeLessThan(1 << 20)
    expect(decrypt.readableLength).toBeLessThan(256 << 10)
    const sink = nodeSink()
    await pipeline(decrypt, sink)
    expect(pulled).toBe(ciphertext.length)
  })

  it('web: with no reader, encryptWebStream stops pulling its source', async () => {
    const block = patterned(64 << 10)
    let pulled = 0
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += block.length
        controller.enqueue(block)
        if (pulled >= 32 << 20) controller.close()
      },
    })
    const readable = source.pipeThrough(requireClient.encryptWebStream(keyring))
    await sleep(100)
    expect(pulled).toBeLessThan(1 << 20)
    await readable.cancel()
    const parts: Uint8Array[] = []
    // And the same pipeline read to its end decrypts.
    const small = webSource(chunked(patterned(100_000), [4096]))
      .pipeThrough(requireClient.encryptWebStream(keyring))
      .pipeThrough(requireClient.decryptWebStream(keyring))
    expect((await readAllWeb(small, parts)).length).toBe(100_000)
  })
})
