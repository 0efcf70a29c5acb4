/**
 * KMS faults through the local KMS server and the real @aws-sdk/client-kms:
 * throttling, 5xx, a response slower than the client's timeout, and requests
 * aborted by the caller.
 * - Encrypt: no message is produced (one-shot rejects; a stream emits no byte),
 *   and the error is a KmsError naming the key and whether a retry may help.
 * - Decrypt: a failing key is not the end; the keyring falls through to the
 *   message's other encrypted data keys, and when all fail the
 *   NoMatchingKeyError lists every ARN with its own error.
 * Clients are built with maxAttempts 1 so each injected fault is seen once
 * (SDK retries are covered in test/kms/kms.test.ts).
 */
import { KMSClient } from '@aws-sdk/client-kms'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { createClient, KmsError, KmsKeyring, MultiKeyring, NoMatchingKeyError, type KmsClientLike } from '../../src/index.js'
import { useLocalKms } from '../support/local-kms.js'

const REGION = 'us-west-2'
const local = useLocalKms({ keys: ['key-a', 'key-b', 'key-c', 'key-d'].map((id) => ({ id, regions: [REGION] })) })
const arn = (id: string) => `arn:aws:kms:${REGION}:111122223333:key/${id}`
const client = createClient()
const TIMEOUT_MS = 250
const SLOW_MS = 1500
const text = (b: Uint8Array) => new TextDecoder().decode(b)

/**
 * One real KMSClient, no retries, a request timeout well under the injected latency.
 * Recent SDK handlers only log a warning on requestTimeout unless throwOnRequestTimeout is set.
 */
function provider(): () => KmsClientLike {
  const kms = new KMSClient({ ...local().clientConfig(), maxAttempts: 1, requestHandler: { requestTimeout: TIMEOUT_MS, throwOnRequestTimeout: true } })
  return () => kms
}

async function encryptViaStream(keyring: KmsKeyring): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0
  const error = await pipeline(Readable.from(['never written']), client.encryptStream(keyring), async function* (source) {
    for await (const chunk of source) bytes += (chunk as Uint8Array).length
    yield
  }).then(
    () => undefined,
    (e: unknown) => e,
  )
  return { bytes, error }
}

describe('encrypt: a KMS fault produces no message and a typed KmsError', () => {
  it.each([
    ['throttling on GenerateDataKey', { operation: 'GenerateDataKey', kind: 'throttle' }, 'ThrottlingException', true],
    ['5xx on GenerateDataKey', { operation: 'GenerateDataKey', kind: 'internal' }, 'KMSInternalException', true],
    ['5xx on Encrypt for the second key', { operation: 'Encrypt', kind: 'internal' }, 'KMSInternalException', true],
    // TimeoutError, not the late answer (which would have succeeded): the client's timeout ended the call.
    ['a response slower than the client timeout', { operation: 'GenerateDataKey', kind: 'latency', delayMs: SLOW_MS }, 'TimeoutError', true],
  ] as const)('%s', async (_label, fault, name, retryable) => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-a'), keyIds: [arn('key-b')], clientProvider: provider() })
    for (const via of ['one-shot', 'stream'] as const) {
      kms.clearFaults()
      kms.addFault({ ...fault })
      const { bytes, error } = via === 'stream' ? await encryptViaStream(keyring) : { bytes: 0, error: await client.encrypt(keyring, 'never written').catch((e) => e) }
      expect(error, via).toBeInstanceOf(KmsError)
      expect(error, via).toMatchObject({ code: 'ERR_KMS', kmsErrorName: name, retryable })
      expect((error as KmsError).keyId).toBe(fault.operation === 'Encrypt' ? arn('key-b') : arn('key-a'))
      expect(bytes, `${via}: bytes emitted`).toBe(0)
    }
    // Faults were one-shot: the same keyring works again.
    expect(text((await client.decrypt(keyring, (await client.encrypt(keyring, 'fine')).ciphertext)).plaintext)).toBe('fine')
  })

  it('an aborted request fails fast with a KmsError and writes nothing', async () => {
    const kms = local()
    for (const via of ['one-shot', 'stream'] as const) {
      kms.clearFaults()
      kms.addFault({ operation: 'GenerateDataKey', kind: 'latency', delayMs: SLOW_MS })
      const controller = new AbortController()
      // Aborted as the request goes out, not after a fixed delay: on a loaded machine a timer could fire
      // before the call starts, or the late answer of the other iteration's request could take this fault.
      const kmsClient = provider()()
      ;(kmsClient as KMSClient).middlewareStack.add(
        (next) => (args) => {
          const sent = next(args)
          controller.abort()
          return sent
        },
        { step: 'finalizeRequest', priority: 'low' },
      )
      const keyring = new KmsKeyring({ generatorKeyId: arn('key-a'), clientProvider: () => kmsClient, abortSignal: controller.signal })
      const { bytes, error } = via === 'stream' ? await encryptViaStream(keyring) : { bytes: 0, error: await client.encrypt(keyring, 'never written').catch((e) => e) }
      expect(error, via).toBeInstanceOf(KmsError)
      // AbortError, not the late answer (which would have succeeded): the abort ended the call.
      expect((error as KmsError).kmsErrorName).toBe('AbortError')
      expect(bytes).toBe(0)
    }
    // A request aborted before it left never took its fault; the next test must not get it.
    kms.clearFaults()
  })
})

describe('decrypt: faults fall through to the other encrypted data keys', () => {
  async function fourKeyMessage() {
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-a'), keyIds: [arn('key-b'), arn('key-c'), arn('key-d')], clientProvider: provider() })
    return (await client.encrypt(keyring, 'four keys')).ciphertext
  }

  it('throttled, 5xx and timed-out keys are skipped; the fourth key decrypts', async () => {
    const kms = local()
    const ciphertext = await fourKeyMessage()
    kms.clearFaults()
    kms.resetCalls()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-b', kind: 'internal' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-c', kind: 'latency', delayMs: SLOW_MS })
    const keyring = new KmsKeyring({ keyIds: [arn('key-a'), arn('key-b'), arn('key-c'), arn('key-d')], clientProvider: provider() })
    expect(text((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('four keys')
    // Each key was tried once, in order (key-c's call is logged by the server only when its delay ends).
    for (const id of ['key-a', 'key-b', 'key-d']) expect(kms.countCalls({ operation: 'Decrypt', keyArn: arn(id) }), id).toBe(1)
  })

  it('when every key fails, one NoMatchingKeyError lists each ARN with its own error', async () => {
    const kms = local()
    const ciphertext = await fourKeyMessage()
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-b', kind: 'internal' })
    kms.addFault({ operation: 'Decrypt', keyId: 'key-c', kind: 'latency', delayMs: SLOW_MS })
    kms.setEnabled(arn('key-d'), false)
    try {
      const keyring = new KmsKeyring({ keyIds: [arn('key-a'), arn('key-b'), arn('key-c'), arn('key-d')], clientProvider: provider() })
      const err = await client.decrypt(keyring, ciphertext).catch((e) => e)
      expect(err).toBeInstanceOf(NoMatchingKeyError)
      expect(err.attempts).toEqual([
        expect.objectContaining({ providerId: 'aws-kms', keyName: arn('key-a'), reason: expect.stringContaining('ThrottlingException') }),
        expect.objectContaining({ providerId: 'aws-kms', keyName: arn('key-b'), reason: expect.stringContaining('KMSInternalException') }),
        expect.objectContaining({ providerId: 'aws-kms', keyName: arn('key-c'), reason: expect.stringContaining('TimeoutError') }),
        expect.objectContaining({ providerId: 'aws-kms', keyName: arn('key-d'), reason: expect.stringContaining('DisabledException') }),
      ])
      for (const id of ['key-a', 'key-b', 'key-c', 'key-d']) expect(err.message).toContain(arn(id))
      // Streaming decrypt fails the same way, before any output.
      let emitted = 0
      kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'throttle' })
      kms.addFault({ operation: 'Decrypt', keyId: 'key-b', kind: 'internal' })
      kms.addFault({ operation: 'Decrypt', keyId: 'key-c', kind: 'latency', delayMs: SLOW_MS })
      const streamErr = await pipeline(Readable.from([ciphertext]), client.decryptStream(keyring), async function* (source) {
        for await (const chunk of source) emitted += (chunk as Uint8Array).length
        yield
      }).catch((e) => e)
      expect(streamErr).toBeInstanceOf(NoMatchingKeyError)
      expect(emitted).toBe(0)
    } finally {
      kms.setEnabled(arn('key-d'), true)
      kms.clearFaults()
    }
  })

  it('an aborted keyring gives way to the next keyring in a multi-keyring', async () => {
    const kms = local()
    const ciphertext = await fourKeyMessage()
    kms.clearFaults()
    kms.addFault({ operation: 'Decrypt', keyId: 'key-a', kind: 'latency', delayMs: SLOW_MS })
    const controller = new AbortController()
    const aborted = new KmsKeyring({ keyIds: [arn('key-a')], clientProvider: provider(), abortSignal: controller.signal })
    const fallback = new KmsKeyring({ keyIds: [arn('key-d')], clientProvider: provider() })
    setTimeout(() => controller.abort(), 50)
    kms.resetCalls()
    expect(text((await client.decrypt(new MultiKeyring({ children: [aborted, fallback] }), ciphertext)).plaintext)).toBe('four keys')
    // The fallback was asked: key-a's late answer (which would have decrypted) was not waited for.
    expect(kms.countCalls({ operation: 'Decrypt', keyArn: arn('key-d') })).toBe(1)
    // Alone, the aborted keyring reports the abort for its key.
    const err = await client.decrypt(aborted, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0]).toMatchObject({ keyName: arn('key-a'), reason: expect.stringContaining('AbortError') })
    expect(err.attempts.slice(1).map((a: { reason: string }) => a.reason)).toEqual(['not one of the configured keys', 'not one of the configured keys', 'not one of the configured keys'])
  })
})
