/**
 * `envelope encrypt` and `envelope decrypt`: files, directories (-r) or
 * stdin/stdout (`-`). Output goes to a temporary file renamed into place only
 * after the whole operation succeeded, so a failed decrypt leaves no partial
 * plaintext file behind.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { Readable, Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { nodeBackend } from '../crypto/node.js'
import { ALL_SUITES, createClient, isEnvelopeError, type Client, type CommitmentPolicy, type MessageHeader } from '../index.js'
import { printable } from '../errors.js'
import { KEY_SPEC_HELP, keyringFromSpecs } from './keyrings.js'
import { progressBar } from './progress.js'
import { CliFailure, UsageError } from './usage.js'

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
  if (output !== '-' && noOverwrite && existsSync(output)) throw new UsageError(`${output} exists and --no-overwrite is set`)
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
    const fd = openSync(temp, 'wx', 0o600)
    created = true
    return createWriteStream(temp, { fd })
  }
  try {
    await work(sink)
    if (temp) renameSync(temp, output)
  } catch (e) {
    if (temp && created) rmSync(temp, { force: true })
    throw e
  }
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
      const ciphertext = options.base64 ? Buffer.from(raw.toString('utf8').trim(), 'base64') : raw
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
export function parsePolicy(text: string | undefined): CommitmentPolicy | undefined {
  if (text === undefined) return undefined
  const policy = POLICIES.find((p) => p === text.toUpperCase().replaceAll('-', '_'))
  if (!policy) throw new UsageError(`--commitment-policy: unknown policy ${JSON.stringify(text)}; use ${POLICIES.map((p) => p.toLowerCase().replaceAll('_', '-')).join(', ')}`)
  return policy
}

export async function runCrypt(mode: 'encrypt' | 'decrypt', argv: string[]): Promise<number> {
  const { values, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    tokens: true,
    options: {
      input: { type: 'string', short: 'i' },
      output: { type: 'string', short: 'o' },
      'wrapping-keys': { type: 'string', short: 'w', multiple: true },
      'encryption-context': { type: 'string', short: 'c', multiple: true },
      recursive: { type: 'boolean', short: 'r' },
      suffix: { type: 'string' },
      'commitment-policy': { type: 'string' },
      'max-encrypted-data-keys': { type: 'string' },
      'metadata-output': { type: 'string' },
      'overwrite-metadata': { type: 'boolean' },
      'suppress-metadata': { type: 'boolean', short: 'S' },
      'no-overwrite': { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      algorithm: { type: 'string' },
      'frame-length': { type: 'string' },
      encode: { type: 'boolean' },
      'decrypt-unsigned': { type: 'boolean' },
      buffer: { type: 'boolean' },
      decode: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
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
  const modeOnly = mode === 'encrypt' ? ['decrypt-unsigned', 'buffer', 'decode'] : ['algorithm', 'frame-length', 'encode']
  for (const flag of modeOnly) if ((values as Record<string, unknown>)[flag] !== undefined) throw new UsageError(`--${flag} does not apply to ${mode}`)
  if (!values.input || !values.output) throw new UsageError('-i/--input and -o/--output are required')

  let client: Client
  try {
    client = createClient({
      commitmentPolicy: parsePolicy(values['commitment-policy']),
      maxEncryptedDataKeys: positiveInt(values['max-encrypted-data-keys'], '--max-encrypted-data-keys'),
    })
  } catch (e) {
    if (e instanceof UsageError) throw e
    throw new UsageError((e as Error).message)
  }
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
    frameLength: positiveInt(values['frame-length'], '--frame-length'),
    base64: Boolean(values.encode || values.decode),
    unsignedOnly: Boolean(values['decrypt-unsigned']),
    buffer: Boolean(values.buffer),
    noOverwrite: Boolean(values['no-overwrite']),
    progress: !values['no-progress'],
    metadata: metadataTarget
      ? (line) => (metadataTarget === '-' ? process.stdout.write(`${jsonLine(line)}\n`) : writeFileSync(metadataTarget, `${jsonLine(line)}\n`, { flag: 'a' }))
      : undefined,
  }
  const suffix = values.suffix ?? (mode === 'encrypt' ? '.encrypted' : '.decrypted')
  const { input, output } = values
  if (input !== '-' && !existsSync(input)) throw new CliFailure(`input ${input}: no such file or directory`)
  if (input !== '-' && statSync(input).isDirectory()) {
    if (!values.recursive) throw new UsageError(`${input} is a directory: add -r`)
    if (output === '-') throw new UsageError('a directory cannot be written to stdout')
    return forEachFile(input, output, suffix, (file, target) => processOne(options, file, target))
  }
  const target = output !== '-' && existsSync(output) && statSync(output).isDirectory() ? join(output, `${basename(input === '-' ? 'stdin' : input)}${suffix}`) : output
  await processOne(options, input, target)
  return 0
}

/**
 * Runs `work` for every file under `input`, to the same relative path under
 * `output` plus `suffix`. A file that fails is reported by name and the others
 * go on, as aws-encryption-cli does; the exit code says some failed.
 */
export async function forEachFile(input: string, output: string, suffix: string, work: (file: string, target: string) => Promise<void>): Promise<number> {
  let failed = 0
  let total = 0
  let skipped = 0
  const files = filesUnder(input, (path, what) => {
    skipped++
    console.error(`envelope: ${printable(path)}: ${what}, skipped`)
  })
  for (const file of files) {
    total++
    const target = join(output, `${relative(input, file)}${suffix}`)
    try {
      mkdirSync(dirname(target), { recursive: true })
      await work(file, target)
    } catch (error) {
      failed++
      console.error(failureLine(file, error))
    }
  }
  if (skipped > 0) console.error(`envelope: ${skipped} ${skipped === 1 ? 'entry' : 'entries'} skipped (not regular files)`)
  if (failed === 0) return 0
  console.error(`envelope: ${failed} of ${total} files failed`)
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

/** One failed file of a -r run: its name and the error's code and message, printable (spec/errors.md#printable-text). */
export function failureLine(file: string, error: unknown): string {
  const text = isEnvelopeError(error) ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error)
  return `envelope: ${printable(file)}: ${text.split('\n').map(printable).join('\n')}`
}
