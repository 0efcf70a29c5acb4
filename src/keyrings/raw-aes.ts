/**
 * RawAesKeyring: wraps data keys with a local AES-GCM key (spec/keyrings.md#raw-aes).
 * Compatible with the ESDK raw AES keyrings and the Java/Python raw AES master keys.
 */
import { checkOptions } from '../options.js'
import type { AesKey, CryptoBackend } from '../crypto/backend.js'
import { copyBytes, equalBytes, readUint32, writeUint32 } from '../format/bytes.js'
import { utf8Encode } from '../encoding.js'
import { IV_LENGTH, TAG_LENGTH } from '../format/constants.js'
import { printableProviderInfo, type EncryptedDataKey } from '../format/edk.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import {
  withDecryptionDataKey,
  withEncryptedDataKey,
  withEncryptionDataKey,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../materials/materials.js'
import { AttemptLog, attemptLimitReason, checkKeyNamespace, checkMaxUnwrapAttempts, newDataKey } from './common.js'
import { Redacted, type PublicFacts } from '../crypto/redacted.js'
import { checkLegacyContextOrder, DecryptAads, encryptAad, type LegacyContextOrder } from './context-order.js'

export interface RawAesKeyringOptions {
  /** Provider id written into each encrypted data key. Must not start with "aws-kms". */
  readonly keyNamespace: string
  /** Identifies the wrapping key; decrypt matches it exactly. */
  readonly keyName: string
  /** 16, 24 or 32 bytes. The keyring keeps its own copy. */
  readonly wrappingKey: Uint8Array
  /** Most encrypted data keys this keyring tries to unwrap per message (spec/keyrings.md#unwrap-attempts). Default 4. */
  readonly maxUnwrapAttempts?: number
  /**
   * Whether to accept, or also write, the JS peer's locale-ordered context in
   * the key-wrap AAD (spec/hierarchy.md#context-order). Default `'decrypt'`.
   */
  readonly legacyContextOrder?: LegacyContextOrder
}

const TAG_BITS = TAG_LENGTH * 8
const INFO_SUFFIX_LENGTH = 8 + IV_LENGTH

/** The key name part of raw AES provider info (everything before tag bits, IV length and IV). */
function keyNameOf(info: Uint8Array): string {
  return printableProviderInfo(info.length > INFO_SUFFIX_LENGTH ? info.subarray(0, info.length - INFO_SUFFIX_LENGTH) : info)
}

/**
 * Wraps data keys with an AES-GCM key you hold (16, 24 or 32 bytes), binding the encryption context;
 * compatible with the ESDK's raw AES keyring (spec/keyrings.md#raw-aes).
 * @example
 * ```ts
 * const keyring = new RawAesKeyring({ keyNamespace: 'my-app', keyName: 'k1', wrappingKey: key32 })
 * const { ciphertext } = await createClient().encrypt(keyring, 'hello')
 * ```
 * @throws {TypeError} options that are not an object, an unknown key, a wrong type, or a wrapping key that is not 16, 24 or 32 bytes.
 */
export class RawAesKeyring extends Redacted implements Keyring {
  readonly keyNamespace: string
  readonly keyName: string
  readonly maxUnwrapAttempts: number
  readonly legacyContextOrder: LegacyContextOrder
  readonly #keyNameBytes: Uint8Array
  readonly #wrappingKey: Uint8Array
  readonly #imported = new Map<CryptoBackend, AesKey>()

  constructor(options: RawAesKeyringOptions) {
    super()
    const { keyNamespace, keyName, wrappingKey, maxUnwrapAttempts, legacyContextOrder } = checkOptions(options, 'RawAesKeyring', {
      keyNamespace: 'string',
      keyName: 'string',
      wrappingKey: 'bytes',
      maxUnwrapAttempts: 'number',
      legacyContextOrder: 'string',
    })
    checkKeyNamespace(keyNamespace)
    if (typeof keyName !== 'string' || keyName.length === 0) throw new TypeError('keyName must be a non-empty string')
    if (!(wrappingKey instanceof Uint8Array) || ![16, 24, 32].includes(wrappingKey.length)) {
      throw new TypeError('wrappingKey must be a Uint8Array of 16, 24 or 32 bytes')
    }
    this.keyNamespace = keyNamespace
    this.keyName = keyName
    this.maxUnwrapAttempts = checkMaxUnwrapAttempts(maxUnwrapAttempts)
    this.legacyContextOrder = checkLegacyContextOrder(legacyContextOrder)
    this.#keyNameBytes = utf8Encode(keyName)
    this.#wrappingKey = copyBytes(wrappingKey)
  }

  #key(backend: CryptoBackend): AesKey {
    let key = this.#imported.get(backend)
    if (!key) {
      key = backend.importAesKey(this.#wrappingKey)
      this.#imported.set(backend, key)
    }
    return key
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    let result = materials
    if (!result.plaintextDataKey) result = withEncryptionDataKey(result, newDataKey(backend, result.suite.keyLength))
    const dataKey = result.plaintextDataKey!
    const iv = backend.randomBytes(IV_LENGTH)
    const aad = encryptAad(result.encryptionContext, this.legacyContextOrder)
    const ciphertext = new Uint8Array(dataKey.length + TAG_LENGTH)
    backend.gcmSeal(this.#key(backend), iv, aad, dataKey, ciphertext, 0)
    // providerInfo = key name ‖ uint32 tag bits ‖ uint32 IV length ‖ IV (spec/keyrings.md#raw-aes-provider-info)
    const n = this.#keyNameBytes.length
    const providerInfo = new Uint8Array(n + 8 + IV_LENGTH)
    providerInfo.set(this.#keyNameBytes, 0)
    writeUint32(providerInfo, n, TAG_BITS)
    writeUint32(providerInfo, n + 4, IV_LENGTH)
    providerInfo.set(iv, n + 8)
    return withEncryptedDataKey(result, { providerId: this.keyNamespace, providerInfo, ciphertext })
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    { backend }: KeyringServices,
  ): Promise<DecryptionMaterials> {
    const log = new AttemptLog('RawAesKeyring', keyNameOf)
    const n = this.#keyNameBytes.length
    const aads = new DecryptAads(materials.encryptionContext, this.legacyContextOrder)
    let attempts = 0
    for (const edk of edks) {
      if (log.otherNamespace(edk, this.keyNamespace)) continue
      const info = edk.providerInfo
      if (info.length !== n + 8 + IV_LENGTH || !equalBytes(info.subarray(0, n), this.#keyNameBytes)) {
        log.skip(edk, `not key ${JSON.stringify(this.keyName)}`)
        continue
      }
      if (readUint32(info, n) !== TAG_BITS || readUint32(info, n + 4) !== IV_LENGTH) {
        log.record(edk, 'unsupported tag or IV length in provider info')
        continue
      }
      if (edk.ciphertext.length !== materials.suite.keyLength + TAG_LENGTH) {
        log.record(edk, `wrapped key is ${edk.ciphertext.length} bytes, expected ${materials.suite.keyLength + TAG_LENGTH}`)
        continue
      }
      if (attempts === this.maxUnwrapAttempts) {
        log.record(edk, attemptLimitReason(attempts))
        continue
      }
      attempts++
      const ct = edk.ciphertext
      const open = (aad: Uint8Array) => backend.gcmOpen(this.#key(backend), info.subarray(n + 8), aad, ct.subarray(0, ct.length - TAG_LENGTH), ct.subarray(ct.length - TAG_LENGTH))
      let dataKey = open(aads.canonical)
      // The peer's legacy orders, built only once byte order has failed (spec/hierarchy.md#context-order).
      if (!dataKey) for (const aad of aads.legacy) dataKey ??= open(aad)
      if (!dataKey) {
        log.record(edk, 'unwrap failed: wrong wrapping key or different encryption context')
        continue
      }
      return withDecryptionDataKey(materials, dataKey)
    }
    throw log.error()
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['RawAesKeyring', { keyNamespace: this.keyNamespace, keyName: this.keyName }]
  }
}
