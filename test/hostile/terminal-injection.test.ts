/**
 * Terminal and log injection (issue 14 item 8): names a message carries (provider
 * ids, key names, KMS ARNs, the KMS endpoint's answers about them) reach error
 * messages, `NoMatchingKeyError.attempts` and the CLI's stderr only in printable
 * form: no C0/C1 control, DEL, line separator or bidi control, so a message
 * cannot clear a line, retitle a terminal or forge a "decrypted OK" line.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
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
} from '../../src/index.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'
import { CONTROL, CONTROL_BUT_LF, EVIL_ARN, EVIL_KEY_NAME, EVIL_NAMESPACE, EVIL_REGION_ARN, forger, hostileMessage } from './injection.js'

const local = useLocalKms({ keys: [{ id: 'key-a', regions: ['us-west-2'] }] })
const client = createClient()

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

describe('the CLI\'s vector progress', () => {
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
