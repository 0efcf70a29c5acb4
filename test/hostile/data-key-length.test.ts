/**
 * A custom CMM that hands out a data key of the wrong length for its suite
 * (issue 14 item 12): a 16-byte key for an AES-256 suite would make 0x0078
 * messages AES-128 and feed HKDF a short key. Encrypt and decrypt check the
 * key against the suite table where they use it, and refuse it with ERR_KEYRING.
 */
import { createCipheriv } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { createClient, createDecryptionMaterials, createEncryptionMaterials, KeyringError, RawAesKeyring, type Cmm } from '../../src/index.js'
import { getSuite } from '../../src/format/suites.js'
import { DefaultCmm } from '../../src/materials/cmm.js'
import { decodeHeader } from '../../src/format/header.js'
import { aesKey } from '../support/keys.js'

const client = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const keyring = new RawAesKeyring({ keyNamespace: 'len', keyName: 'k', wrappingKey: aesKey(32) })

/** A CMM that ignores keyrings and hands out copies of `key`, whatever the suite; it keeps each copy so the test can see it wiped. */
function fixedKeyCmm(key: Uint8Array): Cmm & { handedOut: Uint8Array[] } {
  const edk = { providerId: 'fixed', providerInfo: new Uint8Array([1]), ciphertext: new Uint8Array([2]) }
  const handedOut: Uint8Array[] = []
  const copy = () => {
    const k = key.slice()
    handedOut.push(k)
    return k
  }
  return {
    handedOut,
    async getEncryptionMaterials(request) {
      const suite = getSuite(request.suiteId!)
      return createEncryptionMaterials(
        { suite, encryptionContext: request.encryptionContext, requiredEncryptionContextKeys: [], encryptedDataKeys: [edk], signingKey: undefined },
        copy(),
      )
    },
    async decryptMaterials(request) {
      return createDecryptionMaterials(
        { suite: request.suite, encryptionContext: request.encryptionContext, requiredEncryptionContextKeys: [], verificationKey: undefined },
        copy(),
      )
    },
  }
}

const short = new Uint8Array(16).fill(7)

describe('a data key whose length does not fit the suite', () => {
  it('is refused on encrypt, one-shot and stream, for suites with and without a KDF, and wiped', async () => {
    for (const suiteId of [0x0078, 0x0178]) {
      const cmm = fixedKeyCmm(short)
      const err = await client.encrypt(cmm, 'secret', { suiteId }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(KeyringError)
      expect(err).toMatchObject({ code: 'ERR_KEYRING', message: expect.stringContaining('16-byte data key') })
      expect(cmm.handedOut[0]).toEqual(new Uint8Array(16))

      const stream = client.encryptStream(fixedKeyCmm(short), { suiteId })
      await expect(pipeline(Readable.from([Buffer.from('secret')]), stream, async function* (source) {
        for await (const _ of source) yield _
      })).rejects.toMatchObject({ code: 'ERR_KEYRING' })
    }
  })

  it('is refused on encrypt when too long as well', async () => {
    await expect(client.encrypt(fixedKeyCmm(new Uint8Array(48)), 'secret', { suiteId: 0x0078 })).rejects.toMatchObject({ code: 'ERR_KEYRING' })
  })

  it('is refused on decrypt before it touches the message', async () => {
    // A genuine 0x0178 message; the CMM returns the first 16 bytes of its real data key.
    const { ciphertext } = await client.encrypt(keyring, 'secret', { suiteId: 0x0178 })
    const inner = new DefaultCmm(keyring)
    const truncating: Cmm = {
      getEncryptionMaterials: (r, c) => inner.getEncryptionMaterials(r, c),
      async decryptMaterials(request, context) {
        const m = await inner.decryptMaterials(request, context)
        return createDecryptionMaterials(m, m.plaintextDataKey!.slice(0, 16))
      },
    }
    await expect(client.decrypt(truncating, ciphertext)).rejects.toMatchObject({ name: 'KeyringError', code: 'ERR_KEYRING' })
  })

  it('is refused on decrypt of a 0x0078 message really sealed with a 16-byte key (AES-128 under an AES-256 label)', async () => {
    // Written as 0x0014 (AES-128, no KDF, the same layout), relabelled 0x0078 and the header tag redone with the same key.
    const { ciphertext } = await client.encrypt(fixedKeyCmm(short), 'secret', { suiteId: 0x0014 })
    const forged = ciphertext.slice()
    forged[2] = 0x00
    forged[3] = 0x78
    const parsed = decodeHeader(forged, { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 })
    if ('needed' in parsed) throw new Error('header did not parse')
    const cipher = createCipheriv('aes-128-gcm', short, new Uint8Array(12))
    cipher.setAAD(forged.subarray(0, parsed.headerBodyLength))
    cipher.final()
    forged.set(cipher.getAuthTag(), parsed.headerBodyLength + 12)

    const err = await client.decrypt(fixedKeyCmm(short), forged).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'KeyringError', code: 'ERR_KEYRING', message: expect.stringContaining('needs 32 bytes') })
  })
})
