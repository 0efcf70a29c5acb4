/**
 * Hard-coded messages and known-answer tests lifted from the C, JS and Python
 * ESDK unit tests (static/ in test-vectors/public.tar.gz). Every expected value
 * here comes from those files, not from our own output.
 */
import { describe, expect, it } from 'vitest'
import {
  createClient,
  EnvelopeError,
  LimitError,
  RawAesKeyring,
  RawRsaKeyring,
  UnsupportedError,
  createDecryptionMaterials,
  findSuite,
} from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { decodeEncryptionContext } from '../../src/format/encryption-context.js'
import { decodeHeader } from '../../src/format/header.js'
import { keyringForStaticCase as keyringFor, STATIC_MESSAGE_FILES, staticKeyring, zeroKeyring, type StaticMessageCase as MessageCase } from '../support/static-keyring.js'
import { base64ToBytes, hexToBytes } from '../support/helpers.js'
import { readVectorJson } from '../support/vectors.js'

const allowAll = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })

const messageFiles = STATIC_MESSAGE_FILES

describe.each(messageFiles)('static messages: %s', (file) => {
  const { cases } = readVectorJson<{ cases: MessageCase[] }>('static', file)
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const client =
      c.decrypt_options?.max_encrypted_data_keys !== undefined
        ? createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', maxEncryptedDataKeys: c.decrypt_options.max_encrypted_data_keys })
        : allowAll
    const attempt = client.decrypt(keyringFor(c), base64ToBytes(c.ciphertext_b64))
    if (c.expected.result === 'success') {
      const { plaintext } = await attempt
      expect(Buffer.from(plaintext).toString('base64')).toBe(c.expected.plaintext_b64)
    } else {
      await expect(attempt).rejects.toBeInstanceOf(EnvelopeError)
    }
  })

})

it('rejects the JS 4-byte fixture under maxBodySize 3 before decrypting (js-decrypt-fixtures.json)', async () => {
  const { cases } = readVectorJson<{ cases: MessageCase[] }>('static', 'js-decrypt-fixtures.json')
  const c = cases.find((x) => x.id === 'js-node-0378-4-bytes-4k-frame')!
  // The 4096-byte frame length is what the limit sees first.
  await expect(allowAll.decrypt(zeroKeyring, base64ToBytes(c.ciphertext_b64), { maxBodySize: 3 })).rejects.toBeInstanceOf(LimitError)
  const { plaintext } = await allowAll.decrypt(zeroKeyring, base64ToBytes(c.ciphertext_b64), { maxBodySize: 4096 })
  expect(Buffer.from(plaintext).toString('base64')).toBe(c.expected.plaintext_b64)
})

describe('key commitment known answers (commitment-test-vectors.json)', () => {
  const { tests } = readVectorJson<{ tests: any[] }>('static', 'commitment-test-vectors.json')
  it.each(tests.map((t, i) => [i + 1, t] as const))('#%i', async (_n, t) => {
    const keyring = staticKeyring(() => base64ToBytes(t['decrypted-dek']))
    const attempt = allowAll.decrypt(keyring, base64ToBytes(t.ciphertext), { encryptionContext: t['encryption-context'] })
    if (t.status) {
      const { plaintext } = await attempt
      expect(Buffer.from(plaintext).toString('utf8')).toBe(t['plaintext-frames'].join(''))
    } else {
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'commitment' })
    }
  })
})

describe('HKDF known answers (hkdf-kats.json)', () => {
  const { vectors } = readVectorJson<{ vectors: any[] }>('static', 'hkdf-kats.json')
  it.each(vectors.filter((v) => v.expected.result === 'success').map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const hash = v.hash.toLowerCase() as 'sha256'
    const [okm] = nodeBackend.hkdf(hash, hexToBytes(v.ikm_hex), hexToBytes(v.salt_hex), [{ info: hexToBytes(v.info_hex), length: v.length }])
    expect(Buffer.from(okm!).toString('hex')).toBe(v.expected.okm_hex)
  })
})

describe('raw keyring unwrap known answers (keyring-kats.json)', () => {
  const kats = readVectorJson<{ raw_aes: any[]; raw_rsa: any[]; raw_rsa_private_key_pem: string }>('static', 'keyring-kats.json')
  const suiteByName = (name: string) => {
    const id = { ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256: 0x0178, ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256: 0x0114, ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: 0x0378, ALG_AES128_GCM_IV12_TAG16_NO_KDF: 0x0014, ALG_AES192_GCM_IV12_TAG16_NO_KDF: 0x0046, ALG_AES256_GCM_IV12_TAG16_NO_KDF: 0x0078 }[name]
    return findSuite(id!)!
  }
  const materialsFor = (kat: any) =>
    createDecryptionMaterials({ suite: suiteByName(kat.algorithm_suite), encryptionContext: kat.encryption_context ?? {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
  const edkOf = (kat: any) => ({
    providerId: kat.edk.provider_id,
    providerInfo: kat.edk.provider_info_hex ? hexToBytes(kat.edk.provider_info_hex) : new TextEncoder().encode(kat.edk.provider_info_utf8),
    ciphertext: hexToBytes(kat.edk.ciphertext_hex),
  })

  it.each(kats.raw_aes.map((k: any) => [k.id, k] as [string, any]))('%s', async (_id, kat: any) => {
    const keyring = new RawAesKeyring({ keyNamespace: kat.key_namespace, keyName: kat.key_name, wrappingKey: hexToBytes(kat.wrapping_key_hex) })
    const result = await keyring.onDecrypt(materialsFor(kat), [edkOf(kat)], { backend: nodeBackend })
    expect(Buffer.from(result.plaintextDataKey!).toString('hex')).toBe(kat.expected.data_key_hex)
  })

  it.each(kats.raw_rsa.map((k: any) => [k.id, k] as [string, any]))('%s', async (_id, kat: any) => {
    const keyring = new RawRsaKeyring({ keyNamespace: kat.key_namespace, keyName: kat.key_name, privateKey: kats.raw_rsa_private_key_pem, padding: kat.padding })
    const attempt = keyring.onDecrypt(materialsFor(kat), [edkOf(kat)], { backend: nodeBackend })
    if (kat.padding === 'pkcs1' && !process.execArgv.includes('--security-revert=CVE-2023-46809')) {
      // Node refuses PKCS#1 v1.5 decryption by default; test/unit/rsa-pkcs1.test.ts proves the path with the revert flag.
      await expect(attempt).rejects.toBeInstanceOf(UnsupportedError)
      return
    }
    const result = await attempt
    expect(Buffer.from(result.plaintextDataKey!).toString('hex')).toBe(kat.expected.data_key_hex)
  })
})

describe('serialization fragments (js-serialize-fragments.json)', () => {
  const { cases } = readVectorJson<{ cases: { id: string; bytes_hex: string; meaning: string }[] }>('static', 'js-serialize-fragments.json')
  const byId = (id: string) => hexToBytes(cases.find((c) => c.id === `js-serialize-${id}`)!.bytes_hex)
  const limits = { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 }
  const withAuth = (body: Uint8Array) => new Uint8Array([...body, ...new Uint8Array(28)])

  it('parses the valid v1 and v2 headers', () => {
    // The v1 fragments are header bodies; the v2 one is a whole header (body and 16-byte tag).
    for (const [id, authLength] of [['basicMessageHeader', 0], ['zeroByteEncryptionContextMessageHeader', 0], ['basicV2MessageHeader', 16]] as const) {
      const bytes = byId(id)
      const result = decodeHeader(withAuth(bytes), limits)
      expect('header' in result, id).toBe(true)
      if ('header' in result) expect(result.headerBodyLength).toBe(bytes.length - authLength)
    }
    const basic = decodeHeader(withAuth(byId('basicMessageHeader')), limits)
    if (!('header' in basic)) throw new Error('unreachable')
    expect(basic.header.encryptionContext).toEqual({ information: '½ + ¼ = ¾', some: 'public' })
    expect(basic.header.encryptedDataKeys).toHaveLength(2)
  })

  it.each(['suiteIdNotValidMessageHeader', 'versionNotValidMessageHeader', 'typeNotValidMessageHeader', 'base64MessageHeader', 'reservedBytesNoZeroMessageHeader', 'ivLengthMismatchMessageHeader'])(
    'rejects %s',
    (id) => {
      expect(() => decodeHeader(withAuth(byId(id)), limits)).toThrow(EnvelopeError)
    },
  )

  it('names base64 input for what it is', () => {
    expect(() => decodeHeader(byId('base64MessageHeader'), limits)).toThrow(expect.objectContaining({ code: 'ERR_BASE64_INPUT' }))
  })

  it('decodes valid contexts, including 4-byte UTF-8 keys and "hasOwnProperty"', () => {
    expect(decodeEncryptionContext(byId('basicEncryptionContext').subarray(2))).toEqual({ information: '½ + ¼ = ¾', some: 'public' })
    const high = decodeEncryptionContext(byId('encryptionContextWithHighUtf8CodePoint').subarray(2))
    expect(Object.keys(high).some((k) => [...k].some((ch) => ch.codePointAt(0)! > 0xffff))).toBe(true)
    expect(Object.keys(decodeEncryptionContext(byId('hasOwnPropertyEncryptionContext').subarray(2)))).toEqual(['hasOwnProperty'])
  })

  it.each(['missingDataEncryptionContext', 'tooMuchDataEncryptionContext', 'duplicateKeysEncryptionContext'])('rejects %s', (id) => {
    expect(() => decodeEncryptionContext(byId(id).subarray(2))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }))
  })

  it.each(['threeEdksMessagePartialHeaderV1', 'threeEdksMessagePartialHeaderV2'])('rejects %s under maxEncryptedDataKeys 2 from the count alone', (id) => {
    expect(() => decodeHeader(byId(id), { maxEncryptedDataKeys: 2, maxHeaderSize: 1 << 20 })).toThrow(LimitError)
    // With the limit satisfied the partial header simply needs more bytes.
    expect(decodeHeader(byId(id), { maxEncryptedDataKeys: 3, maxHeaderSize: 1 << 20 })).toHaveProperty('needed')
  })
})
