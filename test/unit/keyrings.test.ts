import { describe, expect, it } from 'vitest'
import { createClient, KeyringError, MultiKeyring, NoMatchingKeyError, RawAesKeyring, RawRsaKeyring } from '../../src/index.js'
import { aesKey, rsaKeyPair } from '../support/keys.js'

const client = createClient()

describe('RawAesKeyring', () => {
  it('validates its options', () => {
    expect(() => new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(20) })).toThrow(TypeError)
    expect(() => new RawAesKeyring({ keyNamespace: 'aws-kms', keyName: 'k', wrappingKey: aesKey(32) })).toThrow(/reserved/)
    expect(() => new RawAesKeyring({ keyNamespace: 'ns', keyName: '', wrappingKey: aesKey(32) })).toThrow(TypeError)
  })

  it('keeps its own copy of the wrapping key', async () => {
    const key = aesKey(32)
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: key })
    const { ciphertext } = await client.encrypt(keyring, 'x')
    const original = new Uint8Array(key)
    key.fill(0)
    const again = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: original })
    expect((await client.decrypt(again, ciphertext)).plaintext.length).toBe(1)
    expect((await client.decrypt(keyring, ciphertext)).plaintext.length).toBe(1)
  })

  it('does not mistake a key whose name extends ours for ours', async () => {
    const key = aesKey(32)
    const long = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'key-10', wrappingKey: key })
    const short = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'key-1', wrappingKey: key })
    const { ciphertext } = await client.encrypt(long, 'x')
    const err = await client.decrypt(short, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0]).toMatchObject({ keyName: 'key-10', reason: 'not key "key-1"' })
  })
})

describe('RawRsaKeyring', () => {
  const { publicKey, privateKey } = rsaKeyPair()

  it('encrypts with only a public key and cannot decrypt with it', async () => {
    const encryptOnly = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha256', publicKey })
    const full = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha256', privateKey })
    const { ciphertext } = await client.encrypt(encryptOnly, 'hello')
    expect(new TextDecoder().decode((await client.decrypt(full, ciphertext)).plaintext)).toBe('hello')
    const err = await client.decrypt(encryptOnly, ciphertext).catch((e) => e)
    expect(err.attempts[0].reason).toContain('no private key')
  })

  it('refuses to encrypt without a public key and will not derive one from the private key', async () => {
    const decryptOnly = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha256', privateKey })
    await expect(client.encrypt(decryptOnly, 'x')).rejects.toBeInstanceOf(KeyringError)
    const misuse = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha256', publicKey: privateKey })
    await expect(client.encrypt(misuse, 'x')).rejects.toThrow(/not a private key/)
  })

  it('gives one uniform reason for a wrong padding or key', async () => {
    const sha256 = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha256', publicKey, privateKey })
    const sha1 = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-sha1', publicKey, privateKey })
    const { ciphertext } = await client.encrypt(sha256, 'x')
    const err = await client.decrypt(sha1, ciphertext).catch((e) => e)
    expect(err.attempts[0].reason).toBe('unwrap failed: wrong private key or padding (oaep-sha1)')
  })

  it('validates the padding name', () => {
    expect(() => new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'k', padding: 'oaep-md5' as never, publicKey })).toThrow(TypeError)
  })
})

describe('MultiKeyring', () => {
  const a = new RawAesKeyring({ keyNamespace: 'm', keyName: 'a', wrappingKey: aesKey(32) })
  const b = new RawAesKeyring({ keyNamespace: 'm', keyName: 'b', wrappingKey: aesKey(16) })

  it('wraps the generator data key for every child; each alone decrypts', async () => {
    const multi = new MultiKeyring({ generator: a, children: [b] })
    const { ciphertext, header } = await client.encrypt(multi, 'shared')
    expect(header.encryptedDataKeys).toHaveLength(2)
    for (const single of [a, b]) expect(new TextDecoder().decode((await client.decrypt(single, ciphertext)).plaintext)).toBe('shared')
  })

  it('aggregates every attempt of every keyring when all fail', async () => {
    const { ciphertext } = await client.encrypt(new RawAesKeyring({ keyNamespace: 'other', keyName: 'z', wrappingKey: aesKey(32) }), 'x')
    const err = await client.decrypt(new MultiKeyring({ generator: a, children: [b] }), ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts).toHaveLength(2)
    expect(err.message).toContain('other')
  })

  it('needs a generator to encrypt on its own', async () => {
    await expect(client.encrypt(new MultiKeyring({ children: [a] }), 'x')).rejects.toBeInstanceOf(KeyringError)
    expect(() => new MultiKeyring({})).toThrow(TypeError)
  })
})
