/**
 * The runtime matrix (README "Support policy"): Node 22 and 24, Bun, Deno and Cloudflare workerd, each
 * in ONE process running test/runtimes/checks.mjs on the package as that runtime resolves it: every
 * suite round trip under four keyrings (one-shot and web streams), messages the peer
 * (@aws-crypto/client-node) wrote here, and the local KMS. Node, Bun and Deno also run every public
 * decrypt manifest through envelope-sdk/runner (one-shot and incremental) and the Node stream methods
 * (test/runtimes/main.mjs); workerd runs what needs no file system (test/runtimes/worker.mjs). Node 20
 * is the host that runs the rest of the suite; Chromium is test/browser/. Counts are exact: a check
 * that did not run fails the test as much as one that failed.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_SUITES } from '../../src/index.js'
import { bytesToBase64 } from '../support/helpers.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'
import { peerAesKeyring, peerAllow, peerForbid, peerRsaKeyring } from '../support/peer.js'
import { PUBLIC_DECRYPT_MANIFESTS, PUBLIC_VECTORS } from '../support/vectors.js'
import { startLocalKms } from '../../src/testing/index.js'
// @ts-expect-error: plain JavaScript shared with the runtimes, no declarations
import { ensureRuntimes, unsupportedReason } from './setup.mjs'

const root = join(import.meta.dirname, '..', '..')
const reason: string | undefined = unsupportedReason()
if (reason) console.warn(`test/runtimes/matrix.test.ts skipped: ${reason}`)

type Counts = Record<string, { passed: number; failed: number; skipped: number }>
interface Report {
  runtime: string
  backend?: string
  counts: Counts
  failures: string[]
}

interface MiniflareLike {
  dispatchFetch(url: string, init: { method: string; body: string }): Promise<{ status: number; json(): Promise<unknown> }>
  dispose(): Promise<void>
}

const KEYRINGS = 4
const PEER_KEYRINGS = ['aes-256', 'rsa-oaep-sha256'] as const
const VECTOR_COUNT = PUBLIC_DECRYPT_MANIFESTS.reduce((sum, [, count]) => sum + count, 0)
const EXPECTED_PORTABLE = { 'round trip': ALL_SUITES.length * KEYRINGS, peer: ALL_SUITES.length * PEER_KEYRINGS.length, kms: 1 }

let paths: Record<'node22' | 'node24' | 'bun' | 'deno' | 'miniflare', string>
let dir: string
let inputPath: string
let input: Record<string, unknown>

beforeAll(async () => {
  if (reason) return
  paths = ensureRuntimes()
  const rsa = rsaKeyPair()
  const aes = { 'aes-128': aesKey(16), 'aes-192': aesKey(24), 'aes-256': aesKey(32) }
  // Spans several 4 KiB frames and ends in a partial one.
  const plaintext = patterned(3 * 4096 + 123)
  const peer = []
  for (const suite of ALL_SUITES) {
    for (const keyring of PEER_KEYRINGS) {
      const ring = keyring === 'aes-256' ? peerAesKeyring('matrix', keyring, aes[keyring]) : peerRsaKeyring('matrix', keyring, 'oaep-sha256', rsa)
      const client = suite.committing ? peerAllow : peerForbid
      const { result } = await client.encrypt(ring, plaintext, { suiteId: suite.id, frameLength: 4096, encryptionContext: { from: 'peer' } })
      peer.push({ name: `${suite.name} ${keyring}`, keyring, committing: suite.committing, ciphertext: bytesToBase64(result) })
    }
  }
  input = {
    aes: Object.fromEntries(Object.entries(aes).map(([name, key]) => [name, bytesToBase64(key)])),
    rsa,
    plaintext: bytesToBase64(plaintext),
    peer,
    manifests: PUBLIC_DECRYPT_MANIFESTS.map(([manifest, count]) => ({ path: join(PUBLIC_VECTORS, manifest), count })),
  }
  dir = mkdtempSync(join(tmpdir(), 'envelope-matrix-'))
  inputPath = join(dir, 'input.json')
  writeFileSync(inputPath, JSON.stringify(input))
}, 600_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Runs one runtime to its end; the report is its last MATRIX-REPORT line. */
function runProcess(command: string, args: string[], extraInput?: Record<string, unknown>): Promise<Report> {
  let file = inputPath
  if (extraInput) {
    file = join(dir, `input-${Object.keys(extraInput).join('-')}.json`)
    writeFileSync(file, JSON.stringify({ ...input, ...extraInput }))
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args, join(root, 'test', 'runtimes', 'main.mjs'), file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = out.split('\n').findLast((l) => l.startsWith('MATRIX-REPORT '))
      if (code !== 0 || !line) reject(new Error(`${command} exited ${code}\n${out.slice(-2000)}\n${err.slice(-4000)}`))
      else resolve(JSON.parse(line.slice('MATRIX-REPORT '.length)) as Report)
    })
  })
}

function expectAllPassed(report: Report, expected: Record<string, number>) {
  console.log(`${report.runtime} (${report.backend ?? 'web build'}): ${JSON.stringify(report.counts)}`)
  expect(report.failures).toEqual([])
  for (const [group, count] of Object.entries(expected)) expect(report.counts[group], group).toEqual({ passed: count, failed: 0, skipped: 0 })
}

const FULL = { ...EXPECTED_PORTABLE, 'node streams': ALL_SUITES.length * PEER_KEYRINGS.length, vectors: VECTOR_COUNT }

describe.skipIf(reason)('runtime matrix', () => {
  it.each([
    ['Node 22', 'node22', [] as string[]],
    ['Node 24', 'node24', [] as string[]],
    ['Bun', 'bun', ['run']],
    ['Deno', 'deno', ['run', '--allow-read', '--allow-env', '--allow-net', '--allow-sys']],
  ] as const)('%s: vectors, peer messages, every suite, local KMS', async (_name, runtime, args) => {
    expectAllPassed(await runProcess(paths[runtime], [...args]), FULL)
  }, 600_000)
})

describe.skipIf(reason)('runtime matrix: workerd', () => {
  it('workerd (miniflare): peer messages, every suite, the host\'s local KMS over loopback', async () => {
    // The web build as wrangler bundles for workerd: "workerd" and "worker" conditions, then "browser" (the AWS SDK picks its fetch client through the "browser" field).
    const bundle = await build({
      entryPoints: [join(root, 'test', 'runtimes', 'worker.mjs')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['browser', 'module', 'main'],
      target: 'es2022',
      logLevel: 'silent',
    })
    // miniflare lives in the runtime cache, not in the project's dependencies: typed here by what is used.
    const { Miniflare } = (await import(pathToFileURL(paths.miniflare).href)) as { Miniflare: new (options: object) => MiniflareLike }
    const kms = await startLocalKms()
    const mf = new Miniflare({ modules: true, script: bundle.outputFiles[0]!.text, compatibilityDate: '2025-09-01' })
    try {
      const response = await mf.dispatchFetch('http://matrix.test/', {
        method: 'POST',
        body: JSON.stringify({ ...input, kms: { endpoint: kms.endpoint, keyArn: kms.createKey(), region: kms.defaultRegion } }),
      })
      expect(response.status).toBe(200)
      expectAllPassed((await response.json()) as Report, EXPECTED_PORTABLE)
      // The worker's calls reached the host's server: one GenerateDataKey, then one Decrypt per decryption.
      expect([kms.countCalls({ operation: 'GenerateDataKey' }), kms.countCalls({ operation: 'Decrypt' })]).toEqual([1, 2])
    } finally {
      await mf.dispose()
      await kms.close()
    }
  }, 600_000)
})
