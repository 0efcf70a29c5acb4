/**
 * CiphertextForRecipient parsing (src/format/cms.ts): the real KMS blob from
 * aws-nitro-enclaves-sdk-c parses to the C test's expected fields (known
 * answer); the local server's blobs have the same shape; damage is typed.
 */
import { nodeBackend } from '../../src/crypto/node.js'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RecipientError } from '../../src/index.js'
import { nobleBackend } from '../../src/entry/crypto.js'
import { MAX_CMS_SIZE, parseEnvelopedData } from '../../src/format/cms.js'
import { envelopeForRecipient } from '../../src/testing/kms-attestation.js'

const REAL = new Uint8Array(readFileSync(new URL('../fixtures/nitro/kms-ciphertext-for-recipient.ber', import.meta.url)))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// tests/kmstool-enclaves/cms_test.c: iv_out, ciphertext_out, and encrypted_key_out (256 bytes, by hash and ends).
const IV = '688c6d5f7f31b0fecedf09f2e7c99ac9'
const CIPHERTEXT = '70e5caaffd49ad24efe15bf903be9d19895b777d269b57b025f6f67e7ef93f94464515f2ebe034ea0b7621a1ff19292e'
const KEY_START = 'a0614593a030ee336bfff076618b0130'
const KEY_END = '2a27fe5c9391a007c15f75b90ab0dd'

function malformed(bytes: Uint8Array): RecipientError {
  let caught: unknown
  try {
    parseEnvelopedData(bytes)
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(RecipientError)
  expect((caught as RecipientError).failure).toBe('malformed-cms')
  return caught as RecipientError
}

describe('CiphertextForRecipient', () => {
  it('the real KMS blob (BER, indefinite lengths, KTRI v2) gives the C test\'s fields', () => {
    expect(REAL.length).toBe(493)
    const parsed = parseEnvelopedData(REAL)
    expect(hex(parsed.iv)).toBe(IV)
    expect(hex(parsed.encryptedContent)).toBe(CIPHERTEXT)
    expect(parsed.encryptedKey.length).toBe(256)
    expect(hex(parsed.encryptedKey).startsWith(KEY_START)).toBe(true)
    expect(hex(parsed.encryptedKey).endsWith(KEY_END)).toBe(true)
    expect(hex(parsed.subjectKeyIdentifier)).toBe(hex(REAL.subarray(0x21, 0x41)))
  })

  it('the local server builds the same shape, and the backends open it (node and noble AES-CBC)', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const secret = new Uint8Array(32).fill(9)
    const blob = envelopeForRecipient(publicKey, secret)
    // Same layout as the real blob: everything up to the SKI, the OAEP algorithm, and the trailer.
    expect(hex(blob.subarray(0, 0x21))).toBe(hex(REAL.subarray(0, 0x21)))
    expect(hex(blob.subarray(0x41, 0x83))).toBe(hex(REAL.subarray(0x41, 0x83)))
    expect(hex(blob.subarray(blob.length - 10))).toBe('00000000000000000000')
    expect(blob.length).toBe(REAL.length)
    const parsed = parseEnvelopedData(blob)
    for (const backend of [nodeBackend, nobleBackend]) {
      const key = await backend.rsaDecrypt(backend.importRsaPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })), 'oaep-sha256', parsed.encryptedKey)
      expect(backend.aesCbcDecrypt!(key, parsed.iv, parsed.encryptedContent)).toEqual(secret)
    }
  })

  it('a constructed encryptedContent in several chunks and a primitive one both parse', () => {
    // [0] constructed, 04 30 <48> split as 04 10 <16> 04 20 <32>.
    const at = REAL.indexOf(0x04, 0x1b0)
    expect(REAL[at + 1]).toBe(0x30)
    const content = REAL.subarray(at + 2, at + 2 + 48)
    const split = Uint8Array.of(...REAL.subarray(0, at), 0x04, 0x10, ...content.subarray(0, 16), 0x04, 0x20, ...content.subarray(16), ...REAL.subarray(at + 50))
    expect(hex(parseEnvelopedData(split).encryptedContent)).toBe(CIPHERTEXT)
    // [0] primitive: 80 30 <48> in place of a0 80 04 30 <48> 00 00.
    const primitive = Uint8Array.of(...REAL.subarray(0, at - 2), 0x80, 0x30, ...content, ...REAL.subarray(at + 52))
    expect(hex(parseEnvelopedData(primitive).encryptedContent)).toBe(CIPHERTEXT)
  })

  it('every byte flipped: typed malformed-cms, or (only inside the opaque fields) a parse', () => {
    let refused = 0
    for (let i = 0; i < REAL.length; i++) {
      const bad = REAL.slice()
      bad[i]! ^= 0x01
      try {
        const parsed = parseEnvelopedData(bad)
        // Only the opaque bytes may change without a refusal: SKI, wrapped key, IV, content.
        const opaque = (i >= 0x21 && i < 0x41) || (i >= 0x83 && i < 0x183) || (i >= 0x19f && i < 0x1af) || (i >= 0x1b3 && i < 0x1e3)
        expect(opaque, `byte ${i} (0x${i.toString(16)}) parsed: ${hex(parsed.iv)}`).toBe(true)
      } catch (e) {
        expect(e, `byte ${i}`).toBeInstanceOf(RecipientError)
        expect((e as RecipientError).failure).toBe('malformed-cms')
        refused++
      }
    }
    expect(refused).toBeGreaterThan(100)
  })

  it('truncations, trailing bytes, oversize input and deep nesting are refused', () => {
    for (let length = 0; length < REAL.length; length += 7) malformed(REAL.subarray(0, length))
    malformed(Uint8Array.of(...REAL, 0))
    malformed(new Uint8Array(MAX_CMS_SIZE + 1))
    malformed(new Uint8Array(64).fill(0x30).map((b, i) => (i % 2 ? 0x80 : b)))
  })
})
