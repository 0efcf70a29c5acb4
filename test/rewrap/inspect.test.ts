/** inspectMessage (spec/rewrap.md#inspect): prefixes, limits and errors as decrypt has them, key names. */
import { describe, expect, it } from 'vitest'
import {
  createClient,
  DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
  inspectMessage,
  isEnvelopeError,
  MultiKeyring,
  RawAesKeyring,
  RawRsaKeyring,
  withEncryptedDataKey,
  type EncryptedDataKey,
  type Keyring,
} from '../../src/index.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'

const client = createClient()
const aes = (name: string) => new RawAesKeyring({ keyNamespace: 'ns', keyName: name, wrappingKey: aesKey(32) })

function thrown(work: () => unknown): unknown {
  try {
    work()
  } catch (e) {
    return e
  }
  throw new Error('expected a failure')
}

/** A keyring that adds one EDK with the given provider id and info (no real key: only the header is read). */
const fixedEdk = (edk: EncryptedDataKey): Keyring => ({
  onEncrypt: async (m, ctx) => {
    const withKey = await aes('gen').onEncrypt(m, ctx)
    return withEncryptedDataKey(withKey, edk)
  },
  onDecrypt: async (m) => m,
})

describe('inspectMessage', () => {
  it('reports the header fields and says nothing is authenticated', async () => {
    const rsa = new RawRsaKeyring({ keyNamespace: 'rsa-ns', keyName: 'rsa key', padding: 'oaep-sha256', ...rsaKeyPair() })
    const { ciphertext, header } = await client.encrypt(new MultiKeyring({ generator: aes('aes key'), children: [rsa] }), patterned(100), {
      suiteId: 0x0478,
      frameLength: 50,
      encryptionContext: { a: 'b' },
    })
    const info = inspectMessage(ciphertext)
    expect(info).toMatchObject({
      complete: true,
      authenticated: false,
      version: 2,
      suiteId: 0x0478,
      suiteName: 'ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY',
      messageId: header.messageId,
      contentType: 2,
      frameLength: 50,
      signed: false,
      committing: true,
      encryptionContext: { a: 'b' },
    })
    if (!info.complete) throw new Error('incomplete')
    expect(info.encryptedDataKeys.map(({ providerId, keyName, keyNameKind, length }) => ({ providerId, keyName, keyNameKind, length }))).toEqual([
      { providerId: 'ns', keyName: 'aes key', keyNameKind: 'raw-aes-key-name', length: 48 },
      { providerId: 'rsa-ns', keyName: 'rsa key', keyNameKind: 'key-name', length: 256 },
    ])
    // The body starts right after the header.
    expect(inspectMessage(ciphertext.subarray(0, info.headerLength))).toEqual(info)
  })

  it('names KMS key ARNs and branch key ids; leaves binary provider info without a name', async () => {
    const arn = 'arn:aws:kms:us-west-2:111122223333:key/k1'
    const kinds = []
    for (const [providerId, providerInfo] of [
      ['aws-kms', new TextEncoder().encode(arn)],
      ['aws-kms-hierarchy', new TextEncoder().encode('branch-1')],
      ['aws-kms-ecdh', new Uint8Array([1, 2, 3])],
      ['custom', new Uint8Array([0xff, 0xfe])],
    ] as const) {
      const { ciphertext } = await client.encrypt(fixedEdk({ providerId, providerInfo, ciphertext: new Uint8Array(9) }), 'x', { suiteId: 0x0478 })
      const info = inspectMessage(ciphertext)
      if (!info.complete) throw new Error('incomplete')
      const { keyName, keyNameKind, length } = info.encryptedDataKeys[1]!
      kinds.push({ providerId, keyName, keyNameKind, length })
    }
    expect(kinds).toEqual([
      { providerId: 'aws-kms', keyName: arn, keyNameKind: 'kms-key-arn', length: 9 },
      { providerId: 'aws-kms-hierarchy', keyName: 'branch-1', keyNameKind: 'branch-key-id', length: 9 },
      { providerId: 'aws-kms-ecdh', keyName: undefined, keyNameKind: undefined, length: 9 },
      { providerId: 'custom', keyName: undefined, keyNameKind: undefined, length: 9 },
    ])
  })

  it('every prefix shorter than the header: incomplete, with a bound it never overshoots', async () => {
    const { ciphertext } = await createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }).encrypt(aes('k'), 'hello', { suiteId: 0x0178, encryptionContext: { k: 'v' } })
    const full = inspectMessage(ciphertext)
    if (!full.complete) throw new Error('incomplete')
    for (let n = 0; n < full.headerLength; n++) {
      const result = inspectMessage(ciphertext.subarray(0, n))
      expect(result.complete, `prefix ${n}`).toBe(false)
      if (result.complete) continue
      expect(result.needed).toBeGreaterThan(n)
      expect(result.needed).toBeLessThanOrEqual(full.headerLength)
    }
  })

  it('the limits and errors decrypt has: maxEncryptedDataKeys, maxHeaderSize, base64 input, bad version', async () => {
    const many = new MultiKeyring({ generator: aes('a'), children: Array.from({ length: DEFAULT_MAX_ENCRYPTED_DATA_KEYS }, (_, i) => aes(`c${i}`)) })
    const { ciphertext } = await createClient({ maxEncryptedDataKeys: false }).encrypt(many, 'x', { suiteId: 0x0478 })
    expect(thrown(() => inspectMessage(ciphertext))).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxEncryptedDataKeys' })
    expect(inspectMessage(ciphertext, { maxEncryptedDataKeys: false }).complete).toBe(true)
    expect(thrown(() => inspectMessage(ciphertext, { maxEncryptedDataKeys: false, maxHeaderSize: 100 }))).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxHeaderSize' })
    // The same error decrypt gives for the same bytes.
    const decryptError = await client.decrypt(aes('a'), ciphertext).catch((e: unknown) => e)
    expect((thrown(() => inspectMessage(ciphertext)) as Error).message).toBe((decryptError as Error).message)

    const base64 = new TextEncoder().encode(Buffer.from(ciphertext).toString('base64'))
    expect(thrown(() => inspectMessage(base64))).toMatchObject({ code: 'ERR_BASE64_INPUT' })
    const e = thrown(() => inspectMessage(new Uint8Array([9, 9, 9])))
    expect(isEnvelopeError(e) && e.code).toBe('ERR_MALFORMED_MESSAGE')
    expect(() => inspectMessage('AgV' as never)).toThrow(TypeError)
    expect(() => inspectMessage(ciphertext, { maxHeaderSize: 0 })).toThrow(RangeError)
  })
})
