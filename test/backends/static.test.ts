/**
 * The static vectors of test/vectors/static.test.ts (messages and known
 * answers lifted from the C, JS and Python ESDK tests) over the pure-JS and
 * WebCrypto backends. Expected values come from the vector files only.
 * PKCS#1 v1.5 keyring answers pass here with no Node flag: that padding is
 * decrypted in pure JS (spec/backends.md#pkcs1).
 */
import { describe, expect, it } from 'vitest'
import { createClient, createDecryptionMaterials, EnvelopeError, findSuite, RawAesKeyring, RawRsaKeyring } from '../../src/index.js'
import { OTHER_BACKENDS } from '../support/backends.js'
import { keyringForStaticCase as keyringFor, STATIC_MESSAGE_FILES, staticKeyring, type StaticMessageCase as MessageCase } from '../support/static-keyring.js'
import { base64ToBytes, hexToBytes } from '../support/helpers.js'
import { readVectorJson } from '../support/vectors.js'

const messageFiles = STATIC_MESSAGE_FILES
const messageCases = messageFiles.flatMap((file) => readVectorJson<{ cases: MessageCase[] }>('static', file).cases.map((c) => [file, c.id, c] as const))
const commitment = readVectorJson<{ tests: any[] }>('static', 'commitment-test-vectors.json').tests
const hkdfKats = readVectorJson<{ vectors: any[] }>('static', 'hkdf-kats.json').vectors.filter((v) => v.expected.result === 'success')
const keyringKats = readVectorJson<{ raw_aes: any[]; raw_rsa: any[]; raw_rsa_private_key_pem: string }>('static', 'keyring-kats.json')

const SUITE_BY_NAME: Record<string, number> = {
  ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256: 0x0178,
  ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256: 0x0114,
  ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: 0x0378,
  ALG_AES128_GCM_IV12_TAG16_NO_KDF: 0x0014,
  ALG_AES192_GCM_IV12_TAG16_NO_KDF: 0x0046,
  ALG_AES256_GCM_IV12_TAG16_NO_KDF: 0x0078,
}
const materialsFor = (kat: any) =>
  createDecryptionMaterials({ suite: findSuite(SUITE_BY_NAME[kat.algorithm_suite]!)!, encryptionContext: kat.encryption_context ?? {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
const edkOf = (kat: any) => ({
  providerId: kat.edk.provider_id,
  providerInfo: kat.edk.provider_info_hex ? hexToBytes(kat.edk.provider_info_hex) : new TextEncoder().encode(kat.edk.provider_info_utf8),
  ciphertext: hexToBytes(kat.edk.ciphertext_hex),
})

describe.each(OTHER_BACKENDS)('%s backend', (_name, backend) => {
  const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend })

  it.each(messageCases)('%s: %s', async (_file, _id, c) => {
    const limit = c.decrypt_options?.max_encrypted_data_keys
    const using = limit === undefined ? client : createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', maxEncryptedDataKeys: limit, backend })
    const attempt = using.decrypt(keyringFor(c), base64ToBytes(c.ciphertext_b64))
    if (c.expected.result === 'success') expect(Buffer.from((await attempt).plaintext).toString('base64')).toBe(c.expected.plaintext_b64)
    else await expect(attempt).rejects.toBeInstanceOf(EnvelopeError)
  })

  it.each(commitment.map((t, i) => [i + 1, t] as const))('key commitment known answer #%i', async (_n, t) => {
    const attempt = client.decrypt(staticKeyring(() => base64ToBytes(t['decrypted-dek'])), base64ToBytes(t.ciphertext), { encryptionContext: t['encryption-context'] })
    if (t.status) expect(Buffer.from((await attempt).plaintext).toString('utf8')).toBe(t['plaintext-frames'].join(''))
    else await expect(attempt).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'commitment' })
  })

  it.each(hkdfKats.map((v) => [v.id, v] as const))('HKDF known answer %s', (_id, v) => {
    const [okm] = backend.hkdf(v.hash.toLowerCase(), hexToBytes(v.ikm_hex), hexToBytes(v.salt_hex), [{ info: hexToBytes(v.info_hex), length: v.length }])
    expect(Buffer.from(okm!).toString('hex')).toBe(v.expected.okm_hex)
  })

  it.each(keyringKats.raw_aes.map((k: any) => [k.id, k] as [string, any]))('raw AES unwrap %s', async (_id, kat: any) => {
    const keyring = new RawAesKeyring({ keyNamespace: kat.key_namespace, keyName: kat.key_name, wrappingKey: hexToBytes(kat.wrapping_key_hex) })
    const result = await keyring.onDecrypt(materialsFor(kat), [edkOf(kat)], { backend })
    expect(Buffer.from(result.plaintextDataKey!).toString('hex')).toBe(kat.expected.data_key_hex)
  })

  it.each(keyringKats.raw_rsa.map((k: any) => [k.id, k] as [string, any]))('raw RSA unwrap %s (PKCS#1 v1.5 included, no flag)', async (_id, kat: any) => {
    const keyring = new RawRsaKeyring({ keyNamespace: kat.key_namespace, keyName: kat.key_name, privateKey: keyringKats.raw_rsa_private_key_pem, padding: kat.padding })
    const result = await keyring.onDecrypt(materialsFor(kat), [edkOf(kat)], { backend })
    expect(Buffer.from(result.plaintextDataKey!).toString('hex')).toBe(kat.expected.data_key_hex)
  })
})
