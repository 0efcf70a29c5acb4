/** A test keyring that ignores the encrypted data keys and returns a fixed data key (upstream "null"/"zero" keys). */
import { withDecryptionDataKey, type Keyring } from '../../src/index.js'

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
