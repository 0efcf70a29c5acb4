import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createClient, EncryptionContextError, RawAesKeyring } from '../../src/index.js'
import { decodeEncryptionContext, encodeEncryptionContext } from '../../src/format/encryption-context.js'
import { aesKey } from '../support/keys.js'

/** Independent serializer for the expectation: pairs in the order given, as the format lays them out. */
function layout(pairs: [string, string][]): string {
  const parts = [pairs.length.toString(16).padStart(4, '0')]
  for (const [k, v] of pairs) {
    for (const s of [k, v]) {
      const bytes = Buffer.from(s, 'utf8')
      parts.push(bytes.length.toString(16).padStart(4, '0'), bytes.toString('hex'))
    }
  }
  return parts.join('')
}

describe('encryption context serialization', () => {
  it('is empty for an empty context', () => {
    expect(encodeEncryptionContext({})).toHaveLength(0)
  })

  it('sorts by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF61 is EF BD A1 in UTF-8 and sorts before U+1F600 (F0 9F 98 80);
    // in UTF-16 the emoji's surrogate D83D sorts first, which is what Array.prototype.sort would do.
    const context = { '\u{1F600}': 'emoji', '\uFF61': 'halfwidth', b: '2', a: '1' }
    expect(Object.keys(context).sort()).toEqual(['a', 'b', '\u{1F600}', '\uFF61'])
    const encoded = Buffer.from(encodeEncryptionContext(context)).toString('hex')
    expect(encoded).toBe(layout([['a', '1'], ['b', '2'], ['\uFF61', 'halfwidth'], ['\u{1F600}', 'emoji']]))
  })

  it('orders a prefix before its extensions and 0x7f before 0x80 (C keyring KAT case)', () => {
    const encoded = Buffer.from(encodeEncryptionContext({ 'aaaaaaaa\u0080': 'A', aaaaaaaa: 'B', 'aaaaaaaa\u007f': 'C' })).toString('hex')
    expect(encoded).toBe(layout([['aaaaaaaa', 'B'], ['aaaaaaaa\u007f', 'C'], ['aaaaaaaa\u0080', 'A']]))
  })

  it('round-trips through the decoder', () => {
    const context = { 'ключ': 'значение', '键': '值', '': 'empty key', x: '' }
    expect(decodeEncryptionContext(encodeEncryptionContext(context))).toEqual(context)
  })

  it('matches an independent serializer for arbitrary contexts, ASCII or not', () => {
    // ASCII-only contexts take a separate fast path; mixing both kinds of string covers each path and the switch.
    const text = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }))
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 8 }), (context) => {
        const pairs = Object.entries(context).sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
        const expected = pairs.length === 0 ? '' : layout(pairs)
        expect(Buffer.from(encodeEncryptionContext(context)).toString('hex')).toBe(expected)
        expect(decodeEncryptionContext(encodeEncryptionContext(context))).toEqual(context)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps a leading U+FEFF and a "__proto__" key as ordinary context', async () => {
    const context = { '\uFEFFkey': '\uFEFFvalue', ['__proto__']: 'not a prototype' }
    expect(Object.keys(context)).toContain('__proto__')
    expect(decodeEncryptionContext(encodeEncryptionContext(context))).toEqual(context)
    const client = createClient()
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: aesKey(32) })
    const { ciphertext, header } = await client.encrypt(keyring, 'x', { encryptionContext: context, suiteId: 0x0478 })
    expect(header.encryptionContext).toEqual(context)
    const { plaintext, encryptionContext } = await client.decrypt(keyring, ciphertext, { encryptionContext: context })
    expect(new TextDecoder().decode(plaintext)).toBe('x')
    expect(Object.getPrototypeOf(encryptionContext)).toBe(Object.prototype)
    expect(Object.keys(encryptionContext).sort()).toEqual(Object.keys(context).sort())
  })

  it('rejects lone surrogates, which cannot be encoded as UTF-8', () => {
    expect(() => encodeEncryptionContext({ ['\uD800']: 'x' })).toThrow(EncryptionContextError)
  })

  it('rejects a pair longer than 65535 bytes', () => {
    expect(() => encodeEncryptionContext({ k: 'x'.repeat(65536) })).toThrow(EncryptionContextError)
  })

  it('rejects duplicate keys, truncation and trailing bytes when decoding', () => {
    const one = encodeEncryptionContext({ k: 'v' })
    const dup = new Uint8Array([0, 2, ...one.subarray(2), ...one.subarray(2)])
    expect(() => decodeEncryptionContext(dup)).toThrow(/duplicate/)
    expect(() => decodeEncryptionContext(one.subarray(0, one.length - 1))).toThrow(/runs past/)
    expect(() => decodeEncryptionContext(new Uint8Array([...one, 0]))).toThrow(/after its last pair/)
    expect(() => decodeEncryptionContext(new Uint8Array([0, 0]))).toThrow(/zero pairs/)
  })
})

describe('encryption context on encrypt', () => {
  const keyring = new RawAesKeyring({ keyNamespace: 'ec', keyName: 'k', wrappingKey: aesKey(32) })
  const client = createClient()

  it('rejects every key with the reserved aws-crypto- prefix', async () => {
    for (const key of ['aws-crypto-public-key', 'aws-crypto-anything']) {
      await expect(client.encrypt(keyring, 'x', { encryptionContext: { [key]: 'v' } })).rejects.toMatchObject({ code: 'ERR_INVALID_CONTEXT' })
    }
  })

  it('rejects non-string values as a programmer error', async () => {
    await expect(client.encrypt(keyring, 'x', { encryptionContext: { n: 1 as unknown as string } })).rejects.toThrow(TypeError)
  })

  it('rejects a context whose serialization exceeds 65535 bytes', async () => {
    const context = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'x'.repeat(4000)]))
    await expect(client.encrypt(keyring, 'x', { encryptionContext: context })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
  })

  it('stores the signing public key for signed suites and returns the full context', async () => {
    const { header, encryptionContext } = await client.encrypt(keyring, 'x', { encryptionContext: { a: 'b' } })
    expect(header.encryptionContext.a).toBe('b')
    // base64 of a 49-byte compressed P-384 point is 68 characters.
    expect(header.encryptionContext['aws-crypto-public-key']).toMatch(/^[A-Za-z0-9+/]{66}==$/)
    expect(encryptionContext).toEqual(header.encryptionContext)
  })
})
