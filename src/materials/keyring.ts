/**
 * The keyring contract (spec/keyrings.md#contract).
 *
 * onEncrypt: generate a data key if the materials have none, and add at least
 * one encrypted data key; fail rather than return the input unchanged.
 * onDecrypt: return materials with the data key from one of `edks`. When none
 * is usable, throw `NoMatchingKeyError` listing every key looked at and why.
 */
import type { CryptoBackend } from '../crypto/backend.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { DecryptionMaterials, EncryptionMaterials } from './materials.js'

/** What the client lends a keyring for one call: the crypto backend it should use. */
export interface KeyringServices {
  readonly backend: CryptoBackend
}

export interface Keyring {
  /** Adds the data key (generating it when the materials have none) and at least one encrypted data key. */
  onEncrypt(materials: EncryptionMaterials, context: KeyringServices): Promise<EncryptionMaterials>
  /** Returns the materials with the data key from one of `edks`, or unchanged when none is this keyring's. */
  onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], context: KeyringServices): Promise<DecryptionMaterials>
}

/**
 * True for an object with the keyring methods (onEncrypt, onDecrypt).
 * @example
 * ```ts
 * isKeyring(new RawAesKeyring(options)) // true
 * ```
 * @throws never.
 */
export function isKeyring(value: unknown): value is Keyring {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Keyring).onEncrypt === 'function' &&
    typeof (value as Keyring).onDecrypt === 'function'
  )
}
