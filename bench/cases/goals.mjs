// @ts-check
/**
 * The 16 MiB @ 4 KiB goal rows (issues 9 and 19), measured so that no
 * contender pays for another's garbage: each runs in a fresh process of its own (goal-child.mjs),
 * `calls` calls back to back per process, and the processes of all contenders
 * alternate, several batches each. The figure is the median batch's mean time
 * per call. The frames case times everything in one process in short rounds
 * of one or two calls; on a 2-core VM its 16 MiB rows spread by 50-100 %,
 * because one contender's garbage (and the allocator's state it leaves) is
 * collected in another's round. Here the batches of one contender agree
 * within 5-50 % in quick mode (3 batches of 10 calls; full: 5 of 20).
 *
 * Each result also carries the page faults per call of the main thread and of
 * all its threads. Every one-shot API that returns bytes writes a fresh
 * buffer the size of the message; the limit writes none. `limit + output` is
 * the limit writing its frames into such a buffer, so that
 * `ours 1 thread / limit + output` shows what the message format costs, apart
 * from what memory costs on this machine (bench/README.md#goals).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ourEntry, ROOT } from '../contenders.mjs'
import { formatBytes, median, round } from '../harness.mjs'
import { RATIOS, ratio } from '../report.mjs'

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'goal-child.mjs')

/** Every contender, as named in the goal table and on goal-child.mjs's command line. */
export const CONTENDERS = /** @type {const} */ (['ours', 'ours 1 thread', 'peer', 'limit', 'limit + output', 'limit 2 threads'])
/** @typedef {typeof CONTENDERS[number]} Contender */
/** @typedef {{ msPerCall: number, cpuMsPerCall: number, mainFaultsPerCall: number | null, faultsPerCall: number | null }} ChildRun what goal-child.mjs prints */
/**
 * One contender: the median batch as ops/s and MB/s, the fastest batch, the spread of the batches
 * ((max - min) / median), each batch's ops/s, the median page faults per call (null off Linux), and each batch as measured.
 * @typedef {{ name: Contender, opsPerSec: number, bestOpsPerSec: number, mbPerSec: number, spread: number, samples: number[], cpuMsPerCall: number,
 *   mainFaultsPerCall: number | null, faultsPerCall: number | null, batches: ChildRun[] }} Result
 */
/** @typedef {{ case: 'goals', op: 'encrypt' | 'decrypt', suite: number, size: number, frameLength: number, results: Result[] }} Row */

const SIZE = 16 << 20
const FRAME = 4096

/**
 * Who runs in each goal row: unsigned suites against both limits (ours may use two threads),
 * the signed suite against the peer (the limit has no SHA-384 or ECDSA).
 * @param {number} suite
 * @returns {Contender[]}
 */
function contendersOf(suite) {
  return suite === 0x0578 ? ['ours', 'peer'] : [...CONTENDERS]
}

/**
 * @param {Contender} contender
 * @param {'encrypt' | 'decrypt'} op
 * @param {string} entry
 * @param {number} suite
 * @param {number} calls
 * @returns {ChildRun}
 */
function runChild(contender, op, entry, suite, calls) {
  // The peer resolves its package from ours; ours loads the module it is given.
  const where = contender === 'peer' ? join(ROOT, 'package.json') : entry
  // The peer takes about ten times as long per call: fewer calls give it batches of a similar length.
  const n = contender === 'peer' ? Math.max(3, Math.ceil(calls / 5)) : calls
  const out = execFileSync(process.execPath, [CHILD, contender, op, where, String(suite), String(SIZE), String(FRAME), String(n), String(Math.min(n, 5))], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  return JSON.parse(out.trim().split('\n').at(-1) ?? '')
}

/**
 * @param {Contender} name
 * @param {ChildRun[]} runs
 * @returns {Result}
 */
export function summarizeBatches(name, runs) {
  const ms = median(runs.map((r) => r.msPerCall))
  const rates = runs.map((r) => 1000 / r.msPerCall)
  const ops = 1000 / ms
  const faults = (/** @type {(r: ChildRun) => number | null} */ pick) => {
    const values = runs.map(pick).filter((v) => v !== null)
    return values.length === runs.length ? round(median(values), 3) : null
  }
  return {
    name,
    opsPerSec: round(ops, 4),
    bestOpsPerSec: round(Math.max(...rates), 4),
    mbPerSec: round((ops * SIZE) / 1e6, 4),
    spread: round(rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / ops : 0, 3),
    samples: rates.map((v) => round(v, 4)),
    cpuMsPerCall: round(median(runs.map((r) => r.cpuMsPerCall)), 3),
    mainFaultsPerCall: faults((r) => r.mainFaultsPerCall),
    faultsPerCall: faults((r) => r.faultsPerCall),
    batches: runs,
  }
}

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ quick, src, log, filter }) {
  const suites = (filter.suites ?? [0x0178, 0x0478, 0x0578]).filter((s) => s === 0x0178 || s === 0x0478 || s === 0x0578)
  const batches = quick ? 3 : 5
  const calls = quick ? 10 : 20
  const entry = await ourEntry({ src })
  /** @type {Row[]} */
  const rows = []
  for (const suite of suites) {
    for (const op of /** @type {const} */ (['encrypt', 'decrypt'])) {
      const names = contendersOf(suite)
      /** @type {Map<Contender, ChildRun[]>} */
      const runs = new Map(names.map((n) => [n, []]))
      for (let b = 0; b < batches; b++) {
        // A different contender goes first in each batch, so slow minutes of the machine fall on all of them.
        const order = [...names.slice(b % names.length), ...names.slice(0, b % names.length)]
        for (const name of order) runs.get(name)?.push(runChild(name, op, entry, suite, calls))
      }
      const results = names.map((name) => summarizeBatches(name, runs.get(name) ?? []))
      const row = /** @type {Row} */ ({ case: 'goals', op, suite, size: SIZE, frameLength: FRAME, results })
      rows.push(row)
      log(describe(row))
    }
  }
  return rows
}

/** @param {Row} row */
export function describe(row) {
  const faults = (/** @type {Result} */ r) => (r.mainFaultsPerCall === null || r.faultsPerCall === null ? '' : ` (faults/call ${Math.round(r.mainFaultsPerCall)} main / ${Math.round(r.faultsPerCall)} all)`)
  const parts = row.results.map((r) => `${r.name} ${r.mbPerSec} MB/s ±${Math.round(r.spread * 100)}%${faults(r)}`)
  const ratios = RATIOS.map(([a, b]) => ratio(row, a, b)).filter(Boolean)
  return `goals 0x${row.suite.toString(16).padStart(4, '0')} ${row.op.padEnd(7)} ${formatBytes(row.size)} @ ${formatBytes(row.frameLength)}, separate processes: ${parts.join(', ')}\n  ${ratios.join('; ')}`
}
