/**
 * The `envelope` command: encrypt and decrypt files, run conformance vectors,
 * run the local KMS and DynamoDB servers. Argument parsing and I/O only; the work is done by
 * the library.
 */
import { printable } from '../errors.js'
import { runCrypt } from './crypt.js'
import { runDdbLocal } from './ddb-local.js'
import { flagsOf } from './flags.js'
import { runInspect } from './inspect.js'
import { runKmsLocal } from './kms-local.js'
import { runRewrap } from './rewrap.js'
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './usage.js'
import { runVectors } from './vectors.js'
import { errorText } from './words.js'

const VERSION = '0.1.0'

const HELP = `usage: envelope <command> [options]

commands:
  encrypt      encrypt files, directories or stdin (envelope encrypt --help)
  decrypt      decrypt them (envelope decrypt --help)
  rewrap       move messages' data keys to new wrapping keys (envelope rewrap --help)
  inspect      print message headers without a key (envelope inspect --help)
  vectors      run public test-vector manifests (envelope vectors --help)
  kms-local    run the KMS-compatible local server (envelope kms-local --help)
  ddb-local    run the DynamoDB-compatible local server (envelope ddb-local --help)

  --version, --help`

const COMMANDS = ['encrypt', 'decrypt', 'rewrap', 'inspect', 'vectors', 'kms-local', 'ddb-local']

/**
 * A usage error's text. node's parseArgs words an unknown option for a program that takes positional
 * arguments, with unbalanced quotes; ours names the option and the command.
 */
function usageText(error: Error, command: string): string {
  const unknown = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /^Unknown option '([^']*)'/.exec(error.message)
  if (!unknown) return error.message
  const option = unknown[1]!
  const rewrapKeys = command === 'envelope rewrap' && (option === '-w' || option.startsWith('--wrapping-keys'))
  return `unknown option ${option} for ${command}${rewrapKeys ? ': rewrap takes --from-wrapping-keys (keys that decrypt the message now) and --to-wrapping-keys (keys to wrap it for)' : ''}`
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'encrypt':
    case 'decrypt':
      return runCrypt(command, rest)
    case 'rewrap':
      return runRewrap(rest)
    case 'inspect':
      return runInspect(rest)
    case 'vectors':
      return runVectors(rest)
    case 'kms-local':
      return runKmsLocal(rest)
    case 'ddb-local':
      return runDdbLocal(rest)
    case '--version':
    case 'version':
      console.log(`envelope-sdk ${VERSION}`)
      return 0
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(HELP)
      return command === undefined ? EXIT_USAGE : 0
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  }
}

/** A reader that closed our output early (`envelope decrypt … | head`): its choice, not our failure. */
const isEpipe = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE'

// Writes after the reader left fail asynchronously on the stream itself: end quietly, as other filters do.
// Any other error on stdout (a failed decrypt piped into it destroys it with its error) is reported
// once, as a one-line message, by the command's own failure path below.
process.stdout.on('error', (error) => {
  if (isEpipe(error)) process.exit(0)
})

// The AWS SDK (loaded only for KMS keys) warns on Node < 22 about its own future support policy in the
// middle of our output; this opt-out is the SDK's own switch for exactly that one warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (isEpipe(error)) return
    // Messages can hold names from a message or a directory listing: no control character reaches the terminal.
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const command = COMMANDS.includes(process.argv[2]!) ? `envelope ${process.argv[2]}` : 'envelope'
      console.error(`envelope: ${printable(usageText(error as Error, command))}\nrun '${command} --help' for usage`)
      process.exitCode = EXIT_USAGE
    } else {
      // In the command's own flags (words.ts); an EnvelopeError keeps only its own line breaks.
      console.error(`envelope: ${errorText(error, flagsOf(process.argv[2]))}`)
      process.exitCode = EXIT_FAILED
    }
  },
)
