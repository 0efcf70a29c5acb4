#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench` entry. Runs the chosen cases, prints each figure as it is
 * measured, and writes bench/results/<date>-<machine>.json, latest.md and
 * throughput.svg. See bench/README.md for the options and what they mean.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { loadOurs, loadPeer, ourEntry, ROOT } from './contenders.mjs'
import { parseBytes } from './harness.mjs'
import { fleetSvg, goals, markdown, svg } from './report.mjs'

const CASES = {
  frames: () => import('./cases/frames.mjs'),
  small: () => import('./cases/small.mjs'),
  signed: () => import('./cases/signed.mjs'),
  caching: () => import('./cases/caching.mjs'),
  backends: () => import('./cases/backends.mjs'),
  stream: () => import('./cases/stream.mjs'),
  chunking: () => import('./cases/chunking.mjs'),
  rewrap: () => import('./cases/rewrap.mjs'),
  hierarchy: () => import('./cases/hierarchy.mjs'),
  import: () => import('./cases/import-time.mjs'),
  bundle: () => import('./cases/bundle-size.mjs'),
}

const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    quick: { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    frames: { type: 'string' },
    suites: { type: 'string' },
    'stream-bytes': { type: 'string' },
    'rewrap-bytes': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help) {
  process.stdout.write(`usage: node bench/run.mjs [options]
  --case a,b,...     cases to run: ${Object.keys(CASES).join(', ')} (default: all)
  --quick            fewer sizes and rounds (a few minutes)
  --src              measure src/ (bundled on the fly) instead of dist/
  --sizes 1K,16M     message sizes for frames/small/backends (caching: the first up to 1M)
  --frames 4K,64K    frame sizes for frames
  --suites 0x0478    suites for frames/small/stream/backends (caching runs only with 0x0478)
  --stream-bytes 1G  bytes through the stream pipeline (default 1 GiB)
  --rewrap-bytes 1G  plaintext bytes of the file the rewrap case rewraps (default 1 GiB)
  --no-write         print only; leave bench/results/ alone
`)
  process.exit(0)
}

const list = (text, parse) => (text ? text.split(',').map((s) => parse(s.trim())) : undefined)
const filter = {
  sizes: list(values.sizes, parseBytes),
  frames: list(values.frames, parseBytes),
  suites: list(values.suites, (s) => Number(s)),
  streamBytes: values['stream-bytes'] ? parseBytes(values['stream-bytes']) : undefined,
  rewrapBytes: values['rewrap-bytes'] ? parseBytes(values['rewrap-bytes']) : undefined,
}
const chosen = values.case ? values.case.split(',').map((s) => s.trim()) : Object.keys(CASES)
for (const c of chosen) if (!CASES[c]) throw new Error(`unknown case ${c}; known: ${Object.keys(CASES).join(', ')}`)

function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU'
  return { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}` }
}

function slug(m) {
  return `${m.cpu}-${m.cores}c`.toLowerCase().replace(/\(r\)|\(tm\)|cpu|@.*?(?=-\d+c$)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

const require = createRequire(join(ROOT, 'package.json'))
const started = Date.now()
const meta = {
  date: new Date().toISOString().slice(0, 10),
  startedAt: new Date().toISOString(),
  machine: machine(),
  node: process.version,
  peerVersion: JSON.parse(readFileSync(join(require.resolve('@aws-crypto/client-node').split('build')[0], 'package.json'), 'utf8')).version,
  oursFrom: values.src ? 'src/ (bundled by esbuild)' : relative(ROOT, await ourEntry()),
  gitCommit: gitCommit(),
  quick: values.quick,
  cases: chosen,
  loadStart: loadavg()[0],
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head} + uncommitted src/ changes` : head
  } catch {
    return undefined
  }
}

/**
 * CPU time the whole machine spent busy, from /proc/stat (Linux), and this
 * process's own. Their difference over a case is what other processes used:
 * the noise figure, since load average alone misses bursts within a run.
 * (Child processes of the stream and import cases count as "other".)
 */
function cpuSnapshot() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const [user, nice, system, , , irq, softirq, steal] = fields
    return { busy: (user + nice + system + irq + softirq + steal) / 100, self: process.cpuUsage(), at: Date.now() }
  } catch {
    return undefined
  }
}

function otherCores(before, after) {
  if (!before || !after) return undefined
  const self = (after.self.user + after.self.system - before.self.user - before.self.system) / 1e6
  const wall = (after.at - before.at) / 1000
  return Math.max(0, Math.round(((after.busy - before.busy - self) / wall) * 100) / 100)
}

const log = (line) => process.stdout.write(line + '\n')
log(`envelope-sdk bench: ${meta.machine.cpu} x${meta.machine.cores}, Node ${meta.node}, load ${meta.loadStart.toFixed(2)}, ours from ${meta.oursFrom}${meta.quick ? ', quick' : ''}`)
const ours = await loadOurs({ src: values.src })
const peer = loadPeer()
const rows = []
meta.otherLoad = {}
for (const name of chosen) {
  log(`\n## ${name}`)
  const mod = await CASES[name]()
  const before = cpuSnapshot()
  rows.push(...(await mod.run({ ours, peer, quick: values.quick, src: values.src, log, filter })))
  meta.otherLoad[name] = otherCores(before, cpuSnapshot())
  if (meta.otherLoad[name] !== undefined) log(`(other processes used ${meta.otherLoad[name]} cores on average during ${name})`)
}
meta.loadEnd = loadavg()[0]
meta.seconds = (Date.now() - started) / 1000

const run = { meta, goals: goals(rows), rows }
log('\n## goals')
for (const g of run.goals) log(`${g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.measured} (target ${g.target})`)
if (!values['no-write']) {
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${meta.date}-${slug(meta.machine)}${meta.quick ? '-quick' : ''}.json`)
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n')
  writeFileSync(file.replace(/\.json$/, '.md'), markdown(run) + '\n')
  writeFileSync(join(dir, 'latest.md'), markdown(run) + '\n')
  const chart = svg(rows, meta)
  if (chart) writeFileSync(join(dir, 'throughput.svg'), chart)
  const fleetChart = fleetSvg(rows, meta)
  if (fleetChart) writeFileSync(join(dir, 'hierarchy-fleet.svg'), fleetChart)
  log(`\nwrote ${relative(ROOT, file)} (and .md), bench/results/latest.md${chart ? ', bench/results/throughput.svg' : ''}${fleetChart ? ', bench/results/hierarchy-fleet.svg' : ''}`)
}
