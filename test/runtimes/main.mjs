// @ts-check
/**
 * One process of the runtime matrix under Node, Bun or Deno (test/runtimes/matrix.test.ts):
 * `<runtime> test/runtimes/main.mjs <input.json>`. Imports the package by its name, so each runtime
 * picks the build its own `exports` conditions select, and prints one line `MATRIX-REPORT <json>`.
 * Beyond test/runtimes/checks.mjs it runs what needs node:fs and a server: the public decrypt
 * manifests through envelope-sdk/runner (one-shot and the incremental decryptor), the Node stream
 * methods, and the local KMS, started in this runtime.
 */
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { fromB64, kmsCheck, portableChecks, Tally } from './checks.mjs'

const inputPath = process.argv[2]
if (!inputPath) throw new Error('usage: <runtime> test/runtimes/main.mjs <input.json>')
/** @type {import('./checks.mjs').MatrixInput} */
const input = JSON.parse(readFileSync(inputPath, 'utf8'))
const sdk = await import('envelope-sdk')
const { nodeBackend } = await import('envelope-sdk/crypto')
const tally = new Tally()
const only = input.only ? new Set(input.only) : undefined
/** @param {string} group */
const wanted = (group) => !only || only.has(group)

if (wanted('portable')) await portableChecks(sdk, input, tally)

if (wanted('node streams')) {
  const client = sdk.createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
  const { keyrings } = await import('./checks.mjs')
  const rings = keyrings(sdk, input)
  const plaintext = fromB64(input.plaintext)
  for (const message of input.peer) {
    await tally.check('node streams', message.name, async () => {
      const out = []
      for await (const part of Readable.from([fromB64(message.ciphertext)]).pipe(client.decryptStream(rings[message.keyring]))) out.push(part)
      const got = Buffer.concat(out)
      if (!got.equals(plaintext)) throw new Error(`decryptStream: wrong plaintext (${got.length} bytes)`)
    })
  }
}

if (wanted('vectors')) {
  const runner = await import('envelope-sdk/runner')
  for (const { path, count } of input.manifests) {
    const results = await runner.runDecryptManifest(path, { concurrency: 4 })
    const summary = runner.summarize(results)
    const failures = results.filter((r) => r.status !== 'passed').map((r) => `${path.split('/').slice(-2).join('/')} ${r.id}: ${r.status} ${r.reason ?? ''}`)
    if (results.length !== count) failures.unshift(`${path}: ${results.length} tests, expected ${count}`)
    tally.add('vectors', summary, failures)
  }
}

if (wanted('kms')) {
  const { startLocalKms } = await import('envelope-sdk/testing')
  const kms = await startLocalKms()
  try {
    await kmsCheck(sdk, { endpoint: kms.endpoint, keyArn: kms.createKey(), region: kms.defaultRegion }, tally)
  } finally {
    await kms.close()
  }
}

const { Deno } = /** @type {{ Deno?: { version: { deno: string } } }} */ (globalThis)
const runtime = Deno ? `deno ${Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`
console.log(`MATRIX-REPORT ${JSON.stringify({ runtime, backend: nodeBackend.name, counts: tally.counts, failures: tally.failures })}`)
