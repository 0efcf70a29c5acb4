/**
 * The release rules through both stream APIs (spec/decrypt-rules.md): what a
 * failing stream emitted before it failed, truncation, trailing bytes,
 * unsignedOnly, the header before the first byte, and the limits.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as tick } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, DefaultCmm, DEFAULT_STREAM_MAX_BODY_SIZE, type AlgorithmSuite, type Cmm, type Client, type MessageDuplex, type Keyring } from '../../src/index.js'
import { patterned } from '../support/keys.js'
import { concat, flipBit } from '../support/helpers.js'
import { chunked, clientFor, keyring, layOut, nodeSink, readAllWeb, requireClient, same, throughNode, throughWeb, webSource } from './helpers.js'

const F = 64
const suite = (id: number): AlgorithmSuite => ALL_SUITES.find((s) => s.id === id)!
const SIGNED = ALL_SUITES.filter((s) => s.signature)
const UNSIGNED_COMMITTING = suite(0x0478)

interface Outcome {
  error: any
  emitted: Uint8Array
  ended: boolean
  headerEvents: number
}

/** Feeds `parts` to a Node decryptStream, one part per event-loop turn, and records what came out. */
async function nodeOutcome(client: Client, parts: Uint8Array[], options = {}, keys: Keyring | Cmm = keyring): Promise<Outcome> {
  const decrypt = client.decryptStream(keys, options)
  const emitted: Uint8Array[] = []
  let ended = false
  let headerEvents = 0
  decrypt.on('data', (d: Uint8Array) => emitted.push(d))
  decrypt.on('end', () => (ended = true))
  decrypt.on('header', () => headerEvents++)
  const source = Readable.from(
    (async function* () {
      for (const p of parts) {
        yield p
        await tick()
      }
    })(),
  )
  let error: any
  try {
    await pipeline(source, decrypt)
  } catch (e) {
    error = e
  }
  if (error) expect(decrypt.destroyed).toBe(true)
  return { error, emitted: concat(emitted), ended, headerEvents }
}

async function webOutcome(client: Client, parts: Uint8Array[], options = {}, keys: Keyring | Cmm = keyring): Promise<Outcome> {
  const decrypt = client.decryptWebStream(keys, options)
  let headerEvents = 0
  decrypt.header.then(() => headerEvents++, () => {})
  const emitted: Uint8Array[] = []
  let error: any
  let ended = false
  try {
    await readAllWeb(webSource(parts).pipeThrough(decrypt), emitted)
    ended = true
  } catch (e) {
    error = e
  }
  return { error, emitted: concat(emitted), ended, headerEvents }
}

const ADAPTERS = [
  ['Node', nodeOutcome],
  ['web', webOutcome],
] as const

/** Splits a message at the given offsets. */
function split(bytes: Uint8Array, ...cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts, bytes.length]
  return points.slice(1).map((end, i) => bytes.subarray(points[i]!, end))
}

describe.each(ADAPTERS)('%s stream', (_api, outcome) => {
  describe('tampering in the last frame', () => {
    it.each(SIGNED.map((s) => [s.name, s] as const))('%s: errors, and the final frame plaintext is never emitted', async (_n, s) => {
      const m = await layOut(s, patterned(3 * F + 10), F)
      const finalStart = m.frameEnds.at(-1)!
      const lastCiphertextByte = m.finalEnd - 16 - 1
      // In the final frame's ciphertext, in its tag, and in the signature.
      for (const offset of [lastCiphertextByte, m.finalEnd - 1, m.ciphertext.length - 1]) {
        // The final frame arrives in a chunk of its own, before the footer: it must still be held.
        const r = await outcome(clientFor(s), split(flipBit(m.ciphertext, offset, 0), finalStart, m.finalEnd))
        expect(r.error?.code, `offset ${offset}`).toBe('ERR_AUTHENTICATION_FAILED')
        expect(r.ended).toBe(false)
        // The three regular frames verified and may be released; not one byte of the final frame.
        expect(same(r.emitted, m.plaintext.subarray(0, 3 * F)), `offset ${offset}: emitted ${r.emitted.length} bytes`).toBe(true)
      }
    })

    it('an untouched signed message releases the final frame only with the footer', async () => {
      const s = suite(0x0578)
      const m = await layOut(s, patterned(3 * F + 10), F)
      const cutShort = await outcome(clientFor(s), split(m.ciphertext.subarray(0, m.ciphertext.length - 1), m.finalEnd))
      expect(cutShort.error?.code).toBe('ERR_TRUNCATED')
      expect(same(cutShort.emitted, m.plaintext.subarray(0, 3 * F))).toBe(true)
      const whole = await outcome(clientFor(s), split(m.ciphertext, m.finalEnd))
      expect(whole.error).toBeUndefined()
      expect(same(whole.emitted, m.plaintext)).toBe(true)
    })

    it('unsigned suite: a bad final frame is never released; earlier frames were', async () => {
      const m = await layOut(UNSIGNED_COMMITTING, patterned(3 * F + 10), F)
      const r = await outcome(requireClient, split(flipBit(m.ciphertext, m.finalEnd - 20, 0), m.frameEnds[0]!, m.frameEnds.at(-1)!))
      expect(r.error?.code).toBe('ERR_AUTHENTICATION_FAILED')
      expect(r.error.stage).toBe('frame')
      expect(same(r.emitted, m.plaintext.subarray(0, 3 * F))).toBe(true)
    })
  })

  describe('truncation', () => {
    const cases: [string, number][] = [
      ['signed 0x0578', 0x0578],
      ['unsigned 0x0478', 0x0478],
    ]
    it.each(cases)('%s: cut at every frame boundary (and next to it) fails, never a clean end', async (_l, id) => {
      const m = await layOut(suite(id), patterned(4 * F + 9), F)
      const boundaries = [0, 1, m.headerEnd - 1, m.headerEnd, ...m.frameEnds, m.finalEnd]
      const cuts = [...new Set(boundaries.flatMap((b) => [b - 1, b, b + 1]))].filter((c) => c >= 0 && c < m.ciphertext.length)
      for (const cut of cuts) {
        for (const parts of [[m.ciphertext.subarray(0, cut)], [...chunked(m.ciphertext.subarray(0, cut), [7])]]) {
          const r = await outcome(requireClient, parts)
          expect(r.error?.code, `cut at ${cut} of ${m.ciphertext.length}`).toBe('ERR_TRUNCATED')
          expect(r.ended).toBe(false)
        }
      }
    })

    it('signed: a cut anywhere, byte by byte, fails', async () => {
      const m = await layOut(suite(0x0578), patterned(2 * F + 5), F)
      for (let cut = 0; cut < m.ciphertext.length; cut++) {
        const r = await outcome(requireClient, split(m.ciphertext.subarray(0, cut), Math.floor(cut / 2)))
        expect(r.error?.code, `cut at ${cut}`).toBe('ERR_TRUNCATED')
        // Whatever was released belongs to regular frames only.
        expect(r.emitted.length).toBeLessThanOrEqual(2 * F)
        expect(same(r.emitted, m.plaintext.subarray(0, r.emitted.length))).toBe(true)
      }
    })
  })

  describe('trailing bytes', () => {
    it.each([
      ['signed', 0x0578],
      ['unsigned', 0x0478],
    ])('%s: bytes after the message fail, in the same chunk or a later one', async (_l, id) => {
      const m = await layOut(suite(id), patterned(2 * F + 3), F)
      const withExtra = concat([m.ciphertext, new Uint8Array([0])])
      const sameChunk = await outcome(requireClient, split(withExtra, m.frameEnds.at(-1)!))
      expect(sameChunk.error?.code).toBe('ERR_TRAILING_BYTES')
      expect(sameChunk.ended).toBe(false)
      // Arriving with the footer, they fail the chunk that would have released the final frame.
      if (id === 0x0578) expect(same(sameChunk.emitted, m.plaintext.subarray(0, 2 * F))).toBe(true)
      const later = await outcome(requireClient, [m.ciphertext, new Uint8Array([1, 2, 3])])
      expect(later.error?.code).toBe('ERR_TRAILING_BYTES')
      expect(later.ended).toBe(false)
      const anotherMessage = await outcome(requireClient, [m.ciphertext, m.ciphertext])
      expect(anotherMessage.error?.code).toBe('ERR_TRAILING_BYTES')
    })
  })

  describe('unsignedOnly', () => {
    it('fails on a signed message before any output or header', async () => {
      const m = await layOut(suite(0x0578), patterned(5 * F), F)
      const r = await outcome(requireClient, [...chunked(m.ciphertext, [40])], { unsignedOnly: true })
      expect(r.error?.code).toBe('ERR_SIGNED_NOT_ALLOWED')
      expect(r.emitted.length).toBe(0)
      expect(r.headerEvents).toBe(0)
    })

    it('lets an unsigned message through', async () => {
      const m = await layOut(UNSIGNED_COMMITTING, patterned(5 * F), F)
      const r = await outcome(requireClient, [...chunked(m.ciphertext, [40])], { unsignedOnly: true })
      expect(r.error).toBeUndefined()
      expect(same(r.emitted, m.plaintext)).toBe(true)
    })
  })

  describe('limits', () => {
    it('maxBodySize defaults to 64 MiB for streams and is checked before the CMM runs', async () => {
      const frameLength = DEFAULT_STREAM_MAX_BODY_SIZE + 1
      const body = 'small body, huge frame length'
      const { ciphertext } = await requireClient.encrypt(keyring, body, { frameLength })
      let asked = 0
      const counting: Cmm = new (class extends DefaultCmm {
        override decryptMaterials(...args: Parameters<DefaultCmm['decryptMaterials']>) {
          asked++
          return super.decryptMaterials(...args)
        }
      })(keyring)
      const r = await outcome(requireClient, [ciphertext], {}, counting)
      expect(r.error?.code).toBe('ERR_LIMIT_EXCEEDED')
      expect(r.error.limit).toBe('maxBodySize')
      expect(asked).toBe(0)
      const raised = await outcome(requireClient, [ciphertext], { maxBodySize: frameLength })
      expect(r.emitted.length).toBe(0)
      expect(raised.error).toBeUndefined()
      expect(raised.emitted.length).toBe(body.length)
      // One-shot input is in memory already: no default limit there.
      expect((await requireClient.decrypt(keyring, ciphertext)).plaintext.length).toBe(body.length)
    })

    it('maxBodySize applies to a non-framed body', async () => {
      const { ciphertext } = await requireClient.encrypt(keyring, patterned(1000), { frameLength: 0 })
      const r = await outcome(requireClient, [ciphertext], { maxBodySize: 999 })
      expect(r.error?.code).toBe('ERR_LIMIT_EXCEEDED')
      expect((await outcome(requireClient, [ciphertext], { maxBodySize: 1000 })).emitted.length).toBe(1000)
    })

    it('the header size limit comes from the client', async () => {
      const m = await layOut(UNSIGNED_COMMITTING, patterned(10), F)
      const r = await outcome(createClient({ maxHeaderSize: m.headerEnd - 1 }), [m.ciphertext])
      expect(r.error?.code).toBe('ERR_LIMIT_EXCEEDED')
      expect(r.error.limit).toBe('maxHeaderSize')
      expect((await outcome(createClient({ maxHeaderSize: m.headerEnd }), [m.ciphertext])).error).toBeUndefined()
    })
  })
})

describe('the header comes before the first output byte', () => {
  it('Node decryptStream: the header event, then data; the promise is settled by the first data event', async () => {
    const m = await layOut(UNSIGNED_COMMITTING, patterned(3 * F), F)
    const expected = (await requireClient.decrypt(keyring, m.ciphertext)).header
    const decrypt = requireClient.decryptStream(keyring)
    const events: string[] = []
    let promised = false
    decrypt.header.then(() => (promised = true))
    decrypt.on('header', (h) => events.push(`header ${h.suiteId}`))
    decrypt.on('data', () => events.push(promised ? 'data after promise' : 'data before promise'))
    await pipeline(Readable.from(chunked(m.ciphertext, [1])), decrypt)
    expect(events[0]).toBe(`header ${0x0478}`)
    expect(events.slice(1)).toEqual(Array(events.length - 1).fill('data after promise'))
    expect(events.length).toBeGreaterThan(2)
    expect(same((await decrypt.header).messageId, expected.messageId)).toBe(true)
  })

  it('Node encryptStream: the header event, then the header bytes', async () => {
    const encrypt: MessageDuplex = requireClient.encryptStream(keyring, { encryptionContext: { who: 'me' } })
    const order: string[] = []
    encrypt.on('header', () => order.push('header'))
    encrypt.on('data', () => order.push('data'))
    const sink = nodeSink()
    await pipeline(Readable.from([patterned(10_000)]), encrypt, sink)
    expect(order[0]).toBe('header')
    const header = await encrypt.header
    expect(header.encryptionContext.who).toBe('me')
    expect(same((await requireClient.decrypt(keyring, concat(sink.parts))).header.messageId, header.messageId)).toBe(true)
  })

  it('web streams: the header promise is resolved when the first chunk is read', async () => {
    const m = await layOut(UNSIGNED_COMMITTING, patterned(3 * F), F)
    for (const stream of [requireClient.decryptWebStream(keyring), requireClient.encryptWebStream(keyring)]) {
      let resolved = false
      stream.header.then(() => (resolved = true))
      const reader = webSource(chunked(m.ciphertext, [5])).pipeThrough(stream).getReader()
      const first = await reader.read()
      expect(first.done).toBe(false)
      expect(resolved).toBe(true)
      await reader.cancel()
    }
  })

  it('the header promise rejects when the stream fails first, without an unhandled rejection', async () => {
    const garbage = patterned(500)
    const node = requireClient.decryptStream(keyring)
    await expect(pipeline(Readable.from([garbage]), node, nodeSink())).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    await expect(node.header).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    const web = requireClient.decryptWebStream(keyring)
    await expect(throughWeb([garbage], web)).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    await expect(web.header).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
  })
})

describe('plaintextLength', () => {
  function recordingCmm(seen: (number | undefined)[]): Cmm {
    return new (class extends DefaultCmm {
      override getEncryptionMaterials(...args: Parameters<DefaultCmm['getEncryptionMaterials']>) {
        seen.push(args[0].maxPlaintextLength)
        return super.getEncryptionMaterials(...args)
      }
    })(keyring)
  }

  it('is passed to the CMM (undefined when unknown) and enforced as a bound by both APIs', async () => {
    const seen: (number | undefined)[] = []
    const cmm = recordingCmm(seen)
    const exact = await throughNode(chunked(patterned(100), [30]), requireClient.encryptStream(cmm, { plaintextLength: 100 }))
    expect((await requireClient.decrypt(keyring, exact)).plaintext.length).toBe(100)
    const under = await throughWeb(chunked(patterned(60), [30]), requireClient.encryptWebStream(cmm, { plaintextLength: 100 }))
    expect((await requireClient.decrypt(keyring, under)).plaintext.length).toBe(60)
    await throughNode([patterned(10)], requireClient.encryptStream(cmm))
    expect(seen).toEqual([100, 100, undefined])

    await expect(throughNode(chunked(patterned(101), [30]), requireClient.encryptStream(keyring, { plaintextLength: 100 }))).rejects.toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
      limit: 'plaintextLength',
    })
    await expect(throughWeb([patterned(101)], requireClient.encryptWebStream(keyring, { plaintextLength: 100 }))).rejects.toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
      limit: 'plaintextLength',
    })
  })

  it('misuse throws at the call: bad plaintextLength, or a non-framed stream', () => {
    expect(() => requireClient.encryptStream(keyring, { plaintextLength: -1 })).toThrow(RangeError)
    expect(() => requireClient.encryptWebStream(keyring, { plaintextLength: 1.5 })).toThrow(RangeError)
    expect(() => requireClient.encryptStream(keyring, { frameLength: 0 })).toThrow(RangeError)
    expect(() => requireClient.decryptStream(keyring, { maxBodySize: -1 })).toThrow(RangeError)
  })
})

describe('chunk types', () => {
  it('ciphertext must be bytes; Node plaintext strings are UTF-8', async () => {
    const decrypt = requireClient.decryptStream(keyring)
    await expect(pipeline(Readable.from(['not bytes']), decrypt, nodeSink())).rejects.toThrow(TypeError)
    await expect(throughWeb(['not bytes' as unknown as Uint8Array], requireClient.decryptWebStream(keyring))).rejects.toThrow(TypeError)
    await expect(throughWeb(['not bytes' as unknown as Uint8Array], requireClient.encryptWebStream(keyring))).rejects.toThrow(TypeError)
    const text = await throughNode([], requireClient.encryptStream(keyring))
    expect((await requireClient.decrypt(keyring, text)).plaintext.length).toBe(0)
    const encrypt = requireClient.encryptStream(keyring)
    const sink = nodeSink()
    await pipeline(Readable.from(['héllo ', 'wörld']), encrypt, sink)
    expect(Buffer.from((await requireClient.decrypt(keyring, concat(sink.parts))).plaintext).toString('utf8')).toBe('héllo wörld')
  })
})

describe('failures from outside the message destroy the stream', () => {
  const failingKeyring: Keyring = {
    onEncrypt: async () => {
      throw new Error('keyring unavailable')
    },
    onDecrypt: async () => {
      throw new Error('keyring unavailable')
    },
  }

  it('a keyring failure on encrypt fails both APIs and rejects the header promise', async () => {
    const node = requireClient.encryptStream(failingKeyring)
    await expect(pipeline(Readable.from([patterned(10)]), node, nodeSink())).rejects.toThrow('keyring unavailable')
    expect(node.destroyed).toBe(true)
    await expect(node.header).rejects.toThrow('keyring unavailable')
    const web = requireClient.encryptWebStream(failingKeyring)
    await expect(throughWeb([patterned(10)], web)).rejects.toThrow('keyring unavailable')
    await expect(web.header).rejects.toThrow('keyring unavailable')
  })

  it('a failing consumer destroys the decrypt stream mid-message', async () => {
    const m = await layOut(UNSIGNED_COMMITTING, patterned(20 * F), F)
    const decrypt = requireClient.decryptStream(keyring)
    let seen = 0
    const sink = new Writable({
      write(_c, _e, cb) {
        cb(++seen === 3 ? new Error('disk full') : null)
      },
    })
    await expect(pipeline(Readable.from(chunked(m.ciphertext, [100])), decrypt, sink)).rejects.toThrow('disk full')
    expect(decrypt.destroyed).toBe(true)
  })

  it('a reader that cancels a web stream stops it', async () => {
    const m = await layOut(UNSIGNED_COMMITTING, patterned(20 * F), F)
    let pulls = 0
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        const parts = [...chunked(m.ciphertext, [100])]
        if (pulls < parts.length) controller.enqueue(parts[pulls++]!)
        else controller.close()
      },
    })
    const reader = source.pipeThrough(requireClient.decryptWebStream(keyring)).getReader()
    expect((await reader.read()).done).toBe(false)
    await reader.cancel(new Error('enough'))
    const pulledAtCancel = pulls
    await tick()
    expect(pulls).toBe(pulledAtCancel)
    expect(pulls).toBeLessThan(m.ciphertext.length / 100)
  })
})
