/**
 * What a streaming consumer sees when the attacker controls the ciphertext and
 * its pacing (spec/decrypt-rules.md#release-rules):
 * - a tampered frame k: the consumer got exactly frames 1..k-1 when they
 *   arrived in earlier chunks than the bytes that expose the fault (a push that
 *   fails returns nothing, so verified frames in the failing chunk are
 *   withheld), in Node and WHATWG streams alike; never anything of frame k;
 * - a signed message: the final frame is not emitted while the signature check
 *   is still running, and never when it fails.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { createClient, RawAesKeyring, type Client, type CryptoBackend } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { aesKey, patterned } from '../support/keys.js'
import { concat, flipBit } from '../support/helpers.js'
import { layoutOf } from './helpers.js'

const keyring = new RawAesKeyring({ keyNamespace: 'release', keyName: 'k', wrappingKey: aesKey(32) })
const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const F = 64
const FRAMES = 5
const PLAINTEXT = patterned(FRAMES * F - 9, 11)

function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.subarray(o, o + size))
  return out
}

interface Seen {
  readonly emitted: Uint8Array
  readonly error: unknown
}

/** What the decrypt stream itself emits (a downstream sink may lose the last verified chunks when the pipeline is destroyed). */
async function viaNode(client: Client, chunks: Uint8Array[], out: Uint8Array[] = []): Promise<Seen> {
  const decrypt = client.decryptStream(keyring)
  decrypt.on('data', (chunk: Uint8Array) => out.push(new Uint8Array(chunk)))
  const error = await pipeline(Readable.from(chunks), decrypt).then(
    () => undefined,
    (e: unknown) => e,
  )
  return { emitted: concat(out), error }
}

/** Reads as fast as output appears; `out` shows what the consumer has so far. */
async function viaWeb(client: Client, chunks: Uint8Array[], out: Uint8Array[] = []): Promise<Seen> {
  let i = 0
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    },
  })
  const reader = source.pipeThrough(client.decryptWebStream(keyring)).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { emitted: concat(out), error: undefined }
      out.push(value)
    }
  } catch (error) {
    return { emitted: concat(out), error }
  }
}

const SUITES = [0x0178, 0x0214, 0x0478, 0x0578]

describe('a tampered frame k: exactly frames 1..k-1 reach the consumer', () => {
  it.each(SUITES.map((id) => [`0x${id.toString(16).padStart(4, '0')}`, id] as const))('suite %s', async (_label, suiteId) => {
    const client = suiteId >= 0x0478 ? allow : forbid
    const { ciphertext } = await client.encrypt(keyring, PLAINTEXT, { suiteId, frameLength: F })
    const layout = layoutOf(ciphertext)
    expect(layout.frames.length).toBe(FRAMES)
    let checked = 0
    for (const frame of layout.frames) {
      // Three places in frame k: its sequence number, its ciphertext, its tag.
      const ciphertextStart = frame.start + (frame.final ? 24 : 16)
      for (const at of [frame.start + (frame.final ? 7 : 3), ciphertextStart + 5, frame.end - 1]) {
        const tampered = flipBit(ciphertext, at, 0)
        const expected = PLAINTEXT.subarray(0, (frame.seq - 1) * F)
        // The fault shows when frame k is complete, or (a final frame's sequence number) once its 24-byte
        // prefix is in. A chunk that ends frame k-1 and also exposes the fault fails as a whole, so
        // chunks here are no longer than that: then frame k-1 always came out of an earlier push.
        const decidedAfter = frame.final && at < ciphertextStart ? 24 : frame.end - frame.start
        for (const size of [1, 13, decidedAfter]) {
          for (const run of [viaNode, viaWeb]) {
            const seen = await run(client, pieces(tampered, size))
            expect(seen.error, `${run.name} frame ${frame.seq} byte ${at} chunk ${size}`).toMatchObject({ code: expect.stringMatching(/^ERR_(AUTHENTICATION_FAILED|MALFORMED_MESSAGE)$/) })
            expect(seen.emitted, `${run.name} frame ${frame.seq} byte ${at} chunk ${size}`).toEqual(expected)
            checked++
          }
        }
        // One chunk holding everything: verified frames in the failing chunk are withheld, never anything past k-1.
        const whole = await viaNode(client, [tampered])
        expect(whole.error).toBeDefined()
        expect(whole.emitted.length).toBeLessThanOrEqual(expected.length)
        expect(whole.emitted).toEqual(PLAINTEXT.subarray(0, whole.emitted.length))
      }
    }
    expect(checked).toBe(FRAMES * 3 * 3 * 2)
  })
})

/** node:crypto with a signature check that waits for the test to let it finish. */
function gatedBackend(): { backend: CryptoBackend; verifyStarted: Promise<void>; release: (ok?: boolean) => void } {
  let started!: () => void
  const verifyStarted = new Promise<void>((r) => (started = r))
  let open!: (ok: boolean) => void
  const gate = new Promise<boolean>((r) => (open = r))
  const backend: CryptoBackend = {
    ...nodeBackend,
    createVerifier(key, hash) {
      const inner = nodeBackend.createVerifier(key, hash)
      return {
        update: (data) => inner.update(data),
        async verify(signature) {
          started()
          const ok = await gate
          return ok && (await inner.verify(signature))
        },
      }
    },
  }
  return { backend, verifyStarted, release: (ok = true) => open(ok) }
}

describe('signed messages: the final frame waits for the signature', () => {
  it.each([
    ['framed', F],
    ['non-framed', 0],
  ] as const)('%s: nothing of the final frame is emitted while verification runs; all of it after', async (_label, frameLength) => {
    const { ciphertext } = await allow.encrypt(keyring, PLAINTEXT, { suiteId: 0x0578, frameLength })
    const regular = frameLength === 0 ? 0 : (FRAMES - 1) * F
    for (const outcome of [true, false]) {
      for (const web of [false, true]) {
        const gated = gatedBackend()
        const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend: gated.backend })
        const emitted: Uint8Array[] = []
        let error: unknown
        let finished = false
        const done = (web ? viaWeb : viaNode)(client, pieces(ciphertext, 16), emitted).then((seen) => {
          error = seen.error
          finished = true
        })
        await gated.verifyStarted
        // Let every already-queued callback run: output that is going to appear before the check ends appears now.
        await new Promise((r) => setTimeout(r, 20))
        expect(finished).toBe(false)
        expect(concat(emitted)).toEqual(PLAINTEXT.subarray(0, regular))
        gated.release(outcome)
        await done
        if (outcome) {
          expect(error).toBeUndefined()
          expect(concat(emitted)).toEqual(PLAINTEXT)
        } else {
          expect(error).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'signature' })
          expect(concat(emitted)).toEqual(PLAINTEXT.subarray(0, regular))
        }
      }
    }
  })
})
