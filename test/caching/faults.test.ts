/**
 * CachingCmm under concurrent load while KMS fails: the local KMS server
 * injects throttling, 500s and latency, and the real @aws-sdk/client-kms talks
 * to it over HTTP (nothing is stubbed below the keyring).
 *
 * Every claim is checked on the messages themselves: each header is parsed,
 * each distinct encrypted data key is decrypted at the server, and messages are
 * grouped by the plaintext data key they were written under. A group must fit
 * maxMessagesEncrypted, maxBytesEncrypted (the plaintext lengths are known) and
 * maxAge (the clock is injected and moves only between waves).
 *
 * Clients are built with maxAttempts 1, so each injected fault reaches the
 * cache, except in the test that shows SDK retries absorbing them.
 */
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { CachingCmm, createClient, KmsError, KmsKeyring, NoMatchingKeyError, type KmsClientProvider } from '../../src/index.js'
import { decodeHeader } from '../../src/format/header.js'
import type { Fault, LocalKms } from '../../src/testing/index.js'
import { bytesToHex, within } from '../support/helpers.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'

const local = useLocalKms()
const client = createClient()
const SUITE = 0x0478
const CONTEXT = { purpose: 'faults' }
const MAX_HEADER = { maxEncryptedDataKeys: 16, maxHeaderSize: 1 << 20 }

/** A fault that serves the request normally: scripts of faults mix these in so only some calls fail. */
const OK: Fault = { kind: 'latency', delayMs: 0 }
const THROTTLE: Fault = { kind: 'throttle' }
const INTERNAL: Fault = { kind: 'internal' }
const slow = (delayMs: number): Fault => ({ kind: 'latency', delayMs })

/** One real KMSClient per region, no SDK retries (each fault is seen by the cache), optionally with a request timeout. */
function provider(kms: LocalKms, options: { retries?: boolean; timeoutMs?: number } = {}): KmsClientProvider {
  return localProvider(kms, {
    ...(options.retries ? {} : { maxAttempts: 1 }),
    ...(options.timeoutMs ? { requestHandler: { requestTimeout: options.timeoutMs, throwOnRequestTimeout: true } } : {}),
  })
}

/** Queues faults for one operation (and key), consumed one per request in this order. */
function script(kms: LocalKms, operation: Fault['operation'], keyId: string | undefined, faults: readonly Fault[]): void {
  for (const f of faults) kms.addFault({ ...f, operation, ...(keyId ? { keyId } : {}) })
}

/** Distinct, position-dependent bytes for message `i`, so a decrypt that returns another message's plaintext is caught. */
function plaintextOf(i: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, j) => (i * 131 + j * 7 + 1) & 0xff)
}

interface Written {
  readonly index: number
  readonly plaintext: Uint8Array
  readonly ciphertext: Uint8Array
  /** Time on the injected clock when the encrypt started (0 where no clock is injected). */
  readonly at: number
}

/**
 * Groups messages by the plaintext data key they were written under: each
 * message's header is parsed, each distinct EDK ciphertext is decrypted once
 * at the server with its own client, and the data keys are compared.
 * Also checks that distinct EDKs never wrap the same data key.
 */
async function groupByDataKey(kms: LocalKms, messages: readonly Written[]): Promise<Written[][]> {
  const sdk = new KMSClient(kms.clientConfig())
  const byEdk = new Map<string, { edk: Uint8Array; keyArn: string; context: Record<string, string>; messages: Written[] }>()
  for (const m of messages) {
    const decoded = decodeHeader(m.ciphertext, MAX_HEADER)
    if ('needed' in decoded) throw new Error(`message ${m.index}: header incomplete`)
    expect(decoded.header.suiteId).toBe(SUITE)
    const edk = decoded.header.encryptedDataKeys[0]!
    const id = bytesToHex(edk.ciphertext)
    let group = byEdk.get(id)
    if (!group) {
      group = { edk: edk.ciphertext, keyArn: new TextDecoder().decode(edk.providerInfo), context: { ...decoded.header.encryptionContext }, messages: [] }
      byEdk.set(id, group)
    }
    group.messages.push(m)
  }
  const byKey = new Map<string, Written[]>()
  try {
    for (const group of byEdk.values()) {
      const out = await sdk.send(new DecryptCommand({ CiphertextBlob: group.edk, EncryptionContext: group.context, KeyId: group.keyArn }))
      const key = bytesToHex(out.Plaintext!)
      expect(byKey.has(key), 'two EDKs wrap one data key').toBe(false)
      byKey.set(key, group.messages)
    }
  } finally {
    sdk.destroy()
  }
  return [...byKey.values()]
}

/** Every message decrypts, through a KMS keyring without any cache, to its own plaintext. */
async function expectAllDecrypt(keyring: KmsKeyring, messages: readonly Written[]): Promise<void> {
  const out = await Promise.all(messages.map((m) => client.decrypt(keyring, m.ciphertext)))
  out.forEach((r, k) => expect(bytesToHex(r.plaintext), `message ${messages[k]!.index}`).toBe(bytesToHex(messages[k]!.plaintext)))
}

function expectKmsFailure(error: unknown, keyArn: string, names: readonly string[]): void {
  expect(error).toBeInstanceOf(KmsError)
  const e = error as KmsError
  expect(e.code).toBe('ERR_KMS')
  expect(names).toContain(e.kmsErrorName)
  expect(e.retryable).toBe(true)
  expect(e.keyId).toBe(keyArn)
}

describe('encrypt under load with failing GenerateDataKey calls', () => {
  // The lengths cycle through each config, so each wave mixes them.
  it.each([
    { label: 'message limit binds', maxMessagesEncrypted: 7, maxBytesEncrypted: undefined, lengths: [10, 200, 30, 120, 64, 1, 90, 0] },
    { label: 'byte limit binds', maxMessagesEncrypted: undefined, maxBytesEncrypted: 1000, lengths: [300, 410, 250, 99, 333, 1, 512] },
    { label: 'both limits', maxMessagesEncrypted: 5, maxBytesEncrypted: 700, lengths: [100, 200, 30, 350, 64, 1, 0, 190] },
  ])('$label: 200 encrypts in waves of 25; no data key passes a limit; failures are KmsErrors; every message decrypts', async (config) => {
    const kms = local()
    const keyArn = kms.createKey()
    const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms) })
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: config.maxMessagesEncrypted, maxBytesEncrypted: config.maxBytesEncrypted })
    const maxMessages = config.maxMessagesEncrypted ?? Infinity
    const maxBytes = config.maxBytesEncrypted ?? Infinity
    kms.clearFaults()
    // Three of each failure among the GenerateDataKey calls, with slow successes between them, so that
    // waiters pile up on calls in flight. Within a wave every request arrives at once: a call that
    // fails fails every request still waiting, which ends the wave, so 8 waves use up the script.
    script(kms, 'GenerateDataKey', keyArn, [OK, THROTTLE, slow(30), OK, INTERNAL, slow(15), THROTTLE, OK, INTERNAL, slow(40), OK, THROTTLE, slow(5), INTERNAL])

    const settled: { written?: Written; error?: unknown }[] = []
    for (let w = 0; w < 8; w++) {
      const wave = Array.from({ length: 25 }, (_, k) => {
        const index = w * 25 + k
        const plaintext = plaintextOf(index, config.lengths[index % config.lengths.length]!)
        return client.encrypt(cmm, plaintext, { suiteId: SUITE, encryptionContext: CONTEXT }).then(
          ({ ciphertext }) => ({ written: { index, plaintext, ciphertext, at: 0 } }),
          (error: unknown) => ({ error }),
        )
      })
      settled.push(...(await within(Promise.all(wave), 10_000, `wave ${w}`)))
    }
    kms.clearFaults()

    const written = settled.flatMap((s) => (s.written ? [s.written] : []))
    const errors = settled.flatMap((s) => (s.error ? [s.error] : []))
    expect(written.length + errors.length).toBe(200)
    for (const e of errors) expectKmsFailure(e, keyArn, ['ThrottlingException', 'KMSInternalException'])
    const failedCalls = kms.calls.filter((c) => c.operation === 'GenerateDataKey' && c.keyArn === keyArn && c.status !== 200)
    const goodCalls = kms.calls.filter((c) => c.operation === 'GenerateDataKey' && c.keyArn === keyArn && c.status === 200)
    expect(failedCalls.map((c) => c.status).sort()).toEqual([400, 400, 400, 500, 500, 500])
    // Each failed call fails at least the request that made it; a failed call never turns into a message.
    expect(errors.length).toBeGreaterThanOrEqual(failedCalls.length)
    expect(errors.filter((e) => (e as KmsError).kmsErrorName === 'ThrottlingException').length).toBeGreaterThanOrEqual(3)
    expect(errors.filter((e) => (e as KmsError).kmsErrorName === 'KMSInternalException').length).toBeGreaterThanOrEqual(3)
    // One underlying call per KMS call: the single flight held under the faults.
    expect(cmm.stats().underlyingCalls).toBe(failedCalls.length + goodCalls.length)

    const groups = await groupByDataKey(kms, written)
    // Every data key KMS handed out was used, by at least one message.
    expect(groups.length).toBe(goodCalls.length)
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(maxMessages)
      expect(g.reduce((n, m) => n + m.plaintext.length, 0)).toBeLessThanOrEqual(maxBytes)
    }
    // The limits were reached, not merely respected: the cache did reuse keys up to them.
    const fullest = Math.max(...groups.map((g) => (Number.isFinite(maxMessages) ? g.length / maxMessages : 0)))
    const heaviest = Math.max(...groups.map((g) => (Number.isFinite(maxBytes) ? g.reduce((n, m) => n + m.plaintext.length, 0) / maxBytes : 0)))
    expect(Math.max(fullest, heaviest)).toBeGreaterThanOrEqual(0.7)
    expect(groups.length).toBeLessThan(written.length)

    await expectAllDecrypt(new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms) }), written)
    // And the cache works on, with the faults gone.
    await client.encrypt(cmm, plaintextOf(999, 1), { suiteId: SUITE, encryptionContext: CONTEXT })
  })

  it('SDK retries absorb the faults: one retried call still serves every waiter', async () => {
    const kms = local()
    const keyArn = kms.createKey()
    const cmm = new CachingCmm({ keyring: new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms, { retries: true }) }), maxAge: 60_000 })
    kms.clearFaults()
    script(kms, 'GenerateDataKey', keyArn, [INTERNAL, INTERNAL])
    const results = await within(Promise.all(Array.from({ length: 50 }, (_, i) => client.encrypt(cmm, plaintextOf(i, 64), { suiteId: SUITE, encryptionContext: CONTEXT }))), 10_000, '50 encrypts')
    expect(kms.countCalls({ operation: 'GenerateDataKey', keyArn })).toBe(3)
    expect(cmm.stats().underlyingCalls).toBe(1)
    expect(new Set(results.map((r) => bytesToHex(r.header.encryptedDataKeys[0]!.ciphertext))).size).toBe(1)
  })
})

describe('a failed miss', () => {
  it.each([
    ['throttling', THROTTLE, 'ThrottlingException'],
    ['a 500', INTERNAL, 'KMSInternalException'],
    // The response comes 6 s late and the client gives up after 1 s: the TimeoutError proves the waiters
    // failed on the client's timeout, not on the late answer (within() below only turns a hang into a failure).
    ['a response slower than the client timeout', slow(6_000), 'TimeoutError'],
  ] as const)('%s: every single-flight waiter gets the same KmsError, none hangs, and the next call retries', async (_label, fault, name) => {
    const kms = local()
    const keyArn = kms.createKey()
    const timeoutMs = fault.kind === 'latency' ? 1_000 : undefined
    const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms, { timeoutMs }) })
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: 100 })
    kms.clearFaults()
    script(kms, 'GenerateDataKey', keyArn, [fault])
    const settled = await within(
      Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.encrypt(cmm, plaintextOf(i, 32), { suiteId: SUITE, encryptionContext: CONTEXT }))),
      10_000,
      '50 waiters of a failing call',
    )
    expect(settled.every((s) => s.status === 'rejected')).toBe(true)
    const errors = settled.map((s) => (s as PromiseRejectedResult).reason)
    // One KMS call, one error object, shared by all 50.
    expect(new Set(errors).size).toBe(1)
    expectKmsFailure(errors[0], keyArn, [name])
    expect(cmm.stats()).toMatchObject({ underlyingCalls: 1, hits: 0 })

    // Nothing was cached: the next encrypts make one new call, and it serves them all.
    const after = await within(Promise.all(Array.from({ length: 20 }, (_, i) => client.encrypt(cmm, plaintextOf(i, 32), { suiteId: SUITE, encryptionContext: CONTEXT }))), 5_000, 'retry')
    expect(cmm.stats().underlyingCalls).toBe(2)
    expect(new Set(after.map((r) => bytesToHex(r.header.encryptedDataKeys[0]!.ciphertext))).size).toBe(1)
    await expectAllDecrypt(keyring, after.map((r, i) => ({ index: i, plaintext: plaintextOf(i, 32), ciphertext: r.ciphertext, at: 0 })))
  })

  it('a streamed encrypt (plaintextLength given, so it is cached) that shares a failing miss emits no byte and fails like the one-shot waiters', async () => {
    const kms = local()
    const keyArn = kms.createKey()
    const cmm = new CachingCmm({ keyring: new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms) }), maxAge: 60_000 })
    kms.clearFaults()
    script(kms, 'GenerateDataKey', keyArn, [THROTTLE])
    const options = { suiteId: SUITE, encryptionContext: CONTEXT }
    let emitted = 0
    const streamed = pipeline(Readable.from([plaintextOf(0, 5000)]), client.encryptStream(cmm, { ...options, plaintextLength: 5000 }), async function* (source) {
      for await (const chunk of source) emitted += (chunk as Uint8Array).length
      yield
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    const oneShot = Array.from({ length: 10 }, (_, i) => client.encrypt(cmm, plaintextOf(i, 100), options).then(() => undefined, (e: unknown) => e))
    const errors = await within(Promise.all([streamed, ...oneShot]), 5_000, 'stream and one-shot waiters')
    expect(emitted).toBe(0)
    expect(new Set(errors).size).toBe(1)
    expectKmsFailure(errors[0], keyArn, ['ThrottlingException'])
    expect(kms.countCalls({ operation: 'GenerateDataKey', keyArn })).toBe(1)
    expect(cmm.stats()).toMatchObject({ underlyingCalls: 1, bypasses: 0 })
  })

  it('never falls back to a used-up entry when the refresh fails', async () => {
    const kms = local()
    const keyArn = kms.createKey()
    const cmm = new CachingCmm({ keyring: new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms) }), maxAge: 60_000, maxMessagesEncrypted: 3 })
    const encrypt = (i: number) => client.encrypt(cmm, plaintextOf(i, 16), { suiteId: SUITE, encryptionContext: CONTEXT })
    const first = await Promise.all([0, 1, 2].map(encrypt))
    kms.clearFaults()
    script(kms, 'GenerateDataKey', keyArn, [THROTTLE])
    const failed = await Promise.allSettled([3, 4, 5, 6].map(encrypt))
    expect(failed.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected'])
    const next = await encrypt(7)
    const edks = new Set([...first, next].map((r) => bytesToHex(r.header.encryptedDataKeys[0]!.ciphertext)))
    expect(edks.size).toBe(2)
  })
})

describe('maxAge with an injected clock, under faults', () => {
  it('no data key serves messages started maxAge or more after it was made; an expired entry is not used when the refresh fails', async () => {
    const kms = local()
    const keyArn = kms.createKey()
    let now = 0
    const maxAge = 1000
    const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider: provider(kms) })
    const agedOut: string[] = []
    const cmm = new CachingCmm({ keyring, maxAge, maxMessagesEncrypted: 100, clock: () => now, onEvent: (e) => e.reason === 'maxAge' && agedOut.push(e.operation) })
    kms.clearFaults()
    script(kms, 'GenerateDataKey', keyArn, [OK, THROTTLE, slow(20), INTERNAL, OK])
    const written: Written[] = []
    const errors: unknown[] = []
    // Waves of 15, 300 ms apart on the injected clock, which moves only between waves: a key made in
    // wave w may serve waves w to w + 3 (60 messages, under the message limit), never wave w + 4, where
    // age, not the message limit, ends it. The refresh at wave 4 is throttled and the one at wave 9
    // gets a 500: those waves fail whole, with nothing served from the expired key.
    for (let w = 0; w < 14; w++) {
      now = w * 300
      const at = now
      const wave = await within(
        Promise.allSettled(
          Array.from({ length: 15 }, (_, k) => {
            const index = w * 15 + k
            const plaintext = plaintextOf(index, 40)
            return client.encrypt(cmm, plaintext, { suiteId: SUITE, encryptionContext: CONTEXT }).then(({ ciphertext }) => ({ index, plaintext, ciphertext, at }))
          }),
        ),
        10_000,
        `wave ${w}`,
      )
      for (const s of wave) s.status === 'fulfilled' ? written.push(s.value) : errors.push(s.reason)
    }
    expect(agedOut.length).toBeGreaterThanOrEqual(2)
    for (const e of errors) expectKmsFailure(e, keyArn, ['ThrottlingException', 'KMSInternalException'])
    expect(errors.length).toBe(30)
    const groups = await groupByDataKey(kms, written)
    expect(groups.length).toBe(3)
    for (const g of groups) {
      const times = g.map((m) => m.at)
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(maxAge)
      expect(g.length).toBeLessThanOrEqual(100)
    }
    await expectAllDecrypt(keyring, written)

    // A warm entry reaches its age while KMS throttles: the request fails; the expired key is not used.
    kms.clearFaults()
    now = 10_000
    const warm = await client.encrypt(cmm, 'warm', { suiteId: SUITE, encryptionContext: CONTEXT })
    now = 10_000 + maxAge - 1
    const hit = await client.encrypt(cmm, 'still fresh', { suiteId: SUITE, encryptionContext: CONTEXT })
    expect(bytesToHex(hit.header.encryptedDataKeys[0]!.ciphertext)).toBe(bytesToHex(warm.header.encryptedDataKeys[0]!.ciphertext))
    now = 10_000 + maxAge
    script(kms, 'GenerateDataKey', keyArn, [THROTTLE])
    const expired = await Promise.allSettled(Array.from({ length: 10 }, () => client.encrypt(cmm, 'expired', { suiteId: SUITE, encryptionContext: CONTEXT })))
    expect(new Set(expired.map((s) => (s.status === 'rejected' ? s.reason : 'fulfilled'))).size).toBe(1)
    expectKmsFailure((expired[0] as PromiseRejectedResult).reason, keyArn, ['ThrottlingException'])
    const fresh = await client.encrypt(cmm, 'fresh', { suiteId: SUITE, encryptionContext: CONTEXT })
    expect(bytesToHex(fresh.header.encryptedDataKeys[0]!.ciphertext)).not.toBe(bytesToHex(warm.header.encryptedDataKeys[0]!.ciphertext))
  })
})

describe('decrypt under load with failing Decrypt calls', () => {
  /**
   * 120 messages written, without faults, through an encrypting CachingCmm that gives each data key
   * 10 messages; `keyOf[i]` numbers the data key of message i (from the messages themselves).
   */
  async function messagesFor(kms: LocalKms, keyring: KmsKeyring): Promise<{ messages: Written[]; keys: number; keyOf: number[] }> {
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: 10 })
    kms.clearFaults()
    const messages: Written[] = []
    for (let i = 0; i < 120; i++) {
      const plaintext = plaintextOf(i, 50 + (i % 7))
      messages.push({ index: i, plaintext, ciphertext: (await client.encrypt(cmm, plaintext, { suiteId: SUITE, encryptionContext: CONTEXT })).ciphertext, at: 0 })
    }
    const groups = await groupByDataKey(kms, messages)
    expect(groups.map((g) => g.length)).toEqual(Array(12).fill(10))
    const keyOf: number[] = []
    groups.forEach((g, k) => g.forEach((m) => (keyOf[m.index] = k)))
    return { messages, keys: groups.length, keyOf }
  }

  it('a failing key falls through to the message\'s other key; one Decrypt flight per data key', async () => {
    const kms = local()
    const a = kms.createKey()
    const b = kms.createKey()
    const { messages, keys } = await messagesFor(kms, new KmsKeyring({ generatorKeyId: a, keyIds: [b], clientProvider: provider(kms) }))
    const cmm = new CachingCmm({ keyring: new KmsKeyring({ keyIds: [a, b], clientProvider: provider(kms) }), maxAge: 60_000 })
    kms.resetCalls()
    script(kms, 'Decrypt', a, [THROTTLE, slow(20), INTERNAL, OK, THROTTLE, slow(5), INTERNAL])
    const out = await within(Promise.all(messages.map((m) => client.decrypt(cmm, m.ciphertext))), 10_000, '120 decrypts')
    kms.clearFaults()
    out.forEach((r, i) => expect(bytesToHex(r.plaintext)).toBe(bytesToHex(messages[i]!.plaintext)))
    // One flight per data key, each trying key a first; the 4 that failed on a went on to b.
    expect(cmm.stats().underlyingCalls).toBe(keys)
    expect(kms.countCalls({ operation: 'Decrypt', keyArn: a })).toBe(keys)
    expect(kms.calls.filter((c) => c.operation === 'Decrypt' && c.keyArn === a && c.status !== 200)).toHaveLength(4)
    expect(kms.countCalls({ operation: 'Decrypt', keyArn: b })).toBe(4)
  })

  it('when a message\'s only key fails, all its waiters get one NoMatchingKeyError, other data keys are unaffected, and a retry decrypts', async () => {
    const kms = local()
    const a = kms.createKey()
    const keyring = new KmsKeyring({ generatorKeyId: a, clientProvider: provider(kms) })
    const { messages, keys, keyOf } = await messagesFor(kms, keyring)
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    kms.resetCalls()
    script(kms, 'Decrypt', a, [OK, THROTTLE, slow(15), INTERNAL, OK, THROTTLE])
    const settled = await within(Promise.allSettled(messages.map((m) => client.decrypt(cmm, m.ciphertext))), 10_000, '120 decrypts')
    kms.clearFaults()

    const failedKeys = new Set<number>()
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') expect(bytesToHex(s.value.plaintext)).toBe(bytesToHex(messages[i]!.plaintext))
      else {
        expect(s.reason).toBeInstanceOf(NoMatchingKeyError)
        expect(s.reason.code).toBe('ERR_NO_MATCHING_KEY')
        expect(s.reason.attempts[0].reason).toMatch(/ThrottlingException|KMSInternalException/)
        failedKeys.add(keyOf[i]!)
      }
    })
    // Three failed calls, three data keys whose every message failed, with one shared error each.
    expect(failedKeys.size).toBe(3)
    for (const k of failedKeys) {
      const group = settled.filter((_, i) => keyOf[i] === k)
      expect(group.every((s) => s.status === 'rejected')).toBe(true)
      expect(new Set(group.map((s) => (s as PromiseRejectedResult).reason)).size).toBe(1)
    }
    expect(cmm.stats().underlyingCalls).toBe(keys)

    // Not poisoned: each failed data key is fetched again, once, and every message decrypts.
    const retried = await Promise.all(messages.map((m) => client.decrypt(cmm, m.ciphertext)))
    retried.forEach((r, i) => expect(bytesToHex(r.plaintext)).toBe(bytesToHex(messages[i]!.plaintext)))
    expect(cmm.stats().underlyingCalls).toBe(keys + 3)
  })
})
