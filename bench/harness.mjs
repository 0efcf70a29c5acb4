// @ts-check
/**
 * Timing primitives shared by every case.
 *
 * Contenders of one comparison run in the same process, in alternating
 * rounds (the order rotates every round), so a burst of load from another
 * process hits all of them rather than one. Each sample repeats the operation
 * until it has run for at least `minTime` ms; the result is the median of the
 * samples, with the spread (max - min) / median as a noise figure. Ratios are
 * taken between medians of the same run only.
 */
import { performance } from 'node:perf_hooks'

/** Bytes per MB in every MB/s figure (decimal, as the reference figures use). */
export const MB = 1e6

/**
 * What bench/run.mjs passes to every case's `run`.
 * @typedef {object} CaseOptions
 * @property {typeof import('../dist/index.js')} ours envelope-sdk from dist/, or src/ bundled (--src): the same exports
 * @property {typeof import('@aws-crypto/client-node')} peer
 * @property {boolean} quick
 * @property {boolean} src
 * @property {(line: string) => void} log
 * @property {Filter} filter
 */
/** @typedef {{ sizes?: number[], frames?: number[], suites?: number[], streamBytes?: number, rewrapBytes?: number }} Filter */
/** @typedef {{ name: string, fn: () => unknown }} Contender */
/** @typedef {ReturnType<typeof summarize>} Summary */

/** @param {number[]} values @returns {number} NaN for no values */
export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  const upper = s[m] ?? NaN
  return s.length % 2 ? upper : ((s[m - 1] ?? NaN) + upper) / 2
}

/**
 * Runs `fn` `count` times, awaiting each call; returns elapsed ms.
 * @param {() => unknown} fn
 * @param {number} count
 */
async function timeRuns(fn, count) {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) await fn()
  return performance.now() - t0
}

/**
 * How many calls make one sample of at least minTime ms (at least 1).
 * @param {() => unknown} fn
 * @param {number} minTime
 */
async function calibrate(fn, minTime) {
  let count = 1
  for (;;) {
    const ms = await timeRuns(fn, count)
    if (ms >= minTime) return count
    if (ms >= minTime / 8) return Math.max(1, Math.ceil((count * minTime) / Math.max(ms, 0.001)))
    count *= 8
  }
}

/**
 * Runs `fn` for at least `ms` milliseconds and at least `calls` times.
 * @param {() => unknown} fn
 * @param {number} ms
 * @param {number} calls
 */
async function warmUp(fn, ms, calls) {
  const t0 = performance.now()
  for (let i = 0; i < calls || performance.now() - t0 < ms; i++) await fn()
}

/**
 * Compares contenders `{ name, fn }` over `rounds` alternating rounds.
 * Each contender first warms up for `warmup` ms (and two calls): the peer
 * needs about a second of small messages before its JIT settles, and a
 * comparison against a cold competitor would flatter us.
 * `bytes` (per call) turns ops/s into MB/s. Returns one entry per contender:
 * `{ name, opsPerSec, mbPerSec, spread, samples }` with opsPerSec the median.
 * @template {readonly Contender[]} const T
 * @param {T} contenders
 * @param {{ rounds?: number, minTime?: number, warmup?: number, warmupCalls?: number, bytes?: number }} [options]
 * @returns {Promise<{ -readonly [K in keyof T]: Summary }>} in the order of `contenders`
 */
export async function compare(contenders, { rounds = 5, minTime = 150, warmup = 1000, warmupCalls = 2, bytes = 0 } = {}) {
  const runs = []
  for (const c of contenders) {
    await warmUp(c.fn, warmup, warmupCalls)
    runs.push({ ...c, count: await calibrate(c.fn, minTime), samples: /** @type {number[]} */ ([]) })
  }
  for (let r = 0; r < rounds; r++) {
    const first = r % runs.length
    for (const run of [...runs.slice(first), ...runs.slice(0, first)]) {
      const ms = await timeRuns(run.fn, run.count)
      run.samples.push((run.count * 1000) / ms)
    }
  }
  return /** @type {{ -readonly [K in keyof T]: Summary }} */ (runs.map((run) => summarize(run.name, run.samples, bytes)))
}

/** @param {string} name @param {number[]} opsSamples @param {number} [bytes] */
export function summarize(name, opsSamples, bytes = 0) {
  const ops = median(opsSamples)
  const spread = opsSamples.length > 1 ? (Math.max(...opsSamples) - Math.min(...opsSamples)) / ops : 0
  return {
    name,
    opsPerSec: round(ops, 3),
    /** The fastest round: closest to the uncontended speed when other processes load the machine. */
    bestOpsPerSec: round(Math.max(...opsSamples), 3),
    mbPerSec: bytes ? round((ops * bytes) / MB, 1) : undefined,
    spread: round(spread, 3),
    samples: opsSamples.map((v) => round(v, 3)),
  }
}

/** @param {number} value @param {number} digits significant digits */
export function round(value, digits) {
  if (!Number.isFinite(value)) return value
  const f = 10 ** Math.max(0, digits - Math.floor(Math.log10(Math.abs(value) || 1)) - 1)
  return Math.round(value * f) / f
}

/**
 * Fails the case (before anything is timed) when two byte arrays differ.
 * @param {Uint8Array | ArrayBuffer | ArrayLike<number>} actual
 * @param {Uint8Array} expected
 * @param {string} what
 */
export function assertSameBytes(actual, expected, what) {
  const a = actual instanceof Uint8Array ? actual : new Uint8Array(actual)
  if (a.length !== expected.length) throw new Error(`cross-validation failed: ${what}: length ${a.length}, expected ${expected.length}`)
  const b = Buffer.from(a.buffer, a.byteOffset, a.length)
  if (b.compare(Buffer.from(expected.buffer, expected.byteOffset, expected.length)) !== 0) {
    throw new Error(`cross-validation failed: ${what}: bytes differ`)
  }
}

/**
 * Deterministic, position-dependent bytes (not all zeros, so nothing can shortcut them).
 * @param {number} length
 */
export function patterned(length, seed = 1) {
  const out = new Uint8Array(length)
  const block = new Uint8Array(Math.min(length, 1 << 16))
  let x = seed >>> 0
  for (let i = 0; i < block.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    block[i] = x >>> 24
  }
  for (let o = 0; o < length; o += block.length) out.set(block.subarray(0, Math.min(block.length, length - o)), o)
  // Make every 64 KiB block differ, so swapped frames could not compare equal.
  for (let o = 0; o < length; o += block.length) out[o] = (o / block.length) & 0xff
  return out
}

/** @param {number} n */
export function formatBytes(n) {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`
  return `${n} B`
}

/**
 * Parses "1K", "16M", "1G", "512" into bytes.
 * @param {unknown} text
 */
export function parseBytes(text) {
  const m = /^(\d+)\s*([KMG]?)(?:i?B)?$/i.exec(String(text).trim())
  if (!m) throw new RangeError(`not a byte size: ${text}`)
  const [, digits, unit = ''] = m
  return Number(digits) * 1024 ** ['', 'K', 'M', 'G'].indexOf(unit.toUpperCase())
}
