/** The vector files our tests read are byte for byte the ones test-vectors/README.md and SHA256SUMS document. */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { PUBLIC_VECTORS, WYCHEPROOF_VECTORS } from '../support/vectors.js'

const VENDORED = join(import.meta.dirname, '..', '..', 'test-vectors')
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const sumsOf = (text: string) => [...text.matchAll(/^([0-9a-f]{64}) [ *](?:\.\/)?(.+)$/gm)].map(([, sha, file]) => [file!, sha!] as const)

it('every documented sha256 matches the file the tests read', () => {
  const readme = readFileSync(join(VENDORED, 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/^\| `([^`]+)` \| `([0-9a-f]{64})` \|$/gm)]
  expect(rows.length).toBe(21)
  const mismatches = rows.filter(([, file, sha]) => sha256(readFileSync(join(PUBLIC_VECTORS, file!))) !== sha)
  expect(mismatches.map((m) => m[1])).toEqual([])
})

it('the committed archives match test-vectors/SHA256SUMS', () => {
  const sums = sumsOf(readFileSync(join(VENDORED, 'SHA256SUMS'), 'utf8'))
  expect(sums.map(([file]) => file)).toEqual(['public.tar.gz', 'wycheproof.tar.gz'])
  for (const [file, sha] of sums) expect(sha256(readFileSync(join(VENDORED, file))), file).toBe(sha)
})

it.each([
  ['public', PUBLIC_VECTORS, 1368],
  ['wycheproof', WYCHEPROOF_VECTORS, 26],
])('every file of the %s set matches the set\'s own SHA256SUMS', (_set, folder, count) => {
  const sums = sumsOf(readFileSync(join(folder, 'SHA256SUMS'), 'utf8'))
  expect(sums.length).toBe(count)
  expect(sums.filter(([file, sha]) => sha256(readFileSync(join(folder, file))) !== sha).map(([file]) => file)).toEqual([])
})
