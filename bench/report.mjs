// @ts-check
/**
 * Turns a run's rows into the goal table, the Markdown report and the SVG
 * chart (throughput vs frame size: ours / peer / limit). Every ratio compares
 * figures from the same run.
 */
import { formatBytes } from './harness.mjs'

/**
 * A row of any case, told apart by `case` (the rows of bench/results/*.json).
 * @typedef {import('./cases/frames.mjs').Row | import('./cases/small.mjs').Row | import('./cases/signed.mjs').Row
 *   | import('./cases/caching.mjs').Row | import('./cases/backends.mjs').Row | import('./cases/stream.mjs').Row
 *   | import('./cases/chunking.mjs').Row | import('./cases/rewrap.mjs').Row | import('./cases/hierarchy.mjs').Row
 *   | import('./cases/import-time.mjs').Row | import('./cases/bundle-size.mjs').Row | import('./cases/goals.mjs').Row} Row
 */
/**
 * What bench/run.mjs records about a run. `otherLoad`: cores other processes used during each case, when /proc/stat says.
 * @typedef {{ date: string, startedAt: string, machine: { cpu: string, cores: number, memoryGiB: number, platform: string }, node: string, peerVersion: string,
 *   oursFrom: string, gitCommit: string | undefined, quick: boolean, cases: string[], loadStart: number, otherLoad: Record<string, number | undefined>,
 *   loadEnd: number, seconds: number }} Meta
 */
/** @typedef {{ goal: string, target: string, measured: string, met: boolean }} Goal */

const hex = (/** @type {number} */ id) => `0x${id.toString(16).padStart(4, '0')}`
/** @param {number | undefined} v @param {number} [d] fraction digits */
const fmt = (v, d = 0) => (v === undefined || Number.isNaN(v) ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }))
const pct = (/** @type {number} */ v) => `±${Math.round(v * 100)}%`

/**
 * The rows of one case.
 * @template {Row['case']} C
 * @param {readonly Row[]} rows
 * @param {C} name
 * @returns {Extract<Row, { case: C }>[]}
 */
function ofCase(rows, name) {
  return /** @type {Extract<Row, { case: C }>[]} */ (rows.filter((r) => r.case === name))
}

/**
 * The result of contender `name` in a row, if the row has one.
 * @template {{ name: string }} R
 * @param {{ results: readonly R[] }} row
 * @param {string} name
 */
function find(row, name) {
  return row.results.find((r) => r.name === name)
}

/** The ratios of a goals row that bench/README.md#goals reads: the goal, what the format costs, what fresh memory costs, and against the peer. */
export const RATIOS = /** @type {const} */ ([
  ['ours', 'limit 2 threads'],
  ['ours 1 thread', 'limit + output'],
  ['limit + output', 'limit'],
  ['ours', 'peer'],
])

/**
 * `a / b n%` (ops/s), or undefined when the row lacks either.
 * @param {{ results: readonly { name: string, opsPerSec: number }[] }} row
 * @param {string} a
 * @param {string} b
 */
export function ratio(row, a, b) {
  const [x, y] = [find(row, a), find(row, b)]
  return x && y ? `${a} / ${b} ${((x.opsPerSec / y.opsPerSec) * 100).toFixed(0)}%` : undefined
}

/**
 * The result of contender `name`, which every row of its case has.
 * @template {{ name: string }} R
 * @param {{ case: string, results: readonly R[] }} row
 * @param {string} name
 */
function by(row, name) {
  const result = find(row, name)
  if (!result) throw new Error(`report: a ${row.case} row without ${name}`)
  return result
}

/**
 * Each goal of issues 9 and 19 with the figure measured in this run (undefined when its case did not run).
 * @param {readonly Row[]} rows
 */
export function goals(rows) {
  /** @type {Goal[]} */
  const out = []
  const frames = ofCase(rows, 'frames').filter((r) => r.size === 16 << 20 && r.frameLength === 4096)
  // The goals case measures these rows in separate processes (cases/goals.mjs); where it ran, its figures are the ones that count.
  const separate = ofCase(rows, 'goals')
  for (const suite of [0x0178, 0x0478, 0x0578]) {
    for (const op of ['encrypt', 'decrypt']) {
      const row = separate.find((r) => r.suite === suite && r.op === op) ?? frames.find((r) => r.suite === suite && r.op === op)
      if (!row) continue
      const ratio = by(row, 'ours').opsPerSec / by(row, 'peer').opsPerSec
      out.push({ goal: `16 MiB @ 4 KiB one-shot ${op}, ${hex(suite)}: ours / peer`, target: '>= 3x', measured: `${ratio.toFixed(2)}x (${by(row, 'ours').mbPerSec} vs ${by(row, 'peer').mbPerSec} MB/s)`, met: ratio >= 3 })
      if (op === 'encrypt' && find(row, 'limit')) {
        // The limit runs on one thread, so it is compared with ours on one thread where ours can use two.
        const serial = find(row, 'ours 1 thread')
        const mine = serial ?? by(row, 'ours')
        const share = mine.opsPerSec / by(row, 'limit').opsPerSec
        const notes = [
          serial ? `two threads: ${((by(row, 'ours').opsPerSec / by(row, 'limit').opsPerSec) * 100).toFixed(0)}%` : '',
          suite === 0x0578 ? 'the limit has no SHA-384 over the message' : '',
        ].filter(Boolean)
        out.push({
          goal: `16 MiB @ 4 KiB one-shot encrypt, ${hex(suite)}: ours${serial ? ' on one thread' : ''} / limit`,
          target: '>= 80%',
          measured: `${(share * 100).toFixed(0)}% (${mine.mbPerSec} vs limit ${by(row, 'limit').mbPerSec} MB/s)${notes.length ? `; ${notes.join('; ')}` : ''}`,
          met: share >= 0.8,
        })
      }
      // Issue 19: where ours uses two threads, against the same loop split over two (contenders.mjs, makeTwoThreadLimit).
      const two = find(row, 'limit 2 threads')
      if (two) {
        const share = by(row, 'ours').opsPerSec / two.opsPerSec
        out.push({
          goal: `16 MiB @ 4 KiB one-shot ${op}, ${hex(suite)}: ours / limit 2 threads`,
          target: '>= 85%',
          measured: `${(share * 100).toFixed(0)}% (${by(row, 'ours').mbPerSec} vs ${two.mbPerSec} MB/s; one-thread limit ${by(row, 'limit').mbPerSec})`,
          met: share >= 0.85,
        })
      }
    }
  }
  for (const op of ['encrypt', 'decrypt', 'round trip']) {
    const row = ofCase(rows, 'small').find((r) => r.suite === 0x0478 && r.size === 1024 && r.op === op)
    if (!row) continue
    const ratio = by(row, 'ours').opsPerSec / by(row, 'peer').opsPerSec
    out.push({ goal: `1 KiB ${op}, 0x0478 raw AES: ours / peer ops/s`, target: '>= 10x', measured: `${ratio.toFixed(1)}x (${fmt(by(row, 'ours').opsPerSec)} vs ${fmt(by(row, 'peer').opsPerSec)} ops/s)`, met: ratio >= 10 })
  }
  const signed = ofCase(rows, 'signed')
  const one = signed.find((r) => r.op === 'encrypt' && r.concurrency === 1)
  if (one) {
    const ours = 1000 / by(one, 'ours').opsPerSec
    const floor = 1000 / by(one, 'floor').opsPerSec
    out.push({ goal: '0x0578 1 KiB encrypt, one at a time: ours / ECDSA floor (time)', target: '<= 110%', measured: `${((ours / floor) * 100).toFixed(0)}% (${ours.toFixed(2)} vs ${floor.toFixed(2)} ms)`, met: ours / floor <= 1.1 })
  }
  const eight = signed.find((r) => r.op === 'encrypt' && r.concurrency > 1)
  if (eight) {
    const ratio = by(eight, 'ours').opsPerSec / by(eight, 'peer').opsPerSec
    out.push({ goal: `0x0578 1 KiB encrypt, ${eight.concurrency} in flight: ours / peer ops/s`, target: '>= 2x', measured: `${ratio.toFixed(2)}x (${fmt(by(eight, 'ours').opsPerSec)} vs ${fmt(by(eight, 'peer').opsPerSec)} ops/s)`, met: ratio >= 2 })
  }
  for (const row of ofCase(rows, 'stream')) {
    const [o, p] = row.results
    const ratio = o.mbPerSec / p.mbPerSec
    out.push({ goal: `stream ${formatBytes(row.size)} pipeline ${hex(row.suite)}: ours / peer`, target: '>= 3x', measured: `${ratio.toFixed(2)}x (${o.mbPerSec} vs ${p.mbPerSec} MB/s)`, met: ratio >= 3 })
    out.push({ goal: `stream ${formatBytes(row.size)} pipeline ${hex(row.suite)}: ours peak RSS growth`, target: '<= 64 MiB', measured: `${o.rssGrowthMiB} MiB (peer ${p.rssGrowthMiB} MiB)`, met: o.rssGrowthMiB <= 64 })
  }
  const [chunking] = ofCase(rows, 'chunking')
  if (chunking) {
    const [small, large] = chunking.results
    const ms = (/** @type {{ opsPerSec: number }} */ r) => (1000 / r.opsPerSec).toFixed(1)
    out.push({
      goal: `stream decrypt, ${formatBytes(chunking.frameLength)} frames: time in ${small.name} / in ${large.name}`,
      target: '<= 3x',
      measured: `${chunking.ratio.toFixed(2)}x (${ms(small)} vs ${ms(large)} ms)`,
      met: chunking.ratio <= 3,
    })
  }
  for (const op of ['encrypt', 'decrypt']) {
    const row = ofCase(rows, 'hierarchy').find((r) => r.op === op)
    if (!row) continue
    const ratio = by(row, 'ours').opsPerSec / by(row, 'peer').opsPerSec
    out.push({ goal: `hierarchical keyring, warm branch key, 1 KiB ${op}: ours / peer ops/s`, target: '>= 10x', measured: `${ratio.toFixed(1)}x (${fmt(by(row, 'ours').opsPerSec)} vs ${fmt(by(row, 'peer').opsPerSec)} ops/s)`, met: ratio >= 10 })
  }
  const fleetRow = ofCase(rows, 'hierarchy-fleet').find((r) => r.keyring === 'hierarchy')
  if (fleetRow) {
    const k = fleetRow.encrypt.kmsPerProcessTenant
    out.push({ goal: `hierarchical keyring fleet (${fleetRow.processes} x ${fleetRow.tenants} x ${fleetRow.messagesPerTenant}): encrypt KMS calls per process per tenant per TTL`, target: '= 1', measured: `${k} (decrypt adds ${fleetRow.decrypt.kmsPerProcessTenant})`, met: k === 1 })
  }
  const [imp] = ofCase(rows, 'import')
  if (imp) {
    const [o, p] = imp.results
    out.push({ goal: 'cold import of the main entry: ours / peer', target: '<= 15%', measured: `${((o.ms / p.ms) * 100).toFixed(1)}% (${o.ms} vs ${p.ms} ms)`, met: o.ms / p.ms <= 0.15 })
  }
  return out
}

/** @param {{ meta: Meta, rows: readonly Row[] }} run */
export function markdown(run) {
  const { meta, rows } = run
  const lines = []
  lines.push(`# Benchmark results`, '')
  lines.push(`- date: ${meta.date}`)
  lines.push(`- machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB RAM, ${meta.machine.platform}`)
  lines.push(`- Node ${meta.node}, peer @aws-crypto/client-node ${meta.peerVersion}, ours ${meta.oursFrom}`)
  lines.push(`- mode: ${meta.quick ? 'quick' : 'full'}; cases: ${meta.cases.join(', ')}; took ${Math.round(meta.seconds)} s`)
  lines.push(`- load average (1 min) at start ${meta.loadStart.toFixed(2)}, at end ${meta.loadEnd.toFixed(2)}`)
  if (meta.otherLoad && Object.values(meta.otherLoad).some((v) => v !== undefined)) {
    const parts = Object.entries(meta.otherLoad).map(([c, v]) => `${c} ${v ?? '?'}`)
    lines.push(`- CPU used by other processes during each case, in cores (of ${meta.machine.cores}; the bench's own child processes are not counted): ${parts.join(', ')}`)
  }
  lines.push(`- MB = 10^6 bytes; figures are medians of alternating rounds; ± is (max - min) / median over the rounds`, '')

  const g = goals(rows)
  if (g.length) {
    lines.push('## Goals (issues 9 and 19)', '', '| goal | target | measured | met |', '|---|---|---|---|')
    for (const x of g) lines.push(`| ${x.goal} | ${x.target} | ${x.measured} | ${x.met ? 'yes' : '**no**'} |`)
    lines.push('')
  }

  const separate = ofCase(rows, 'goals')
  if (separate.length) {
    lines.push('## Goal rows in separate processes (MB/s; page faults per call: main thread / all threads)', '')
    lines.push('| suite | op | contender | MB/s | ± | CPU ms per call | faults per call |', '|---|---|---|---:|---:|---:|---:|')
    for (const r of separate) {
      for (const x of r.results) {
        const faults = x.mainFaultsPerCall === null || x.faultsPerCall === null ? '-' : `${fmt(x.mainFaultsPerCall)} / ${fmt(x.faultsPerCall)}`
        lines.push(`| ${hex(r.suite)} | ${r.op} | ${x.name} | ${fmt(x.mbPerSec, 1)} | ${pct(x.spread)} | ${fmt(x.cpuMsPerCall, 1)} | ${faults} |`)
      }
    }
    lines.push('')
    // Where the time goes: the format (ours on one thread against the limit writing its output), and memory (that limit against the bare one).
    for (const r of separate) lines.push(`- ${hex(r.suite)} ${r.op}: ${RATIOS.map(([a, b]) => ratio(r, a, b)).filter(Boolean).join('; ')}`)
    lines.push('')
  }

  const frames = ofCase(rows, 'frames')
  if (frames.length) {
    const extra = [...new Set(frames.flatMap((r) => r.results.map((x) => x.name)))].filter((n) => !['ours', 'peer', 'limit'].includes(n))
    lines.push('## One-shot throughput (MB/s)', '')
    lines.push(`| suite | op | message | frame | ours | peer | limit |${extra.map((n) => ` ${n} |`).join('')} ours / peer | ours / limit |`)
    lines.push(`|---|---|---:|---:|---:|---:|---:|${extra.map(() => '---:|').join('')}---:|---:|`)
    for (const r of frames) {
      const o = by(r, 'ours')
      const p = by(r, 'peer')
      const l = by(r, 'limit')
      const cells = [hex(r.suite), r.op, formatBytes(r.size), formatBytes(r.frameLength), `${fmt(o.mbPerSec, 1)} ${pct(o.spread)}`, `${fmt(p.mbPerSec, 1)} ${pct(p.spread)}`, `${fmt(l.mbPerSec, 1)} ${pct(l.spread)}`]
      for (const n of extra) cells.push(fmt(find(r, n)?.mbPerSec, 1))
      cells.push(`${(o.opsPerSec / p.opsPerSec).toFixed(2)}x`, `${((o.opsPerSec / l.opsPerSec) * 100).toFixed(0)}%`)
      lines.push(`| ${cells.join(' | ')} |`)
    }
    lines.push('')
  }

  const small = ofCase(rows, 'small')
  if (small.length) {
    lines.push('## Small messages, one at a time (ops/s)', '', '| suite | op | message | ours | peer | ours / peer |', '|---|---|---:|---:|---:|---:|')
    for (const r of small) {
      const o = by(r, 'ours')
      const p = by(r, 'peer')
      lines.push(`| ${hex(r.suite)} | ${r.op} | ${formatBytes(r.size)} | ${fmt(o.opsPerSec)} ${pct(o.spread)} | ${fmt(p.opsPerSec)} ${pct(p.spread)} | ${(o.opsPerSec / p.opsPerSec).toFixed(1)}x |`)
    }
    lines.push('')
  }

  const signed = ofCase(rows, 'signed')
  if (signed.length) {
    lines.push('## Signed suite 0x0578, 1 KiB messages (ops/s)', '')
    lines.push('Floor: one ECDSA P-384 key pair plus one signature (sync forms one at a time; callback forms, in the thread pool, with 8 in flight).', '')
    lines.push('| op | in flight | ours | peer | floor | ours / peer | ours time / floor time |', '|---|---:|---:|---:|---:|---:|---:|')
    for (const r of signed) {
      const o = by(r, 'ours')
      const p = by(r, 'peer')
      const f = find(r, 'floor')
      lines.push(
        `| ${r.op} | ${r.concurrency} | ${fmt(o.opsPerSec)} ${pct(o.spread)} | ${fmt(p.opsPerSec)} ${pct(p.spread)} | ${f ? `${fmt(f.opsPerSec)} ${pct(f.spread)}` : '-'} | ${(o.opsPerSec / p.opsPerSec).toFixed(2)}x | ${f ? `${((f.opsPerSec / o.opsPerSec) * 100).toFixed(0)}%` : '-'} |`,
      )
    }
    lines.push('')
  }

  const caching = ofCase(rows, 'caching')
  if (caching[0]) {
    lines.push(`## Data-key caching over KMS, ${formatBytes(caching[0].size)} messages, ${hex(caching[0].suite)}, one at a time (ops/s)`, '')
    lines.push(
      'KMS keyring against the local KMS server in the same process (real `@aws-sdk/client-kms` over loopback HTTP). Miss: no cache, one KMS call per message. Hit: ours `CachingCmm`, peer `NodeCachingMaterialsManager`, warm. KMS calls per operation counted at the server.',
      '',
    )
    lines.push('| op | cache | ours | peer | ours / peer | KMS calls / op (ours, peer) |', '|---|---|---:|---:|---:|---|')
    for (const r of caching) {
      const [o, p] = r.results
      lines.push(`| ${r.op} | ${r.cache} | ${fmt(o.opsPerSec)} ${pct(o.spread)} | ${fmt(p.opsPerSec)} ${pct(p.spread)} | ${(o.opsPerSec / p.opsPerSec).toFixed(1)}x | ${o.kmsCallsPerOp}, ${p.kmsCallsPerOp} |`)
    }
    const speedups = ['encrypt', 'decrypt'].flatMap((op) => {
      const miss = caching.find((r) => r.op === op && r.cache === 'miss')
      const hit = caching.find((r) => r.op === op && r.cache === 'hit')
      if (!miss || !hit) return []
      return [`${op} ours ${(by(hit, 'ours').opsPerSec / by(miss, 'ours').opsPerSec).toFixed(1)}x, peer ${(by(hit, 'peer').opsPerSec / by(miss, 'peer').opsPerSec).toFixed(1)}x`]
    })
    if (speedups.length) lines.push('', `Hit / miss: ${speedups.join('; ')}.`)
    lines.push('')
  }

  const hierarchy = ofCase(rows, 'hierarchy')
  if (hierarchy[0]) {
    lines.push(`## Hierarchical keyring, warm branch key cache, ${formatBytes(hierarchy[0].size)} messages, ${hex(hierarchy[0].suite)}, one at a time (ops/s)`, '')
    lines.push('Ours `KmsHierarchicalKeyring` over `BranchKeyStore`, peer `KmsHierarchicalKeyRingNode` over `BranchKeyStoreNode`, same table on the local DynamoDB server and same KMS key on the local KMS server (real `@aws-sdk` clients). No KMS call while timed.', '')
    lines.push('| op | ours | peer | ours / peer |', '|---|---:|---:|---:|')
    for (const r of hierarchy) {
      const o = by(r, 'ours')
      const p = by(r, 'peer')
      lines.push(`| ${r.op} | ${fmt(o.opsPerSec)} ${pct(o.spread)} | ${fmt(p.opsPerSec)} ${pct(p.spread)} | ${(o.opsPerSec / p.opsPerSec).toFixed(1)}x |`)
    }
    lines.push('')
  }

  const fleet = ofCase(rows, 'hierarchy-fleet')
  const [f] = fleet
  if (f) {
    lines.push(`## Fleet: ${f.processes} processes x ${f.tenants} tenants x ${f.messagesPerTenant} messages each (calls counted at the local servers)`, '')
    lines.push(`Each process (a worker thread with its own keyring, caches and clients) encrypts its ${f.tenants * f.messagesPerTenant} messages, then decrypts them. TTL / cache age ${f.ttlSeconds} s, longer than the run. Chart: bench/results/hierarchy-fleet.svg.`, '')
    lines.push('| keyring | messages | encrypt: KMS | DynamoDB | KMS / process / tenant | decrypt: KMS | DynamoDB | KMS / process / tenant |', '|---|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of fleet) {
      lines.push(`| ${KEYRING_NAMES[r.keyring]} | ${r.messages} | ${r.encrypt.kms} | ${r.encrypt.ddb} | ${r.encrypt.kmsPerProcessTenant} | ${r.decrypt.kms} | ${r.decrypt.ddb} | ${r.decrypt.kmsPerProcessTenant} |`)
    }
    lines.push('')
  }

  const backends = ofCase(rows, 'backends')
  if (backends.length) {
    const names = [...new Set(backends.flatMap((r) => r.results.map((x) => x.name)))]
    lines.push('## Our crypto backends on Node (node:crypto, WebCrypto + pure JS, pure JS)', '')
    lines.push('Large messages in MB/s, 1 KiB messages in ops/s. `subtle frames`: crypto.subtle AES-GCM per 4 KiB frame, awaited one by one, no message format (the ceiling of an asynchronous frame loop).', '')
    lines.push(`| suite | op | message | unit |${names.map((n) => ` ${n} |`).join('')} node / noble |`, `|---|---|---:|---|${names.map(() => '---:|').join('')}---:|`)
    for (const r of backends) {
      const big = r.size >= 1 << 20
      const cell = (/** @type {import('./harness.mjs').Summary | undefined} */ x) => (x ? `${big ? fmt(x.mbPerSec, 1) : fmt(x.opsPerSec)} ${pct(x.spread)}` : '-')
      const node = find(r, 'node')
      const noble = find(r, 'noble')
      const message = big ? `${formatBytes(r.size)} @ ${formatBytes(r.frameLength)}` : formatBytes(r.size)
      lines.push(`| ${hex(r.suite)} | ${r.op} | ${message} | ${big ? 'MB/s' : 'ops/s'} |${names.map((n) => ` ${cell(find(r, n))} |`).join('')} ${node && noble ? `${(node.opsPerSec / noble.opsPerSec).toFixed(1)}x` : '-'} |`)
    }
    lines.push('')
  }

  const stream = ofCase(rows, 'stream')
  if (stream.length) {
    lines.push('## Stream pipeline (encrypt | decrypt, child process each)', '')
    lines.push('| suite | bytes | frame | ours MB/s | peer MB/s | ours / peer | ours peak RSS growth | peer peak RSS growth |', '|---|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of stream) {
      const [o, p] = r.results
      lines.push(`| ${hex(r.suite)} | ${formatBytes(r.size)} | ${formatBytes(r.frameLength)} | ${fmt(o.mbPerSec, 1)} ${pct(o.spread)} | ${fmt(p.mbPerSec, 1)} ${pct(p.spread)} | ${(o.mbPerSec / p.mbPerSec).toFixed(2)}x | ${fmt(o.rssGrowthMiB, 1)} MiB | ${fmt(p.rssGrowthMiB, 1)} MiB |`)
    }
    lines.push('')
  }

  const rewrap = ofCase(rows, 'rewrap')
  if (rewrap.length) {
    lines.push('## Rewrap (file to file, raw AES keys)', '')
    lines.push('| suite | plaintext | frame | rewrap MB/s | decrypt + encrypt MB/s | rewrap speed-up |', '|---|---:|---:|---:|---:|---:|')
    for (const r of rewrap) {
      const [w, d] = r.results
      lines.push(`| ${hex(r.suite)} | ${formatBytes(r.size)} | ${formatBytes(r.frameLength)} | ${fmt(w.mbPerSec, 1)} ${pct(w.spread)} | ${fmt(d.mbPerSec, 1)} ${pct(d.spread)} | ${(w.mbPerSec / d.mbPerSec).toFixed(2)}x |`)
    }
    lines.push('')
  }

  const [imp] = ofCase(rows, 'import')
  if (imp) {
    lines.push('## Cold import (fresh process per sample, time of the import() alone)', '', '| entry | median ms | min | max |', '|---|---:|---:|---:|')
    for (const x of imp.results) lines.push(`| ${x.name} (${x.entry}) | ${fmt(x.ms, 1)} | ${fmt(x.min, 1)} | ${fmt(x.max, 1)} |`)
    lines.push('')
  }

  const bundle = ofCase(rows, 'bundle')
  if (bundle.length) {
    lines.push('## Browser bundle, raw AES keyring (esbuild --minify, platform browser)', '', '| program | entry | minified | gzip -9 | browser-ready | still needs |', '|---|---|---:|---:|---|---|')
    for (const r of bundle) {
      const needs = Object.entries(r.needs).map(([m, files]) => `${m} (${files.join(', ')})`).join('; ') || '-'
      lines.push(`| ${r.program} | ${r.entry} | ${fmt(r.minified / 1024, 1)} KiB | ${fmt(r.gzip / 1024, 1)} KiB | ${r.browserReady ? 'yes' : 'no'} | ${needs} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/**
 * Two panels (encrypt, decrypt): MB/s against frame size on a log axis, one
 * line per contender, for the chart's message size and suite.
 * @param {readonly Row[]} rows
 * @param {Meta} meta
 */
export function svg(rows, meta) {
  const frames = ofCase(rows, 'frames')
  if (frames.length === 0) return undefined
  const sizes = [...new Set(frames.map((r) => r.size))]
  const size = sizes.includes(16 << 20) ? 16 << 20 : Math.max(...sizes)
  const suites = [...new Set(frames.filter((r) => r.size === size).map((r) => r.suite))]
  // Not empty: `size` is the size of some frames row.
  const suite = suites.includes(0x0478) ? 0x0478 : /** @type {number} */ (suites[0])
  const pick = frames.filter((r) => r.size === size && r.suite === suite)
  const frameSizes = [...new Set(pick.map((r) => r.frameLength))].sort((a, b) => a - b)
  if (frameSizes.length < 2) return undefined
  const names = ['limit', 'ours', 'ours 1 thread', 'peer']
  /** @type {Record<string, string>} */
  const colors = { ours: '#1f77b4', 'ours 1 thread': '#6baed6', peer: '#d62728', limit: '#7f7f7f' }
  /** @type {Record<string, string>} */
  const dashes = { limit: '5 4', 'ours 1 thread': '2 3' }
  const W = 760
  const H = 360
  const panelW = 330
  const top = 56
  const plotH = 230
  /** Left edge of panel `i` (0 encrypt, 1 decrypt). @param {number} i */
  const left = (i) => 60 + i * (panelW + 40)
  // Log scale on both axes: the limit at 1 MiB frames is several times the 4 KiB figures that matter most.
  const values = pick.flatMap((r) => r.results.filter((x) => names.includes(x.name)).map((x) => x.mbPerSec ?? NaN))
  const lo = Math.floor(Math.log10(Math.min(...values)))
  const hi = Math.ceil(Math.log10(Math.max(...values)))
  /** @type {number[]} */
  const ticks = []
  for (let d = lo; d <= hi; d++) for (const m of [1, 3]) if (d + Math.log10(m) <= hi) ticks.push(m * 10 ** d)
  // frameSizes is sorted: its first and last are the ends of the frame axis.
  const [f0, f1] = [Math.log2(Math.min(...frameSizes)), Math.log2(Math.max(...frameSizes))]
  const x = (/** @type {number} */ i, /** @type {number} */ f) => left(i) + 20 + ((Math.log2(f) - f0) / (f1 - f0)) * (panelW - 40)
  const y = (/** @type {number} */ v) => top + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">One-shot throughput vs frame size: ${formatBytes(size)} message, suite ${hex(suite)}</text>`)
  out.push(`<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(meta.machine.cpu)}, ${meta.machine.cores} cores, Node ${meta.node}, ${meta.date}</text>`)
  ;['encrypt', 'decrypt'].forEach((op, i) => {
    const L = left(i)
    out.push(`<text x="${L + panelW / 2}" y="${top - 4}" text-anchor="middle" font-weight="bold">${op}</text>`)
    for (const v of ticks) {
      out.push(`<line x1="${L}" x2="${L + panelW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`)
      out.push(`<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v}</text>`)
    }
    out.push(`<line x1="${L}" x2="${L}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`)
    for (const f of frameSizes) out.push(`<text x="${x(i, f)}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${formatBytes(f)}</text>`)
    out.push(`<text x="${L + panelW / 2}" y="${top + plotH + 34}" text-anchor="middle" fill="#555">frame size</text>`)
    if (i === 0) out.push(`<text x="16" y="${top + plotH / 2}" text-anchor="middle" fill="#555" transform="rotate(-90 16 ${top + plotH / 2})">MB/s (log scale)</text>`)
    for (const name of names) {
      const pts = frameSizes.flatMap((f) => {
        const result = pick.find((r) => r.op === op && r.frameLength === f)
        const mbPerSec = result && find(result, name)?.mbPerSec
        return mbPerSec === undefined ? [] : [/** @type {const} */ ([x(i, f), y(mbPerSec)])]
      })
      if (!pts.length) continue
      out.push(`<polyline fill="none" stroke="${colors[name]}" stroke-width="2"${dashes[name] ? ` stroke-dasharray="${dashes[name]}"` : ''} points="${pts.map((p) => p.map((n) => n.toFixed(1)).join(',')).join(' ')}"/>`)
      for (const [px, py] of pts) out.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${colors[name]}"/>`)
    }
  })
  // Legend entries side by side, each as wide as its label, centred under both panels.
  const shown = names.filter((name) => pick.some((r) => find(r, name)))
  const label = (/** @type {string} */ name) => (name === 'limit' ? 'limit (bare AES-GCM)' : name)
  const widths = shown.map((name) => 30 + label(name).length * 7 + 24)
  let lx = (W - widths.reduce((a, b) => a + b, 0)) / 2
  shown.forEach((name, k) => {
    if (k > 0) lx += widths[k - 1] ?? 0
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${H - 14}" y2="${H - 14}" stroke="${colors[name]}" stroke-width="2"${dashes[name] ? ` stroke-dasharray="${dashes[name]}"` : ''}/>`)
    out.push(`<text x="${lx + 30}" y="${H - 10}">${label(name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

const KEYRING_NAMES = { kms: 'KMS keyring', caching: 'CachingCmm over a KMS keyring', hierarchy: 'hierarchical keyring' }

/**
 * Bars of KMS calls (encrypt, decrypt) per keyring in the fleet simulation, on a log axis.
 * @param {readonly Row[]} rows
 * @param {Meta} meta
 */
export function fleetSvg(rows, meta) {
  const fleet = ofCase(rows, 'hierarchy-fleet')
  const [f] = fleet
  if (!f) return undefined
  const W = 640
  const H = 320
  const left = 70
  const top = 60
  const plotH = 200
  const groupW = (W - left - 20) / fleet.length
  const max = Math.max(...fleet.flatMap((r) => [r.encrypt.kms, r.decrypt.kms]), 1)
  const hi = Math.ceil(Math.log10(max))
  // log10(count + 1): zero calls draw as no bar.
  const y = (/** @type {number} */ v) => top + plotH - (Math.log10(v + 1) / Math.max(hi, 1)) * plotH
  const colors = { encrypt: '#1f77b4', decrypt: '#ff7f0e' }
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">KMS calls: ${f.processes} processes x ${f.tenants} tenants x ${f.messagesPerTenant} messages (${f.messages} in all)</text>`)
  out.push(`<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(meta.machine.cpu)}, ${meta.machine.cores} cores, Node ${meta.node}, ${meta.date}; counted at the local KMS server</text>`)
  for (let d = 0; d <= hi; d++) {
    out.push(`<line x1="${left}" x2="${W - 20}" y1="${y(10 ** d - 1).toFixed(1)}" y2="${y(10 ** d - 1).toFixed(1)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${left - 6}" y="${(y(10 ** d - 1) + 4).toFixed(1)}" text-anchor="end" fill="#555">${10 ** d - (d === 0 ? 1 : 0)}</text>`)
  }
  out.push(`<text x="16" y="${top + plotH / 2}" text-anchor="middle" fill="#555" transform="rotate(-90 16 ${top + plotH / 2})">KMS calls (log scale)</text>`)
  fleet.forEach((r, i) => {
    const gx = left + i * groupW
    ;/** @type {const} */ (['encrypt', 'decrypt']).forEach((op, k) => {
      const v = r[op].kms
      const bx = gx + groupW * 0.15 + k * groupW * 0.35
      out.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(groupW * 0.33).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${colors[op]}"/>`)
      out.push(`<text x="${(bx + groupW * 0.165).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle">${v}</text>`)
    })
    out.push(`<text x="${(gx + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(KEYRING_NAMES[r.keyring])}</text>`)
  })
  ;/** @type {const} */ (['encrypt', 'decrypt']).forEach((op, k) => {
    const lx = W / 2 - 90 + k * 110
    out.push(`<rect x="${lx}" y="${H - 24}" width="14" height="14" fill="${colors[op]}"/>`)
    out.push(`<text x="${lx + 20}" y="${H - 12}">${op}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** @type {Record<string, string>} */
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }

/** @param {unknown} text */
function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c)
}
