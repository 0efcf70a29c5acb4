/**
 * Encryption and decryption materials (spec/materials.md#materials).
 * Materials are immutable; keyrings return new ones. The plaintext data key is a
 * non-enumerable property so it never shows up in JSON, util.inspect or logs.
 */
import { KeyringError } from '../errors.js'
import type { SigningKey, VerificationKey } from '../crypto/backend.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import { suiteLabel, type AlgorithmSuite } from '../format/suites.js'

export interface EncryptionMaterials {
  readonly suite: AlgorithmSuite
  /** The full context: stored pairs, required (authenticated-only) pairs and the signing public key. */
  readonly encryptionContext: EncryptionContext
  /** Keys whose pairs are authenticated but not stored in the message. */
  readonly requiredEncryptionContextKeys: readonly string[]
  readonly plaintextDataKey: Uint8Array | undefined
  readonly encryptedDataKeys: readonly EncryptedDataKey[]
  readonly signingKey: SigningKey | undefined
}

export interface DecryptionMaterials {
  readonly suite: AlgorithmSuite
  readonly encryptionContext: EncryptionContext
  readonly requiredEncryptionContextKeys: readonly string[]
  readonly plaintextDataKey: Uint8Array | undefined
  readonly verificationKey: VerificationKey | undefined
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * util.inspect with `showHidden` lists non-enumerable properties too, so the
 * materials print themselves: every enumerable field, and the key as "[redacted]".
 * Node passes its own inspect as the third argument (nothing is imported here).
 */
function inspectRedacted(this: { plaintextDataKey: Uint8Array | undefined }, _depth: number, options: object, inspect?: (value: unknown, options: object) => string): string {
  const shown = { ...this, plaintextDataKey: this.plaintextDataKey ? '[redacted]' : undefined }
  return inspect ? inspect(shown, options) : '[materials]'
}

function freezeWithKey<T extends { plaintextDataKey: Uint8Array | undefined }>(fields: Omit<T, 'plaintextDataKey'>, key: Uint8Array | undefined): T {
  const out = { ...fields } as T
  Object.defineProperty(out, 'plaintextDataKey', { value: key, enumerable: false, writable: false })
  Object.defineProperty(out, INSPECT, { value: inspectRedacted, enumerable: false, writable: false })
  return Object.freeze(out)
}

export function createEncryptionMaterials(fields: Omit<EncryptionMaterials, 'plaintextDataKey'>, dataKey?: Uint8Array): EncryptionMaterials {
  return freezeWithKey<EncryptionMaterials>({ ...fields, encryptedDataKeys: Object.freeze([...fields.encryptedDataKeys]) }, dataKey)
}

export function createDecryptionMaterials(fields: Omit<DecryptionMaterials, 'plaintextDataKey'>, dataKey?: Uint8Array): DecryptionMaterials {
  return freezeWithKey<DecryptionMaterials>(fields, dataKey)
}

function checkKeyLength(suite: AlgorithmSuite, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== suite.keyLength) {
    throw new KeyringError(`a data key for suite ${suiteLabel(suite.id)} must be ${suite.keyLength} bytes`)
  }
}

/** Copy of `materials` with the data key set; a keyring may set it only once. */
export function withEncryptionDataKey(materials: EncryptionMaterials, dataKey: Uint8Array): EncryptionMaterials {
  if (materials.plaintextDataKey) throw new KeyringError('the encryption materials already have a data key')
  checkKeyLength(materials.suite, dataKey)
  return createEncryptionMaterials(materials, dataKey)
}

export function withEncryptedDataKey(materials: EncryptionMaterials, edk: EncryptedDataKey): EncryptionMaterials {
  return createEncryptionMaterials({ ...materials, encryptedDataKeys: [...materials.encryptedDataKeys, edk] }, materials.plaintextDataKey)
}

export function withDecryptionDataKey(materials: DecryptionMaterials, dataKey: Uint8Array): DecryptionMaterials {
  if (materials.plaintextDataKey) throw new KeyringError('the decryption materials already have a data key')
  checkKeyLength(materials.suite, dataKey)
  return createDecryptionMaterials(materials, dataKey)
}
