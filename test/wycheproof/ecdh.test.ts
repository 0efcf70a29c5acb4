/**
 * Wycheproof ECDH on P-256, P-384 and P-521 through each backend's ECDH. The `_test` files give
 * the peer's key as DER SubjectPublicKeyInfo, read by crypto/ec.ts (the path a keyring's
 * configured public key takes); the `_ecpoint` files give a bare SEC1 point, handed straight to
 * the backend's ecdh (the path a point read from a message takes), so each backend's own point
 * checks are what is tested there. Valid: the shared secret matches. Invalid: a typed error.
 */
import { describe, expect, it } from 'vitest'
import type { EcdhCurve } from '../../src/algorithms.js'
import { ECDH_CURVES } from '../../src/algorithms.js'
import type { CryptoBackend } from '../../src/crypto/backend.js'
import { importEcPublicKey } from '../../src/crypto/ec.js'
import { BACKENDS } from '../support/backends.js'
import { hexToBytes } from '../support/helpers.js'
import { describeError, expectation, readWycheproof, Tally, toHex, typed, type WycheproofTest } from './support.js'

const GROUP_CURVE: Record<string, EcdhCurve> = { secp256r1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** The private scalar at the curve's length (Wycheproof writes it as a DER INTEGER's content, sometimes with a 00 in front). */
function scalar(curve: EcdhCurve, hex: string): Uint8Array {
  const bytes = hexToBytes(hex)
  const n = ECDH_CURVES[curve].coordinateLength
  let start = 0
  while (bytes.length - start > n && bytes[start] === 0) start++
  const out = new Uint8Array(n)
  out.set(bytes.subarray(start), n - (bytes.length - start))
  return out
}

async function agree(backend: CryptoBackend, curve: EcdhCurve, test: WycheproofTest, spki: boolean): Promise<Uint8Array | unknown> {
  try {
    const point = spki ? importEcPublicKey(curve, hexToBytes(test.public)).compressed : hexToBytes(test.public)
    return await backend.ecdh(backend.importEcdhPrivateKey(curve, scalar(curve, test.private)), point)
  } catch (error) {
    return error
  }
}

async function run(backend: CryptoBackend, file: string, spki: boolean): Promise<Tally> {
  const tally = new Tally()
  for (const group of readWycheproof(file).testGroups) {
    const curve = GROUP_CURVE[group.curve]!
    for (const test of group.tests) {
      const want = expectation(test)
      if (want === undefined) {
        tally.fail(test, 'acceptable without a decision')
        continue
      }
      tally.ran(test)
      const outcome = await agree(backend, curve, test, spki)
      if (!(outcome instanceof Uint8Array)) {
        if (!typed(outcome)) tally.fail(test, `threw ${describeError(outcome)}`)
        else if (want === 'accept') tally.fail(test, `rejected (${describeError(outcome)})`)
        continue
      }
      if (want === 'reject') tally.fail(test, `accepted, shared ${toHex(outcome)}`)
      else if (toHex(outcome) !== test.shared) tally.fail(test, `shared secret ${toHex(outcome)}, expected ${test.shared}`)
    }
  }
  return tally
}

/** File, SPKI or bare point, and how many valid / invalid / acceptable tests it holds. */
const FILES = [
  ['ecdh_secp256r1_test.json', true, 330, 52, 230],
  ['ecdh_secp256r1_ecpoint_test.json', false, 330, 24, 1],
  ['ecdh_secp384r1_test.json', true, 771, 46, 230],
  ['ecdh_secp384r1_ecpoint_test.json', false, 771, 18, 1],
  ['ecdh_secp521r1_test.json', true, 632, 56, 228],
  ['ecdh_secp521r1_ecpoint_test.json', false, 632, 28, 1],
] as const

describe.each(BACKENDS)('Wycheproof ECDH on the %s backend', (_name, backend) => {
  it.each(FILES)('%s', async (file, spki, valid, invalid, acceptable) => {
    const tally = await run(backend, file, spki)
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid, invalid, acceptable }, skipped: {} })
  })
})
