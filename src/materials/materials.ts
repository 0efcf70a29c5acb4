/**
 * Encryption and decryption materials (spec/materials.md#materials).
 * Materials are immutable; keyrings return new ones. The plaintext data key is
 * no own property, so it never shows up in JSON, util.inspect or logs.
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

/*
 * Materials are frozen class instances: the data key sits in a private field
 * behind a prototype getter, so it is in no own property (JSON, spread,
 * Object.keys never see it) and every instance has one fixed shape. One is
 * made per keyring step of every message, so this is on the small-message
 * hot path (bench/cases/small.mjs).
 */
abstract class KeyedMaterials {
  readonly #dataKey: Uint8Array | undefined

  constructor(dataKey: Uint8Array | undefined) {
    this.#dataKey = dataKey
  }

  get plaintextDataKey(): Uint8Array | undefined {
    return this.#dataKey
  }

  /** util.inspect prints the public fields and the key as "[redacted]"; Node passes its own inspect (nothing is imported here). */
  [INSPECT](_depth: number, options: object, inspect?: (value: unknown, options: object) => string): string {
    const shown = { ...this, plaintextDataKey: this.#dataKey ? '[redacted]' : undefined }
    return inspect ? inspect(shown, options) : '[materials]'
  }
}

class FrozenEncryptionMaterials extends KeyedMaterials implements EncryptionMaterials {
  readonly suite: AlgorithmSuite
  readonly encryptionContext: EncryptionContext
  readonly requiredEncryptionContextKeys: readonly string[]
  readonly encryptedDataKeys: readonly EncryptedDataKey[]
  readonly signingKey: SigningKey | undefined

  constructor(fields: Omit<EncryptionMaterials, 'plaintextDataKey'>, dataKey: Uint8Array | undefined) {
    super(dataKey)
    this.suite = fields.suite
    this.encryptionContext = fields.encryptionContext
    this.requiredEncryptionContextKeys = fields.requiredEncryptionContextKeys
    this.encryptedDataKeys = Object.isFrozen(fields.encryptedDataKeys) ? fields.encryptedDataKeys : Object.freeze([...fields.encryptedDataKeys])
    this.signingKey = fields.signingKey
    Object.freeze(this)
  }
}

class FrozenDecryptionMaterials extends KeyedMaterials implements DecryptionMaterials {
  readonly suite: AlgorithmSuite
  readonly encryptionContext: EncryptionContext
  readonly requiredEncryptionContextKeys: readonly string[]
  readonly verificationKey: VerificationKey | undefined

  constructor(fields: Omit<DecryptionMaterials, 'plaintextDataKey'>, dataKey: Uint8Array | undefined) {
    super(dataKey)
    this.suite = fields.suite
    this.encryptionContext = fields.encryptionContext
    this.requiredEncryptionContextKeys = fields.requiredEncryptionContextKeys
    this.verificationKey = fields.verificationKey
    Object.freeze(this)
  }
}

/**
 * Frozen encryption materials, for a custom CMM; the data key is copied and wiped with the materials.
 * @example
 * ```ts
 * const materials = createEncryptionMaterials({ suite, encryptionContext: {}, encryptedDataKeys: [], commitmentPolicy })
 * ```
 * @throws never: keyrings check the key length when they set one.
 */
export function createEncryptionMaterials(fields: Omit<EncryptionMaterials, 'plaintextDataKey'>, dataKey?: Uint8Array): EncryptionMaterials {
  return new FrozenEncryptionMaterials(fields, dataKey)
}

/**
 * Frozen decryption materials, for a custom CMM.
 * @example
 * ```ts
 * const materials = createDecryptionMaterials({ suite, encryptionContext: header.encryptionContext, commitmentPolicy })
 * ```
 * @throws never.
 */
export function createDecryptionMaterials(fields: Omit<DecryptionMaterials, 'plaintextDataKey'>, dataKey?: Uint8Array): DecryptionMaterials {
  return new FrozenDecryptionMaterials(fields, dataKey)
}

function checkKeyLength(suite: AlgorithmSuite, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== suite.keyLength) {
    throw new KeyringError(`a data key for suite ${suiteLabel(suite.id)} must be ${suite.keyLength} bytes`)
  }
}

/**
 * Copy of `materials` with the data key set; a keyring may set it only once.
 * @example
 * ```ts
 * return withEncryptionDataKey(materials, backend.randomBytes(materials.suite.keyLength))
 * ```
 * @throws {KeyringError} a data key is already set, or the key's length does not fit the suite.
 */
export function withEncryptionDataKey(materials: EncryptionMaterials, dataKey: Uint8Array): EncryptionMaterials {
  if (materials.plaintextDataKey) throw new KeyringError('the encryption materials already have a data key')
  checkKeyLength(materials.suite, dataKey)
  return createEncryptionMaterials(materials, dataKey)
}

/**
 * Copy of `materials` with one more encrypted data key: what a custom keyring's onEncrypt returns.
 * @example
 * ```ts
 * return withEncryptedDataKey(materials, { providerId: 'my-ns', providerInfo, ciphertext: wrapped })
 * ```
 * @throws never.
 */
export function withEncryptedDataKey(materials: EncryptionMaterials, edk: EncryptedDataKey): EncryptionMaterials {
  return createEncryptionMaterials({ ...materials, encryptedDataKeys: Object.freeze([...materials.encryptedDataKeys, edk]) }, materials.plaintextDataKey)
}

/**
 * Copy of `materials` with the data key a custom keyring's onDecrypt unwrapped; set once only.
 * @example
 * ```ts
 * return withDecryptionDataKey(materials, unwrapped)
 * ```
 * @throws {KeyringError} a data key is already set, or the key's length does not fit the suite.
 */
export function withDecryptionDataKey(materials: DecryptionMaterials, dataKey: Uint8Array): DecryptionMaterials {
  if (materials.plaintextDataKey) throw new KeyringError('the decryption materials already have a data key')
  checkKeyLength(materials.suite, dataKey)
  return createDecryptionMaterials(materials, dataKey)
}

/**
 * The data key of materials a CMM returned, checked where it is used: a custom
 * CMM need not build its materials through withEncryptionDataKey, and a short
 * key (16 bytes for an AES-256 suite) would otherwise be used as it is.
 * `suite` must come from the suite table. A key of the wrong length is wiped.
 */
export function checkedDataKey(suite: AlgorithmSuite, key: unknown): Uint8Array {
  if (key instanceof Uint8Array && key.length === suite.keyLength) return key
  if (key instanceof Uint8Array) key.fill(0)
  const got = key instanceof Uint8Array ? `a ${key.length}-byte data key` : 'no data key'
  throw new KeyringError(`the CMM returned ${got} for suite ${suiteLabel(suite.id)}, which needs ${suite.keyLength} bytes`)
}
