/** Reproduced encryption context on decrypt, and the required-encryption-context CMM. */
import { describe, expect, it } from 'vitest'
import { AuthenticationError, createClient, NoMatchingKeyError, PolicyError, RawAesKeyring, RequiredEncryptionContextCmm } from '../../src/index.js'
import { aesKey } from '../support/keys.js'

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

  it('fails when it adds a pair the message never authenticated', async () => {
    const { ciphertext } = await client.encrypt(keyring, 'secret', { encryptionContext: { tenant: 'a' } })
    // The extra pair joins the keyring AAD and the header AAD, so authentication fails.
    const err = await client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'a', extra: 'pair' } }).catch((e) => e)
    expect(err instanceof NoMatchingKeyError || err instanceof AuthenticationError).toBe(true)
  })
})

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
    expect(wrong instanceof NoMatchingKeyError || wrong instanceof AuthenticationError).toBe(true)
  })

  it('refuses encrypt when a required key is missing', async () => {
    await expect(client.encrypt(cmm, 'x', { encryptionContext: { other: '1' } })).rejects.toMatchObject({ code: 'ERR_INVALID_CONTEXT' })
  })
})
