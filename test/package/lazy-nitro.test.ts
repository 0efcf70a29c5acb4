/**
 * The Nitro code (cborg, bundled because it is ESM-only, and the CMS parser)
 * is reached only from envelope-sdk/nitro, the testing entry, and the KMS
 * recipient path's dynamic import: importing envelope-sdk loads none of it.
 * Checked on the built files by following their static imports, ESM and CJS.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const dist = join(root, 'dist')
/** Strings only cborg's and the CMS parser's code contain. */
const CBORG = 'CBOR decode error'
const CMS = 'KeyTransRecipientInfo'

/** Relative static imports (ESM `from '…'`, bare `import '…'`, CJS `require('…')`); dynamic import() is not followed. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|^\s*import\s*|\brequire\(\s*)["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]!)
  return specifiers.map((s) => resolve(dirname(file), s))
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    staticImports(file).forEach(visit)
  }
  visit(entry)
  return seen
}

const contains = (files: Set<string>, marker: string) => [...files].filter((f) => readFileSync(f, 'utf8').includes(marker))

describe('Nitro code is loaded lazily', () => {
  it('envelope-sdk (ESM and CJS) statically reaches neither cborg nor the CMS parser', () => {
    expect(existsSync(join(dist, 'nitro', 'index.js')), 'build first (npm test does)').toBe(true)
    for (const entry of ['index.js', 'index.cjs']) {
      const files = reachable(join(dist, entry))
      expect(files.size).toBeGreaterThan(2)
      expect(contains(files, CBORG), entry).toEqual([])
      expect(contains(files, CMS), entry).toEqual([])
    }
  })

  it('control: envelope-sdk/nitro does reach cborg, and the recipient path imports the CMS parser dynamically', () => {
    for (const entry of ['nitro/index.js', 'nitro/index.cjs']) expect(contains(reachable(join(dist, entry)), CBORG).length, entry).toBeGreaterThan(0)
    const main = [...reachable(join(dist, 'index.js'))].map((f) => readFileSync(f, 'utf8')).join('\n')
    const dynamic = [...main.matchAll(/import\(\s*["'](\.\/cms-[^"']+)["']\s*\)/g)].map((m) => join(dist, m[1]!))
    expect(dynamic.length).toBeGreaterThan(0)
    expect(readFileSync(dynamic[0]!, 'utf8')).toContain(CMS)
  })

  it('the CJS nitro entry loads and verifies (cborg bundled, no require of an ESM-only package)', () => {
    const code = `const n = require('envelope-sdk/nitro'); const doc = require('node:fs').readFileSync('test/fixtures/nitro/aws-attestation-2022-09-15.cbor')
      n.verifyAttestationDocument(doc, { now: new Date('2022-09-15T17:44:24Z') }).then((d) => console.log(d.moduleId))`
    const result = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('i-0697c9729fa547b20-enc0183422ede9a5dc8')
  })
})
