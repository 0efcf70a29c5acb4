/** `envelope vectors decrypt --manifest PATH`: runs a public awses-decrypt manifest. */
import { parseArgs } from 'node:util'
import { runDecryptManifest } from '../runner/decrypt.js'
import { runEncryptManifest } from '../runner/encrypt.js'
import { summarize, summaryLine, type TestResult } from '../runner/report.js'
import { UsageError } from './usage.js'

export const VECTORS_HELP = `usage: envelope vectors decrypt  --manifest PATH [--filter TEXT] [--concurrency N]
       envelope vectors encrypt  --manifest PATH --out DIR [--filter TEXT]
       envelope vectors generate --manifest PATH --out DIR [--filter TEXT]

  --manifest PATH     decrypt: an awses-decrypt manifest (v1-v5) or a .zip of the published layout;
                      encrypt: awses-encrypt v1/v2; generate: awses-decrypt-generate v1/v2
  --out DIR           where ciphertexts, plaintexts, keys.json and manifest.json (awses-decrypt) go
  --filter TEXT       only tests whose id contains TEXT
  --concurrency N     tests in flight (default 4)

Prints each failure and skip with its reason, then one line: N passed, N failed, N skipped.
Exits 1 when any test failed.`

export async function runVectors(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(VECTORS_HELP)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'decrypt' && sub !== 'encrypt' && sub !== 'generate') throw new UsageError(`unknown vectors command ${JSON.stringify(sub)} (decrypt, encrypt, generate)`)
  const { values } = parseArgs({
    args: rest,
    options: { manifest: { type: 'string' }, out: { type: 'string' }, filter: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  if (values.help) {
    console.log(VECTORS_HELP)
    return 0
  }
  if (!values.manifest) throw new UsageError('--manifest is required')
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency takes a positive whole number')
  const tty = process.stderr.isTTY
  let done = 0
  const onResult = (r: TestResult) => {
    done++
    if (r.status !== 'passed') console.log(`${r.status} ${r.id}: ${r.reason}`)
    if (tty && done % 25 === 0) process.stderr.write(`\r${done} tests run…`)
  }
  let results: TestResult[]
  if (sub === 'decrypt') {
    results = await runDecryptManifest(values.manifest, { filter: values.filter, concurrency, onResult })
  } else {
    if (!values.out) throw new UsageError('--out DIR is required')
    results = await runEncryptManifest(values.manifest, values.out, { filter: values.filter, concurrency, onResult })
  }
  if (tty) process.stderr.write('\r')
  const summary = summarize(results)
  console.log(summaryLine(summary))
  return summary.failed > 0 ? 1 : 0
}
