/**
 * The fast tier on the newest LTS (issue 18): `npm test` runs the whole suite on the host's Node (20 in
 * CI), and this one test runs the fast project again under Node 24 from the runtime cache
 * (test/runtimes/setup.mjs), as `npm run test:node24` does. Linux-x64 only, like the rest of the
 * runtime matrix; elsewhere it is skipped with the reason.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
// @ts-expect-error: plain JavaScript shared with the runtimes, no declarations
import { ensureRuntimes, unsupportedReason } from './setup.mjs'

const root = join(import.meta.dirname, '..', '..')
const reason: string | undefined = unsupportedReason()
if (reason) console.warn(`test/runtimes/node24-fast.test.ts skipped: ${reason}`)

/** Stops a hung run, nothing more: the fast tier takes about a minute on two idle cores. */
const HANG_GUARD_MS = 1_800_000

interface JsonReport {
  success: boolean
  numTotalTests: number
  numPassedTests: number
  numPendingTests: number
  numFailedTests: number
  numFailedTestSuites: number
  testResults: { name: string; status: string; message: string; assertionResults: { fullName: string; status: string }[] }[]
}

describe.skipIf(reason)('Node 24', () => {
  it('runs the fast tier green', async () => {
    const { node24 } = ensureRuntimes() as { node24: string }
    const dir = mkdtempSync(join(tmpdir(), 'envelope-node24-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const out = join(dir, 'report.json')
    // This worker's own vitest variables (and the conformance tier's mutation setting) would mislead the child run.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'ENVELOPE_MUTATIONS'))
    const args = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'fast', '--project', 'fast-isolated', '--reporter=dot', '--reporter=json', `--outputFile.json=${out}`]
    const child = spawn(node24, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    if (!existsSync(out)) throw new Error(`Node 24's vitest exited ${code} without a report\n${output.slice(-4000)}`)
    const report = JSON.parse(readFileSync(out, 'utf8')) as JsonReport
    const failed = report.testResults.flatMap((file) =>
      file.status === 'failed' && file.assertionResults.every((a) => a.status !== 'failed')
        ? [`${file.name}: ${file.message}`]
        : file.assertionResults.filter((a) => a.status === 'failed').map((a) => `${file.name}: ${a.fullName}`),
    )
    expect(failed, output.slice(-4000)).toEqual([])
    expect(code).toBe(0)
    expect(report.success).toBe(true)
    expect(report.numFailedTestSuites).toBe(0)
    expect(report.numPassedTests + report.numPendingTests).toBe(report.numTotalTests)
    expect(report.numPassedTests).toBeGreaterThan(0)
  }, HANG_GUARD_MS)
})
