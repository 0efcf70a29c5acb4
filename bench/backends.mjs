#!/usr/bin/env node
/**
 * The crypto backends side by side on Node (spec/backends.md#performance):
 * node:crypto, WebCrypto (crypto.subtle with pure JS for what it lacks) and
 * pure JS (@noble/*). Reports one-shot encrypt and decrypt throughput of a
 * 16 MiB message in 4 KiB frames, and small-message operations per second,
 * as JSON on stdout. Standalone: `node bench/backends.mjs [--quick] [--src]`.
 *
 * Before any timing, each backend's output is decrypted by node:crypto and
 * node:crypto's output by each backend, and compared with the plaintext.
 *
 * One more row, `subtle-aes-gcm-frames`, seals the same 4 KiB frames with
 * crypto.subtle directly, one awaited call per frame and no message format:
 * what an asynchronous frame loop could reach at best
 * (spec/backends.md#why-symmetric-stays-synchronous).
 *
 * --src bundles src/ with esbuild instead of loading dist/ (no rebuild needed).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = new Set(process.argv.slice(2))
const QUICK = args.has('--quick')
const MiB = 1024 * 1024
const MB = 1e6

/** The package's Node entry and its crypto subpath, from dist/ or bundled from src/. */
async function load() {
  if (!args.has('--src')) {
    const main = join(ROOT, 'dist', 'index.js')
    const crypto = join(ROOT, 'dist', 'crypto', 'index.js')
    if (!existsSync(main) || !existsSync(crypto)) throw new Error('dist/ is missing or old: build first (npx tsup) or pass --src')
    return { ...(await import(pathToFileURL(main).href)), ...(await import(pathToFileURL(crypto).href)) }
  }
  const { build } = await import('esbuild')
  const dir = join(ROOT, 'bench', 'results', 'tmp')
  mkdirSync(dir, { recursive: true })
  const entry = join(dir, 'backends-entry.mjs')
  writeFileSync(entry, `export * from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}\nexport * from ${JSON.stringify(join(ROOT, 'src', 'entry', 'crypto.ts'))}\n`)
  const outfile = join(dir, 'backends-src.mjs')
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, external: ['@aws-sdk/*'], logLevel: 'error' })
  return import(pathToFileURL(outfile).href)
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median ms per call over `samples` samples, each at least `minMs` long; plus the spread as a noise figure. */
async function measure(fn, { samples, minMs }) {
  await fn()
  let count = 1
  for (;;) {
    const t0 = performance.now()
    for (let i = 0; i < count; i++) await fn()
    const ms = performance.now() - t0
    if (ms >= minMs / 4) {
      count = Math.max(1, Math.ceil((count * minMs) / ms))
      break
    }
    count *= 4
  }
  const perCall = []
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now()
    for (let i = 0; i < count; i++) await fn()
    perCall.push((performance.now() - t0) / count)
  }
  const m = median(perCall)
  return { ms: m, spread: (Math.max(...perCall) - Math.min(...perCall)) / m, samples, callsPerSample: count }
}

function patterned(length) {
  const out = new Uint8Array(length)
  let x = 7
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

function equal(a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const sdk = await load()
const backends = [
  ['node', sdk.nodeBackend],
  ['webcrypto', sdk.createWebCryptoBackend()],
  ['noble', sdk.nobleBackend],
]
const keyring = new sdk.RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-256', wrappingKey: new Uint8Array(32).fill(42) })
const encryptionContext = { purpose: 'bench' }
const big = patterned(16 * MiB)
const small = patterned(1024)
const bigTiming = QUICK ? { samples: 3, minMs: 200 } : { samples: 7, minMs: 1000 }
const smallTiming = QUICK ? { samples: 3, minMs: 150 } : { samples: 9, minMs: 500 }
const clientFor = (crypto) => sdk.createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT', crypto })
const reference = clientFor(sdk.nodeBackend)

/** Each backend's message decrypts under node:crypto and node:crypto's under it, to the same plaintext. */
async function crossValidate(client, plaintext, suiteId, frameLength) {
  const ours = await client.encrypt(keyring, plaintext, { suiteId, frameLength, encryptionContext })
  if (!equal((await reference.decrypt(keyring, ours.ciphertext)).plaintext, plaintext)) throw new Error('node:crypto read a different plaintext')
  const theirs = await reference.encrypt(keyring, plaintext, { suiteId, frameLength, encryptionContext })
  if (!equal((await client.decrypt(keyring, theirs.ciphertext)).plaintext, plaintext)) throw new Error('the backend read a different plaintext')
  return theirs.ciphertext
}

const results = []
for (const [name, crypto] of backends) {
  const client = clientFor(crypto)
  // Throughput: committing unsigned suite, so the frames are what is measured.
  const message = await crossValidate(client, big, 0x0478, 4096)
  const enc = await measure(() => client.encrypt(keyring, big, { suiteId: 0x0478, frameLength: 4096, encryptionContext }), bigTiming)
  const dec = await measure(() => client.decrypt(keyring, message), bigTiming)
  results.push({ case: 'one-shot-16MiB-4KiB-frames', suite: '0x0478', backend: name, op: 'encrypt', MBps: big.length / MB / (enc.ms / 1000), ...enc })
  results.push({ case: 'one-shot-16MiB-4KiB-frames', suite: '0x0478', backend: name, op: 'decrypt', MBps: big.length / MB / (dec.ms / 1000), ...dec })
  for (const suiteId of [0x0478, 0x0578]) {
    const one = await crossValidate(client, small, suiteId, 4096)
    const e = await measure(() => client.encrypt(keyring, small, { suiteId, encryptionContext }), smallTiming)
    const d = await measure(() => client.decrypt(keyring, one), smallTiming)
    const suite = `0x0${suiteId.toString(16)}`
    results.push({ case: 'small-1KiB', suite, backend: name, op: 'encrypt', opsPerSecond: 1000 / e.ms, ...e })
    results.push({ case: 'small-1KiB', suite, backend: name, op: 'decrypt', opsPerSecond: 1000 / d.ms, ...d })
  }
  process.stderr.write(`${name} done\n`)
}

// The asynchronous ceiling: crypto.subtle AES-GCM per 4 KiB frame, awaited one by one (no header, no keyring, no copies).
{
  const subtle = globalThis.crypto.subtle
  const key = await subtle.importKey('raw', new Uint8Array(32).fill(1), 'AES-GCM', false, ['encrypt'])
  const iv = new Uint8Array(12)
  const aad = new Uint8Array(32)
  const frames = big.length / 4096
  const run = async () => {
    for (let i = 0; i < frames; i++) {
      new DataView(iv.buffer).setUint32(8, i + 1)
      await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, big.subarray(i * 4096, (i + 1) * 4096))
    }
  }
  const t = await measure(run, bigTiming)
  results.push({ case: 'subtle-aes-gcm-frames', suite: 'none', backend: 'crypto.subtle', op: 'encrypt', MBps: big.length / MB / (t.ms / 1000), ...t })
}

const round = (v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v)
const out = {
  bench: 'backends',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  quick: QUICK,
  source: args.has('--src') ? 'src' : 'dist',
  MB: 'decimal (1e6 bytes)',
  results: results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]))),
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
