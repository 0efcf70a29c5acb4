/**
 * Every public awses-decrypt manifest in test-vectors/public.tar.gz, through the
 * runner: one-shot and streaming. Counts come from the vector README/PROVENANCE.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { summarize, summaryLine } from '../../src/runner/report.js'
import { PUBLIC_DECRYPT_MANIFESTS, PUBLIC_VECTORS } from '../support/vectors.js'

const pkcs1Reverted = process.execArgv.includes('--security-revert=CVE-2023-46809')

const MANIFESTS = PUBLIC_DECRYPT_MANIFESTS

describe('public decrypt manifests', () => {
  it.each(MANIFESTS)('%s: all %i tests', async (manifest, count) => {
    const results = await runDecryptManifest(join(PUBLIC_VECTORS, manifest))
    const { passed, failed, skipped } = summarize(results)
    // The counts in the CI log, as `envelope vectors decrypt` prints them.
    console.log(`vectors decrypt ${manifest}: ${summaryLine({ passed, failed, skipped })}`)
    const failures = results.filter((r) => r.status === 'failed').slice(0, 5)
    expect(failures).toEqual([])
    expect(failed).toBe(0)
    expect(results).toHaveLength(count)
    // Only RSA PKCS#1 v1.5 tests may skip, and only when node refuses that padding (CVE-2023-46809).
    const skips = results.filter((r) => r.status === 'skipped')
    for (const s of skips) expect(s.reason).toContain('CVE-2023-46809')
    if (pkcs1Reverted) expect(skipped).toBe(0)
    expect(passed + skipped).toBe(count)
  })
})

describe('RSA PKCS#1 v1.5 vectors under --security-revert=CVE-2023-46809', () => {
  it('the legacy and Dafny sets pass with none skipped', () => {
    const script = join(import.meta.dirname, '..', 'support', 'run-manifest-child.mjs')
    for (const [manifest, count] of [MANIFESTS[0], MANIFESTS[1]]) {
      const out = execFileSync(process.execPath, ['--security-revert=CVE-2023-46809', script, join(PUBLIC_VECTORS, manifest)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      expect(out.trim().split('\n').at(-1)).toBe(`${count} passed, 0 failed, 0 skipped`)
    }
  })
})
