/** Test keyrings that ignore the encrypted data keys and return a fixed data key (upstream "null"/"zero" keys), and the static message cases that use them. */
import { RawAesKeyring, RawRsaKeyring, withDecryptionDataKey, type Keyring, type RsaPadding } from '../../src/index.js'
import { base64ToBytes } from './helpers.js'

export function staticKeyring(dataKeyFor: (keyLength: number) => Uint8Array): Keyring {
  return {
    async onEncrypt() {
      throw new Error('static test keyring cannot encrypt')
    },
    async onDecrypt(materials) {
      return withDecryptionDataKey(materials, dataKeyFor(materials.suite.keyLength))
    },
  }
}

export const zeroKeyring = staticKeyring((n) => new Uint8Array(n))
export const countingKeyring = staticKeyring((n) => Uint8Array.from({ length: n }, (_, i) => i + 1))

/** One message of the static vector files (c-decryption-vectors.json and the like). */
export interface StaticMessageCase {
  id: string
  ciphertext_b64: string
  decryption: { type: string; data_key_b64?: string; key_namespace?: string; key_name?: string; wrapping_key_b64?: string; padding?: string; private_key_pem?: string }
  expected: { result: 'success' | 'failure'; plaintext_b64?: string }
  decrypt_options?: { max_encrypted_data_keys?: number }
}

export const STATIC_MESSAGE_FILES = ['c-decryption-vectors.json', 'c-test-data.json', 'js-decrypt-fixtures.json', 'python-static-messages.json'] as const

/** The keyring a static message case names. */
export function keyringForStaticCase(c: StaticMessageCase): Keyring {
  const d = c.decryption
  switch (d.type) {
    case 'zero-data-key':
      return zeroKeyring
    case 'counting-data-key':
      return countingKeyring
    case 'static-data-key':
      return staticKeyring(() => base64ToBytes(d.data_key_b64!))
    case 'raw-aes':
      return new RawAesKeyring({ keyNamespace: d.key_namespace!, keyName: d.key_name!, wrappingKey: base64ToBytes(d.wrapping_key_b64!) })
    case 'raw-rsa':
      return new RawRsaKeyring({ keyNamespace: d.key_namespace!, keyName: d.key_name!, privateKey: d.private_key_pem!, padding: d.padding as RsaPadding })
    default:
      throw new Error(`unknown decryption type ${d.type}`)
  }
}
