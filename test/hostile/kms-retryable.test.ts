/**
 * NoMatchingKeyError.retryable (issue 14 item 18): a decrypt that failed only
 * because KMS throttled, answered 5xx, timed out or could not be reached says
 * so, and each attempt carries its cause; a wrong key, a refused key or a raw
 * keyring that does not match is not retryable. Faults come from the local KMS
 * server through the real @aws-sdk/client-kms (nothing stubs client.send);
 * clients make one attempt each so every injected fault is seen.
 */
import { KMSClient } from '@aws-sdk/client-kms'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createClient, KmsError, KmsKeyring, MultiKeyring, NoMatchingKeyError, RawAesKeyring, type KmsClientProvider } from '../../src/index.js'
import { useLocalKms } from '../support/local-kms.js'

const REGION = 'us-west-2'
const local = useLocalKms({
  keys: [
    ...['key-a', 'key-b', 'key-c'].map((id) => ({ id, regions: [REGION] })),
    // Encrypts, but the caller may not decrypt with it: KMS answers AccessDeniedException.
    { id: 'key-no-decrypt', regions: [REGION], operations: ['Encrypt', 'GenerateDataKey'] as const },
  ],
})
const arn = (id: string) => `arn:aws:kms:${REGION}:111122223333:key/${id}`
const client = createClient()
// Generous against a loaded machine: only the injected latency may exceed the timeout.
const TIMEOUT_MS = 1000
const SLOW_MS = 3000

function provider(config: Record<string, unknown> = {}): KmsClientProvider {
  const kms = new KMSClient({ ...local().clientConfig(), maxAttempts: 1, requestHandler: { requestTimeout: TIMEOUT_MS, throwOnRequestTimeout: true }, ...config })
  return () => kms
}

async function messageFor(...ids: string[]): Promise<Uint8Array> {
  const [generator, ...rest] = ids.map(arn)
  return (await client.encrypt(new KmsKeyring({ generatorKeyId: generator, keyIds: rest, clientProvider: provider() }), 'payload')).ciphertext
}

async function decryptError(keyring: KmsKeyring | MultiKeyring, ciphertext: Uint8Array): Promise<NoMatchingKeyError> {
  const err = await client.decrypt(keyring, ciphertext).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(NoMatchingKeyError)
  return err as NoMatchingKeyError
}

/** The attempt's cause is the KmsError: named, classified, and slim (no HTTP response, no request payload). */
function expectKmsCause(cause: unknown, kmsErrorName: string, retryable: boolean): void {
  expect(cause).toBeInstanceOf(KmsError)
  expect(cause).toMatchObject({ kmsErrorName, retryable })
  const inner = (cause as KmsError).cause as Record<string, unknown>
  expect(Object.keys(inner).sort()).toEqual(['httpStatusCode', 'name'])
}

describe('NoMatchingKeyError.retryable under injected KMS faults', () => {
  it('is true when every key tried was throttled, answered 5xx or timed out', async () => {
    const kms = local()
    const ciphertext = await messageFor('key-a', 'key-b', 'key-c')
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-b', kind: 'internal' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-c', kind: 'latency', delayMs: SLOW_MS })
    const keyring = new KmsKeyring({ keyIds: ['key-a', 'key-b', 'key-c'].map(arn), clientProvider: provider() })
    const err = await decryptError(keyring, ciphertext)
    expect(err.retryable).toBe(true)
    expect(err.code).toBe('ERR_NO_MATCHING_KEY')
    expect(err.attempts.map((a) => [a.keyName, a.retryable, a.skipped])).toEqual(['key-a', 'key-b', 'key-c'].map((id) => [arn(id), true, false]))
    expectKmsCause(err.attempts[0]!.cause, 'ThrottlingException', true)
    expectKmsCause(err.attempts[1]!.cause, 'KMSInternalException', true)
    expectKmsCause(err.attempts[2]!.cause, 'TimeoutError', true)
    // The faults were transient: the same call succeeds now.
    expect(new TextDecoder().decode((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('payload')
  })

  it('stays true when the other keys were never this keyring\'s to try (skipped), also through a MultiKeyring', async () => {
    const kms = local()
    const ciphertext = await messageFor('key-a', 'key-b')
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    const keyring = new MultiKeyring({
      children: [
        new RawAesKeyring({ keyNamespace: 'backup', keyName: 'k', wrappingKey: randomBytes(32) }),
        new KmsKeyring({ keyIds: [arn('key-a')], clientProvider: provider() }),
      ],
    })
    const err = await decryptError(keyring, ciphertext)
    expect(err.attempts.map((a) => [a.keyring, a.skipped, a.retryable])).toEqual([
      ['RawAesKeyring', true, false],
      ['RawAesKeyring', true, false],
      ['KmsKeyring', false, true],
      ['KmsKeyring', true, false],
    ])
    expect(err.retryable).toBe(true)
  })

  it('is false when a throttled key is mixed with a key KMS refused (AccessDenied) or a wrong key', async () => {
    const kms = local()
    const ciphertext = await messageFor('key-a', 'key-no-decrypt')
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    const keyring = new KmsKeyring({ keyIds: [arn('key-a'), arn('key-no-decrypt')], clientProvider: provider() })
    const denied = await decryptError(keyring, ciphertext)
    expect(denied.retryable).toBe(false)
    expectKmsCause(denied.attempts[0]!.cause, 'ThrottlingException', true)
    expectKmsCause(denied.attempts[1]!.cause, 'AccessDeniedException', false)
    expect(denied.attempts[1]!.retryable).toBe(false)

    // Each key asked to decrypt the other's blob: KMS answers IncorrectKeyException for key-b.
    const other = await messageFor('key-a', 'key-b')
    const swapped = swapEdkCiphertexts(other)
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    const invalid = await decryptError(new KmsKeyring({ keyIds: [arn('key-a'), arn('key-b')], clientProvider: provider() }), swapped)
    expect(invalid.attempts.map((a) => a.reason)).toEqual([expect.stringContaining('ThrottlingException'), expect.stringContaining('IncorrectKeyException')])
    expect(invalid.retryable).toBe(false)
  })

  it('stays a retryable NoMatchingKeyError when the decrypt also reproduced pairs the message does not store', async () => {
    const kms = local()
    const ciphertext = await messageFor('key-a')
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    const keyring = new KmsKeyring({ keyIds: [arn('key-a')], clientProvider: provider() })
    // Without the throttle this would be ERR_CONTEXT_MISMATCH (the pair is not stored); a transient failure must stay visible as such.
    const err = await client.decrypt(keyring, ciphertext, { encryptionContext: { unstored: 'pair' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect((err as NoMatchingKeyError).retryable).toBe(true)
    const later = await client.decrypt(keyring, ciphertext, { encryptionContext: { unstored: 'pair' } }).catch((e: unknown) => e)
    expect(later).toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
  })

  it('is true when KMS cannot be reached (connection refused)', async () => {
    const ciphertext = await messageFor('key-a')
    const port = await closedPort()
    const keyring = new KmsKeyring({ keyIds: [arn('key-a')], clientProvider: provider({ endpoint: `http://127.0.0.1:${port}` }) })
    const err = await decryptError(keyring, ciphertext)
    expect(err.attempts[0]!.reason).toContain('ECONNREFUSED')
    expect(err.attempts[0]!.cause).toMatchObject({ retryable: true })
    expect(err.retryable).toBe(true)
  })

  it('is false when the caller aborted the call', async () => {
    const ciphertext = await messageFor('key-a')
    const controller = new AbortController()
    controller.abort()
    const keyring = new KmsKeyring({ keyIds: [arn('key-a')], clientProvider: provider(), abortSignal: controller.signal })
    const err = await decryptError(keyring, ciphertext)
    expectKmsCause(err.attempts[0]!.cause, 'AbortError', false)
    expect(err.retryable).toBe(false)
  })

  it('every failure of 64 concurrent decrypts under a burst of throttling and 5xx is retryable, and a retry succeeds', async () => {
    const kms = local()
    // No request timeout here: 64 requests in flight on a shared machine must not time out on their own.
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-a'), clientProvider: provider({ requestHandler: {} }) })
    const messages = await Promise.all(Array.from({ length: 64 }, async () => (await client.encrypt(keyring, 'payload')).ciphertext))
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', kind: 'throttle', times: 20 })
    kms.addFault({ operation: 'Decrypt', kind: 'internal', times: 10 })
    const outcomes = await Promise.all(messages.map((m) => client.decrypt(keyring, m).then(() => undefined, (e: unknown) => e)))
    const failures = outcomes.filter((e) => e !== undefined)
    expect(failures).toHaveLength(30)
    for (const e of failures) expect(e).toMatchObject({ code: 'ERR_NO_MATCHING_KEY', retryable: true })
    const retried = await Promise.all(messages.filter((_, i) => outcomes[i] !== undefined).map((m) => client.decrypt(keyring, m)))
    expect(retried.every((r) => new TextDecoder().decode(r.plaintext) === 'payload')).toBe(true)
  })
})

describe('NoMatchingKeyError.retryable without KMS', () => {
  it('is false when a raw keyring does not match', async () => {
    const wrapping = randomBytes(32)
    const writer = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k1', wrappingKey: wrapping })
    const { ciphertext } = await client.encrypt(writer, 'x')
    for (const reader of [
      new RawAesKeyring({ keyNamespace: 'other', keyName: 'k1', wrappingKey: wrapping }),
      new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k2', wrappingKey: wrapping }),
      new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k1', wrappingKey: randomBytes(32) }),
    ]) {
      const err = await client.decrypt(reader, ciphertext).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_KEY', retryable: false })
    }
  })

  it('is false for an empty attempt list and for attempts built without the new fields', () => {
    expect(new NoMatchingKeyError([]).retryable).toBe(false)
    expect(new NoMatchingKeyError([{ keyring: 'Custom', providerId: 'p', keyName: 'k', reason: 'throttled' }]).retryable).toBe(false)
    expect(new NoMatchingKeyError([{ keyring: 'Custom', providerId: 'p', keyName: 'k', reason: 'throttled', retryable: true }]).retryable).toBe(true)
  })
})

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/**
 * The message with its two aws-kms EDKs' ciphertexts exchanged (same lengths):
 * each key is then asked to decrypt the other's blob, which KMS rejects.
 */
function swapEdkCiphertexts(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message)
  const view = new DataView(out.buffer)
  // v2 header: version, suite (2), message id (32), AAD length (2) + AAD, EDK count (2).
  let o = 1 + 2 + 32
  o += 2 + view.getUint16(o)
  const count = view.getUint16(o)
  o += 2
  const blobs: { start: number; length: number }[] = []
  for (let i = 0; i < count; i++) {
    for (let field = 0; field < 3; field++) {
      const length = view.getUint16(o)
      if (field === 2) blobs.push({ start: o + 2, length })
      o += 2 + length
    }
  }
  const [a, b] = blobs as [{ start: number; length: number }, { start: number; length: number }]
  expect(a.length).toBe(b.length)
  const first = out.slice(a.start, a.start + a.length)
  out.copyWithin(a.start, b.start, b.start + b.length)
  out.set(first, b.start)
  return out
}
