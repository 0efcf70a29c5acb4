/**
 * Mutation testing: for a small message of every suite (framed), legacy
 * non-framed bodies and messages with two encrypted data keys, every
 * truncation and every single-bit flip is rejected by one-shot decrypt AND by
 * streaming decrypt, with a coded EnvelopeError. Streaming may release
 * verified frames before the failure; what it released must be a true prefix
 * of the plaintext and, for signed suites, never the final frame.
 * The counts printed here are the ones quoted in SECURITY.md.
 *
 * The fast test tier (ENVELOPE_MUTATIONS=sample, vitest.config.ts) checks a seeded sample of each
 * message's mutations, to stay in the edit-test loop's budget; the conformance tier checks all of them.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, EnvelopeError, ERROR_CODES, findSuite, MultiKeyring, RawAesKeyring, type Keyring } from '../../src/index.js'
import { toCmm } from '../../src/materials/cmm.js'
import { aesKey, patterned } from '../support/keys.js'
import { flipBit, isPrefix, seededSample } from '../support/helpers.js'
import { layoutOf, SIGNED_SUITES, streamDecrypt } from './helpers.js'

const first = new RawAesKeyring({ keyNamespace: 'mutate', keyName: 'one', wrappingKey: aesKey(32) })
const second = new RawAesKeyring({ keyNamespace: 'mutate-2', keyName: 'two', wrappingKey: aesKey(16) })
const both = new MultiKeyring({ generator: first, children: [second] })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const codes = new Set<string>(ERROR_CODES)

const SAMPLED = process.env.ENVELOPE_MUTATIONS === 'sample'
/** Mutations (truncations and flips together) checked per message in the fast tier: about a third of an unsigned message's, a tenth of a signed one's. */
const SAMPLE = 300

/** 12 bytes at frame length 8: one regular frame and a 4-byte final frame. */
const PLAINTEXT = patterned(12, 3)

interface Case {
  readonly label: string
  readonly suiteId: number
  readonly frameLength: number
  readonly keyring: Keyring
}

const CASES: Case[] = [
  ...ALL_SUITES.map((s) => ({ label: `${s.name} framed`, suiteId: s.id, frameLength: 8, keyring: first as Keyring })),
  ...[0x0078, 0x0178, 0x0378, 0x0478, 0x0578].map((suiteId) => ({ label: `0x${suiteId.toString(16).padStart(4, '0')} non-framed`, suiteId, frameLength: 0, keyring: first as Keyring })),
  ...[0x0178, 0x0478, 0x0578].map((suiteId) => ({ label: `0x${suiteId.toString(16).padStart(4, '0')} two EDKs`, suiteId, frameLength: 8, keyring: both as Keyring })),
]

interface Row {
  label: string
  bytes: number
  truncations: number
  flips: number
  /** Decrypt attempts that were rejected: (truncations + flips) x (one-shot, streaming). */
  rejected: number
  byCode: Record<string, number>
}
const rows: Row[] = []

afterAll(() => {
  const total = rows.reduce(
    (t, r) => ({ bytes: t.bytes + r.bytes, truncations: t.truncations + r.truncations, flips: t.flips + r.flips, rejected: t.rejected + r.rejected }),
    { bytes: 0, truncations: 0, flips: 0, rejected: 0 },
  )
  const byCode: Record<string, number> = {}
  for (const r of rows) for (const [c, n] of Object.entries(r.byCode)) byCode[c] = (byCode[c] ?? 0) + n
  const lines = rows.map((r) => `${r.label.padEnd(58)} ${String(r.bytes).padStart(4)} B  ${String(r.truncations).padStart(4)} truncations  ${String(r.flips).padStart(5)} flips  ${String(r.rejected).padStart(6)} rejections`)
  lines.push(`TOTAL ${rows.length} messages, ${total.bytes} bytes: ${total.truncations} truncations + ${total.flips} flips = ${total.truncations + total.flips} mutations, ${total.rejected} rejections (one-shot + streaming)`)
  lines.push(`codes: ${JSON.stringify(byCode)}`)
  console.log(`mutation testing\n${lines.join('\n')}`)
})

/**
 * DER signatures vary in length by a byte or two; re-encrypting until the signature has the suite's
 * largest length makes message sizes, and so the counts reported in SECURITY.md, the same on every run.
 */
async function smallMessage(client: typeof allow, c: Case): Promise<Uint8Array> {
  const maxSignature = findSuite(c.suiteId)!.signature?.maxSignatureLength
  for (let attempt = 0; attempt < 200; attempt++) {
    const { ciphertext } = await client.encrypt(c.keyring, PLAINTEXT, { suiteId: c.suiteId, frameLength: c.frameLength })
    if (maxSignature === undefined || ciphertext.length - layoutOf(ciphertext).footerStart - 2 === maxSignature) return ciphertext
  }
  throw new Error('no signature of the largest length in 200 attempts')
}

function expectCoded(e: unknown, what: string): string {
  if (!(e instanceof EnvelopeError)) throw new Error(`${what}: expected an EnvelopeError, got ${String(e)}`)
  expect(codes.has(e.code), `${what}: code ${e.code}`).toBe(true)
  return e.code
}

describe('every truncation and every single-bit flip is rejected, one-shot and streaming', () => {
  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const client = c.suiteId >= 0x0478 ? allow : forbid
    const ciphertext = await smallMessage(client, c)
    // The untouched message decrypts both ways (so every rejection below is caused by the mutation).
    expect(new Uint8Array((await allow.decrypt(c.keyring, ciphertext)).plaintext)).toEqual(PLAINTEXT)
    const cmm = toCmm(c.keyring)
    const clean = await streamDecrypt(cmm, ciphertext, 5)
    expect(clean.error).toBeUndefined()
    expect(clean.released).toEqual(PLAINTEXT)

    const layout = layoutOf(ciphertext)
    expect(layout.footerStart === ciphertext.length).toBe(!SIGNED_SUITES.has(c.suiteId))
    const finalFrame = layout.frames[layout.frames.length - 1]!
    // Signed suites hold the final frame (or non-framed body) until the signature verifies.
    const maxReleased = SIGNED_SUITES.has(c.suiteId) ? PLAINTEXT.length - finalFrame.contentLength : PLAINTEXT.length - 1
    const row: Row = { label: c.label, bytes: ciphertext.length, truncations: 0, flips: 0, rejected: 0, byCode: {} }
    const count = (code: string) => {
      row.byCode[code] = (row.byCode[code] ?? 0) + 1
      row.rejected++
    }

    const check = async (mutated: Uint8Array, what: string, truncation: boolean, chunkSize: number) => {
      const oneShot = await allow.decrypt(c.keyring, mutated).then(
        () => undefined,
        (e: unknown) => e,
      )
      const oneShotCode = expectCoded(oneShot, `one-shot ${what}`)
      count(oneShotCode)
      const stream = await streamDecrypt(cmm, mutated, chunkSize)
      const streamCode = expectCoded(stream.error, `stream ${what}`)
      count(streamCode)
      if (truncation) {
        expect(oneShotCode, what).toBe('ERR_TRUNCATED')
        expect(streamCode, what).toBe('ERR_TRUNCATED')
      }
      if (!isPrefix(stream.released, PLAINTEXT) || stream.released.length > maxReleased) {
        throw new Error(`stream ${what}: released ${stream.released.length} bytes that are not a verified prefix (max ${maxReleased})`)
      }
    }

    const all = [
      ...Array.from({ length: ciphertext.length }, (_, n) => ({ truncateTo: n })),
      ...Array.from({ length: ciphertext.length * 8 }, (_, k) => ({ byte: k >> 3, bit: k & 7 })),
    ]
    const planned = SAMPLED ? seededSample(all, SAMPLE, c.suiteId * 31 + c.frameLength + c.label.length) : all
    for (const m of planned) {
      if ('truncateTo' in m) {
        await check(ciphertext.subarray(0, m.truncateTo), `truncated to ${m.truncateTo}`, true, 1 + (m.truncateTo % 23))
        row.truncations++
      } else {
        await check(flipBit(ciphertext, m.byte, m.bit), `bit ${m.bit} of byte ${m.byte} flipped`, false, 1 + ((m.byte * 8 + m.bit) % 29))
        row.flips++
      }
    }
    expect(row.truncations + row.flips).toBe(planned.length)
    if (planned === all) {
      expect(row.truncations).toBe(ciphertext.length)
      expect(row.flips).toBe(ciphertext.length * 8)
    }
    expect(row.rejected).toBe(2 * (row.truncations + row.flips))
    rows.push(row)
  })
})

describe('SECURITY.md', () => {
  // The quoted counts are of every mutation: only the conformance tier, which runs them all, can check them.
  it.skipIf(SAMPLED)('quotes the counts this file produces', (context) => {
    // Only meaningful when every case above ran: under a -t filter, or when a case failed, it is skipped, not passed.
    if (rows.length !== CASES.length) return context.skip(`${rows.length} of ${CASES.length} cases ran`)
    const n = (x: number) => x.toLocaleString('en-US')
    const truncations = rows.reduce((t, r) => t + r.truncations, 0)
    const flips = rows.reduce((t, r) => t + r.flips, 0)
    const rejected = rows.reduce((t, r) => t + r.rejected, 0)
    const text = readFileSync(join(import.meta.dirname, '..', '..', 'SECURITY.md'), 'utf8').replace(/\s+/g, ' ')
    expect(text).toContain(`${n(truncations)} truncations + ${n(flips)} flips = **${n(truncations + flips)} mutations, ${n(rejected)} rejections**`)
  })
})
