/**
 * Limits: the defaults are the documented ones, and tiny inputs that declare
 * enormous sizes ("decompression bombs": a 4 GiB frame, 65,535 data keys, a
 * 64 KiB context in a 60-byte message) are refused early, from the declaring
 * field, without allocating what they declare (spec/decrypt-rules.md#limits).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { createClient, DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_HEADER_SIZE, DEFAULT_STREAM_MAX_BODY_SIZE, LimitError, MultiKeyring, RawAesKeyring, type Keyring } from '../../src/index.js'
import { IncrementalDecryptor } from '../../src/core/decryptor.js'
import { toCmm } from '../../src/materials/cmm.js'
import { aesKey, patterned } from '../support/keys.js'
import { layoutOf, settings } from './helpers.js'

const root = join(import.meta.dirname, '..', '..')
const keyring = new RawAesKeyring({ keyNamespace: 'limits', keyName: 'k', wrappingKey: aesKey(32) })
const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const MiB = 1024 * 1024

/** A keyring that counts how often it is asked to decrypt. */
function spy(inner: Keyring): Keyring & { calls: number } {
  const s = {
    calls: 0,
    onEncrypt: inner.onEncrypt.bind(inner),
    async onDecrypt(...args: Parameters<Keyring['onDecrypt']>) {
      s.calls++
      return inner.onDecrypt(...args)
    },
  }
  return s
}

/** Runs `fn` and reports how much the process's ArrayBuffer memory grew meanwhile. */
async function arrayBufferGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; grew: number }> {
  const before = process.memoryUsage().arrayBuffers
  const value = await fn()
  return { value, grew: process.memoryUsage().arrayBuffers - before }
}

/** Pushes bytes one at a time; returns how many were accepted before the first error, and the error. */
async function feedBytewise(bytes: Uint8Array, decryptSettings = settings, k: Keyring = keyring): Promise<{ accepted: number; error: unknown; maxBuffered: number }> {
  const d = new IncrementalDecryptor(toCmm(k), decryptSettings, {})
  let maxBuffered = 0
  for (let i = 0; i < bytes.length; i++) {
    try {
      await d.push(bytes.subarray(i, i + 1))
      maxBuffered = Math.max(maxBuffered, d.bufferedBytes)
    } catch (error) {
      return { accepted: i, error, maxBuffered }
    }
  }
  return { accepted: bytes.length, error: await d.end().then(() => undefined, (e: unknown) => e), maxBuffered }
}

/** A v2 (suite 0x0478) header prefix up to and including the context, by hand. */
function v2Prefix(aadLength: number, aad: number[] = []): number[] {
  return [0x02, 0x04, 0x78, ...new Array(32).fill(7), aadLength >> 8, aadLength & 0xff, ...aad]
}

describe('defaults are safe and match the documentation', () => {
  const decryptRules = readFileSync(join(root, 'spec', 'decrypt-rules.md'), 'utf8')
  const clientDoc = readFileSync(join(root, 'spec', 'client.md'), 'utf8')
  const row = (doc: string, name: string) => doc.split('\n').find((l) => l.startsWith(`| \`${name}\``) || l.startsWith(`| ${name} `)) ?? ''

  it('client and stream defaults', () => {
    const c = createClient()
    expect(c.maxHeaderSize).toBe(DEFAULT_MAX_HEADER_SIZE)
    expect(DEFAULT_MAX_HEADER_SIZE).toBe(1 * MiB)
    expect(DEFAULT_STREAM_MAX_BODY_SIZE).toBe(64 * MiB)
    // Stricter than the peer (no limit): a forged header cannot cost 65,535 keyring attempts.
    expect(c.maxEncryptedDataKeys).toBe(DEFAULT_MAX_ENCRYPTED_DATA_KEYS)
    expect(DEFAULT_MAX_ENCRYPTED_DATA_KEYS).toBe(64)
    expect(createClient({ maxEncryptedDataKeys: false }).maxEncryptedDataKeys).toBe(65535)
    expect(c.commitmentPolicy).toBe('REQUIRE_ENCRYPT_REQUIRE_DECRYPT')
  })

  it('spec/decrypt-rules.md#limits and spec/client.md state the same defaults', () => {
    expect(row(decryptRules, 'maxHeaderSize')).toContain(`${DEFAULT_MAX_HEADER_SIZE / MiB} MiB`)
    expect(row(decryptRules, 'maxBodySize')).toContain(`${DEFAULT_STREAM_MAX_BODY_SIZE / MiB} MiB for streams`)
    expect(row(decryptRules, 'maxEncryptedDataKeys')).toContain(`${DEFAULT_MAX_ENCRYPTED_DATA_KEYS} (\`false\`: the format's 65,535)`)
    expect(row(decryptRules, 'encryption context')).toContain('65,535')
    expect(row(clientDoc, 'maxHeaderSize')).toContain(`${DEFAULT_MAX_HEADER_SIZE / MiB} MiB`)
    expect(row(clientDoc, 'maxEncryptedDataKeys')).toContain(`${DEFAULT_MAX_ENCRYPTED_DATA_KEYS} (\`false\`: the format's 65,535)`)
    expect(clientDoc).toContain(`${DEFAULT_STREAM_MAX_BODY_SIZE / MiB} MiB`)
  })
})

describe('decompression-bomb-like inputs are refused early', () => {
  it('a tiny message declaring 4 GiB frames: streams refuse it from the header; nothing of that size is allocated', async () => {
    const { ciphertext } = await client.encrypt(keyring, patterned(40), { frameLength: 0xffffffff, suiteId: 0x0478 })
    expect(ciphertext.length).toBeLessThan(300)
    // Legitimate as it is (its only frame is the 40-byte final frame): one-shot decrypt has no body limit.
    const { value, grew } = await arrayBufferGrowth(() => client.decrypt(keyring, ciphertext))
    expect(value.plaintext.length).toBe(40)
    expect(grew).toBeLessThan(8 * MiB)
    // Streams refuse the declared frame length before any keyring runs.
    const s = spy(keyring)
    const streamErr = await pipeline(Readable.from([ciphertext]), client.decryptStream(s), async function* (source) {
      for await (const _ of source) yield
    }).catch((e) => e)
    expect(streamErr).toBeInstanceOf(LimitError)
    expect(streamErr).toMatchObject({ limit: 'maxBodySize', value: 0xffffffff, max: DEFAULT_STREAM_MAX_BODY_SIZE })
    expect(s.calls).toBe(0)
    // The header alone is enough: not one frame byte has to arrive (or be buffered) for the refusal.
    const layout = layoutOf(ciphertext)
    const headerOnly = new IncrementalDecryptor(toCmm(s), settings, { maxBodySize: 1024 })
    await expect(headerOnly.push(ciphertext.subarray(0, layout.headerLength))).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxBodySize' })
    expect(s.calls).toBe(0)

    // The bomb: the body now starts a regular frame of 2^32 - 1 bytes. One-shot waits for bytes that never come.
    const bomb = new Uint8Array(ciphertext.subarray(0, layout.headerLength + 16 + 100))
    new DataView(bomb.buffer).setUint32(layout.headerLength, 1)
    const r = await arrayBufferGrowth(() => client.decrypt(keyring, bomb).catch((e) => e))
    expect(r.value).toMatchObject({ code: 'ERR_TRUNCATED' })
    expect(r.grew).toBeLessThan(8 * MiB)
    const d = new IncrementalDecryptor(toCmm(keyring), settings, {})
    await d.push(bomb)
    expect(d.bufferedBytes).toBeLessThanOrEqual(116)
  })

  it('a non-framed body declaring 64 GiB is refused by streams from its length field', async () => {
    const { ciphertext } = await client.encrypt(keyring, patterned(40), { frameLength: 0, suiteId: 0x0478 })
    const layout = layoutOf(ciphertext)
    const bomb = new Uint8Array(ciphertext.subarray(0, layout.headerLength + 20))
    new DataView(bomb.buffer).setBigUint64(layout.headerLength + 12, 2n ** 36n - 32n)
    for (const web of [false, true]) {
      let error: unknown
      if (web) {
        const reader = new Blob([bomb]).stream().pipeThrough(client.decryptWebStream(keyring)).getReader()
        error = await reader.read().then(() => reader.read()).catch((e) => e)
      } else {
        error = await pipeline(Readable.from([bomb]), client.decryptStream(keyring), async function* (source) {
          for await (const _ of source) yield
        }).catch((e) => e)
      }
      expect(error, web ? 'web' : 'node').toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxBodySize', value: 2 ** 36 - 32 })
    }
  })

  it('a 60-byte header declaring 65,535 encrypted data keys', async () => {
    const header = Uint8Array.from([...v2Prefix(0), 0xff, 0xff, 0x00, 0x01, 0x78, 0x00, 0x00, 0x00, 0x00])
    const s = spy(keyring)
    // With a limit, the count alone is refused: the byte that completes it is the one that fails.
    const limited = await feedBytewise(header, { ...settings, maxEncryptedDataKeys: 16 }, s)
    expect(limited.error).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys', value: 65535 })
    expect(limited.accepted).toBe(v2Prefix(0).length + 1)
    expect(s.calls).toBe(0)
    // Without one, the header simply is not there: a truncation, with nothing allocated per declared key.
    const unlimited = await arrayBufferGrowth(() => feedBytewise(header))
    expect(unlimited.value.error).toMatchObject({ code: 'ERR_TRUNCATED' })
    expect(unlimited.value.maxBuffered).toBeLessThanOrEqual(header.length)
    expect(unlimited.grew).toBeLessThan(8 * MiB)
  })

  it('declared context and EDK field lengths beyond maxHeaderSize fail at the length field', async () => {
    const small = { ...settings, maxHeaderSize: 4096 }
    const aadBomb = Uint8Array.from([...v2Prefix(0xffff), 0x00, 0x01])
    const aad = await feedBytewise(aadBomb, small)
    expect(aad.error).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderSize' })
    expect(aad.accepted).toBe(v2Prefix(0).length - 1)
    const edkBomb = Uint8Array.from([...v2Prefix(0), 0x00, 0x01, 0xff, 0xff, 0x41])
    const edk = await feedBytewise(edkBomb, { ...settings, maxHeaderSize: 1000 })
    expect(edk.error).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderSize' })
    expect(edk.accepted).toBe(v2Prefix(0).length + 3)
  })

  it('a header of 65,535 minimal data keys: refused by count by default and when limited; with the limit lifted, a bounded error message', async () => {
    const parts = [...v2Prefix(0), 0xff, 0xff]
    for (let i = 0; i < 65535; i++) parts.push(0, 1, 0x78, 0, 0, 0, 0)
    parts.push(2, 0, 0, 16, 0, ...new Array(48).fill(0))
    const header = Uint8Array.from(parts)
    expect(header.length).toBeLessThan(DEFAULT_MAX_HEADER_SIZE)
    const s = spy(keyring)
    const limited = await createClient({ maxEncryptedDataKeys: 10 }).decrypt(s, header).catch((e) => e)
    expect(limited).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys' })
    expect(s.calls).toBe(0)
    const byDefault = await createClient().decrypt(s, header).catch((e) => e)
    expect(byDefault).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys', value: 65535, max: DEFAULT_MAX_ENCRYPTED_DATA_KEYS })
    expect(s.calls).toBe(0)
    // With the limit lifted every key is looked at; the error keeps all of them in .attempts
    // but its message (which ends up in logs) stays short.
    const err = await createClient({ maxEncryptedDataKeys: false }).decrypt(keyring, header).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_KEY' })
    expect(err.attempts).toHaveLength(65535)
    expect(err.message.length).toBeLessThan(4096)
    expect(err.message).toContain('65515 more')
  })

  it('encrypt refuses to write more encrypted data keys than maxEncryptedDataKeys (64 by default)', async () => {
    const children = Array.from({ length: DEFAULT_MAX_ENCRYPTED_DATA_KEYS }, (_, i) => new RawAesKeyring({ keyNamespace: 'ns', keyName: `k${i}`, wrappingKey: aesKey(32) }))
    const many = new MultiKeyring({ generator: keyring, children })
    await expect(createClient().encrypt(many, 'x')).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys', value: 65, max: 64 })
    const { ciphertext } = await createClient({ maxEncryptedDataKeys: false }).encrypt(many, 'x')
    await expect(createClient().decrypt(keyring, ciphertext)).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys' })
    expect(new TextDecoder().decode((await createClient({ maxEncryptedDataKeys: 65 }).decrypt(keyring, ciphertext)).plaintext)).toBe('x')
  })

  it('an encryption context cannot exceed what the format can carry', async () => {
    const big = { a: 'x'.repeat(40000), b: 'y'.repeat(40000) }
    await expect(client.encrypt(keyring, 'x', { encryptionContext: big })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'encryption context size' })
    await expect(client.encrypt(keyring, 'x', { encryptionContext: { a: 'x'.repeat(70000) } })).rejects.toMatchObject({ code: 'ERR_INVALID_CONTEXT' })
    // The largest context that fits round-trips (2 bytes of count, 4 of lengths, a 1-byte key).
    const largest = { k: 'v'.repeat(65535 - 2 - 4 - 1) }
    const { ciphertext } = await client.encrypt(keyring, 'x', { encryptionContext: largest, suiteId: 0x0478 })
    expect((await client.decrypt(keyring, ciphertext)).encryptionContext.k).toHaveLength(65528)
    // On decrypt the context is bounded by the header size limit.
    await expect(createClient({ maxHeaderSize: 65536 }).decrypt(keyring, ciphertext)).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderSize' })
  })
})
