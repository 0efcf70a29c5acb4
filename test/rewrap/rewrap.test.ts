/**
 * client.rewrap / rewrapStream / rewrapWebStream (spec/rewrap.md): the same data
 * key under new wrapping keys, in a new message (new message id, body
 * re-encrypted), for every unsigned suite with key derivation; what is refused,
 * and that nothing is written for a refused or tampered input.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import {
  ALL_SUITES,
  createClient,
  DefaultCmm,
  inspectMessage,
  isEnvelopeError,
  MultiKeyring,
  RawAesKeyring,
  RawRsaKeyring,
  RequiredEncryptionContextCmm,
  createDecryptionMaterials,
  createEncryptionMaterials,
  type AlgorithmSuite,
  type Cmm,
  type EncryptionMaterials,
  type Keyring,
  type MessageInfo,
} from '../../src/index.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'

const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const requireBoth = createClient()
/** Plain Uint8Array copies, so a Buffer and a Uint8Array of the same bytes compare equal. */
const bytes = (b: Uint8Array) => new Uint8Array(b)
const clientFor = (suite: AlgorithmSuite) => (suite.committing ? requireBoth : forbid)

const UNSIGNED = ALL_SUITES.filter((s) => !s.signature)
/** The suites rewrap writes: unsigned, with a key derivation (a new message id must give a new key). */
const REWRAPPABLE = UNSIGNED.filter((s) => s.kdf === 'hkdf')
const NO_KDF = UNSIGNED.filter((s) => s.kdf === 'identity')
const SIGNED = ALL_SUITES.filter((s) => s.signature)

const aes = (name: string, key = aesKey(32)) => new RawAesKeyring({ keyNamespace: 'rewrap', keyName: name, wrappingKey: key })
const oldKeyring = aes('old')
const newKeyring = aes('new')
const CONTEXT = { tenant: 'a', purpose: 'rewrap test' }

function info(message: Uint8Array): MessageInfo {
  const result = inspectMessage(message)
  if (!result.complete) throw new Error('incomplete header')
  return result
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (e) {
    if (isEnvelopeError(e)) return e.code
    throw e
  }
  throw new Error('expected a failure')
}


async function viaNodeStream(stream: NodeJS.ReadWriteStream, message: Uint8Array, chunk: number): Promise<{ out: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = []
  const chunks = function* () {
    for (let o = 0; o < message.length; o += chunk) yield message.subarray(o, o + chunk)
  }
  let error: unknown
  try {
    await pipeline(
      Readable.from(chunks()),
      stream,
      new Writable({
        write(part, _enc, cb) {
          parts.push(new Uint8Array(part))
          cb()
        },
      }),
    )
  } catch (e) {
    error = e
  }
  return { out: bytes(Buffer.concat(parts)), error }
}

async function viaWebStream(stream: TransformStream<Uint8Array, Uint8Array>, message: Uint8Array, chunk: number): Promise<{ out: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = []
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let o = 0; o < message.length; o += chunk) controller.enqueue(message.slice(o, o + chunk))
      controller.close()
    },
  })
  let error: unknown
  try {
    await source.pipeThrough(stream).pipeTo(new WritableStream({ write: (part) => void parts.push(part) }))
  } catch (e) {
    error = e
  }
  return { out: bytes(Buffer.concat(parts)), error }
}

describe('rewrap: every unsigned suite with key derivation, framed and non-framed', () => {
  const cases = REWRAPPABLE.flatMap((suite) => [0, 1, 100, 4096].map((frameLength) => [suite.name, frameLength, suite] as const))
  it.each(cases)('%s frameLength=%i', async (_name, frameLength, suite) => {
    const client = clientFor(suite)
    const plaintext = patterned(frameLength === 0 ? 1000 : frameLength * 3 + 7)
    const { ciphertext } = await client.encrypt(oldKeyring, plaintext, { suiteId: suite.id, frameLength, encryptionContext: CONTEXT })
    const result = await client.rewrap(ciphertext, { from: oldKeyring, to: newKeyring })

    const before = info(ciphertext)
    const after = info(result.ciphertext)
    // A new message id (so a new message key: no GCM nonce is ever reused across the two messages); same suite, context; new keys.
    expect(after.messageId).not.toEqual(before.messageId)
    expect(after.suiteId).toBe(suite.id)
    expect(after.encryptionContext).toEqual(before.encryptionContext)
    // Framed input keeps its frame length; a non-framed one comes out framed (4096).
    expect([after.contentType, after.frameLength]).toEqual(frameLength === 0 ? [2, 4096] : [before.contentType, before.frameLength])
    expect(after.encryptedDataKeys.map((k) => k.keyName)).toEqual(['new'])
    expect(result.header.encryptedDataKeys).toHaveLength(1)
    expect(result.encryptionContext).toEqual(CONTEXT)

    expect(bytes((await client.decrypt(newKeyring, result.ciphertext)).plaintext)).toEqual(bytes(plaintext))
    expect(await codeOf(client.decrypt(oldKeyring, result.ciphertext))).toBe('ERR_NO_MATCHING_KEY')
  })

  it('two rewraps of one message are two new messages: three message ids, so three message keys', async () => {
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(500), { suiteId: 0x0478, frameLength: 100 })
    const a = await requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring })
    const b = await requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring })
    const ids = [ciphertext, a.ciphertext, b.ciphertext].map((m) => Buffer.from(info(m).messageId).toString('hex'))
    expect(new Set(ids).size).toBe(3)
  })
})

describe('rewrap: keyrings', () => {
  it('multi (aes generator, rsa child) -> single: only the new key decrypts', async () => {
    const rsa = new RawRsaKeyring({ keyNamespace: 'rewrap-rsa', keyName: 'rsa', padding: 'oaep-sha256', ...rsaKeyPair() })
    const multi = new MultiKeyring({ generator: aes('gen'), children: [rsa] })
    const { ciphertext } = await requireBoth.encrypt(multi, patterned(5000), { suiteId: 0x0478, encryptionContext: CONTEXT })
    expect(info(ciphertext).encryptedDataKeys).toHaveLength(2)
    // The RSA key alone recovers the data key.
    const { ciphertext: out } = await requireBoth.rewrap(ciphertext, { from: rsa, to: newKeyring })
    expect(info(out).encryptedDataKeys.map((k) => [k.keyNameKind, k.keyName])).toEqual([['raw-aes-key-name', 'new']])
    expect(bytes((await requireBoth.decrypt(newKeyring, out)).plaintext)).toEqual(bytes(patterned(5000)))
    expect(await codeOf(requireBoth.decrypt(multi, out))).toBe('ERR_NO_MATCHING_KEY')
    expect(await codeOf(requireBoth.decrypt(rsa, out))).toBe('ERR_NO_MATCHING_KEY')
  })

  it('single -> multi with a generator: the generator wraps the same key, and every member decrypts', async () => {
    const rsa = new RawRsaKeyring({ keyNamespace: 'rewrap-rsa', keyName: 'rsa', padding: 'oaep-sha1', ...rsaKeyPair() })
    const gen = aes('gen2')
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(300), { suiteId: 0x0478 })
    const { ciphertext: out } = await requireBoth.rewrap(ciphertext, { from: oldKeyring, to: new MultiKeyring({ generator: gen, children: [rsa, oldKeyring] }) })
    expect(info(out).encryptedDataKeys.map((k) => k.keyName)).toEqual(['gen2', 'rsa', 'old'])
    // Old keys still decrypt only because `to` included one.
    for (const k of [gen, rsa, oldKeyring]) expect(bytes((await requireBoth.decrypt(k, out)).plaintext)).toEqual(bytes(patterned(300)))
  })

  it('a `to` keyring that replaces the data key is refused (ERR_KEYRING), nothing returned', async () => {
    const replacing: Keyring = {
      onEncrypt: async (m: EncryptionMaterials, ctx) => newKeyring.onEncrypt(createEncryptionMaterials({ ...m }, new Uint8Array(m.suite.keyLength).fill(7)), ctx),
      onDecrypt: async () => {
        throw new Error('unused')
      },
    }
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(300), { suiteId: 0x0478 })
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: replacing }))).toBe('ERR_KEYRING')
  })

  it('a `to` keyring that adds no encrypted data key is refused (ERR_KEYRING)', async () => {
    const idle: Keyring = { onEncrypt: async (m) => m, onDecrypt: async (m) => m }
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(10), { suiteId: 0x0478 })
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: idle }))).toBe('ERR_KEYRING')
  })

  it('more new keys than maxEncryptedDataKeys: ERR_LIMIT_EXCEEDED', async () => {
    const client = createClient({ maxEncryptedDataKeys: 2 })
    const { ciphertext } = await client.encrypt(oldKeyring, patterned(10), { suiteId: 0x0478 })
    const three = new MultiKeyring({ children: [aes('x'), aes('y'), aes('z')] })
    expect(await codeOf(client.rewrap(ciphertext, { from: oldKeyring, to: three }))).toBe('ERR_LIMIT_EXCEEDED')
  })

  it('an input with more keys than maxEncryptedDataKeys is refused before `from` is asked', async () => {
    const many = new MultiKeyring({ generator: aes('a'), children: [aes('b'), aes('c')] })
    const { ciphertext } = await requireBoth.encrypt(many, patterned(10), { suiteId: 0x0478 })
    let asked = false
    const from: Keyring = {
      onEncrypt: async (m) => m,
      onDecrypt: async (m) => {
        asked = true
        return m
      },
    }
    expect(await codeOf(createClient({ maxEncryptedDataKeys: 2 }).rewrap(ciphertext, { from, to: newKeyring }))).toBe('ERR_LIMIT_EXCEEDED')
    expect(asked).toBe(false)
  })

  it('`to` must be a keyring, and the options are checked', async () => {
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(10), { suiteId: 0x0478 })
    await expect(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: {} as Keyring })).rejects.toThrow(TypeError)
    await expect(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring, frameLength: 5 } as never)).rejects.toThrow(/unknown rewrap options key "frameLength"/)
    expect(() => requireBoth.rewrapStream(undefined as never)).toThrow(TypeError)
  })

  it('the new header stores only the pairs the old header tag authenticated, whatever `from` returns', async () => {
    const inner = new DefaultCmm(oldKeyring)
    const injecting: Cmm = {
      getEncryptionMaterials: (request, services) => inner.getEncryptionMaterials(request, services),
      decryptMaterials: async (request, services) => {
        const m = await inner.decryptMaterials(request, services)
        return createDecryptionMaterials({ ...m, encryptionContext: { ...m.encryptionContext, injected: 'x' } }, m.plaintextDataKey!)
      },
    }
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(100), { suiteId: 0x0478, encryptionContext: CONTEXT })
    const { ciphertext: out } = await requireBoth.rewrap(ciphertext, { from: injecting, to: newKeyring })
    expect(info(out).encryptionContext).toEqual(CONTEXT)
    expect(bytes((await requireBoth.decrypt(newKeyring, out)).plaintext)).toEqual(bytes(patterned(100)))
  })

  it('required (authenticated-only) pairs stay required in the new message', async () => {
    const cmm = new RequiredEncryptionContextCmm({ keyring: oldKeyring, requiredEncryptionContextKeys: ['secret-pair'] })
    const context = { ...CONTEXT, 'secret-pair': 'x' }
    const { ciphertext } = await requireBoth.encrypt(cmm, patterned(100), { suiteId: 0x0478, encryptionContext: context })
    // The raw AES keyring binds the whole context, so without the pair no key unwraps.
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring }))).toBe('ERR_NO_MATCHING_KEY')
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring, encryptionContext: { 'secret-pair': 'y' } }))).toBe('ERR_CONTEXT_MISMATCH')
    const { ciphertext: out, encryptionContext } = await requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring, encryptionContext: { 'secret-pair': 'x' } })
    expect(encryptionContext).toEqual(context)
    expect(info(out).encryptionContext).toEqual(CONTEXT)
    expect(await codeOf(requireBoth.decrypt(newKeyring, out))).toBe('ERR_NO_MATCHING_KEY')
    const { plaintext } = await requireBoth.decrypt(newKeyring, out, { encryptionContext: { 'secret-pair': 'x' } })
    expect(bytes(plaintext)).toEqual(bytes(patterned(100)))
    // `from` may be a CMM, here the one that wrote the message.
    const { ciphertext: viaCmm } = await requireBoth.rewrap(ciphertext, { from: cmm, to: newKeyring, encryptionContext: { 'secret-pair': 'x' } })
    expect(bytes((await requireBoth.decrypt(newKeyring, viaCmm, { encryptionContext: { 'secret-pair': 'x' } })).plaintext)).toEqual(bytes(patterned(100)))
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: cmm, to: newKeyring }))).toBe('ERR_CONTEXT_MISMATCH')
  })
})

describe('rewrap: refused inputs', () => {
  it.each(SIGNED.map((s) => [s.name, s] as const))('signed suite %s: ERR_SIGNED_NOT_ALLOWED before `from` is asked, nothing out', async (_n, suite) => {
    const client = clientFor(suite)
    const { ciphertext } = await client.encrypt(oldKeyring, patterned(100), { suiteId: suite.id })
    let asked = false
    const from: Keyring = {
      onEncrypt: async (m) => m,
      onDecrypt: async (m, edks, ctx) => {
        asked = true
        return oldKeyring.onDecrypt(m, edks, ctx)
      },
    }
    const error = await client.rewrap(ciphertext, { from, to: newKeyring }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_SIGNED_NOT_ALLOWED', message: expect.stringMatching(/signing key was discarded/) })
    expect(asked).toBe(false)
    const streamed = await viaNodeStream(client.rewrapStream({ from, to: newKeyring }), ciphertext, 7)
    expect(streamed.error).toMatchObject({ code: 'ERR_SIGNED_NOT_ALLOWED' })
    expect(streamed.out.length).toBe(0)
  })

  it.each(NO_KDF.map((s) => [s.name, s] as const))('suite %s without key derivation: ERR_UNSUPPORTED before `from` is asked, nothing out', async (_n, suite) => {
    // Its message key is the data key whatever the message id: a rewrapped copy would reuse the input's key and IVs.
    const { ciphertext } = await forbid.encrypt(oldKeyring, patterned(100), { suiteId: suite.id })
    let asked = false
    const from: Keyring = {
      onEncrypt: async (m) => m,
      onDecrypt: async (m, edks, ctx) => {
        asked = true
        return oldKeyring.onDecrypt(m, edks, ctx)
      },
    }
    expect(await codeOf(forbid.rewrap(ciphertext, { from, to: newKeyring }))).toBe('ERR_UNSUPPORTED')
    expect(asked).toBe(false)
    const streamed = await viaWebStream(forbid.rewrapWebStream({ from, to: newKeyring }), ciphertext, 7)
    expect(streamed.error).toMatchObject({ code: 'ERR_UNSUPPORTED' })
    expect(streamed.out.length).toBe(0)
  })

  it('commitment policy: a non-committing message is refused under REQUIRE_ENCRYPT_ALLOW_DECRYPT (rewrap writes one)', async () => {
    const { ciphertext } = await forbid.encrypt(oldKeyring, patterned(10), { suiteId: 0x0178 })
    const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
    expect(await codeOf(allow.rewrap(ciphertext, { from: oldKeyring, to: newKeyring }))).toBe('ERR_COMMITMENT_POLICY')
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: oldKeyring, to: newKeyring }))).toBe('ERR_COMMITMENT_POLICY')
    // FORBID writes non-committing messages, so it rewraps them; and does not write committing ones.
    await forbid.rewrap(ciphertext, { from: oldKeyring, to: newKeyring })
    const { ciphertext: committing } = await requireBoth.encrypt(oldKeyring, patterned(10), { suiteId: 0x0478 })
    expect(await codeOf(forbid.rewrap(committing, { from: oldKeyring, to: newKeyring }))).toBe('ERR_COMMITMENT_POLICY')
  })

  it('a wrong `from` key: ERR_NO_MATCHING_KEY; a data key that fails the commitment: ERR_AUTHENTICATION_FAILED', async () => {
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(10), { suiteId: 0x0478 })
    expect(await codeOf(requireBoth.rewrap(ciphertext, { from: aes('old'), to: newKeyring }))).toBe('ERR_NO_MATCHING_KEY')
    const wrongKey: Keyring = {
      onEncrypt: async (m) => m,
      onDecrypt: async (m) => createDecryptionMaterials({ ...m }, new Uint8Array(32).fill(1)),
    }
    const error = await requireBoth.rewrap(ciphertext, { from: wrongKey, to: newKeyring }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'commitment' })
  })
})

describe('rewrap: streams', () => {
  const cases = [
    ['node', 0x0478, 64],
    ['node', 0x0178, 0],
    ['web', 0x0478, 64],
    ['web', 0x0114, 0],
  ] as const
  it.each(cases)('%s stream, suite %i, frameLength %i, 1-byte chunks: a new message the new key decrypts', async (kind, suiteId, frameLength) => {
    const client = suiteId === 0x0478 ? requireBoth : forbid
    const plaintext = patterned(1000)
    const { ciphertext } = await client.encrypt(oldKeyring, plaintext, { suiteId, frameLength, encryptionContext: CONTEXT })
    const options = { from: oldKeyring, to: newKeyring }
    const { out, error } = kind === 'node' ? await viaNodeStream(client.rewrapStream(options), ciphertext, 1) : await viaWebStream(client.rewrapWebStream(options), ciphertext, 1)
    expect(error).toBeUndefined()
    expect(info(out).messageId).not.toEqual(info(ciphertext).messageId)
    expect(bytes((await client.decrypt(newKeyring, out)).plaintext)).toEqual(bytes(plaintext))
  })

  it('the header promise resolves with the new header', async () => {
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(100), { suiteId: 0x0478 })
    const stream = requireBoth.rewrapStream({ from: oldKeyring, to: newKeyring })
    const [{ out }, header] = await Promise.all([viaNodeStream(stream, ciphertext, 50), stream.header])
    expect(header.encryptedDataKeys).toHaveLength(1)
    expect(bytes(info(out).encryptedDataKeys[0]!.providerInfo)).toEqual(bytes(header.encryptedDataKeys[0]!.providerInfo))
  })
})

describe('rewrap: tampered and truncated input', () => {
  const plaintext = patterned(300)
  let message: Uint8Array
  let headerLength: number
  const setup = async () => {
    message ??= (await requireBoth.encrypt(oldKeyring, plaintext, { suiteId: 0x0478, frameLength: 64, encryptionContext: CONTEXT })).ciphertext
    headerLength = info(message).headerLength
    return message
  }

  /**
   * What a stream released must be the new header and new frames of plaintext that precedes the frame
   * holding byte `bad` of the input: decrypting what came out (as far as it goes) gives a prefix of the
   * plaintext no longer than the frames before that one.
   */
  async function checkReleased(out: Uint8Array, bad: number): Promise<void> {
    if (bad < headerLength) {
      expect(out.length).toBe(0)
      return
    }
    if (out.length === 0) return
    const framesBefore = Math.floor((bad - headerLength) / (64 + 4 + 12 + 16))
    const opened: Uint8Array[] = []
    const decryptor = requireBoth.decryptWebStream(newKeyring)
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(out.slice())
        controller.close()
      },
    })
    // The released part ends before a final frame, so the decrypt fails as truncated after giving out the frames it verified.
    await source.pipeThrough(decryptor).pipeTo(new WritableStream({ write: (part) => void opened.push(part) })).catch(() => {})
    const got = bytes(Buffer.concat(opened))
    expect(got.length).toBeLessThanOrEqual(framesBefore * 64)
    expect(got).toEqual(bytes(plaintext.subarray(0, got.length)))
  }

  it('every single-bit flip: one-shot rejects with a typed error; streams release nothing from the flipped byte on', async () => {
    await setup()
    for (let i = 0; i < message.length; i++) {
      const bad = message.slice()
      bad[i]! ^= 1 << (i % 8)
      const error = await requireBoth.rewrap(bad, { from: oldKeyring, to: newKeyring }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isEnvelopeError(error), `flip at ${i}`).toBe(true)
      if (i % 5 === 0) {
        const { out, error: streamError } = await viaNodeStream(requireBoth.rewrapStream({ from: oldKeyring, to: newKeyring }), bad, 13)
        expect(isEnvelopeError(streamError), `stream flip at ${i}`).toBe(true)
        await checkReleased(out, i)
      }
    }
  })

  it('every truncation: one-shot rejects; streams fail and release nothing past the cut', async () => {
    await setup()
    for (let n = 0; n < message.length; n++) {
      const cut = message.subarray(0, n)
      expect(await codeOf(requireBoth.rewrap(cut, { from: oldKeyring, to: newKeyring })), `cut at ${n}`).toMatch(/^ERR_(TRUNCATED|MALFORMED_MESSAGE)$/)
      if (n % 7 === 0) {
        const { out, error } = await viaWebStream(requireBoth.rewrapWebStream({ from: oldKeyring, to: newKeyring }), cut, 11)
        expect(isEnvelopeError(error), `stream cut at ${n}`).toBe(true)
        await checkReleased(out, n)
      }
    }
  })

  it('bytes after the message: ERR_TRAILING_BYTES', async () => {
    await setup()
    const longer = new Uint8Array(message.length + 1)
    longer.set(message)
    expect(await codeOf(requireBoth.rewrap(longer, { from: oldKeyring, to: newKeyring }))).toBe('ERR_TRAILING_BYTES')
  })
})

describe('rewrap: data keys are wiped', () => {
  /** A `to` keyring that wraps with `inner` and remembers the data key arrays it saw. */
  function watching(inner: Keyring): { keyring: Keyring; seen: Uint8Array[] } {
    const seen: Uint8Array[] = []
    return {
      seen,
      keyring: {
        onEncrypt: async (m, ctx) => {
          seen.push(m.plaintextDataKey!)
          const out = await inner.onEncrypt(m, ctx)
          seen.push(out.plaintextDataKey!)
          return out
        },
        onDecrypt: async (m) => m,
      },
    }
  }
  /** A `from` keyring that remembers the data key it returned. */
  function recording(inner: Keyring): { keyring: Keyring; returned: Uint8Array[] } {
    const returned: Uint8Array[] = []
    return {
      returned,
      keyring: {
        onEncrypt: (m, ctx) => inner.onEncrypt(m, ctx),
        onDecrypt: async (m, edks, ctx) => {
          const out = await inner.onDecrypt(m, edks, ctx)
          returned.push(out.plaintextDataKey!)
          return out
        },
      },
    }
  }
  const zero = (key: Uint8Array) => key.every((b) => b === 0)

  it('after success: the key `from` returned, the key `to` was given and the one it returned are all zero', async () => {
    const { ciphertext } = await requireBoth.encrypt(oldKeyring, patterned(100), { suiteId: 0x0478 })
    const to = watching(newKeyring)
    const from = recording(oldKeyring)
    await requireBoth.rewrap(ciphertext, { from: from.keyring, to: to.keyring })
    expect(from.returned).toHaveLength(1)
    expect(to.seen).toHaveLength(2)
    for (const key of [...from.returned, ...to.seen]) {
      expect(key).toHaveLength(32)
      expect(zero(key)).toBe(true)
    }
  })

  it('after `to` failed (too many keys): the keys are zero too', async () => {
    const client = createClient({ maxEncryptedDataKeys: 1 })
    const { ciphertext } = await client.encrypt(oldKeyring, patterned(100), { suiteId: 0x0478 })
    const to = watching(new MultiKeyring({ children: [aes('p'), aes('q')] }))
    expect(await codeOf(client.rewrap(ciphertext, { from: oldKeyring, to: to.keyring }))).toBe('ERR_LIMIT_EXCEEDED')
    expect(to.seen.length).toBeGreaterThan(0)
    for (const key of to.seen) expect(zero(key)).toBe(true)
  })
})

describe('rewrap: the web entry', () => {
  it('its client rewraps one-shot and through rewrapWebStream (WebCrypto backend with pure JS behind it)', async () => {
    const { createClient: createWebClient } = await import('../../src/entry/web.js')
    const web = createWebClient()
    const { ciphertext } = await web.encrypt(oldKeyring, patterned(5000), { suiteId: 0x0478, frameLength: 1000 })
    const { ciphertext: out } = await web.rewrap(ciphertext, { from: oldKeyring, to: newKeyring })
    expect(bytes((await requireBoth.decrypt(newKeyring, out)).plaintext)).toEqual(bytes(patterned(5000)))
    const streamed = await viaWebStream(web.rewrapWebStream({ from: oldKeyring, to: newKeyring }), ciphertext, 333)
    expect(streamed.error).toBeUndefined()
    expect(bytes((await requireBoth.decrypt(newKeyring, streamed.out)).plaintext)).toEqual(bytes(patterned(5000)))
    expect('rewrapStream' in web).toBe(false)
  })
})
