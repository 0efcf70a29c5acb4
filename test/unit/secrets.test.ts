/** Secrets stay out of everything printable: errors, util.inspect, JSON. */
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createClient, RawAesKeyring, RawRsaKeyring, createEncryptionMaterials, findSuite, withEncryptionDataKey } from '../../src/index.js'
import { aesKey, rsaKeyPair } from '../support/keys.js'

describe('secret hygiene', () => {
  it('keyrings print their identity, never their keys', () => {
    const wrappingKey = aesKey(32)
    const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'name', wrappingKey })
    const rsa = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'oaep-sha256', ...rsaKeyPair() })
    for (const text of [inspect(aes, { showHidden: true, depth: 5 }), JSON.stringify(aes), inspect(rsa, { showHidden: true }), JSON.stringify(rsa)]) {
      expect(text).not.toContain(Buffer.from(wrappingKey).toString('hex'))
      expect(text).not.toMatch(/PRIVATE KEY|[0-9a-f]{64}/)
      expect(text).toContain('ns')
    }
    expect(Object.keys(aes)).not.toContain('wrappingKey')
  })

  it('materials hide the plaintext data key from JSON and inspection', () => {
    const key = new Uint8Array(32).fill(0xab)
    const materials = withEncryptionDataKey(
      createEncryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined }),
      key,
    )
    expect(materials.plaintextDataKey).toBe(key)
    expect(JSON.stringify(materials)).not.toContain('171')
    expect(inspect(materials)).not.toContain('ab, ab')
    expect(inspect(materials)).not.toContain('171, 171')
  })

  it('a failed decrypt never carries plaintext or keys in its message or cause chain', async () => {
    const wrappingKey = aesKey(32)
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'name', wrappingKey })
    const client = createClient()
    const secret = 'TOP-SECRET-PLAINTEXT-0123456789'
    const { ciphertext } = await client.encrypt(keyring, secret)
    const tampered = new Uint8Array(ciphertext)
    tampered[tampered.length - 120]! ^= 1
    const err = await client.decrypt(keyring, tampered).catch((e) => e)
    let text = ''
    for (let e = err; e; e = e.cause) text += `${e.message}\n${inspect(e)}\n`
    expect(text).not.toContain(secret)
    expect(text).not.toContain(Buffer.from(wrappingKey).toString('hex'))
  })
})
