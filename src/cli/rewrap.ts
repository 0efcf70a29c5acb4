/**
 * `envelope rewrap`: files, directories (-r) or stdin/stdout, through
 * client.rewrapStream (spec/rewrap.md#cli). The output goes through the same
 * temporary file as encrypt and decrypt, renamed into place only after the
 * whole message verified, so a tampered or truncated input leaves no output.
 */
import { existsSync, statSync } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import type { Client, Keyring } from '../index.js'
import { clientFromFlags, forEachFile, parseContext, readInput, singleTarget, writeOutput } from './crypt.js'
import { REWRAP_OPTIONS } from './flags.js'
import { keyringFromSpecs } from './keyrings.js'
import { CliFailure, UsageError } from './usage.js'

export const REWRAP_HELP = `usage: envelope rewrap -i INPUT -o OUTPUT --from-wrapping-keys SPEC --to-wrapping-keys SPEC [options]

Moves a message's data key to new wrapping keys: a new message (new message id,
body re-encrypted frame by frame as each input frame verifies) with the same data
key, suite and context. Signed suites and suites without key derivation cannot be
rewrapped (decrypt and re-encrypt them).

  -i, --input PATH|-              file, directory (with -r) or - for stdin
  -o, --output PATH|-             file, directory or - for stdout
      --from-wrapping-keys SPEC   repeatable; keys that decrypt the message now (as decrypt -w)
      --to-wrapping-keys SPEC     repeatable; keys the new message is wrapped for (as encrypt -w; all of them wrap)
  -c, --encryption-context k=v ...   pairs the message must carry (required pairs it does not store)
  -r, --recursive                 process a directory tree
      --suffix S                  output name suffix (default .rewrapped, in place of a trailing
                                  .encrypted or .rewrapped: x.encrypted -> x.rewrapped; S is appended)
      --commitment-policy P       as encrypt: the policy must allow writing the message's suite
      --max-encrypted-data-keys N most encrypted data keys in the input and in the output (default 64)
      --no-overwrite              fail instead of replacing an existing output
      --no-progress               no progress bar (drawn on stderr for input files of 8 MiB or more when it is a terminal)
  -h, --help

With -r, when -o is the input directory or inside it, files there that end in .rewrapped (earlier
outputs) are skipped. Inputs that would get the same output name (x.encrypted and x.rewrapped) both
fail, before anything is written; --suffix S keeps them apart.`

interface RewrapRun {
  readonly client: Client
  readonly from: Keyring
  readonly to: Keyring
  readonly encryptionContext: Record<string, string> | undefined
  readonly noOverwrite: boolean
  readonly progress: boolean
}

async function rewrapOne(run: RewrapRun, input: string, output: string): Promise<void> {
  await writeOutput(input, output, run.noOverwrite, async (sink) => {
    const rewrap = run.client.rewrapStream({ from: run.from, to: run.to, encryptionContext: run.encryptionContext })
    await pipeline(readInput(run, input), rewrap, sink())
  })
}

export async function runRewrap(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: REWRAP_OPTIONS })
  if (values.help) {
    console.log(REWRAP_HELP)
    return 0
  }
  if (!values.input || !values.output) throw new UsageError('-i/--input and -o/--output are required')
  if (!values['from-wrapping-keys']?.length || !values['to-wrapping-keys']?.length) throw new UsageError('--from-wrapping-keys and --to-wrapping-keys are required')
  const client = clientFromFlags(values)
  const run: RewrapRun = {
    client,
    from: keyringFromSpecs(values['from-wrapping-keys'], 'decrypt'),
    to: keyringFromSpecs(values['to-wrapping-keys'], 'encrypt'),
    // -c takes several pairs, as for encrypt and decrypt: bare words are more pairs.
    encryptionContext: parseContext([...(values['encryption-context'] ?? []), ...positionals]),
    noOverwrite: Boolean(values['no-overwrite']),
    progress: !values['no-progress'],
  }
  const { input, output, suffix } = values
  if (input !== '-' && !existsSync(input)) throw new CliFailure(`input ${input}: no such file or directory`)
  if (input !== '-' && statSync(input).isDirectory()) {
    if (!values.recursive) throw new UsageError(`${input} is a directory: add -r`)
    if (output === '-') throw new UsageError('a directory cannot be written to stdout')
    return forEachFile(input, output, 'rewrap', suffix, (file, target) => rewrapOne(run, file, target))
  }
  await rewrapOne(run, input, singleTarget(input, output, 'rewrap', suffix))
  return 0
}
