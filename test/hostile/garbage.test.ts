/**
 * Property tests (fast-check): random bytes and structured garbage reach the
 * decryptor, which must answer with a coded EnvelopeError only (never another
 * error type, never a hang), and must not hold more than the configured
 * limits while it does. Garbage comes in three shapes:
 * - random bytes, bare or behind a valid version/suite prefix;
 * - forged headers: every length, count and flag field chosen freely,
 *   including declared lengths that disagree with the bytes that follow;
 * - a real, authenticating header followed by a body assembled from real
 *   frames out of order, forged frames, huge declared lengths, bad footers.
 */
import { createECDH } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, EnvelopeError, ERROR_CODES, MultiKeyring, RawAesKeyring, type Keyring } from '../../src/index.js'
import { toCmm } from '../../src/materials/cmm.js'
import { aesKey, patterned } from '../support/keys.js'
import { zeroKeyring } from '../support/static-keyring.js'
import { isPrefix, within } from '../support/helpers.js'
import { layoutOf, settings, SIGNED_SUITES, streamDecrypt } from './helpers.js'

const codes = new Set<string>(ERROR_CODES)
/** Valid compressed P-256 and P-384 points, so some forged signed headers get past key import. */
const REAL_POINTS = ['prime256v1', 'secp384r1'].map((curve) => {
  const ecdh = createECDH(curve)
  ecdh.generateKeys()
  return ecdh.getPublicKey('base64', 'compressed')
})
const keyring = new RawAesKeyring({ keyNamespace: 'hostile', keyName: 'k', wrappingKey: aesKey(32) })
const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
/** Answers every header with an all-zero data key, so forged headers reach commitment and header authentication. */
const reachAuth: Keyring = new MultiKeyring({ children: [keyring, zeroKeyring] })
const SUITE_IDS = ALL_SUITES.map((s) => s.id)
const HANG_MS = 5000
/**
 * The fast tier (ENVELOPE_MUTATIONS=sample, vitest.config.ts) runs a quarter of the cases, from a fixed
 * seed so that the codes each property must see are seen on every run; the conformance tier runs them
 * all, from a new seed each time.
 */
const SAMPLED = process.env.ENVELOPE_MUTATIONS === 'sample'
const RUNS = Number(process.env.HOSTILE_RUNS ?? (SAMPLED ? 250 : 1000))
const SEED = SAMPLED ? 20260 : undefined

function assertCoded(e: unknown, what: string): asserts e is EnvelopeError {
  if (!(e instanceof EnvelopeError)) throw new Error(`${what}: expected a coded EnvelopeError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
  if (!codes.has(e.code)) throw new Error(`${what}: unknown code ${e.code}`)
}

async function oneShotError(k: Keyring, bytes: Uint8Array, options: Parameters<typeof allow.decrypt>[2] = {}, client = allow): Promise<unknown> {
  return within(
    client.decrypt(k, bytes, options).then(
      () => undefined,
      (e: unknown) => e,
    ),
    HANG_MS,
    'one-shot decrypt',
  )
}

/** A tiny big-endian writer for building hostile bytes by hand. */
class Writer {
  readonly bytes: number[] = []
  u8(n: number): this {
    this.bytes.push(n & 0xff)
    return this
  }
  u16(n: number): this {
    return this.u8(n >>> 8).u8(n)
  }
  u32(n: number): this {
    return this.u16(n >>> 16).u16(n & 0xffff)
  }
  u64(n: bigint): this {
    return this.u32(Number(n >> 32n)).u32(Number(n & 0xffffffffn))
  }
  raw(b: Uint8Array | readonly number[]): this {
    for (const x of b) this.bytes.push(x)
    return this
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes)
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s)

/** Context serialization written here from the format description (order is not checked on parse, so none is applied). */
function contextBytes(pairs: readonly (readonly [string, string])[]): Uint8Array {
  if (pairs.length === 0) return new Uint8Array(0)
  const w = new Writer().u16(pairs.length)
  for (const [k, v] of pairs) {
    const kb = utf8(k)
    const vb = utf8(v)
    w.u16(kb.length).raw(kb).u16(vb.length).raw(vb)
  }
  return w.done()
}

describe('random bytes', () => {
  it('yield coded errors only, one-shot and streaming', async () => {
    const prefixes = [[], [0x01, 0x80], [0x02], [0x01, 0x80, 0x01, 0x78], [0x02, 0x04, 0x78], [0x02, 0x05, 0x78]]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), async (prefix, body, chunk) => {
        const bytes = Uint8Array.from([...prefix, ...body])
        assertCoded(await oneShotError(reachAuth, bytes), 'one-shot')
        const s = await within(streamDecrypt(toCmm(reachAuth), bytes, chunk), HANG_MS, 'stream')
        assertCoded(s.error, 'stream')
        expect(s.released.length).toBe(0)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })
})

// ---------------------------------------------------------------- forged headers

const u16 = fc.oneof(fc.constantFrom(0, 1, 0xfffe, 0xffff), fc.integer({ min: 0, max: 0xffff }))
const u32 = fc.oneof(fc.constantFrom(0, 1, 4096, 0x7fffffff, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }))
const edkArb = fc.record({
  providerId: fc.oneof(fc.constantFrom('hostile', 'aws-kms', 'raw', ''), fc.string({ unit: 'binary', maxLength: 8 })),
  info: fc.uint8Array({ maxLength: 40 }),
  ciphertext: fc.uint8Array({ maxLength: 64 }),
})
const publicKeyValue = fc.oneof(
  fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 49, maxLength: 49 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom(...REAL_POINTS),
  fc.string({ maxLength: 70 }),
)
const aadArb = fc.oneof(
  fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 })), { maxLength: 3 }).map(contextBytes),
  fc
    .tuple(fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 2 }), publicKeyValue)
    .map(([pairs, pk]) => contextBytes([...pairs.filter(([k]) => k !== 'aws-crypto-public-key'), ['aws-crypto-public-key', pk]])),
)

/** Fields a run may corrupt; all others keep their honest value, so parsing gets deep before it fails. */
const CORRUPTIBLE = ['version', 'type', 'suite', 'aadLength', 'aad', 'edkCount', 'edkFieldLength', 'contentType', 'reserved', 'ivLength', 'frameLength', 'tail'] as const
const forgedHeaderArb = fc.record({
  corrupt: fc.subarray([...CORRUPTIBLE], { maxLength: 2 }),
  suiteId: fc.constantFrom(...SUITE_IDS),
  messageId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  aad: aadArb,
  edks: fc.array(edkArb, { minLength: 1, maxLength: 4 }),
  framed: fc.boolean(),
  frameLength: u32.filter((n) => n > 0),
  commitKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  /** Header authentication (28 bytes covers v1 and v2) and whatever follows. */
  tail: fc.uint8Array({ minLength: 28, maxLength: 160 }),
  hostile: fc.record({
    byte: fc.integer({ min: 0, max: 255 }),
    suiteId: u16,
    u16,
    u32,
    edkField: fc.nat(11),
    aad: fc.uint8Array({ maxLength: 64 }),
    tail: fc.uint8Array({ maxLength: 27 }),
  }),
})
type ForgedHeader = typeof forgedHeaderArb extends fc.Arbitrary<infer T> ? T : never

function encodeForged(h: ForgedHeader): Uint8Array {
  const bad = new Set<string>(h.corrupt)
  const x = h.hostile
  const suite = ALL_SUITES.find((s) => s.id === h.suiteId)!
  const version = bad.has('version') ? x.byte : suite.messageFormat
  const w = new Writer().u8(version)
  const v1 = version === 1
  if (v1) w.u8(bad.has('type') ? x.byte : 0x80)
  w.u16(bad.has('suite') ? x.suiteId : h.suiteId).raw(h.messageId.subarray(0, v1 ? 16 : 32))
  const aad = bad.has('aad') ? x.aad : h.aad
  w.u16(bad.has('aadLength') ? x.u16 : aad.length).raw(aad)
  w.u16(bad.has('edkCount') ? x.u16 : h.edks.length)
  h.edks.forEach((edk, e) => {
    const fields = [utf8(edk.providerId), edk.info, edk.ciphertext]
    fields.forEach((f, i) => w.u16(bad.has('edkFieldLength') && x.edkField === e * 3 + i ? x.u16 : f.length).raw(f))
  })
  w.u8(bad.has('contentType') ? x.byte : h.framed ? 2 : 1)
  const frameLength = bad.has('frameLength') ? x.u32 : h.framed ? h.frameLength : 0
  if (v1) w.u32(bad.has('reserved') ? x.u32 : 0).u8(bad.has('ivLength') ? x.byte : 12).u32(frameLength)
  else w.u32(frameLength).raw(h.commitKey)
  return w.raw(bad.has('tail') ? x.tail : h.tail).done()
}

describe('forged headers', () => {
  it('yield coded errors only, and streaming never holds more than maxHeaderSize while parsing', async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(
        forgedHeaderArb,
        fc.integer({ min: 1, max: 97 }),
        fc.oneof({ arbitrary: fc.constant(1 << 20), weight: 4 }, { arbitrary: fc.integer({ min: 16, max: 1024 }), weight: 1 }),
        fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
        async (h, chunk, maxHeaderSize, maxBodySize) => {
          const bytes = encodeForged(h)
          const limited = { ...settings, maxHeaderSize }
          assertCoded(await oneShotError(reachAuth, bytes, { maxBodySize }, createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', maxHeaderSize })), 'one-shot')
          const s = await within(streamDecrypt(toCmm(reachAuth), bytes, chunk, { maxBodySize }, limited), HANG_MS, 'stream')
          assertCoded(s.error, 'stream')
          seen.add(s.error.code)
          expect(s.released.length).toBe(0)
          // Every push that did not fail left at most maxHeaderSize bytes buffered: the header never authenticates here.
          expect(s.maxBuffered).toBeLessThanOrEqual(maxHeaderSize)
        },
      ),
      { numRuns: RUNS, seed: SEED },
    )
    // The generator reaches every stage of header processing, not only the first bytes.
    for (const code of ['ERR_MALFORMED_MESSAGE', 'ERR_TRUNCATED', 'ERR_LIMIT_EXCEEDED', 'ERR_AUTHENTICATION_FAILED']) expect(seen).toContain(code)
  })

  it('a well-formed header larger than maxHeaderSize fails with ERR_LIMIT_EXCEEDED before more than maxHeaderSize is buffered', async () => {
    const bigHeader = fc.record({
      valueLength: fc.integer({ min: 0, max: 3000 }),
      edks: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 })), { minLength: 1, maxLength: 12 }),
      maxHeaderSize: fc.integer({ min: 64, max: 6000 }),
      chunk: fc.integer({ min: 1, max: 700 }),
    })
    await fc.assert(
      fc.asyncProperty(bigHeader, async ({ valueLength, edks, maxHeaderSize, chunk }) => {
        const w = new Writer().u8(2).u16(0x0478).raw(new Uint8Array(32))
        const aad = contextBytes([['k', 'v'.repeat(valueLength)]])
        w.u16(aad.length).raw(aad).u16(edks.length)
        for (const [infoLength, ctLength] of edks) w.u16(1).raw([0x78]).u16(infoLength).raw(new Uint8Array(infoLength)).u16(ctLength).raw(new Uint8Array(ctLength))
        w.u8(2).u32(4096).raw(new Uint8Array(32 + 16))
        const bytes = w.done()
        const limited = { ...settings, maxHeaderSize }
        const s = await streamDecrypt(toCmm(reachAuth), bytes, chunk, {}, limited)
        assertCoded(s.error, 'stream')
        expect(s.maxBuffered).toBeLessThanOrEqual(maxHeaderSize)
        const oneShot = await oneShotError(reachAuth, bytes, {}, createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', maxHeaderSize }))
        assertCoded(oneShot, 'one-shot')
        if (bytes.length > maxHeaderSize) {
          expect(s.error.code).toBe('ERR_LIMIT_EXCEEDED')
          expect(oneShot.code).toBe('ERR_LIMIT_EXCEEDED')
        } else {
          // It fits: parsing succeeds and the zero key fails authentication (or commitment) instead.
          expect(s.error.code).toBe('ERR_AUTHENTICATION_FAILED')
        }
        // A prefix is a truncation, unless it already shows that the header cannot fit.
        const cut = bytes.subarray(0, Math.min(bytes.length - 1, maxHeaderSize))
        const t = await streamDecrypt(toCmm(reachAuth), cut, chunk, {}, limited)
        assertCoded(t.error, 'cut stream')
        expect(t.error.code === 'ERR_TRUNCATED' || (cut.length === maxHeaderSize && t.error.code === 'ERR_LIMIT_EXCEEDED')).toBe(true)
        expect(t.maxBuffered).toBeLessThanOrEqual(maxHeaderSize)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })
})

// ---------------------------------------------------------------- real header, hostile body

interface Fixture {
  readonly label: string
  readonly message: Uint8Array
  readonly plaintext: Uint8Array
  readonly header: Uint8Array
  readonly frames: readonly Uint8Array[]
  readonly footer: Uint8Array
  readonly frameLength: number
  readonly signed: boolean
  readonly framed: boolean
  readonly finalLength: number
}

const FRAME = 16
async function fixture(suiteId: number, frameLength: number): Promise<Fixture> {
  const plaintext = patterned(3 * FRAME + 5, suiteId)
  const client = suiteId >= 0x0478 ? allow : forbid
  const { ciphertext } = await client.encrypt(keyring, plaintext, { suiteId, frameLength, encryptionContext: { tenant: 'a' } })
  const layout = layoutOf(ciphertext)
  return {
    label: `0x${suiteId.toString(16)}/${frameLength}`,
    message: ciphertext,
    plaintext,
    header: ciphertext.subarray(0, layout.headerLength),
    frames: layout.frames.map((f) => ciphertext.subarray(f.start, f.end)),
    footer: ciphertext.subarray(layout.footerStart),
    frameLength,
    signed: SIGNED_SUITES.has(suiteId),
    framed: layout.framed,
    finalLength: layout.frames[layout.frames.length - 1]!.contentLength,
  }
}

const pieceArb = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('real' as const), index: fc.nat(8) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('reseq' as const), index: fc.nat(8), seq: fc.oneof(fc.nat(6), fc.constant(0xfffffffe), fc.integer({ min: 0, max: 0xffffffff })) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('final' as const),
      seq: fc.oneof(fc.nat(6), fc.integer({ min: 0, max: 0xffffffff })),
      length: fc.oneof(fc.nat(FRAME), fc.constantFrom(FRAME + 1, 0x7fffffff, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
      content: fc.uint8Array({ maxLength: 80 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('nonframed' as const),
      length: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 64n - 1n, 2n ** 36n - 31n, 2n ** 36n - 32n, 2n ** 32n, 5000n), fc.bigInt({ min: 0n, max: 200n })),
      content: fc.uint8Array({ maxLength: 80 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('footer' as const), sigLength: fc.oneof(fc.constantFrom(0, 1, 104, 105, 0xffff), fc.nat(0xffff)), sig: fc.uint8Array({ maxLength: 110 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('realFooter' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ maxLength: 40 }) }), weight: 1 },
)
type Piece = typeof pieceArb extends fc.Arbitrary<infer T> ? T : never

function assemble(f: Fixture, pieces: readonly Piece[]): Uint8Array {
  const w = new Writer().raw(f.header)
  for (const p of pieces) {
    switch (p.kind) {
      case 'real':
        w.raw(f.frames[p.index % f.frames.length]!)
        break
      case 'reseq': {
        // A real frame with its sequence number rewritten (regular: bytes 0-3; final: bytes 4-7).
        const frame = new Uint8Array(f.frames[p.index % f.frames.length]!)
        const at = f.framed && new DataView(frame.buffer).getUint32(0) === 0xffffffff ? 4 : 0
        if (f.framed) new DataView(frame.buffer).setUint32(at, p.seq)
        w.raw(frame)
        break
      }
      case 'final':
        w.u32(0xffffffff).u32(p.seq).raw(new Uint8Array(12)).u32(p.length).raw(p.content)
        break
      case 'nonframed':
        w.raw(new Uint8Array(12)).u64(p.length).raw(p.content)
        break
      case 'footer':
        w.u16(p.sigLength).raw(p.sig)
        break
      case 'realFooter':
        w.raw(f.footer)
        break
      case 'junk':
        w.raw(p.bytes)
    }
  }
  return w.done()
}

describe('authenticated header, hostile body', () => {
  it('out-of-order frames, forged lengths, bad footers: coded errors, verified prefixes only, bounded buffering', async () => {
    const fixtures = await Promise.all([
      fixture(0x0178, FRAME),
      fixture(0x0478, FRAME),
      fixture(0x0578, FRAME),
      fixture(0x0214, FRAME),
      fixture(0x0478, 0),
      fixture(0x0378, 0),
    ])
    const cmm = toCmm(keyring)
    let successes = 0
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fixtures),
        fc.array(pieceArb, { maxLength: 7 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 64, max: 4096 }),
        async (f, pieces, chunk, maxBodySize) => {
          const bytes = assemble(f, pieces)
          const original = bytes.length === f.message.length && isPrefix(bytes, f.message)
          const oneShot = await oneShotError(keyring, bytes)
          const s = await within(streamDecrypt(cmm, bytes, chunk, { maxBodySize }), HANG_MS, 'stream')
          if (original) {
            successes++
            expect(oneShot).toBeUndefined()
            expect(s.error).toBeUndefined()
            expect(s.released).toEqual(f.plaintext)
            return
          }
          assertCoded(oneShot, 'one-shot')
          assertCoded(s.error, 'stream')
          seen.add(s.error.code)
          seen.add(oneShot.code)
          // What a stream released before failing was verified: a prefix of the plaintext. Only a complete,
          // valid message followed by extra bytes can have released all of it; otherwise never the held
          // final frame of a signed message, never a whole non-framed body.
          expect(isPrefix(s.released, f.plaintext)).toBe(true)
          if (s.error.code !== 'ERR_TRAILING_BYTES') {
            expect(s.released.length).toBeLessThanOrEqual(f.plaintext.length - (f.signed || !f.framed ? f.finalLength : 1))
          }
          // Between pushes: less than one frame (or, non-framed, maxBodySize) plus a held final frame.
          const frameBound = f.framed ? f.frameLength + 40 : maxBodySize + 36
          expect(s.maxBuffered).toBeLessThanOrEqual(Math.max(f.header.length, frameBound + (f.signed ? frameBound : 0)))
        },
      ),
      { numRuns: RUNS * 2, seed: SEED },
    )
    console.log(`hostile bodies: ${RUNS * 2} runs, ${successes} rebuilt the original message, codes seen: ${[...seen].sort().join(' ')}`)
    for (const code of ['ERR_MALFORMED_MESSAGE', 'ERR_TRUNCATED', 'ERR_TRAILING_BYTES', 'ERR_LIMIT_EXCEEDED', 'ERR_AUTHENTICATION_FAILED']) expect(seen).toContain(code)
  })
})

describe('structured garbage: named cases', () => {
  const cmm = toCmm(keyring)
  const body = (f: Fixture, ...pieces: Piece[]) => assemble(f, pieces)

  it('a non-framed body declaring up to 2^64 - 1 bytes is refused from its 20-byte prefix', async () => {
    const f = await fixture(0x0478, 0)
    for (const length of [2n ** 64n - 1n, 2n ** 63n, 2n ** 36n - 31n]) {
      const bytes = body(f, { kind: 'nonframed', length, content: new Uint8Array(0) })
      // Header + IV + length: the decryptor has not seen a single body byte, and already refuses.
      expect(bytes.length).toBe(f.header.length + 20)
      const s = await streamDecrypt(cmm, bytes, bytes.length)
      expect(s.error).toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    }
    const within64k = body(f, { kind: 'nonframed', length: 2n ** 36n - 32n, content: new Uint8Array(0) })
    const s = await streamDecrypt(cmm, within64k, within64k.length, { maxBodySize: 1 << 20 })
    expect(s.error).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxBodySize' })
    // Without a body limit (one-shot), a huge but legal length just waits for bytes that never come.
    expect(await oneShotError(keyring, within64k)).toMatchObject({ code: 'ERR_TRUNCATED' })
  })

  it('frames out of order, repeated or skipped are rejected', async () => {
    const f = await fixture(0x0478, FRAME)
    const [a, b, c, fin] = [0, 1, 2, 3].map((index): Piece => ({ kind: 'real', index })) as [Piece, Piece, Piece, Piece]
    const reseq: Piece = { kind: 'reseq', index: 3, seq: 5 }
    for (const order of [[b, a, c, fin], [a, a, b, c, fin], [a, c, fin], [a, b, c, reseq]]) {
      const bytes = body(f, ...order)
      expect(await oneShotError(keyring, bytes)).toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
      const s = await streamDecrypt(cmm, bytes, 7)
      expect(s.error).toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    }
  })

  it('a final frame declaring more than the frame length is rejected before its content is read', async () => {
    const f = await fixture(0x0478, FRAME)
    for (const length of [FRAME + 1, 0xffffffff]) {
      const bytes = body(f, { kind: 'real', index: 0 }, { kind: 'real', index: 1 }, { kind: 'real', index: 2 }, { kind: 'final', seq: 4, length, content: new Uint8Array(0) })
      expect(await oneShotError(keyring, bytes)).toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    }
  })

  it('a zero or oversized signature length is rejected', async () => {
    const f = await fixture(0x0578, FRAME)
    const frames = f.frames.map((_, index) => ({ kind: 'real' as const, index }))
    for (const sigLength of [0, 105, 0xffff]) {
      const bytes = body(f, ...frames, { kind: 'footer', sigLength, sig: new Uint8Array(110) })
      expect(await oneShotError(keyring, bytes)).toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    }
    const good = body(f, ...frames, { kind: 'realFooter' })
    expect(good).toEqual(f.message)
  })
})
