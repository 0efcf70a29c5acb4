/**
 * Message keys are wiped once their message is done (issue 14 item 6): the
 * AES key object a backend made for a message no longer seals or opens after
 * encrypt or decrypt returned, or after a decrypt failed, on every backend
 * (spec/backends.md#message-keys).
 */
import { describe, expect, it } from 'vitest'
import type { AesKey } from '../../src/crypto/backend.js'
import { createClient, RawAesKeyring, type CryptoBackend } from '../../src/index.js'
import { layoutOf } from '../hostile/helpers.js'
import { flipBit } from '../support/helpers.js'
import { BACKENDS } from '../support/backends.js'
import { aesKey } from '../support/keys.js'

/** The backend with every 32-byte AES key it imports recorded: message keys of suite 0x0478 (the keyring's wrapping key is 16 bytes). */
function recording(backend: CryptoBackend, keys: AesKey[]): CryptoBackend {
  return {
    ...backend,
    importAesKey(raw) {
      const key = backend.importAesKey(raw)
      if (raw.length === 32) keys.push(key)
      return key
    },
  }
}

function expectWiped(backend: CryptoBackend, key: AesKey): void {
  const iv = new Uint8Array(12)
  expect(() => backend.gcmSeal(key, iv, new Uint8Array(0), new Uint8Array(16), new Uint8Array(32), 0)).toThrow(/wiped/)
  expect(() => backend.gcmOpen(key, iv, new Uint8Array(0), new Uint8Array(16), new Uint8Array(16))).toThrow(/wiped/)
}

describe.each(BACKENDS)('%s: message keys', (_name, backend) => {
  const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: aesKey(16) })
  const options = { suiteId: 0x0478, frameLength: 64 }

  it('are wiped when one-shot encrypt and decrypt return', async () => {
    const keys: AesKey[] = []
    const recorded = recording(backend, keys)
    const client = createClient({ backend: recorded })
    for (const plaintext of [new Uint8Array(200), new Uint8Array(0)]) {
      const { ciphertext } = await client.encrypt(keyring, plaintext, options)
      expect((await client.decrypt(keyring, ciphertext)).plaintext).toEqual(plaintext)
      const nonFramed = (await client.encrypt(keyring, plaintext, { ...options, frameLength: 0 })).ciphertext
      await client.decrypt(keyring, nonFramed)
    }
    // Per message one key to encrypt and one to decrypt.
    expect(keys).toHaveLength(8)
    for (const key of keys) expectWiped(recorded, key)
  })

  it('are wiped when a decrypt fails at a frame, and when the header does not authenticate', async () => {
    const keys: AesKey[] = []
    const recorded = recording(backend, keys)
    const client = createClient({ backend: recorded })
    const { ciphertext } = await client.encrypt(keyring, new Uint8Array(200), options)
    const badFrame = new Uint8Array(ciphertext)
    badFrame[badFrame.length - 1]! ^= 1
    await expect(client.decrypt(keyring, badFrame)).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED' })
    // The last byte of the header's authentication tag.
    const badHeader = flipBit(ciphertext, layoutOf(ciphertext).headerLength - 1, 0)
    await expect(client.decrypt(keyring, badHeader)).rejects.toMatchObject({ stage: 'header' })
    expect(keys).toHaveLength(3)
    for (const key of keys) expectWiped(recorded, key)
  })

  it('are wiped when streamed input ends, and when a stream is given up', async () => {
    const keys: AesKey[] = []
    const recorded = recording(backend, keys)
    const client = createClient({ backend: recorded })
    const plaintext = new Uint8Array(500).fill(7)
    const chunks = async function* (bytes: Uint8Array) {
      for (let i = 0; i < bytes.length; i += 100) yield bytes.subarray(i, i + 100)
    }
    const { ciphertext } = await client.encrypt(keyring, chunks(plaintext), options)
    expect((await client.decrypt(keyring, chunks(ciphertext))).plaintext).toEqual(plaintext)
    const failing = async function* () {
      yield plaintext
      throw new Error('source failed')
    }
    await expect(client.encrypt(keyring, failing(), options)).rejects.toThrow('source failed')
    expect(keys).toHaveLength(3)
    for (const key of keys) expectWiped(recorded, key)
  })
})
