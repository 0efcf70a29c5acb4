/**
 * The streaming core without adapters: ByteQueue against a plain model,
 * IncrementalEncryptor framing and failure rules, IncrementalDecryptor misuse, abort and
 * what `bufferedBytes` counts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteQueue } from '../../src/core/byte-queue.js'
import { IncrementalDecryptor } from '../../src/core/decryptor.js'
import { IncrementalEncryptor } from '../../src/core/stream-encryptor.js'
import { ALL_SUITES, type AlgorithmSuite } from '../../src/index.js'
import { toCmm } from '../../src/materials/cmm.js'
import { patterned } from '../support/keys.js'
import { concat } from '../support/helpers.js'
import { chunked, clientFor, keyring, layOut, randomSizes, requireClient, same, settingsFor } from './helpers.js'

const suite = (id: number): AlgorithmSuite => ALL_SUITES.find((s) => s.id === id)!

describe('ByteQueue', () => {
  type Op = { push: number } | { peek: number } | { consume: number } | { compact: true }
  const op = fc.oneof(
    fc.record({ push: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 900, max: 3000 }), fc.constant(70_000)) }),
    fc.record({ peek: fc.integer({ min: 0, max: 5000 }) }),
    fc.record({ consume: fc.integer({ min: 0, max: 5000 }) }),
    fc.constant({ compact: true as const }),
  )

  it('behaves like a plain byte array under any mix of push, peek, consume and compact', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops: Op[]) => {
        const queue = new ByteQueue()
        let model: number[] = []
        let counter = 0
        for (const o of ops) {
          if ('push' in o) {
            // Sometimes a view into a larger buffer, as Node hands out pooled slices.
            const backing = new Uint8Array(o.push + 100_000 * (o.push % 2))
            const chunk = backing.subarray(0, o.push)
            for (let i = 0; i < chunk.length; i++) chunk[i] = counter++ & 0xff
            queue.push(chunk)
            model = model.concat(Array.from(chunk))
          } else if ('peek' in o) {
            const view = queue.peek(o.peek)
            if (o.peek > model.length) expect(view).toBeUndefined()
            else expect(Array.from(view!)).toEqual(model.slice(0, o.peek))
          } else if ('consume' in o) {
            const n = Math.min(o.consume, model.length)
            queue.consume(n)
            model = model.slice(n)
          } else {
            queue.compact()
          }
          expect(queue.available).toBe(model.length)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('compact() copies a small unread tail out of a large buffer, and leaves small buffers alone', () => {
    const big = new Uint8Array(1 << 20)
    big[big.length - 1] = 42
    const queue = new ByteQueue()
    queue.push(big)
    queue.consume(big.length - 10)
    expect(queue.peek(10)!.buffer.byteLength).toBe(1 << 20)
    queue.compact()
    const tail = queue.peek(10)!
    expect(tail.buffer.byteLength).toBe(10)
    expect(tail[9]).toBe(42)

    const small = new Uint8Array(4096)
    queue.consume(10)
    queue.push(small)
    queue.consume(4000)
    queue.compact()
    expect(queue.peek(96)!.buffer).toBe(small.buffer)
  })

  it('peek() hands out a view of the chunk when one chunk holds it, and copies only spans', () => {
    const queue = new ByteQueue()
    const a = new Uint8Array(5000).fill(1)
    const b = new Uint8Array(5000).fill(2)
    queue.push(a)
    queue.push(b)
    expect(queue.peek(5000)!.buffer).toBe(a.buffer)
    const span = queue.peek(6000)!
    expect(span.buffer).not.toBe(a.buffer)
    expect(span[4999]).toBe(1)
    expect(span[5000]).toBe(2)
  })
  /**
   * What the decryptor does per input chunk: push, look for the next frame,
   * take it when whole, compact. Frames of `frame` bytes arrive in `chunk`-byte
   * pieces (each its own buffer, or a view into one large one); returns the
   * queue's chunk visits per chunk pushed.
   */
  function visitsPerChunk(frame: number, chunk: number, frames: number, views: boolean): number {
    const queue = new ByteQueue()
    const total = frame * frames
    const source = views ? new Uint8Array(total) : undefined
    let pushed = 0
    let taken = 0
    for (let o = 0; o < total; o += chunk) {
      const piece = source ? source.subarray(o, o + chunk) : new Uint8Array(Math.min(chunk, total - o))
      piece[0] = pushed++ & 0xff
      queue.push(piece)
      if (queue.peek(4) !== undefined) {
        const whole = queue.peek(frame)
        if (whole !== undefined) {
          expect(whole.length).toBe(frame)
          queue.consume(frame)
          taken++
        }
      }
      queue.compact()
    }
    expect(taken).toBe(frames)
    expect(queue.available).toBe(0)
    return queue.chunkVisits / pushed
  }

  it('does work linear in the chunks pushed, however many chunks a frame spans (issue 14 item 5)', () => {
    // 4 MiB frames in 1 KiB chunks: 4096 chunks per frame. Before the fix compact() walked every
    // buffered chunk after each push: about 2,000 visits per chunk here, growing with the frame.
    for (const views of [false, true]) {
      expect(visitsPerChunk(4 << 20, 1024, 2, views)).toBeLessThanOrEqual(4)
      expect(visitsPerChunk(4096 + 36, 1024, 64, views)).toBeLessThanOrEqual(4)
    }
  })

  it('compact() still copies a tail that a spanning peek() cut out of a large buffer behind the head', () => {
    const queue = new ByteQueue()
    const first = new Uint8Array(200_000)
    const second = new Uint8Array(1 << 20)
    second[second.length - 1] = 7
    queue.push(first)
    queue.push(second)
    queue.compact()
    // Coalesces `first` and all but 10 bytes of `second`, which stay behind as a view of its buffer.
    queue.peek(first.length + second.length - 10)
    queue.compact()
    queue.consume(first.length + second.length - 10)
    const tail = queue.peek(10)!
    expect(tail.buffer.byteLength).toBe(10)
    expect(tail[9]).toBe(7)
  })
})

describe('IncrementalEncryptor', () => {
  const F = 100

  it('frames exactly as the format says: F + 32 per regular frame, a full final frame on exact multiples', async () => {
    const s = suite(0x0478) // unsigned: the message length is exact
    for (const length of [0, 1, F - 1, F, F + 1, 2 * F, 3 * F + 7, 10 * F]) {
      for (const sizes of [[1], [F], [F + 1], [7, 250], randomSizes(length, 10, 4 * F)]) {
        const encryptor = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(s), { suiteId: s.id, frameLength: F })
        const plaintext = patterned(length)
        const parts = [encryptor.headerBytes]
        for (const c of chunked(plaintext, sizes)) parts.push(...(await encryptor.push(c)))
        expect(encryptor.bufferedBytes).toBeLessThanOrEqual(F)
        parts.push(...(await encryptor.finish()))
        const message = concat(parts)
        const regular = length === 0 ? 0 : Math.ceil(length / F) - 1
        const expected = encryptor.headerBytes.length + regular * (F + 32) + (length - regular * F) + 40
        expect(message.length, `len=${length} sizes=${sizes.slice(0, 3)}`).toBe(expected)
        expect(same((await requireClient.decrypt(keyring, message)).plaintext, plaintext)).toBe(true)
      }
    }
  })

  it('a frame length of 2^32 - 1 costs memory only for the bytes buffered', async () => {
    const s = suite(0x0578)
    const encryptor = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(s), { frameLength: 0xffffffff })
    const plaintext = patterned(300_000)
    const parts = [encryptor.headerBytes]
    for (const c of chunked(plaintext, [70_000])) parts.push(...(await encryptor.push(c)))
    parts.push(...(await encryptor.finish()))
    const { plaintext: back, header } = await requireClient.decrypt(keyring, concat(parts))
    expect(header.frameLength).toBe(0xffffffff)
    expect(same(back, plaintext)).toBe(true)
  })

  it('errors are sticky, buffered plaintext is dropped, and misuse is a TypeError', async () => {
    const s = suite(0x0578)
    const encryptor = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(s), { frameLength: F, plaintextLength: 150 })
    expect((await encryptor.push(patterned(120))).length).toBe(1)
    expect(encryptor.bufferedBytes).toBe(20)
    let first: unknown
    try {
      encryptor.push(patterned(31))
    } catch (e) {
      first = e
    }
    expect(first).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'plaintextLength', value: 151, max: 150 })
    expect(encryptor.bufferedBytes).toBe(0)
    expect(() => encryptor.push(new Uint8Array(1))).toThrow(first as Error)
    await expect(encryptor.finish()).rejects.toBe(first)

    const done = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(s), { frameLength: F })
    await done.finish()
    expect(() => done.push(new Uint8Array(1))).toThrow(TypeError)
    await expect(done.finish()).rejects.toThrow(TypeError)

    const aborted = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(s), { frameLength: F })
    aborted.push(patterned(50))
    const reason = new Error('destroyed')
    aborted.abort(reason)
    expect(aborted.bufferedBytes).toBe(0)
    expect(() => aborted.push(new Uint8Array(1))).toThrow(reason)
  })

  it('rejects a plaintextLength that needs more frames than a message can hold', async () => {
    await expect(IncrementalEncryptor.start(toCmm(keyring), settingsFor(suite(0x0578)), { frameLength: 1, plaintextLength: 2 ** 33 })).rejects.toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
      limit: 'frames per message',
    })
  })
})

describe('IncrementalDecryptor', () => {
  const F = 64

  it('bufferedBytes counts the partial frame and the held final frame, and nothing after the end', async () => {
    const s = suite(0x0578)
    const m = await layOut(s, patterned(2 * F + 30), F)
    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
    expect(await decryptor.push(m.ciphertext.subarray(0, m.frameEnds[0]! + 5))).toHaveLength(1)
    expect(decryptor.bufferedBytes).toBe(5)
    // The final frame verified but waits for the signature: 30 plaintext bytes held, 3 footer bytes queued.
    expect(await decryptor.push(m.ciphertext.subarray(m.frameEnds[0]! + 5, m.finalEnd + 3))).toHaveLength(1)
    expect(decryptor.bufferedBytes).toBe(30 + 3)
    const last = await decryptor.push(m.ciphertext.subarray(m.finalEnd + 3))
    expect(same(concat(last), m.plaintext.subarray(2 * F))).toBe(true)
    expect(decryptor.bufferedBytes).toBe(0)
    expect(await decryptor.end()).toEqual([])
  })

  it('refuses overlapping calls with a TypeError, without failing the message', async () => {
    const s = suite(0x0478)
    const m = await layOut(s, patterned(10), F)
    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
    const first = decryptor.push(m.ciphertext.subarray(0, m.headerEnd))
    await expect(decryptor.push(m.ciphertext.subarray(m.headerEnd))).rejects.toThrow(TypeError)
    await first
    expect(concat(await decryptor.push(m.ciphertext.subarray(m.headerEnd))).length).toBe(10)
    await decryptor.end()
  })

  it('errors are sticky; abort() drops held plaintext and fails later calls', async () => {
    const s = suite(0x0578)
    const m = await layOut(s, patterned(F + 10), F)
    const failing = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
    const bad = new Uint8Array(m.ciphertext)
    bad[m.headerEnd + 20]! ^= 1
    const error = await failing.push(bad).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED' })
    await expect(failing.push(new Uint8Array(0))).rejects.toBe(error)
    await expect(failing.end()).rejects.toBe(error)

    const aborting = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
    await aborting.push(m.ciphertext.subarray(0, m.finalEnd))
    expect(aborting.bufferedBytes).toBe(10)
    const reason = new Error('destroyed')
    aborting.abort(reason)
    expect(aborting.bufferedBytes).toBe(0)
    await expect(aborting.push(m.ciphertext.subarray(m.finalEnd))).rejects.toBe(reason)
  })

  it('keeps no view of a large input chunk once it is consumed', async () => {
    const s = suite(0x0478)
    const m = await layOut(s, patterned(40 * F), F)
    // The whole message but 5 bytes, inside a much larger buffer.
    const backing = new Uint8Array(4 << 20)
    backing.set(m.ciphertext)
    const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
    const cut = m.ciphertext.length - 5
    expect(concat(await decryptor.push(backing.subarray(0, cut))).length).toBe(39 * F)
    backing.fill(0) // had the queue kept a view, the tail would now be zeros
    const rest = await decryptor.push(m.ciphertext.subarray(cut))
    expect(same(concat(rest), m.plaintext.subarray(39 * F))).toBe(true)
    await decryptor.end()
  })

  it('decrypts committing and non-committing messages pushed one byte at a time', async () => {
    for (const s of [suite(0x0578), suite(0x0014)]) {
      const { ciphertext } = await clientFor(s).encrypt(keyring, patterned(3 * F + 1), { suiteId: s.id, frameLength: F })
      const decryptor = new IncrementalDecryptor(toCmm(keyring), settingsFor(s))
      const out: Uint8Array[] = []
      for (const b of chunked(ciphertext, [1])) out.push(...(await decryptor.push(b)))
      out.push(...(await decryptor.end()))
      expect(same(concat(out), patterned(3 * F + 1))).toBe(true)
    }
  })
})
