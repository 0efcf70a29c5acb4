/**
 * Every vendored Wycheproof file is either run by a test in this folder or listed here with the
 * reason it is not, so a file added to the set cannot be silently ignored.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { WYCHEPROOF_VECTORS } from '../support/vectors.js'

const NOT_RUN: Record<string, string> = {
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
  expect(run.length).toBe(23)
})
