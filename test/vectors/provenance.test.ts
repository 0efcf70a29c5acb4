/** The vector files our tests read are byte for byte the ones test-vectors/README.md documents. */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { PUBLIC_VECTORS } from '../support/vectors.js'

it('every documented sha256 matches the file in ../shared/test-vectors', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'test-vectors', 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/^\| `([^`]+)` \| `([0-9a-f]{64})` \|$/gm)]
  expect(rows.length).toBe(21)
  const mismatches = rows.filter(([, file, sha]) => createHash('sha256').update(readFileSync(join(PUBLIC_VECTORS, file!))).digest('hex') !== sha)
  expect(mismatches.map((m) => m[1])).toEqual([])
})
