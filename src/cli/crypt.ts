/**
 * `envelope encrypt` and `envelope decrypt`: files, directories (-r) or
 * stdin/stdout (`-`). Output goes to a temporary file renamed into place only
 * after the whole operation succeeded, so a failed decrypt leaves no partial
 * plaintext file behind.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { nodeBackend } from '../crypto/node.js'
import { ALL_SUITES, createClient, type Client, type CommitmentPolicy, type MessageHeader } from '../index.js'
import { printable } from '../errors.js'
import { CRYPT_OPTIONS, flagsOf, MODE_ONLY, type FileCommand } from './flags.js'
import { KEY_SPEC_HELP, keyringFromSpecs } from './keyrings.js'
import { progressBar } from './progress.js'
import { CliFailure, UsageError } from './usage.js'
import { errorText } from './words.js'

export const CRYPT_HELP = (mode: 'encrypt' | 'decrypt') => `usage: envelope ${mode} -i INPUT -o OUTPUT -w "WRAPPING KEY SPEC" [options]

  -i, --input PATH|-          file, directory (with -r) or - for stdin
  -o, --output PATH|-         file, directory or - for stdout
  -w, --wrapping-keys SPEC    repeatable; e.g. "provider=aws-kms key=arn:aws:kms:…" or
                              "provider=my-app key=k1 file=k1.key" (fields below)
  -c, --encryption-context k=v ...   ${mode === 'encrypt' ? 'pairs to bind to the message' : 'pairs the message must carry'}
  -r, --recursive             process a directory tree
      --suffix S              output name suffix (default ${mode === 'encrypt' ? '.encrypted' : '.decrypted'})
      --commitment-policy P   forbid-encrypt-allow-decrypt | require-encrypt-allow-decrypt |
                              require-encrypt-require-decrypt (default; upper case with _ works too)
      --max-encrypted-data-keys N  most encrypted data keys a message may carry (default 64)
      --metadata-output FILE|-    append one JSON line per message (header, context, suite; the
                              providerInfo of each data key is base64)
      --overwrite-metadata    truncate the --metadata-output file first instead of appending
  -S, --suppress-metadata     write no metadata (the default; accepted as aws-encryption-cli takes it)
      --no-overwrite          fail instead of replacing an existing output
      --no-progress           no progress bar (drawn on stderr for input files of 8 MiB or more when it is a terminal)
${
  mode === 'encrypt'
    ? `      --algorithm SUITE       e.g. 0x0578 or ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
      --frame-length N        plaintext bytes per frame (default 4096)
      --encode                write base64 text`
    : `      --decrypt-unsigned      refuse signed messages (streaming without holding frames for a signature)
      --buffer                release no plaintext until the whole message has verified
      --decode                the input is base64 text`
}
  -h, --help

${KEY_SPEC_HELP}

ECDH examples (spec/ecdh.md): PEM or DER key files
${
  mode === 'encrypt'
    ? `  envelope encrypt -i doc -o doc.enc -w "ecdh curve=P-256 recipient=bob-pub.pem"
      to Bob's public key, with a fresh sender key per message (no KMS call; Bob decrypts by discovery)
  envelope encrypt -i doc -o doc.enc -w "ecdh curve=P-256 sender=alice-priv.pem recipient=bob-pub.pem"
      static: Alice's key and Bob's; either of them decrypts with the same kind of spec
  envelope encrypt -i doc -o doc.enc -w "ecdh curve=P-384 kms-key=arn:aws:kms:…:key/… recipient=bob-pub.pem"
      static, Alice's private key in KMS (one DeriveSharedSecret call per message)`
    : `  envelope decrypt -i doc.enc -o doc -w "ecdh curve=P-256 recipient=bob-priv.pem"
      discovery: anything written to Bob's public key
  envelope decrypt -i doc.enc -o doc -w "ecdh curve=P-256 sender=bob-priv.pem recipient=alice-pub.pem"
      static: only what Alice and Bob wrote to each other
  envelope decrypt -i doc.enc -o doc -w "ecdh curve=P-384 kms-key=arn:aws:kms:…:key/…"
      discovery with Bob's private key in KMS`
}

Output names (-r, or -o naming a directory): ${
  mode === 'encrypt'
    ? `x -> x.encrypted (or x + --suffix S). With -r, when -o is the input directory or
inside it, files there that already end in the suffix (earlier outputs) are skipped, not re-encrypted.`
    : `x -> x.decrypted (or x + --suffix S), x.encrypted -> x.encrypted.decrypted: a
decrypted file never takes the name of a plaintext original, which may sit next to it. With -r, when
-o is the input directory or inside it, files there that end in the suffix are skipped.`
}

Exit status: 0 success; 1 an operation failed (missing input or key file, wrong key, tampered
message; with -r, after trying every file); 2 a command-line mistake. A reader that closes the
output early (| head) ends the command quietly with status 0.`

interface CryptOptions {
  readonly mode: 'encrypt' | 'decrypt'
  readonly client: Client
  readonly keyring: ReturnType<typeof keyringFromSpecs>
  readonly encryptionContext: Record<string, string> | undefined
  readonly suiteId: number | undefined
  readonly frameLength: number | undefined
  readonly base64: boolean
  readonly unsignedOnly: boolean
  readonly buffer: boolean
  readonly noOverwrite: boolean
  readonly progress: boolean
  readonly metadata: ((line: object) => void) | undefined
}

export function parseSuite(text: string): number {
  const hex = /^(0x)?([0-9a-f]{4})$/i.exec(text)
  if (hex) {
    const id = parseInt(hex[2]!, 16)
    if (ALL_SUITES.some((s) => s.id === id)) return id
  }
  const name = text.toUpperCase().startsWith('ALG_') ? text.toUpperCase() : `ALG_${text.toUpperCase()}`
  const suite = ALL_SUITES.find((s) => s.name === name)
  if (!suite) throw new UsageError(`unknown algorithm suite ${JSON.stringify(text)}; use a hex id like 0x0578 or a suite name`)
  return suite.id
}

export function parseContext(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined
  const context: Record<string, string> = {}
  for (const pair of pairs.flatMap((p) => p.split(/\s+/)).filter(Boolean)) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--encryption-context: expected key=value, got ${JSON.stringify(pair)}`)
    context[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return context
}

export function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number`)
  return Number(text)
}

/** --max-encrypted-data-keys N: the format's range, said in flag terms (the client's RangeError names its option). */
export function maxEncryptedDataKeys(text: string | undefined): number | undefined {
  const n = positiveInt(text, '--max-encrypted-data-keys')
  if (n !== undefined && (n < 1 || n > 65535)) throw new UsageError('--max-encrypted-data-keys takes 1 to 65535')
  return n
}

const MAX_FRAME_LENGTH = 2 ** 32 - 1

/** --frame-length N: framed messages only, since the CLI streams and a non-framed body needs its length first. */
function frameLength(text: string | undefined): number | undefined {
  const n = positiveInt(text, '--frame-length')
  if (n !== undefined && (n < 1 || n > MAX_FRAME_LENGTH)) {
    throw new UsageError(`--frame-length takes 1 to ${MAX_FRAME_LENGTH} (2^32 - 1) plaintext bytes per frame; the CLI writes framed messages only`)
  }
  return n
}

/**
 * The bytes of --decode input: standard or URL-safe base64, line breaks and spaces allowed. Anything
 * else is refused here, before it could reach the parser as a meaningless version byte.
 */
function decodeBase64Input(raw: Buffer, input: string): Buffer {
  const text = raw.toString('latin1').replace(/\s+/g, '')
  if (/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) && text.length % 4 !== 1 && (text.length % 4 === 0 || !text.includes('='))) return Buffer.from(text, 'base64')
  const binary = raw[0] === 0x01 || raw[0] === 0x02
  throw new CliFailure(`input ${input === '-' ? 'from stdin' : input} is not base64${binary ? ': it looks like a binary message, drop --decode' : ' (--decode reads base64 text)'}`)
}

function headerSummary(header: MessageHeader): object {
  return {
    version: header.version,
    suiteId: `0x${header.suiteId.toString(16).padStart(4, '0')}`,
    messageId: Buffer.from(header.messageId).toString('base64'),
    encryptionContext: header.encryptionContext,
    frameLength: header.frameLength,
    // providerInfo is bytes (a raw RSA/AES key name plus an IV, binary for some keyrings): base64 keeps every byte recoverable.
    encryptedDataKeys: header.encryptedDataKeys.map((k) => ({ providerId: k.providerId, providerInfo: Buffer.from(k.providerInfo).toString('base64') })),
  }
}

function base64Encoder(): Transform {
  let carry = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      const all = Buffer.concat([carry, chunk])
      const usable = all.length - (all.length % 3)
      carry = all.subarray(usable)
      cb(null, all.subarray(0, usable).toString('base64'))
    },
    flush(cb) {
      cb(null, carry.length ? carry.toString('base64') : undefined)
    },
  })
}

/** The input file, read through a progress bar when one is due. */
export function readInput(options: { readonly progress: boolean }, input: string): Readable {
  if (input === '-') return process.stdin
  const file = createReadStream(input)
  const bar = options.progress ? progressBar(statSync(input).size, process.stderr) : undefined
  if (!bar) return file
  // pipe() alone would leave the file open if the pipeline tears the bar down.
  file.once('error', (e) => bar.destroy(e))
  bar.once('close', () => file.destroy())
  return file.pipe(bar)
}

/**
 * Writes `output` (a path or '-') through `work`: a file is written to a private
 * temporary name and renamed into place only when `work` succeeded, and removed otherwise.
 */
export async function writeOutput(input: string, output: string, noOverwrite: boolean, work: (sink: () => Writable) => Promise<void>): Promise<void> {
  // A refusal the user asked for, not a command-line mistake: exit 1, in single-file and -r runs alike.
  if (output !== '-' && noOverwrite && existsSync(output)) throw new CliFailure(`${output} exists and --no-overwrite is set`)
  // The output replaces its file only at the end, so the same file as input would lose the original for good.
  if (input !== '-' && output !== '-' && existsSync(output) && realpathSync(input) === realpathSync(output)) {
    throw new UsageError(`${output} is the input file itself: write to another file`)
  }
  // A name nobody can guess, created exclusively ('wx' refuses an existing file or a planted
  // symlink) and private: others who can write to the output folder cannot read or redirect it.
  const temp = output === '-' ? undefined : join(dirname(output), `.${basename(output)}.${Buffer.from(nodeBackend.randomBytes(12)).toString('hex')}.partial`)
  let created = false
  const sink = (): Writable => {
    if (!temp) return process.stdout
    let fd: number
    try {
      fd = openSync(temp, 'wx', 0o600)
    } catch (e) {
      throw outputFailure(output, e)
    }
    created = true
    return createWriteStream(temp, { fd })
  }
  try {
    await work(sink)
    if (temp) {
      try {
        renameSync(temp, output)
      } catch (e) {
        throw outputFailure(output, e)
      }
    }
  } catch (e) {
    if (temp && created) rmSync(temp, { force: true })
    throw e
  }
}

/** A failure to create or place `output`, named by the path the user gave, never by our temporary name. */
function outputFailure(output: string, error: unknown): CliFailure {
  const code = (error as NodeJS.ErrnoException).code
  const folder = dirname(output)
  const reason =
    code === 'ENOENT' ? `no such directory ${folder}` :
    code === 'ENOTDIR' ? `${folder} is not a directory` :
    code === 'EACCES' || code === 'EPERM' ? `permission denied in ${folder}` :
    code === 'EISDIR' ? 'is a directory' :
    code === 'ENOSPC' ? 'no space left on the device' :
    `cannot write (${code ?? 'error'})`
  return new CliFailure(`output ${output}: ${reason}`)
}

/** Runs one message from `input` (a path or '-') to `output` (a path or '-'). */
async function processOne(options: CryptOptions, input: string, output: string): Promise<void> {
  const { client, keyring, mode } = options
  let header: MessageHeader | undefined
  await writeOutput(input, output, options.noOverwrite, async (sink) => {
    if (mode === 'encrypt') {
      const encrypt = client.encryptStream(keyring, { encryptionContext: options.encryptionContext, suiteId: options.suiteId, frameLength: options.frameLength })
      encrypt.on('header', (h: MessageHeader) => (header = h))
      const source = readInput(options, input)
      await (options.base64 ? pipeline(source, encrypt, base64Encoder(), sink()) : pipeline(source, encrypt, sink()))
    } else if (options.base64 || options.buffer) {
      // Whole-message decrypt: nothing is written until every frame and the signature verified.
      const raw = input === '-' ? await readAll(process.stdin) : readFileSync(input)
      const ciphertext = options.base64 ? decodeBase64Input(raw, input) : raw
      const result = await client.decrypt(keyring, ciphertext, { encryptionContext: options.encryptionContext, unsignedOnly: options.unsignedOnly })
      header = result.header
      await pipeline(Readable.from([result.plaintext]), sink())
    } else {
      const decrypt = client.decryptStream(keyring, { encryptionContext: options.encryptionContext, unsignedOnly: options.unsignedOnly })
      decrypt.on('header', (h: MessageHeader) => (header = h))
      await pipeline(readInput(options, input), decrypt, sink())
    }
  })
  options.metadata?.({ mode, input, output, header: header ? headerSummary(header) : undefined })
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

/** Regular files under `dir`; anything else (symbolic links are not followed) is reported to `skip`. */
export function filesUnder(dir: string, skip: (path: string, what: string) => void): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path, skip)
    if (entry.isFile()) return [path]
    skip(path, entry.isSymbolicLink() ? 'a symbolic link, not followed' : 'not a regular file')
    return []
  })
}

const POLICIES: readonly CommitmentPolicy[] = ['FORBID_ENCRYPT_ALLOW_DECRYPT', 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT']

/** aws-encryption-cli's lowercase forms (require-encrypt-require-decrypt) and the library's names. */
/** The client the --commitment-policy and --max-encrypted-data-keys flags describe; a value the client refuses is a usage error. */
export function clientFromFlags(values: { readonly 'commitment-policy'?: string; readonly 'max-encrypted-data-keys'?: string }): Client {
  try {
    return createClient({
      commitmentPolicy: parsePolicy(values['commitment-policy']),
      maxEncryptedDataKeys: maxEncryptedDataKeys(values['max-encrypted-data-keys']),
    })
  } catch (e) {
    if (e instanceof UsageError) throw e
    throw new UsageError((e as Error).message)
  }
}

export function parsePolicy(text: string | undefined): CommitmentPolicy | undefined {
  if (text === undefined) return undefined
  const policy = POLICIES.find((p) => p === text.toUpperCase().replaceAll('-', '_'))
  if (!policy) throw new UsageError(`--commitment-policy: unknown policy ${JSON.stringify(text)}; use ${POLICIES.map((p) => p.toLowerCase().replaceAll('_', '-')).join(', ')}`)
  return policy
}

export async function runCrypt(mode: 'encrypt' | 'decrypt', argv: string[]): Promise<number> {
  const { values, tokens } = parseArgs({ args: argv, allowPositionals: true, tokens: true, options: CRYPT_OPTIONS })
  if (values.help) {
    console.log(CRYPT_HELP(mode))
    return 0
  }
  // Like aws-encryption-cli, -c takes several pairs: bare words right after it are more pairs.
  const contextPairs = [...(values['encryption-context'] ?? [])]
  let afterContext = false
  for (const token of tokens) {
    if (token.kind === 'option') afterContext = token.name === 'encryption-context'
    else if (token.kind === 'positional') {
      if (!afterContext) throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}`)
      contextPairs.push(token.value)
    }
  }
  for (const flag of MODE_ONLY[mode === 'encrypt' ? 'decrypt' : 'encrypt']) if ((values as Record<string, unknown>)[flag] !== undefined) throw new UsageError(`--${flag} does not apply to ${mode}`)
  if (!values.input || !values.output) throw new UsageError('-i/--input and -o/--output are required')

  const client = clientFromFlags(values)
  const metadataTarget = values['metadata-output']
  if (metadataTarget !== undefined && values['suppress-metadata']) throw new UsageError('--metadata-output and -S/--suppress-metadata exclude each other')
  if (values['overwrite-metadata'] && (metadataTarget === undefined || metadataTarget === '-')) throw new UsageError('--overwrite-metadata needs --metadata-output FILE')
  if (metadataTarget === '-' && values.output === '-') throw new UsageError('--metadata-output - and -o - would both write to stdout')
  // Appends by default, as aws-encryption-cli does, so runs can share one log.
  if (metadataTarget && metadataTarget !== '-' && values['overwrite-metadata']) writeFileSync(metadataTarget, '')
  const options: CryptOptions = {
    mode,
    client,
    keyring: keyringFromSpecs(values['wrapping-keys'] ?? [], mode),
    encryptionContext: parseContext(contextPairs),
    suiteId: values.algorithm ? parseSuite(values.algorithm) : undefined,
    frameLength: frameLength(values['frame-length']),
    base64: Boolean(values.encode || values.decode),
    unsignedOnly: Boolean(values['decrypt-unsigned']),
    buffer: Boolean(values.buffer),
    noOverwrite: Boolean(values['no-overwrite']),
    progress: !values['no-progress'],
    metadata: metadataTarget
      ? (line) => (metadataTarget === '-' ? process.stdout.write(`${jsonLine(line)}\n`) : writeFileSync(metadataTarget, `${jsonLine(line)}\n`, { flag: 'a' }))
      : undefined,
  }
  const { input, output, suffix } = values
  if (input !== '-' && !existsSync(input)) throw new CliFailure(`input ${input}: no such file or directory`)
  if (input !== '-' && statSync(input).isDirectory()) {
    if (!values.recursive) throw new UsageError(`${input} is a directory: add -r`)
    if (output === '-') throw new UsageError('a directory cannot be written to stdout')
    return forEachFile(input, output, mode, suffix, (file, target) => processOne(options, file, target))
  }
  await processOne(options, input, singleTarget(input, output, mode, suffix))
  return 0
}

/** Our message suffixes: rewrap's output carries at most one, so names do not grow a chain per rewrap. */
const MESSAGE_SUFFIXES = ['.encrypted', '.rewrapped']

/** The suffix each command appends by default (--suffix S replaces it). */
const APPENDED: Readonly<Record<Exclude<FileCommand, 'inspect'>, string>> = { encrypt: '.encrypted', decrypt: '.decrypted', rewrap: '.rewrapped' }

/**
 * The output name of `name` (spec/rewrap.md#output-names): --suffix S is always appended as given.
 * By default encrypt appends .encrypted and decrypt .decrypted (x.encrypted -> x.encrypted.decrypted:
 * a decrypted file never takes the name of a plaintext original, which may sit next to it);
 * rewrap turns x.encrypted or x.rewrapped into x.rewrapped.
 */
export function outputName(name: string, command: Exclude<FileCommand, 'inspect'>, suffix: string | undefined): string {
  if (suffix !== undefined || command !== 'rewrap') return `${name}${suffix ?? APPENDED[command]}`
  const ours = MESSAGE_SUFFIXES.find((s) => name.endsWith(s) && basename(name).length > s.length)
  return `${ours ? name.slice(0, -ours.length) : name}${APPENDED.rewrap}`
}

/**
 * Creates the output folder of a run: `-o` with -r, or `-o DIR/` (a trailing separator says it is a
 * folder) for one file, so both create a missing folder alike. Anything in the way is a failure naming `-o`.
 */
export function outputFolder(output: string): void {
  try {
    mkdirSync(output, { recursive: true })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new CliFailure(`output ${output}: ${code === 'ENOTDIR' || code === 'EEXIST' ? 'it, or a folder above it, is a file, not a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot create the directory (${code ?? 'error'})`}`)
  }
}

/** Where one input (a path or '-') is written: into `output` under its output name when -o names a folder. */
export function singleTarget(input: string, output: string, command: Exclude<FileCommand, 'inspect'>, suffix: string | undefined): string {
  if (output === '-') return output
  const folder = output.endsWith('/') || output.endsWith(sep)
  if (folder) outputFolder(output)
  if (!folder && !(existsSync(output) && statSync(output).isDirectory())) return output
  return join(output, outputName(basename(input === '-' ? 'stdin' : input), command, suffix))
}

/** `path` is `dir` or under it (both real paths). */
const isWithin = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`)

/**
 * Runs `work` for every file under `input`, to the same relative path under
 * `output` (named by outputName). A file that fails is reported by name and the
 * others go on, as aws-encryption-cli does; the exit code says some failed.
 * When `output` is `input` or inside it, files there that end in the suffix the
 * command appends are its earlier outputs: skipped and reported, so a second run
 * does not encrypt the first run's results. Inputs that would be written to the
 * same output (rewrap of x.encrypted and x.rewrapped) are all failures, found
 * before anything is written: neither is written, since no rule says which one
 * the user wants kept.
 */
export async function forEachFile(input: string, output: string, command: Exclude<FileCommand, 'inspect'>, suffix: string | undefined, work: (file: string, target: string) => Promise<void>): Promise<number> {
  outputFolder(output)
  let failed = 0
  let skipped = 0
  const files = filesUnder(input, (path, what) => {
    skipped++
    console.error(`envelope: ${printable(path)}: ${what}, skipped`)
  })
  // Compared as real paths, however -i and -o were spelt.
  const inputDir = realpathSync(input)
  const outputDir = realpathSync(output)
  const sameTree = isWithin(outputDir, inputDir)
  const ownSuffix = suffix ?? APPENDED[command]
  let ownOutputs = 0
  const jobs: { file: string; target: string }[] = []
  for (const file of files) {
    if (sameTree && ownSuffix !== '' && basename(file).endsWith(ownSuffix) && isWithin(join(inputDir, relative(input, file)), outputDir)) {
      ownOutputs++
      console.error(`envelope: ${printable(file)}: an output of envelope ${command} in the output directory, skipped`)
      continue
    }
    jobs.push({ file, target: join(output, outputName(relative(input, file), command, suffix)) })
  }
  const inputsOf = new Map<string, string[]>()
  for (const { file, target } of jobs) inputsOf.set(target, [...(inputsOf.get(target) ?? []), file])
  for (const { file, target } of jobs) {
    const others = inputsOf.get(target)!.filter((other) => other !== file)
    if (others.length > 0) {
      failed++
      console.error(`envelope: ${printable(file)}: ${printable(others.join(', '))} would be written to the same output ${printable(target)}; neither is written (--suffix S appends S to each input name, which keeps them apart)`)
      continue
    }
    try {
      mkdirSync(dirname(target), { recursive: true })
      await work(file, target)
    } catch (error) {
      failed++
      console.error(failureLine(file, error, flagsOf(command)))
    }
  }
  if (skipped > 0) console.error(`envelope: ${skipped} ${skipped === 1 ? 'entry' : 'entries'} skipped (not regular files)`)
  if (ownOutputs > 0) console.error(`envelope: ${ownOutputs} ${ownOutputs === 1 ? 'file' : 'files'} skipped (outputs of envelope ${command})`)
  if (failed === 0) return 0
  console.error(`envelope: ${failed} of ${jobs.length} files failed`)
  return 1
}

/**
 * One line of JSON whose text is printable: JSON.stringify escapes C0 controls only, so DEL, C1,
 * bidi controls and line separators from a message's context are written as \uXXXX escapes too
 * (the same data, parsed back unchanged; spec/errors.md#printable-text).
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** One failed file of a -r run: its name and the error in the command's terms, printable (spec/errors.md#printable-text). */
export function failureLine(file: string, error: unknown, flags: ReadonlySet<string>): string {
  return `envelope: ${printable(file)}: ${errorText(error, flags)}`
}
