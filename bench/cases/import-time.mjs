// @ts-check
/**
 * Cold import: each sample is a fresh `node` process that times one dynamic
 * import() of the entry (performance.now() around it, so Node's own start-up
 * is left out). Ours and the peer alternate; the median of N is reported.
 * The OS file cache is warm for both after the first sample.
 */
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ourEntry, ROOT } from '../contenders.mjs'
import { median, round } from '../harness.mjs'

/** @param {string} url */
function timeImport(url) {
  const script = `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t))`
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }))
}

/** @typedef {{ name: string, entry: string, ms: number, min: number, max: number, samples: number[] }} Entry one entry's import times, ms */
/** @typedef {{ case: 'import', results: [Entry, Entry] }} Row ours, then the peer */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ quick, src, log }) {
  const require = createRequire(join(ROOT, 'package.json'))
  const ours = { name: 'ours', path: await ourEntry({ src }), samples: /** @type {number[]} */ ([]) }
  const peer = { name: 'peer', path: require.resolve('@aws-crypto/client-node'), samples: /** @type {number[]} */ ([]) }
  const n = quick ? 7 : 21
  for (let i = 0; i < n; i++) {
    for (const e of i % 2 ? [peer, ours] : [ours, peer]) e.samples.push(timeImport(pathToFileURL(e.path).href))
  }
  /** @param {typeof ours} e */
  const summary = (e) => {
    const s = e.samples
    const ms = median(s)
    return { name: e.name, entry: relative(ROOT, e.path), ms: round(ms, 3), min: round(Math.min(...s), 3), max: round(Math.max(...s), 3), samples: s.map((v) => round(v, 3)) }
  }
  const [o, p] = [summary(ours), summary(peer)]
  /** @type {Row} */
  const row = { case: 'import', results: [o, p] }
  log(`cold import: ours ${o.ms} ms (${o.entry}), peer ${p.ms} ms; ours is ${((o.ms / p.ms) * 100).toFixed(1)}% of the peer (median of ${n})`)
  return [row]
}
