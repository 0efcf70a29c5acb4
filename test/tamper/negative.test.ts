/**
 * Negative tests: every way a message can be wrong yields a typed error, and
 * nothing is returned. Expected outcomes follow the format rules in spec/.
 */
import { describe, expect, it } from 'vitest'
import { FinalFrame, finalFrameContentLength, isFinalFrame, RegularFrame } from '../../src/format/frame.js'
import {
  AuthenticationError,
  createClient,
  EnvelopeError,
  LimitError,
  MalformedMessageError,
  NoMatchingKeyError,
  PolicyError,
  RawAesKeyring,
  type Keyring,
} from '../../src/index.js'
import { flipBit } from '../support/helpers.js'
import { aesKey, patterned } from '../support/keys.js'

const wrappingKey = aesKey(32)
const keyring = new RawAesKeyring({ keyNamespace: 'tamper', keyName: 'k1', wrappingKey })
const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const strict = createClient()

async function message(suiteId: number, length = 700, frameLength = 256, encryptionContext: Record<string, string> = { purpose: 'test' }) {
  const client = suiteId >= 0x0478 ? allow : forbid
  return client.encrypt(keyring, patterned(length), { suiteId, frameLength, encryptionContext })
}

describe('tampering', () => {
  it.each([0x0014, 0x0178, 0x0378, 0x0478, 0x0578])('a changed header byte fails authentication (suite %i)', async (suiteId) => {
    const { ciphertext } = await message(suiteId)
    // Byte 10 is inside the message id in both versions; for v2 the id is the KDF salt, so the commitment check catches it.
    const err = await allow.decrypt(keyring, flipBit(ciphertext, 10, 0)).catch((e) => e)
    expect(err).toBeInstanceOf(AuthenticationError)
    expect(['header', 'commitment']).toContain(err.stage)
  })

  it.each([0x0014, 0x0178, 0x0378, 0x0478, 0x0578])('a changed body byte fails that frame (suite %i)', async (suiteId) => {
    const { ciphertext } = await message(suiteId)
    // 700 bytes at 256 per frame: frames 1 and 2 are regular, frame 3 is final (188 bytes).
    const signed = suiteId === 0x0378 || suiteId === 0x0578
    const finalFrameLength = 700 - 2 * 256 + 40
    const tail = signed ? ciphertext.length - (await footerLength(ciphertext)) : ciphertext.length
    // 100 bytes before frame 2's tag: inside frame 2's ciphertext.
    const secondFrameCiphertext = tail - finalFrameLength - 16 - 100
    const err = await allow.decrypt(keyring, flipBit(ciphertext, secondFrameCiphertext, 0)).catch((e) => e)
    expect(err).toBeInstanceOf(AuthenticationError)
    expect(err).toMatchObject({ stage: 'frame', frame: 2 })
  })

  it.each([0x0378, 0x0578])('a changed signature byte fails the signature (suite %i)', async (suiteId) => {
    const { ciphertext } = await message(suiteId)
    const err = await allow.decrypt(keyring, flipBit(ciphertext, ciphertext.length - 5, 0)).catch((e) => e)
    expect(err).toBeInstanceOf(AuthenticationError)
    expect(err.stage).toBe('signature')
  })

  it('a changed commit key fails the commitment check before any decryption', async () => {
    const { ciphertext } = await message(0x0478)
    // v2 header: the 32-byte commit key ends the header body, right before the 16-byte header tag.
    const headerBodyEnd = await headerBodyLength(ciphertext)
    const err = await allow.decrypt(keyring, flipBit(ciphertext, headerBodyEnd - 1, 0)).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'commitment' })
  })

  it('an altered suite id is rejected with a typed error', async () => {
    const { ciphertext } = await message(0x0478)
    const altered = new Uint8Array(ciphertext)
    altered[2] = 0x05 // 0x0478 -> 0x0578: signed, but the context has no public key
    await expect(allow.decrypt(keyring, altered)).rejects.toBeInstanceOf(MalformedMessageError)
    const v1 = (await message(0x0178)).ciphertext
    const down = new Uint8Array(v1)
    down[3] = 0x14 // 0x0178 -> 0x0114: the wrapped key no longer has the suite's length
    await expect(forbid.decrypt(keyring, down)).rejects.toBeInstanceOf(EnvelopeError)
  })

  it('frames out of order are rejected', async () => {
    const { ciphertext } = await message(0x0478, 700, 256)
    const headerEnd = (await headerBodyLength(ciphertext)) + 16
    const frame = 256 + RegularFrame.OVERHEAD
    const swapped = new Uint8Array(ciphertext)
    swapped.set(ciphertext.subarray(headerEnd + frame, headerEnd + 2 * frame), headerEnd)
    swapped.set(ciphertext.subarray(headerEnd, headerEnd + frame), headerEnd + frame)
    await expect(allow.decrypt(keyring, swapped)).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
  })
})

describe('truncation and trailing bytes', () => {
  it.each([0x0178, 0x0478, 0x0578])('every truncation point class fails with ERR_TRUNCATED (suite %i)', async (suiteId) => {
    const { ciphertext } = await message(suiteId)
    const headerEnd = (await headerBodyLength(ciphertext)) + (suiteId >= 0x0478 ? 16 : 28)
    const points = [1, 10, headerEnd - 1, headerEnd, headerEnd + 5, headerEnd + 300, ciphertext.length - 1]
    for (const length of points) {
      await expect(allow.decrypt(keyring, ciphertext.subarray(0, length)), `length ${length}`).rejects.toMatchObject({ code: 'ERR_TRUNCATED' })
    }
  })

  it.each([0x0178, 0x0478, 0x0578])('bytes after the end of the message fail with ERR_TRAILING_BYTES (suite %i)', async (suiteId) => {
    const { ciphertext } = await message(suiteId)
    for (const extra of [[0], [1, 2, 3], [...ciphertext.subarray(0, 50)]]) {
      const padded = new Uint8Array([...ciphertext, ...extra])
      await expect(allow.decrypt(keyring, padded)).rejects.toMatchObject({ code: 'ERR_TRAILING_BYTES' })
    }
  })

  it('detects base64 text passed as ciphertext', async () => {
    for (const suiteId of [0x0178, 0x0478, 0x0578]) {
      const { ciphertext } = await message(suiteId)
      const text = new TextEncoder().encode(Buffer.from(ciphertext).toString('base64'))
      await expect(allow.decrypt(keyring, text)).rejects.toMatchObject({ code: 'ERR_BASE64_INPUT' })
    }
  })
})

describe('keys and limits', () => {
  it('a wrong key names every key it tried, without key material', async () => {
    const { ciphertext } = await message(0x0478)
    const other = new RawAesKeyring({ keyNamespace: 'tamper', keyName: 'k1', wrappingKey: aesKey(32) })
    const stranger = new RawAesKeyring({ keyNamespace: 'elsewhere', keyName: 'k9', wrappingKey: aesKey(32) })
    const err = await allow.decrypt(other, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts).toEqual([expect.objectContaining({ keyring: 'RawAesKeyring', providerId: 'tamper', keyName: 'k1', reason: expect.stringContaining('unwrap failed') })])
    const err2 = await allow.decrypt(stranger, ciphertext).catch((e) => e)
    expect(err2.attempts[0].reason).toContain('namespace')
    for (const e of [err, err2]) {
      expect(e.message).not.toContain(Buffer.from(wrappingKey).toString('hex'))
      expect(e.message).not.toContain(Buffer.from(wrappingKey).toString('base64'))
    }
  })

  it('rejects too many data keys from the count alone, before any keyring runs', async () => {
    const second = new RawAesKeyring({ keyNamespace: 'tamper', keyName: 'k2', wrappingKey: aesKey(32) })
    const { MultiKeyring } = await import('../../src/index.js')
    const { ciphertext } = await allow.encrypt(new MultiKeyring({ generator: keyring, children: [second, second] }), 'x')
    let called = false
    const spy: Keyring = {
      onEncrypt: keyring.onEncrypt.bind(keyring),
      onDecrypt: async (...args) => {
        called = true
        return keyring.onDecrypt(...args)
      },
    }
    const limited = createClient({ maxEncryptedDataKeys: 2 })
    await expect(limited.decrypt(spy, ciphertext)).rejects.toBeInstanceOf(LimitError)
    expect(called).toBe(false)
    await expect(limited.encrypt(new MultiKeyring({ generator: keyring, children: [second, second] }), 'x')).rejects.toBeInstanceOf(LimitError)
    const { plaintext } = await createClient({ maxEncryptedDataKeys: 3 }).decrypt(spy, ciphertext)
    expect(new TextDecoder().decode(plaintext)).toBe('x')
  })

  it('enforces the header size limit', async () => {
    const big = { filler: 'x'.repeat(5000) }
    const { ciphertext } = await allow.encrypt(keyring, 'x', { encryptionContext: big })
    await expect(createClient({ maxHeaderSize: 4096 }).decrypt(keyring, ciphertext)).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderSize' })
  })
})

describe('policies', () => {
  it('the default policy refuses to decrypt non-committing messages', async () => {
    const { ciphertext } = await message(0x0178)
    await expect(strict.decrypt(keyring, ciphertext)).rejects.toMatchObject({ code: 'ERR_COMMITMENT_POLICY' })
  })

  it('encrypt refuses suites the policy forbids', async () => {
    await expect(strict.encrypt(keyring, 'x', { suiteId: 0x0178 })).rejects.toBeInstanceOf(PolicyError)
    await expect(forbid.encrypt(keyring, 'x', { suiteId: 0x0478 })).rejects.toMatchObject({ code: 'ERR_COMMITMENT_POLICY' })
  })

  it('uses the policy default suites', async () => {
    expect((await strict.encrypt(keyring, 'x')).header.suiteId).toBe(0x0578)
    expect((await forbid.encrypt(keyring, 'x')).header.suiteId).toBe(0x0378)
  })

  it('unsignedOnly refuses signed messages before asking any keyring', async () => {
    const { ciphertext } = await message(0x0578)
    let called = false
    const spy: Keyring = { onEncrypt: keyring.onEncrypt.bind(keyring), onDecrypt: async (...a) => ((called = true), keyring.onDecrypt(...a)) }
    await expect(allow.decrypt(spy, ciphertext, { unsignedOnly: true })).rejects.toMatchObject({ code: 'ERR_SIGNED_NOT_ALLOWED' })
    expect(called).toBe(false)
    const unsigned = await message(0x0478)
    expect((await allow.decrypt(keyring, unsigned.ciphertext, { unsignedOnly: true })).plaintext.length).toBe(700)
  })

  it('rejects invalid client options as programmer errors', () => {
    expect(() => createClient({ commitmentPolicy: 'NOPE' as never })).toThrow(TypeError)
    expect(() => createClient({ maxEncryptedDataKeys: 0 })).toThrow(RangeError)
    expect(() => createClient({ maxEncryptedDataKeys: 70000 })).toThrow(RangeError)
  })
})

async function headerBodyLength(ciphertext: Uint8Array): Promise<number> {
  const { decodeHeader } = await import('../../src/format/header.js')
  const r = decodeHeader(ciphertext, { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 })
  if ('needed' in r) throw new Error('incomplete header')
  return r.headerBodyLength
}

async function footerLength(ciphertext: Uint8Array): Promise<number> {
  // Walk the frames from the header: the footer is what follows the final frame.
  const { decodeHeader } = await import('../../src/format/header.js')
  const r = decodeHeader(ciphertext, { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 })
  if ('needed' in r) throw new Error('incomplete header')
  let o = r.length
  while (!isFinalFrame(ciphertext, o)) o += r.header.frameLength + RegularFrame.OVERHEAD
  o += finalFrameContentLength(ciphertext, o) + FinalFrame.OVERHEAD
  return ciphertext.length - o
}
