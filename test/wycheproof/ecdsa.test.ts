/**
 * Wycheproof ECDSA through each backend's verification interface (importVerificationKey with the
 * compressed point a message carries, createVerifier, update, verify with a DER signature), the
 * path a signed message's footer takes. DER parsing is each backend's own: OpenSSL, @noble/curves,
 * and der.ts (ecdsaDerToP1363) in front of crypto.subtle.
 */
import { describe, expect, it } from 'vitest'
import type { CryptoBackend } from '../../src/crypto/backend.js'
import { ecdsaDerToP1363, ecdsaP1363ToDer } from '../../src/crypto/der.js'
import type { CurveName, HashName } from '../../src/format/suites.js'
import { BACKENDS } from '../support/backends.js'
import { hexToBytes } from '../support/helpers.js'
import { describeError, expectation, readWycheproof, Tally, toHex, typed, type WycheproofTest } from './support.js'

/** SEC1 uncompressed (04 ‖ x ‖ y) -> compressed (02|03 ‖ x), the form the encryption context holds. */
function compress(uncompressed: Uint8Array): Uint8Array {
  const n = (uncompressed.length - 1) / 2
  const out = new Uint8Array(1 + n)
  out[0] = 2 | (uncompressed[2 * n]! & 1)
  out.set(uncompressed.subarray(1, 1 + n), 1)
  return out
}

/** true, false, or the error verification ended in. */
async function verify(backend: CryptoBackend, curve: CurveName, hash: HashName, point: Uint8Array, msg: Uint8Array, der: Uint8Array): Promise<boolean | unknown> {
  try {
    const verifier = backend.createVerifier(backend.importVerificationKey(curve, point), hash)
    verifier.update(msg)
    return await verifier.verify(der)
  } catch (error) {
    return error
  }
}

/** Rejection is `false` (the caller raises AuthenticationError) or a typed error; never a plain one. */
function check(tally: Tally, test: WycheproofTest, outcome: unknown): void {
  const want = expectation(test)
  if (want === undefined) return tally.fail(test, 'acceptable without a decision')
  tally.ran(test)
  if (typeof outcome !== 'boolean' && !typed(outcome)) return tally.fail(test, `threw ${describeError(outcome)}`)
  if (want === 'accept' && outcome !== true) tally.fail(test, `rejected (${typeof outcome === 'boolean' ? outcome : describeError(outcome)})`)
  if (want === 'reject' && outcome === true) tally.fail(test, 'accepted')
}

const GROUP_CURVE: Record<string, CurveName> = { secp256r1: 'P-256', secp384r1: 'P-384' }
const GROUP_HASH: Record<string, HashName> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }

async function runDer(backend: CryptoBackend, file: string): Promise<Tally> {
  const tally = new Tally()
  for (const group of readWycheproof(file).testGroups) {
    const curve = GROUP_CURVE[group.publicKey.curve]!
    const point = compress(hexToBytes(group.publicKey.uncompressed))
    for (const test of group.tests) check(tally, test, await verify(backend, curve, GROUP_HASH[group.sha]!, point, hexToBytes(test.msg), hexToBytes(test.sig)))
  }
  return tally
}

/**
 * Messages carry DER signatures only; P1363 (r ‖ s) is what crypto.subtle speaks, and der.ts
 * converts between the two. A P1363 vector is checked by converting it to DER (a signature of the
 * wrong length is rejected before that, as the WebCrypto path would), verifying that, and, for a
 * valid one, converting back to the same bytes.
 */
async function runP1363(backend: CryptoBackend, file: string): Promise<Tally> {
  const tally = new Tally()
  for (const group of readWycheproof(file).testGroups) {
    const curve = GROUP_CURVE[group.publicKey.curve]!
    const size = group.publicKey.keySize / 8
    const point = compress(hexToBytes(group.publicKey.uncompressed))
    for (const test of group.tests) {
      const raw = hexToBytes(test.sig)
      if (raw.length !== 2 * size) {
        check(tally, test, false)
        continue
      }
      const der = ecdsaP1363ToDer(raw)
      const outcome = await verify(backend, curve, GROUP_HASH[group.sha]!, point, hexToBytes(test.msg), der)
      check(tally, test, outcome)
      if (outcome === true && toHex(ecdsaDerToP1363(der, size)) !== test.sig) tally.fail(test, 'P1363 -> DER -> P1363 changed the signature')
    }
  }
  return tally
}

/** File, runner, and how many valid / invalid tests it holds (none skipped, none acceptable). */
const FILES = [
  ['ecdsa_secp256r1_sha256_test.json', runDer, 174, 310],
  ['ecdsa_secp384r1_sha384_test.json', runDer, 194, 310],
  ['ecdsa_secp384r1_sha384_p1363_test.json', runP1363, 193, 87],
] as const

describe.each(BACKENDS)('Wycheproof ECDSA on the %s backend', (_name, backend) => {
  it.each(FILES)('%s', async (file, run, valid, invalid) => {
    const tally = await run(backend, file)
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid, invalid, acceptable: 0 }, skipped: {} })
  })
})
