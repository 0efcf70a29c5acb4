/**
 * `envelope inspect FILE...`: what each message's header says, without a key
 * (spec/rewrap.md#inspect). Reads only the header bytes; one line per file
 * (directories: every file under them). Nothing printed is authenticated.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { inspectMessage, isEnvelopeError, MalformedMessageError, type MessageInfo } from '../index.js'
import { printable } from '../errors.js'
import { failureLine, filesUnder, jsonLine, maxEncryptedDataKeys as maxEdks } from './crypt.js'
import { flagsOf, INSPECT_OPTIONS } from './flags.js'
import { CliFailure, UsageError } from './usage.js'
import { inCliTerms } from './words.js'

export const INSPECT_HELP = `usage: envelope inspect [options] FILE|DIR|- ...

Prints each message's header: version, suite, message id, content type and
frame length, encryption context, and the encrypted data keys with the key
names they record. Needs no key and authenticates nothing: anyone can write
these fields. Directories: one line per file under them; - reads stdin.

      --json                      one JSON line per file
      --max-encrypted-data-keys N as decrypt (default 64)
  -h, --help`

const FIRST_READ = 4096

/** The header of `file`: reads more only while the parser asks for more, up to its size limit. */
function inspectFile(file: string, maxEncryptedDataKeys: number | undefined): MessageInfo {
  const fd = openSync(file, 'r')
  try {
    const size = statSync(file).size
    let bytes = new Uint8Array(Math.min(size, FIRST_READ))
    for (;;) {
      readSync(fd, bytes, 0, bytes.length, 0)
      const result = inspectMessage(bytes, { maxEncryptedDataKeys })
      if (result.complete) return result
      if (bytes.length === size) {
        throw new MalformedMessageError(`the file ends inside the message header (${size} bytes; the header needs at least ${result.needed})`, { code: 'ERR_TRUNCATED' })
      }
      bytes = new Uint8Array(Math.min(size, Math.max(result.needed, bytes.length * 2)))
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * The header of the message on stdin: reads only until the parser has the whole header (its size
 * limit bounds what is held), so a large message is not read to its end.
 */
async function inspectStdin(maxEncryptedDataKeys: number | undefined): Promise<MessageInfo> {
  let bytes: Buffer = Buffer.alloc(0)
  for await (const chunk of process.stdin) {
    bytes = Buffer.concat([bytes, chunk as Buffer])
    const result = inspectMessage(bytes, { maxEncryptedDataKeys })
    if (result.complete) {
      process.stdin.destroy()
      return result
    }
  }
  const result = inspectMessage(bytes, { maxEncryptedDataKeys })
  if (result.complete) return result
  throw new MalformedMessageError(`stdin ends inside the message header (${bytes.length} bytes; the header needs at least ${result.needed})`, { code: 'ERR_TRUNCATED' })
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

function textLine(file: string, info: MessageInfo): string {
  const body = info.contentType === 2 ? `framed ${info.frameLength}` : 'non-framed'
  const keys = info.encryptedDataKeys.map((k) => `${k.providerId} ${k.keyNameKind ? `${k.keyNameKind}=${JSON.stringify(k.keyName)}` : `info=0x${hex(k.providerInfo)}`} (${k.length} B)`)
  const parts = [
    `v${info.version}`,
    `${info.suiteName} (0x${info.suiteId.toString(16).padStart(4, '0')})`,
    `id ${hex(info.messageId)}`,
    body,
    `header ${info.headerLength} B`,
    `context ${JSON.stringify(info.encryptionContext)}`,
    `keys: ${keys.join(', ')}`,
    'unauthenticated',
  ]
  return printable(`${file}: ${parts.join('; ')}`)
}

function jsonOf(file: string, info: MessageInfo): object {
  return {
    file,
    ...info,
    messageId: Buffer.from(info.messageId).toString('base64'),
    encryptedDataKeys: info.encryptedDataKeys.map((k) => ({ ...k, providerInfo: Buffer.from(k.providerInfo).toString('base64') })),
  }
}

export async function runInspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: INSPECT_OPTIONS })
  if (values.help) {
    console.log(INSPECT_HELP)
    return 0
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or directory')
  const maxEncryptedDataKeys = maxEdks(values['max-encrypted-data-keys'])
  const flags = flagsOf('inspect')
  let failed = 0
  if (positionals.filter((path) => path === '-').length > 1) throw new UsageError('- (stdin) can be named once')
  for (const path of positionals) {
    let files: string[]
    try {
      files = path === '-' ? [path] : statSync(path).isDirectory() ? filesUnder(path, (skippedPath, what) => console.error(`envelope: ${printable(skippedPath)}: ${what}, skipped`)) : [path]
    } catch {
      throw new CliFailure(`input ${path}: no such file or directory`)
    }
    for (const file of files) {
      try {
        const info = file === '-' ? await inspectStdin(maxEncryptedDataKeys) : inspectFile(file, maxEncryptedDataKeys)
        console.log(values.json ? jsonLine(jsonOf(file, info)) : textLine(file, info))
      } catch (error) {
        if (!isEnvelopeError(error)) throw error
        failed++
        if (values.json) console.log(jsonLine({ file, error: { code: error.code, message: inCliTerms(error.message, flags) } }))
        else console.error(failureLine(file, error, flags))
      }
    }
  }
  return failed === 0 ? 0 : 1
}
