/**
 * Terminal and log injection (issue 14 item 8): names a message carries (provider
 * ids, key names, KMS ARNs, the KMS endpoint's answers about them) reach error
 * messages, `NoMatchingKeyError.attempts` and the CLI's stderr only in printable
 * form: no C0/C1 control, DEL, line separator or bidi control, so a message
 * cannot clear a line, retitle a terminal or forge a "decrypted OK" line.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { jsonLine } from '../../src/cli/crypt.js'
import { vectorProgress } from '../../src/cli/progress.js'
import { printable } from '../../src/errors.js'
import {
  createClient,
  KmsDiscoveryKeyring,
  KmsMrkDiscoveryKeyring,
  MultiKeyring,
  NoMatchingKeyError,
  RawAesKeyring,
  RequiredEncryptionContextCmm,
  type Keyring,
} from '../../src/index.js'
import { withEncryptedDataKey } from '../../src/materials/materials.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'

/** Everything the escaping must remove; the listing's own line breaks are checked separately. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

const EVIL_NAMESPACE = 'ns\x1b[2K\r\x07\nenvelope: decrypted OK'
const EVIL_KEY_NAME = 'key\x1b]0;pwned\x07\r\n\u202eKO detpyrced\u2028\x9b31m\x7f\u2066'
const EVIL_ARN = 'arn:aws:kms:us-west-2:111122223333:key/\x1b[1A\x1b[2K\rdecrypted OK\n\x07'
const EVIL_REGION_ARN = 'arn:aws:kms:us-east-1\x1b[31m\r:111122223333:key/1234abcd-0000-0000-0000-000000000000'

const local = useLocalKms({ keys: [{ id: 'key-a', regions: ['us-west-2'] }] })
const client = createClient()

/** Adds aws-kms EDKs naming hostile ARNs, as an attacker writing the header by hand would. */
const forger: Keyring = {
  async onEncrypt(materials) {
    let result = materials
    for (const arn of [EVIL_ARN, EVIL_REGION_ARN]) {
      result = withEncryptedDataKey(result, { providerId: 'aws-kms', providerInfo: new TextEncoder().encode(arn), ciphertext: randomBytes(64) })
    }
    return result
  },
  async onDecrypt() {
    throw new Error('custom keyring says\x1b[2K\r\nenvelope: decrypted OK')
  },
}

async function hostileMessage(): Promise<Uint8Array> {
  const generator = new RawAesKeyring({ keyNamespace: EVIL_NAMESPACE, keyName: EVIL_KEY_NAME, wrappingKey: randomBytes(32) })
  return (await client.encrypt(new MultiKeyring({ generator, children: [forger] }), 'secret')).ciphertext
}

/** Every string reachable from `value`: fields, error messages and names, causes. */
function stringsIn(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value !== 'object' || value === null || seen.has(value)) return []
  seen.add(value)
  const out: string[] = []
  if (value instanceof Error) out.push(value.name, value.message, ...stringsIn(value.cause, seen))
  for (const v of Object.values(value)) out.push(...stringsIn(v, seen))
  return out
}

describe('printable', () => {
  it('escapes C0, DEL, C1, separators and bidi controls, and nothing else', () => {
    expect(printable('a\x00b\x07c\x1bd\re\nf\x7fg\x85h\x9bi')).toBe('a\\x00b\\x07c\\x1bd\\x0de\\x0af\\x7fg\\x85h\\x9bi')
    expect(printable('\u2028\u2029\u202a\u202e\u2066\u2069\u200e\u200f\u061c')).toBe('\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069\\u200e\\u200f\\u061c')
    const plain = 'arn:aws:kms:us-west-2:111122223333:key/k é 鍵 🔑 \\x1b "quoted" ~ \u00a0'
    expect(printable(plain)).toBe(plain)
  })

  it('is idempotent, so a string escaped at its source is not escaped again at the sink', () => {
    const once = printable(EVIL_KEY_NAME)
    expect(printable(once)).toBe(once)
    expect(once).not.toMatch(CONTROL)
  })
})

describe('a hostile message decrypted with keyrings that do not match', () => {
  it('gives a NoMatchingKeyError whose message and attempts hold no control character', async () => {
    const ciphertext = await hostileMessage()
    const keyring = new MultiKeyring({
      children: [
        new RawAesKeyring({ keyNamespace: 'other', keyName: 'k', wrappingKey: randomBytes(32) }),
        new RawAesKeyring({ keyNamespace: EVIL_NAMESPACE, keyName: 'not-the-key', wrappingKey: randomBytes(32) }),
        new KmsDiscoveryKeyring({ clientProvider: localProvider(local(), { maxAttempts: 1 }) }),
        new KmsMrkDiscoveryKeyring({ region: 'us-west-2', clientProvider: localProvider(local(), { maxAttempts: 1 }) }),
        forger,
      ],
    })
    const err = await client.decrypt(keyring, ciphertext).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    const { message, attempts } = err as NoMatchingKeyError

    // The message: only the listing's own line breaks, one line per attempt, nothing forged.
    expect(message).not.toMatch(CONTROL_BUT_LF)
    const lines = message.split('\n')
    expect(lines).toHaveLength(attempts.length + 1)
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}- /)

    // The attempts, their causes included (a KmsError names the hostile ARN); the custom
    // keyring's own error object is its author's and is kept as thrown, but its reason is escaped.
    for (const s of stringsIn(attempts.map((a) => (a.keyring === 'Object' ? { ...a, cause: undefined } : a)))) expect(s).not.toMatch(CONTROL)
    expect(attempts.map((a) => a.providerId)).toContain(printable(EVIL_NAMESPACE))
    expect(attempts.map((a) => a.keyName)).toContain(printable(EVIL_KEY_NAME))
    expect(attempts.map((a) => a.keyName)).toContain(printable(EVIL_ARN))
    const kmsCall = attempts.find((a) => a.keyring === 'KmsDiscoveryKeyring' && a.keyName === printable(EVIL_ARN))
    expect(kmsCall?.reason).toMatch(/^InvalidCiphertextException: /)
    expect(kmsCall?.cause).toMatchObject({ code: 'ERR_KMS', keyId: printable(EVIL_ARN) })
    expect(attempts.find((a) => a.keyName === printable(EVIL_REGION_ARN) && a.keyring === 'KmsMrkDiscoveryKeyring')?.reason).toContain('us-east-1\\x1b[31m\\x0d')
    expect(attempts.find((a) => a.keyring === 'Object')?.reason).toContain('says\\x1b[2K\\x0d\\x0aenvelope')
  })

  it('escapes a NoMatchingKeyError built by a custom keyring from raw names', () => {
    const err = new NoMatchingKeyError([{ keyring: 'Mine\x1b[2K', providerId: EVIL_NAMESPACE, keyName: EVIL_KEY_NAME, reason: 'no\r\nOK' }], 'summary\x07')
    expect(err.message).not.toMatch(CONTROL_BUT_LF)
    expect(err.message.split('\n')).toHaveLength(2)
    for (const s of stringsIn(err.attempts)) expect(s).not.toMatch(CONTROL)
  })
})

describe('the CLI', () => {
  const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

  function envelope(cwd: string, args: string[]) {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, maxBuffer: 64 << 20 })
    return { code: r.status, stderr: r.stderr.toString('utf8') }
  }

  it('prints a hostile message\'s names escaped on stderr', async () => {
    expect(existsSync(bin), 'run npm run build first').toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    writeFileSync(join(dir, 'k.key'), randomBytes(32))
    writeFileSync(join(dir, 'evil.enc'), await hostileMessage())
    const r = envelope(dir, ['decrypt', '-i', 'evil.enc', '-o', 'out', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('ERR_NO_MATCHING_KEY')
    expect(r.stderr).toContain(printable(EVIL_NAMESPACE))
    expect(r.stderr).not.toMatch(CONTROL_BUT_LF)
    for (const line of r.stderr.trimEnd().split('\n').slice(1)) expect(line).toMatch(/^ {2}- /)
  })

  it('escapes a hostile file name found while recursing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    writeFileSync(join(dir, 'k.key'), randomBytes(32))
    const evil = 'a\x1b]0;pwned\x07\rb.txt'
    mkdirSync(join(dir, 'in'))
    writeFileSync(join(dir, 'in', evil), 'x')
    mkdirSync(join(dir, 'out'))
    writeFileSync(join(dir, 'out', `${evil}.encrypted`), 'already here')
    const r = envelope(dir, ['encrypt', '-r', '--no-overwrite', '-i', 'in', '-o', 'out', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('a\\x1b]0;pwned\\x07\\x0db.txt')
    expect(r.stderr).not.toMatch(CONTROL_BUT_LF)
  })

  it('writes --metadata-output JSON whose text has no control, bidi or separator character, and parses back to the same context', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    const key = randomBytes(32)
    writeFileSync(join(dir, 'k.key'), key)
    const context = { [EVIL_KEY_NAME]: EVIL_NAMESPACE, plain: 'v' }
    const keyring = new RawAesKeyring({ keyNamespace: 'cli', keyName: 'k', wrappingKey: key })
    writeFileSync(join(dir, 'm.enc'), (await client.encrypt(keyring, 'x', { encryptionContext: context })).ciphertext)
    const r = spawnSync(process.execPath, [bin, 'decrypt', '-i', 'm.enc', '-o', 'out', '--metadata-output', '-', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`], { cwd: dir })
    const stdout = r.stdout.toString('utf8')
    expect(r.status).toBe(0)
    expect(stdout.trimEnd().split('\n')).toHaveLength(1)
    expect(stdout.trimEnd()).not.toMatch(CONTROL)
    expect(JSON.stringify(JSON.parse(stdout))).toContain(JSON.stringify(EVIL_KEY_NAME).slice(1, -1))
    expect(JSON.parse(jsonLine(context))).toEqual(context)
  })

  it('prints vector results from a hostile manifest on one escaped line each', () => {
    const printed: string[] = []
    const progress = vectorProgress({ isTTY: false, write: () => true })
    progress.start(1)
    progress.result({ id: 'test\x1b[2K\r', status: 'failed', reason: 'bad\nenvelope: 1 passed' }, (line) => printed.push(line))
    expect(printed).toEqual(['failed test\\x1b[2K\\x0d: bad\\x0aenvelope: 1 passed'])
  })
})

describe('caller-supplied context keys in errors (a service may pass request data through as context)', () => {
  const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: randomBytes(32) })
  const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error)

  it('every error that names a context key the caller gave is printable', async () => {
    const evil = EVIL_KEY_NAME
    const { ciphertext } = await client.encrypt(keyring, 'x', { encryptionContext: { stored: 'v' } })
    const required = new RequiredEncryptionContextCmm({ keyring, requiredEncryptionContextKeys: [evil] })
    const errors = [
      await errorOf(client.encrypt(required, 'x', { encryptionContext: { other: 'v' } })),
      await errorOf(client.decrypt(required, ciphertext)),
      await errorOf(client.decrypt(keyring, ciphertext, { encryptionContext: { [evil]: 'v' } })),
      await errorOf(client.decrypt(keyring, ciphertext, { encryptionContext: { [evil]: 1 as unknown as string } })),
      await errorOf(client.encrypt(keyring, 'x', { encryptionContext: { [`aws-crypto-${evil}`]: 'v' } })),
      await errorOf(client.encrypt(keyring, 'x', { encryptionContext: { [evil]: 1 as unknown as string } })),
    ]
    for (const e of errors) {
      expect(e).toBeInstanceOf(Error)
      expect(e!.message).not.toMatch(CONTROL)
      // ESC shows escaped, as JSON's \u001b or printable()'s \x1b.
      expect(e!.message).toMatch(/\\(u001b|x1b)/)
    }
  })
})
