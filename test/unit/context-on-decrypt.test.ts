/** Reproduced encryption context on decrypt, and the required-encryption-context CMM. */
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { nodeBackend } from '../../src/crypto/node.js'
import { decodeHeader } from '../../src/format/header.js'
import { DefaultCmm, type DecryptionRequest } from '../../src/materials/cmm.js'
import {
  AuthenticationError,
  createClient,
  NoMatchingKeyError,
  PolicyError,
  RawAesKeyring,
  RawRsaKeyring,
  RequiredEncryptionContextCmm,
} from '../../src/index.js'
import { aesKey, rsaKeyPair } from '../support/keys.js'

const keyring = new RawAesKeyring({ keyNamespace: 'ctx', keyName: 'k', wrappingKey: aesKey(32) })
const client = createClient()

describe('reproduced encryption context', () => {
  it('passes when every given pair matches the message', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a', purpose: 'x' } })
    const { plaintext } = await client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'a' } })
    expect(new TextDecoder().decode(plaintext)).toBe('secret')
  })

  it('fails with ERR_CONTEXT_MISMATCH when a value differs, before any keyring is asked', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a' } })
    await expect(client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'b' } })).rejects.toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
  })

  it('fails with ERR_CONTEXT_MISMATCH when it adds a pair the message does not store (no data key decrypts)', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a' } })
    // The extra pair joins the keyring AAD and the header AAD as a required pair; the raw AES keyring's unwrap fails.
    const err = await client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'a', extra: 'pair' } }).catch((e) => e)
    expect(err).toBeInstanceOf(PolicyError)
    expect(err).toMatchObject({ code: 'ERR_CONTEXT_MISMATCH', message: expect.stringContaining('"extra"') })
    expect(err.cause).toBeInstanceOf(NoMatchingKeyError)
  })

  it('fails with ERR_CONTEXT_MISMATCH when the added pair fails the header tag (a keyring that does not bind the context)', async () => {
    const { publicKey, privateKey } = rsaKeyPair()
    const rsa = new RawRsaKeyring({ keyNamespace: 'ctx', keyName: 'rsa', padding: 'oaep-sha256', publicKey, privateKey })
    const { ciphertext } = await client.encrypt(rsa, 'secret', { encryptionContext: { tenant: 'a' } })
    const err = await client.decrypt(rsa, ciphertext, { encryptionContext: { extra: 'pair' } }).catch((e) => e)
    expect(err).toMatchObject({ name: 'PolicyError', code: 'ERR_CONTEXT_MISMATCH', message: expect.stringContaining('"extra"') })
    expect(err.cause).toMatchObject({ name: 'AuthenticationError', stage: 'header' })
    // Through a stream as well: the same core.
    const streamed = await pipeline(Readable.from([Buffer.from(ciphertext)]), client.decryptStream(rsa, { encryptionContext: { extra: 'pair' } }), new PassThrough()).catch((e) => e)
    expect(streamed).toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
  })

  it('keeps NoMatchingKeyError for a wrong key when every given pair is stored', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a' } })
    const other = new RawAesKeyring({ keyNamespace: 'ctx', keyName: 'k', wrappingKey: aesKey(32).map((b) => b ^ 1) })
    await expect(client.decrypt(other, ciphertext, { encryptionContext: { tenant: 'a' } })).rejects.toBeInstanceOf(NoMatchingKeyError)
  })

  it('fails with ERR_CONTEXT_MISMATCH for a value that is not a string, stored key or not, one-shot or stream', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a' } })
    for (const context of [{ tenant: 1 }, { tenant: 'a', extra: 2 }, { extra: null }, { extra: { toString: () => 'a' } }]) {
      const err = await client.decrypt(keyring, ciphertext, { encryptionContext: context as never }).catch((e) => e)
      expect(err).toBeInstanceOf(PolicyError)
      expect(err.code).toBe('ERR_CONTEXT_MISMATCH')
      expect(() => client.decryptStream(keyring, { encryptionContext: context as never })).toThrow(PolicyError)
    }
    // The DefaultCmm called directly says the same.
    const err = await new DefaultCmm(keyring)
      .decryptMaterials({ ...(await headerRequest(ciphertext)), reproducedEncryptionContext: { extra: 3 } as never }, { backend: nodeBackend })
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
  })

  it('rejects a context that is not an object with TypeError (a wrong option type)', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret')
    await expect(client.decrypt(keyring, ciphertext, { encryptionContext: 'tenant=a' as never })).rejects.toBeInstanceOf(TypeError)
  })
})

/** The CMM request decrypt makes for `ciphertext`'s header. */
async function headerRequest(ciphertext: Uint8Array): Promise<DecryptionRequest> {
  const parsed = decodeHeader(ciphertext, { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 })
  if ('needed' in parsed) throw new Error('header did not parse')
  const { header, suite } = parsed
  return { suite, commitmentPolicy: client.commitmentPolicy, encryptedDataKeys: header.encryptedDataKeys, encryptionContext: header.encryptionContext }
}

describe('RequiredEncryptionContextCmm', () => {
  const cmm = new RequiredEncryptionContextCmm({ keyring, requiredEncryptionContextKeys: ['tenant'] })

  it('authenticates the required pairs without storing them', async () => {
    const { ciphertext, header, encryptionContext } = await client.encrypt(cmm, 'secret', { encryptionContext: { tenant: 'a', kept: 'yes' } })
    expect(header.encryptionContext).not.toHaveProperty('tenant')
    expect(header.encryptionContext.kept).toBe('yes')
    expect(encryptionContext.tenant).toBe('a')
    expect(Buffer.from(ciphertext).includes(Buffer.from('tenant'))).toBe(false)

    const ok = await client.decrypt(cmm, ciphertext, { encryptionContext: { tenant: 'a' } })
    expect(new TextDecoder().decode(ok.plaintext)).toBe('secret')
    expect(ok.encryptionContext.tenant).toBe('a')
    // The plain keyring works too when the caller reproduces the pair.
    expect((await client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'a' } })).plaintext.length).toBe(6)
  })

  it('refuses decrypt without the required pairs, and fails authentication with a wrong value', async () => {
    const { ciphertext } = await client.encrypt(cmm, 'secret', { encryptionContext: { tenant: 'a' } })
    await expect(client.decrypt(cmm, ciphertext)).rejects.toBeInstanceOf(PolicyError)
    await expect(client.decrypt(keyring, ciphertext)).rejects.toBeInstanceOf(Error)
    const wrong = await client.decrypt(cmm, ciphertext, { encryptionContext: { tenant: 'b' } }).catch((e) => e)
    expect(wrong).toMatchObject({ name: 'PolicyError', code: 'ERR_CONTEXT_MISMATCH' })
    expect(wrong.cause instanceof NoMatchingKeyError || wrong.cause instanceof AuthenticationError).toBe(true)
  })

  it('refuses encrypt when a required key is missing', async () => {
    await expect(client.encrypt(cmm, 'x', { encryptionContext: { other: '1' } })).rejects.toMatchObject({ code: 'ERR_INVALID_CONTEXT' })
  })
})
