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
import { loadOurs, loadPeer, ourEntry, ROOT, SUITES } from './contenders.mjs'
import { parseBytes } from './harness.mjs'
import { fleetSvg, goals, markdown, svg } from './report.mjs'

/** @typedef {{ run: (options: import('./harness.mjs').CaseOptions) => Promise<import('./report.mjs').Row[]> }} Case */

/** @type {Record<string, () => Promise<Case>>} */
const CASES = {
  frames: () => import('./cases/frames.mjs'),
  goals: () => import('./cases/goals.mjs'),
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

/** A mistake on the command line: its message on stderr, no stack trace, exit 1. @param {string} message @returns {never} */
function usageError(message) {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(1)
}

/** @param {() => T} parse @template T */
const orUsage = (parse) => {
  try {
    return parse()
  } catch (e) {
    return usageError(/** @type {Error} */ (e).message)
  }
}

const { values } = orUsage(() => parseArgs({
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
}))

if (values.help) {
  process.stdout.write(`usage: node bench/run.mjs [options]
  --case a,b,...     cases to run: ${Object.keys(CASES).join(', ')} (default: all)
  --quick            fewer sizes and rounds (a few minutes)
  --src              measure src/ (bundled on the fly) instead of dist/
  --sizes 1K,16M     message sizes for frames/small/backends (caching: the first up to 1M)
  --frames 4K,64K    frame sizes for frames
  --suites 0x0478    suites (0x0178, 0x0478, 0x0578) for frames/goals/small/stream/backends (caching runs only with 0x0478)
  --stream-bytes 1G  bytes through the stream pipeline (default 1 GiB)
  --rewrap-bytes 1G  plaintext bytes of the file the rewrap case rewraps (default 1 GiB)
  --no-write         print only; leave bench/results/ alone
`)
  process.exit(0)
}

/** @param {string | undefined} text @param {(item: string) => number} parse */
const list = (text, parse) => (text ? text.split(',').map((s) => parse(s.trim())) : undefined)
/** @param {string} text */
const suiteId = (text) => {
  const id = Number(text)
  if (!Object.hasOwn(SUITES, id)) throw new RangeError(`not a suite the bench runs: ${text}; known: ${Object.keys(SUITES).map((k) => `0x${Number(k).toString(16).padStart(4, '0')}`).join(', ')}`)
  return id
}
/** @type {import('./harness.mjs').Filter} */
const filter = orUsage(() => ({
  sizes: list(values.sizes, parseBytes),
  frames: list(values.frames, parseBytes),
  suites: list(values.suites, suiteId),
  streamBytes: values['stream-bytes'] ? parseBytes(values['stream-bytes']) : undefined,
  rewrapBytes: values['rewrap-bytes'] ? parseBytes(values['rewrap-bytes']) : undefined,
}))
const chosen = values.case ? values.case.split(',').map((s) => s.trim()) : Object.keys(CASES)
/** @param {string} name */
const caseNamed = (name) => {
  const load = Object.hasOwn(CASES, name) ? CASES[name] : undefined
  if (!load) return usageError(`unknown case ${name}; known: ${Object.keys(CASES).join(', ')}`)
  return load
}
for (const c of chosen) caseNamed(c)

function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU'
  return { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}` }
}

/** @param {{ cpu: string, cores: number }} m */
function slug(m) {
  return `${m.cpu}-${m.cores}c`.toLowerCase().replace(/\(r\)|\(tm\)|cpu|@.*?(?=-\d+c$)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

const require = createRequire(join(ROOT, 'package.json'))
/** The 1-minute load average (os.loadavg always has three figures). */
const load = () => loadavg()[0] ?? NaN
const started = Date.now()
const [peerDir = ''] = require.resolve('@aws-crypto/client-node').split('build')
const meta = {
  date: new Date().toISOString().slice(0, 10),
  startedAt: new Date().toISOString(),
  machine: machine(),
  node: process.version,
  /** @type {string} */
  peerVersion: JSON.parse(readFileSync(join(peerDir, 'package.json'), 'utf8')).version,
  oursFrom: values.src ? 'src/ (bundled by esbuild)' : relative(ROOT, await ourEntry()),
  gitCommit: gitCommit(),
  quick: values.quick,
  cases: chosen,
  loadStart: load(),
  /** @type {Record<string, number | undefined>} */
  otherLoad: {},
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
 * process's own with its finished child processes (the goals, stream, import
 * and bundle cases run some). Their difference over a case is what other
 * processes used: the noise figure, since load average alone misses bursts
 * within a run. All in seconds (/proc counts in ticks of 1/100 s).
 */
function cpuSnapshot() {
  try {
    const [cpuLine = ''] = readFileSync('/proc/stat', 'utf8').split('\n')
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpuLine.trim().split(/\s+/).slice(1).map(Number)
    // Fields 16 and 17 of /proc/self/stat (cutime, cstime), counted from after the command name.
    const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? []
    const children = (Number(stat[13]) + Number(stat[14])) / 100
    const own = process.cpuUsage()
    return { busy: (user + nice + system + irq + softirq + steal) / 100, self: (own.user + own.system) / 1e6 + (Number.isFinite(children) ? children : 0), at: Date.now() }
  } catch {
    return undefined
  }
}

/** @param {ReturnType<typeof cpuSnapshot>} before @param {ReturnType<typeof cpuSnapshot>} after */
function otherCores(before, after) {
  const wall = before && after ? (after.at - before.at) / 1000 : 0
  // /proc/stat counts in hundredths of a second: a case shorter than half a second (one that ran
  // nothing, say, none of its suites chosen) gives no figure.
  if (!before || !after || wall < 0.5) return undefined
  return Math.max(0, Math.round(((after.busy - before.busy - (after.self - before.self)) / wall) * 100) / 100)
}

const log = (/** @type {string} */ line) => process.stdout.write(line + '\n')
log(`envelope-sdk bench: ${meta.machine.cpu} x${meta.machine.cores}, Node ${meta.node}, load ${meta.loadStart.toFixed(2)}, ours from ${meta.oursFrom}${meta.quick ? ', quick' : ''}`)
const ours = await loadOurs({ src: values.src })
const peer = loadPeer()
/** @type {import('./report.mjs').Row[]} */
const rows = []
for (const name of chosen) {
  log(`\n## ${name}`)
  const mod = await caseNamed(name)()
  const before = cpuSnapshot()
  rows.push(...(await mod.run({ ours, peer, quick: values.quick, src: values.src, log, filter })))
  meta.otherLoad[name] = otherCores(before, cpuSnapshot())
  if (meta.otherLoad[name] !== undefined) log(`(other processes used ${meta.otherLoad[name]} cores on average during ${name})`)
}
const run = { meta: { ...meta, loadEnd: load(), seconds: (Date.now() - started) / 1000 }, goals: goals(rows), rows }
log('\n## goals')
for (const g of run.goals) log(`${g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.measured} (target ${g.target})`)
if (!values['no-write']) {
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${meta.date}-${slug(meta.machine)}${meta.quick ? '-quick' : ''}.json`)
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n')
  writeFileSync(file.replace(/\.json$/, '.md'), markdown(run) + '\n')
  writeFileSync(join(dir, 'latest.md'), markdown(run) + '\n')
  const chart = svg(rows, run.meta)
  if (chart) writeFileSync(join(dir, 'throughput.svg'), chart)
  const fleetChart = fleetSvg(rows, run.meta)
  if (fleetChart) writeFileSync(join(dir, 'hierarchy-fleet.svg'), fleetChart)
  log(`\nwrote ${relative(ROOT, file)} (and .md), bench/results/latest.md${chart ? ', bench/results/throughput.svg' : ''}${fleetChart ? ', bench/results/hierarchy-fleet.svg' : ''}`)
}
