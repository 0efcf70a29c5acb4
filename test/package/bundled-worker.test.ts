/**
 * A consumer that bundles envelope-sdk with esbuild `keepNames: true` (which
 * wraps functions in `__name(...)`) still seals frames on the worker: the
 * worker is a built file, not function text run with eval
 * (spec/backends.md#parallel-frames). Bundled, the library looks for the
 * worker at crypto/frame-worker.mjs beside the bundle; without it, frames run
 * on the calling thread and `parallelFrames` says why (`signatureWorker`
 * likewise for the signature hash worker). Runs on dist/.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Encrypts 2 MiB messages until the worker has done a run (or the pool gave up), then a 3 MiB one, and reads it back. */
const body = `
const backend = createNodeBackend()
const client = createClient({ backend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'bundle', wrappingKey: new Uint8Array(32).fill(7) })
const options = { suiteId: 0x0478, frameLength: 4096 }
// The first large message starts the worker without waiting for it.
for (let i = 0; i < 200 && backend.parallelFrames.available && backend.parallelFrames.runs === 0; i++) {
  await client.encrypt(keyring, new Uint8Array(2 * 1024 * 1024), options)
  await new Promise((resolve) => setTimeout(resolve, 10))
}
const before = backend.parallelFrames.runs
const plaintext = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 31) & 255)
const { ciphertext } = await client.encrypt(keyring, plaintext, options)
const sealedOnWorker = backend.parallelFrames.runs - before
const { plaintext: back } = await client.decrypt(keyring, ciphertext)
console.log(JSON.stringify({
  status: backend.parallelFrames,
  signatures: backend.signatureWorker,
  sealedOnWorker,
  roundTrip: back.length === plaintext.length && back.every((b, i) => b === plaintext[i]),
}))
`
/**
 * The consumer's source, importing `entry` (ESM) or requiring it (CommonJS, whose awaits need an async
 * function), and createNodeBackend from the crypto subpath of the same build.
 */
function consumer(entry: string, format: 'esm' | 'cjs'): string {
  const path = JSON.stringify(entry)
  const crypto = JSON.stringify(entry.replace(/index\.(c?js)$/, 'crypto/index.$1'))
  return format === 'esm'
    ? `import { createClient, RawAesKeyring } from ${path}\nimport { createNodeBackend } from ${crypto}\n${body}`
    : `const { createClient, RawAesKeyring } = require(${path})\nconst { createNodeBackend } = require(${crypto})\n;(async () => {${body}})()`
}

/** Bundles the consumer of `entry` (the ESM or CommonJS build) into a fresh directory, optionally with the worker file beside it. */
async function bundle(entry: string, format: 'esm' | 'cjs', withWorkerFile: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'envelope-bundle-'))
  const extension = format === 'esm' ? 'mjs' : 'cjs'
  const source = join(dir, `consumer.${extension}`)
  writeFileSync(source, consumer(join(root, entry), format))
  const outfile = join(dir, `bundle.${extension}`)
  await build({
    entryPoints: [source],
    bundle: true,
    keepNames: true,
    platform: 'node',
    format,
    target: 'node20',
    external: ['@aws-sdk/client-kms'],
    outfile,
    logLevel: 'error',
  })
  if (withWorkerFile) {
    mkdirSync(join(dir, 'crypto'))
    for (const name of ['frame-worker.mjs', 'hash-worker.mjs']) copyFileSync(join(root, 'dist', 'crypto', name), join(dir, 'crypto', name))
  }
  return outfile
}

function runBundle(file: string) {
  const result = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 })
  expect(result.status, result.stderr).toBe(0)
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    status: { available: boolean; reason?: string; runs: number }
    signatures: { available: boolean; reason?: string }
    sealedOnWorker: number
    roundTrip: boolean
  }
}

// With one core no worker is started: nothing to bundle for.
describe.runIf(availableParallelism() >= 2)('a consumer bundle made with esbuild keepNames', () => {
  it.each([
    ['ESM', 'dist/index.js', 'esm'],
    ['CommonJS', 'dist/index.cjs', 'cjs'],
  ] as const)('%s build, worker file shipped beside the bundle: frames are sealed on the worker', async (_name, entry, format) => {
    const report = runBundle(await bundle(entry, format, true))
    expect(report.status).toMatchObject({ available: true })
    expect(report.signatures).toEqual({ available: true })
    expect(report.sealedOnWorker).toBe(1)
    expect(report.roundTrip).toBe(true)
  }, 120_000)

  it('worker file left behind: frames run on the calling thread, and parallelFrames says why', async () => {
    const report = runBundle(await bundle('dist/index.js', 'esm', false))
    expect(report.status.available).toBe(false)
    expect(report.status.reason).toMatch(/frame worker file .*crypto[/\\]frame-worker\.mjs is missing/)
    expect(report.signatures.reason).toMatch(/signature worker file .*crypto[/\\]hash-worker\.mjs is missing/)
    expect(report.sealedOnWorker).toBe(0)
    expect(report.roundTrip).toBe(true)
  }, 120_000)

  it('ESM build bundled into CommonJS (import.meta empty): the library loads, and parallelFrames says why there is no worker', async () => {
    const report = runBundle(await bundle('dist/index.js', 'cjs', true))
    expect(report.status.available).toBe(false)
    expect(report.status.reason).toMatch(/cannot tell where its frame worker file is/)
    expect(report.signatures.reason).toMatch(/cannot tell where its signature worker file is/)
    expect(report.roundTrip).toBe(true)
  }, 120_000)
})
