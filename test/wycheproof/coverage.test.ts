/**
 * Every vendored Wycheproof file is either run by a test in this folder or listed here with the
 * reason it is not, so a file added to the set cannot be silently ignored.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { WYCHEPROOF_VECTORS } from '../support/vectors.js'

/** Run these with the raw ECDH keyring once it exists (it has no issue number yet; the vendored
 * dafny-esdk-4.1.0-via-c/decrypt-manifest.ecdh-hierarchy.json waits for the same keyring). */
const ECDH = 'no ECDH keyring exists yet: nothing in the library computes or parses ECDH'
const NOT_RUN: Record<string, string> = {
  'ecdh_secp256r1_test.json': ECDH,
  'ecdh_secp256r1_ecpoint_test.json': ECDH,
  'ecdh_secp384r1_test.json': ECDH,
  'ecdh_secp384r1_ecpoint_test.json': ECDH,
  'ecdh_secp521r1_test.json': ECDH,
  'ecdh_secp521r1_ecpoint_test.json': ECDH,
  'ecdsa_secp521r1_sha512_test.json': 'no suite signs with P-521, so no backend imports a P-521 key (CurveName is P-256 | P-384)',
}
const NOT_VECTORS = ['LICENSE', 'README.md', 'SHA256SUMS']

it('every Wycheproof file is run here or has a reason not to be', () => {
  const sources = readdirSync(import.meta.dirname)
    .filter((name) => name.endsWith('.test.ts') && name !== 'coverage.test.ts')
    .map((name) => readFileSync(join(import.meta.dirname, name), 'utf8'))
    .join('\n')
  const files = readdirSync(WYCHEPROOF_VECTORS).filter((name) => !NOT_VECTORS.includes(name))
  const run = files.filter((name) => sources.includes(`'${name}'`))
  expect(files.filter((name) => !run.includes(name) && !NOT_RUN[name])).toEqual([])
  expect(run.filter((name) => NOT_RUN[name])).toEqual([])
  expect(run.length).toBe(17)
})
