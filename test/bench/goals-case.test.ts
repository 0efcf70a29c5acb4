/**
 * bench/cases/goal-child.mjs runs each contender of the goals case in a process of its own: it checks
 * the contender round-trips before timing it, reports time, CPU and page faults per call, and refuses
 * what it does not know. summarizeBatches turns batches into the figures the goal table reads.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
// @ts-expect-error -- a plain-JavaScript bench module (typed by JSDoc, checked by tsconfig.js.json), with no declaration file
import { summarizeBatches } from '../../bench/cases/goals.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const child = join(root, 'bench', 'cases', 'goal-child.mjs')
const entry = join(root, 'dist', 'index.js')

/** Runs one contender on a 64 KiB message at 4 KiB frames, 2 timed calls after 1 warm-up call. */
function runChild(contender: string, op: string, suite = '0x0478'): SpawnSyncReturns<string> {
  const where = contender === 'peer' ? join(root, 'package.json') : entry
  return spawnSync(process.execPath, [child, contender, op, where, suite, String(64 << 10), '4096', '2', '1'], { cwd: root, encoding: 'utf8' })
}

describe('goal-child.mjs', () => {
  const contenders = ['ours', 'ours 1 thread', 'peer', 'limit', 'limit + output', 'limit 2 threads']
  it.each(contenders.flatMap((c) => [[c, 'encrypt'], [c, 'decrypt']]))('%s %s: one JSON line of per-call figures', (contender, op) => {
    const result = runChild(contender, op)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const figures = JSON.parse(result.stdout.trim())
    expect(Object.keys(figures).sort()).toEqual(['cpuMsPerCall', 'faultsPerCall', 'mainFaultsPerCall', 'msPerCall'])
    expect(figures.msPerCall).toBeGreaterThan(0)
    expect(figures.cpuMsPerCall).toBeGreaterThan(0)
    if (process.platform === 'linux') {
      // The process's faults include the main thread's.
      expect(figures.faultsPerCall).toBeGreaterThanOrEqual(figures.mainFaultsPerCall)
    } else {
      expect(figures.faultsPerCall).toBeNull()
    }
  })

  /** Refused with one line saying why, the usage line, no stack trace, exit 2, nothing timed. */
  function expectRefused(result: SpawnSyncReturns<string>, message: string) {
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(`goal-child.mjs: ${message}`)
    expect(result.stderr).toContain('usage: goal-child.mjs')
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(result.stdout).toBe('')
  }

  it('refuses a contender it does not know, by name, before timing anything', () => {
    expectRefused(runChild('nobody', 'encrypt'), 'unknown contender nobody; known: ours, ours 1 thread, peer, limit, limit + output, limit 2 threads')
  })

  it('refuses an operation other than encrypt or decrypt', () => {
    expectRefused(runChild('ours', 'rewrap'), 'the operation is encrypt or decrypt, not rewrap')
  })

  it('refuses a suite it does not run', () => {
    expectRefused(runChild('ours', 'encrypt', '0x9999'), 'unknown suite 0x9999; known: 0x0178, 0x0478, 0x0578')
  })

  it.each([
    // A frame length of 0 or less used to hang the limit's set-up (its frame loop never advanced).
    [['4096', '0', '2', '1'], 'the frame length must be a whole number of at least 1, not 0'],
    [['4096', '-5', '2', '1'], 'the frame length must be a whole number of at least 1, not -5'],
    // Number('1M') is NaN: it used to time an empty message.
    [['1M', '4096', '2', '1'], 'the size must be a whole number of at least 1, not 1M'],
    [['4096', '4096', 'abc', '1'], 'the number of calls must be a whole number of at least 1, not abc'],
    [['4096', '4096', '2'], 'the number of warm-up calls must be a whole number of at least 0, not nothing'],
  ])('refuses numbers that are not whole and in range: %j', (numbers, message) => {
    const result = spawnSync(process.execPath, [child, 'limit', 'encrypt', entry, '0x0478', ...numbers], { cwd: root, encoding: 'utf8', timeout: 20_000 })
    expectRefused(result, message)
  })

  it('refuses missing arguments', () => {
    const result = spawnSync(process.execPath, [child], { cwd: root, encoding: 'utf8' })
    expectRefused(result, 'missing arguments')
  })

  it('fails before timing when a contender does not round-trip', () => {
    // A module whose decrypt returns other bytes: the child's own check must catch it.
    const dir = mkdtempSync(join(tmpdir(), 'goal-child-'))
    const broken = join(dir, 'broken-ours.mjs')
    writeFileSync(
      broken,
      [
        `export * from ${JSON.stringify(entry)}`,
        `import { createClient as real } from ${JSON.stringify(entry)}`,
        'export function createClient(options) {',
        '  const client = real(options)',
        '  return { encrypt: (...args) => client.encrypt(...args), decrypt: async () => ({ plaintext: new Uint8Array(1) }) }',
        '}',
      ].join('\n'),
    )
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const result = spawnSync(process.execPath, [child, 'ours', 'encrypt', broken, '0x0478', String(64 << 10), '4096', '2', '1'], { cwd: root, encoding: 'utf8' })
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('cross-validation failed: ours round-trips')
    expect(result.stdout).toBe('')
  })
})

describe('summarizeBatches', () => {
  const batch = (msPerCall: number, mainFaultsPerCall: number | null = 10, faultsPerCall: number | null = 20) => ({ msPerCall, cpuMsPerCall: msPerCall * 1.5, mainFaultsPerCall, faultsPerCall })

  it('takes the median batch, the fastest, and the spread of the batches', () => {
    // 16 MiB per call: the median, 50 ms per call, is 20 calls per second, 335.54432 MB/s (4 significant digits).
    const result = summarizeBatches('ours', [batch(50), batch(40), batch(80)])
    expect(result.opsPerSec).toBe(20)
    expect(result.mbPerSec).toBe(335.5)
    expect(result.bestOpsPerSec).toBe(25)
    // (25 - 12.5) / 20
    expect(result.spread).toBeCloseTo(0.625, 3)
    expect(result.samples).toEqual([20, 25, 12.5])
    expect(result.cpuMsPerCall).toBe(75)
  })

  it('gives page faults only when every batch had them', () => {
    expect(summarizeBatches('limit', [batch(10, 1, 3), batch(10, 5, 7), batch(10, 9, 11)])).toMatchObject({ mainFaultsPerCall: 5, faultsPerCall: 7 })
    expect(summarizeBatches('limit', [batch(10, null, null), batch(10, 5, 7)])).toMatchObject({ mainFaultsPerCall: null, faultsPerCall: null })
  })
})
