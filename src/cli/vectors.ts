/** `envelope vectors decrypt|encrypt|generate`: runs public test-vector manifests. */
import { parseArgs } from 'node:util'
import { runDecryptManifest } from '../runner/decrypt.js'
import { runEncryptManifest } from '../runner/encrypt.js'
import { summarize, summaryLine, type TestResult } from '../runner/report.js'
import { vectorProgress } from './progress.js'
import { UsageError } from './usage.js'

export const VECTORS_HELP = `usage: envelope vectors decrypt  --manifest PATH [--kms-endpoint URL] [--filter TEXT] [--concurrency N]
       envelope vectors encrypt  --manifest PATH --out DIR [--kms-endpoint URL] [--filter TEXT]
       envelope vectors generate --manifest PATH --out DIR [--kms-endpoint URL] [--filter TEXT]

  --manifest PATH     decrypt: an awses-decrypt manifest (v1-v5) or a .zip of the published layout;
                      encrypt: awses-encrypt v1/v2; generate: awses-decrypt-generate v1/v2
  --out DIR           where ciphertexts, plaintexts, keys.json and manifest.json (awses-decrypt) go
  --kms-endpoint URL  run the aws-kms, aws-kms-mrk-aware and aws-kms-mrk-aware-discovery tests against
                      the KMS at URL, usually the local one: envelope kms-local --keys-manifest KEYS
                      (the same keys manifest). Without it those tests are skipped. encrypt/generate
                      write key ARNs, not aliases, into keys.json. Messages made by AWS KMS (the public
                      KMS vectors) decrypt only with AWS KMS, never with the local server.
  --filter TEXT       only tests whose id contains TEXT
  --concurrency N     tests in flight (default 4)

Prints each failure and skip with its reason, then one line: N passed, N failed, N skipped.
On a terminal, stderr shows progress: done/total and the counts so far.
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
    options: {
      manifest: { type: 'string' },
      out: { type: 'string' },
      filter: { type: 'string' },
      concurrency: { type: 'string' },
      'kms-endpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(VECTORS_HELP)
    return 0
  }
  if (!values.manifest) throw new UsageError('--manifest is required')
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency takes a positive whole number')
  const endpoint = values['kms-endpoint']
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) throw new UsageError('--kms-endpoint takes an http:// or https:// URL')
  const progress = vectorProgress(process.stderr)
  const common = { filter: values.filter, concurrency, kmsEndpoint: endpoint, onStart: progress.start, onResult: (r: TestResult) => progress.result(r, console.log) }
  let results: TestResult[]
  try {
    if (sub === 'decrypt') {
      results = await runDecryptManifest(values.manifest, common)
    } else {
      if (!values.out) throw new UsageError('--out DIR is required')
      results = await runEncryptManifest(values.manifest, values.out, common)
    }
  } finally {
    progress.finish()
  }
  const summary = summarize(results)
  console.log(summaryLine(summary))
  return summary.failed > 0 ? 1 : 0
}
