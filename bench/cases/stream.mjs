// @ts-check
/**
 * Streaming: a 1 GiB encrypt | decrypt pipeline, throughput and peak RSS
 * growth, each run in its own child process (ours and the peer alternate).
 * Cross-validated first in this process with a few MiB: our encrypt stream is
 * read by the peer, the peer's by our decrypt stream, and ours by ours.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { makeSides, ourEntry, ROOT } from '../contenders.mjs'
import { assertSameBytes, formatBytes, median, patterned, round } from '../harness.mjs'

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'stream-child.mjs')
const MIB = 1 << 20

/** @typedef {{ ms: number, bytes: number, rssBefore: number, rssPeak: number }} ChildRun what stream-child.mjs prints */
/**
 * One side's runs: MB/s, the largest and the median peak RSS growth, and each run.
 * @typedef {{ name: 'ours' | 'peer', mbPerSec: number, spread: number, rssGrowthMiB: number, rssGrowthMedianMiB: number, samples: { ms: number, rssGrowthMiB: number }[] }} Result
 */
/** @typedef {{ case: 'stream', suite: number, size: number, frameLength: number, results: [ours: Result, peer: Result] }} Row */

/** @param {AsyncIterable<Uint8Array>} stream */
async function collect(stream) {
  /** @type {Uint8Array[]} */
  const parts = []
  for await (const chunk of stream) parts.push(chunk)
  return Buffer.concat(parts)
}

/**
 * `input` in chunks through `transform` (an encrypt or decrypt stream); returns what comes out.
 * @param {Uint8Array} input
 * @param {import('node:stream').Duplex} transform
 */
async function through(input, transform) {
  /** @type {Uint8Array[]} */
  const parts = []
  await pipeline(Readable.from(chunksOf(input, 100_003)), transform, async function* (/** @type {AsyncIterable<Uint8Array>} */ source) {
    for await (const chunk of source) parts.push(chunk)
  })
  return Buffer.concat(parts)
}

/** @param {Uint8Array} bytes @param {number} size */
function* chunksOf(bytes, size) {
  for (let o = 0; o < bytes.length; o += size) yield Buffer.from(bytes.subarray(o, o + size))
}

/**
 * @param {import('../contenders.mjs').Ours} ours
 * @param {import('../contenders.mjs').Peer} peer
 * @param {number} suiteId
 * @param {number} frameLength
 */
async function validate(ours, peer, suiteId, frameLength) {
  const sides = makeSides(ours, peer, suiteId, frameLength)
  const plaintext = patterned(3 * MIB + 17, 9)
  const o = sides.ours.client
  const p = sides.peer.client
  const opts = sides.options
  const mine = await through(plaintext, o.encryptStream(sides.ours.keyring, opts))
  assertSameBytes(await sides.peer.decrypt(mine), plaintext, 'the peer decrypts our stream')
  assertSameBytes(await through(mine, o.decryptStream(sides.ours.keyring)), plaintext, 'our decrypt stream reads our stream')
  const theirs = await through(plaintext, p.encryptStream(sides.peer.keyring, opts))
  assertSameBytes(await through(theirs, o.decryptStream(sides.ours.keyring)), plaintext, "our decrypt stream reads the peer's stream")
  assertSameBytes(await collect(Readable.from(chunksOf(theirs, 65536)).pipe(p.decryptStream(sides.peer.keyring))), plaintext, 'the peer reads its own stream')
}

/**
 * @param {'ours' | 'peer'} side
 * @param {string} entry our module, or the package.json the peer resolves from
 * @param {number} bytes
 * @param {number} suiteId
 * @param {number} frameLength
 * @returns {ChildRun}
 */
function runChild(side, entry, bytes, suiteId, frameLength) {
  const out = execFileSync(process.execPath, ['--expose-gc', CHILD, side, entry, String(bytes), String(suiteId), String(frameLength)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  return JSON.parse(out.trim().split('\n').at(-1) ?? '')
}

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, src, log, filter }) {
  const bytes = filter.streamBytes ?? 1 << 30
  const suites = filter.suites ?? (quick ? [0x0578] : [0x0578, 0x0478])
  const frameLength = 4096
  const rounds = quick ? 1 : 3
  const entry = await ourEntry({ src })
  /** @type {Row[]} */
  const rows = []
  for (const suiteId of suites) {
    await validate(ours, peer, suiteId, frameLength)
    /** @type {Record<Result['name'], ChildRun[]>} */
    const runs = { ours: [], peer: [] }
    for (let r = 0; r < rounds; r++) {
      for (const side of /** @type {Result['name'][]} */ (r % 2 ? ['peer', 'ours'] : ['ours', 'peer'])) runs[side].push(runChild(side, side === 'ours' ? entry : join(ROOT, 'package.json'), bytes, suiteId, frameLength))
    }
    /** @param {Result['name']} name @returns {Result} */
    const summary = (name) => {
      const list = runs[name]
      const rates = list.map((x) => x.bytes / 1e6 / (x.ms / 1000))
      const growth = list.map((x) => x.rssPeak - x.rssBefore)
      const mb = median(rates)
      return {
        name,
        mbPerSec: round(mb, 3),
        spread: round(rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / mb : 0, 3),
        rssGrowthMiB: round(Math.max(...growth) / MIB, 3),
        rssGrowthMedianMiB: round(median(growth) / MIB, 3),
        samples: list.map((x) => ({ ms: round(x.ms, 4), rssGrowthMiB: round((x.rssPeak - x.rssBefore) / MIB, 3) })),
      }
    }
    const [o, p] = [summary('ours'), summary('peer')]
    rows.push({ case: 'stream', suite: suiteId, size: bytes, frameLength, results: [o, p] })
    log(
      `stream 0x${suiteId.toString(16).padStart(4, '0')} ${formatBytes(bytes)} @ ${formatBytes(frameLength)}: ours ${o.mbPerSec} MB/s (+${o.rssGrowthMiB} MiB RSS), ` +
        `peer ${p.mbPerSec} MB/s (+${p.rssGrowthMiB} MiB RSS)  (${(o.mbPerSec / p.mbPerSec).toFixed(2)}x)`,
    )
  }
  return rows
}
