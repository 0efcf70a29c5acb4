/**
 * RawRsaKeyring: wraps data keys with an RSA public key, unwraps with the
 * private key (spec/keyrings.md#raw-rsa). Either half may be omitted: a
 * public-key-only keyring can encrypt but not decrypt.
 */
import { checkOptions } from '../options.js'
import type { CryptoBackend, RsaPadding, RsaPrivateKey, RsaPublicKey } from '../crypto/backend.js'
import { KeyringError, UnsupportedError } from '../errors.js'
import { equalBytes } from '../format/bytes.js'
import { utf8Encode } from '../encoding.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import {
  withDecryptionDataKey,
  withEncryptedDataKey,
  withEncryptionDataKey,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../materials/materials.js'
import { AttemptLog, attemptLimitReason, checkKeyNamespace, checkMaxUnwrapAttempts, newDataKey, yieldToEventLoop } from './common.js'
import { Redacted, type PublicFacts } from '../crypto/redacted.js'

export const RSA_PADDINGS: readonly RsaPadding[] = ['pkcs1', 'oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512']

export interface RawRsaKeyringOptions {
  readonly keyNamespace: string
  readonly keyName: string
  /** PEM (SPKI "PUBLIC KEY" or "RSA PUBLIC KEY") or a runtime key object. Needed to encrypt. */
  readonly publicKey?: unknown
  /** PEM (PKCS#8 or PKCS#1) or a runtime key object. Needed to decrypt. */
  readonly privateKey?: unknown
  /** OAEP uses the same hash for MGF1. PKCS#1 v1.5 exists for legacy messages only. */
  readonly padding: RsaPadding
  /**
   * Most encrypted data keys this keyring tries to unwrap per message, each a
   * private-key operation (spec/keyrings.md#unwrap-attempts). Default 4.
   */
  readonly maxUnwrapAttempts?: number
}


/**
 * Wraps data keys with an RSA public key and unwraps them with the private key (OAEP, or PKCS#1 v1.5
 * for legacy messages); compatible with the ESDK's raw RSA keyring (spec/keyrings.md#raw-rsa).
 * @example
 * ```ts
 * const keyring = new RawRsaKeyring({ keyNamespace: 'my-app', keyName: 'rsa-1', publicKey: pem, privateKey: pem, padding: 'oaep-sha256' })
 * ```
 * @throws {TypeError} bad options (unknown key, wrong type, unknown padding, neither key given).
 */
export class RawRsaKeyring extends Redacted implements Keyring {
  readonly keyNamespace: string
  readonly keyName: string
  readonly padding: RsaPadding
  readonly maxUnwrapAttempts: number
  readonly #keyNameBytes: Uint8Array
  readonly #publicKey: unknown
  readonly #privateKey: unknown
  readonly #imported = new Map<CryptoBackend, { publicKey?: RsaPublicKey; privateKey?: RsaPrivateKey }>()

  constructor(options: RawRsaKeyringOptions) {
    super()
    // Keys are PEM text or a runtime key object: their kinds are checked where they are imported.
    const { keyNamespace, keyName, publicKey, privateKey, padding, maxUnwrapAttempts } = checkOptions(options, 'RawRsaKeyring', {
      keyNamespace: 'string',
      keyName: 'string',
      publicKey: 'any',
      privateKey: 'any',
      padding: 'string',
      maxUnwrapAttempts: 'number',
    })
    checkKeyNamespace(keyNamespace)
    if (typeof keyName !== 'string' || keyName.length === 0) throw new TypeError('keyName must be a non-empty string')
    if (!RSA_PADDINGS.includes(padding)) throw new TypeError(`padding must be one of ${RSA_PADDINGS.join(', ')}`)
    if (publicKey === undefined && privateKey === undefined) throw new TypeError('give publicKey, privateKey or both')
    this.keyNamespace = keyNamespace
    this.keyName = keyName
    this.padding = padding
    this.maxUnwrapAttempts = checkMaxUnwrapAttempts(maxUnwrapAttempts)
    this.#keyNameBytes = utf8Encode(keyName)
    this.#publicKey = publicKey
    this.#privateKey = privateKey
  }

  #keys(backend: CryptoBackend): { publicKey?: RsaPublicKey; privateKey?: RsaPrivateKey } {
    let keys = this.#imported.get(backend)
    if (!keys) {
      keys = {}
      if (this.#publicKey !== undefined) keys.publicKey = backend.importRsaPublicKey(this.#publicKey)
      if (this.#privateKey !== undefined) keys.privateKey = backend.importRsaPrivateKey(this.#privateKey)
      this.#imported.set(backend, keys)
    }
    return keys
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    const { publicKey } = this.#keys(backend)
    if (!publicKey) throw new KeyringError(`RawRsaKeyring ${JSON.stringify(this.keyName)} has no public key, so it cannot encrypt`)
    let result = materials
    if (!result.plaintextDataKey) result = withEncryptionDataKey(result, newDataKey(backend, result.suite.keyLength))
    const ciphertext = await backend.rsaEncrypt(publicKey, this.padding, result.plaintextDataKey!)
    return withEncryptedDataKey(result, { providerId: this.keyNamespace, providerInfo: this.#keyNameBytes, ciphertext: new Uint8Array(ciphertext) })
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    { backend }: KeyringServices,
  ): Promise<DecryptionMaterials> {
    const log = new AttemptLog('RawRsaKeyring')
    const { privateKey } = this.#keys(backend)
    let unsupported: UnsupportedError | undefined
    // The one reason for every failed unwrap, whatever failed (the RSA operation, the padding, the
    // length of what it held): reasons that told them apart would be a padding oracle (spec/keyrings.md#raw-rsa).
    const unwrapFailed = `unwrap failed: wrong private key or padding (${this.padding})`
    let attempts = 0
    for (const edk of edks) {
      if (log.otherNamespace(edk, this.keyNamespace)) continue
      if (!equalBytes(edk.providerInfo, this.#keyNameBytes)) {
        log.skip(edk, `not key ${JSON.stringify(this.keyName)}`)
        continue
      }
      if (!privateKey) {
        log.record(edk, 'this keyring has no private key')
        continue
      }
      if (attempts === this.maxUnwrapAttempts) {
        log.record(edk, attemptLimitReason(attempts))
        continue
      }
      attempts++
      // A private-key operation takes a millisecond or more (tens in pure JS): timers and I/O get their turn before each.
      await yieldToEventLoop()
      let dataKey: Uint8Array
      try {
        // With the expected length, a PKCS#1 v1.5 unwrap never fails: a bad block gives a random key (spec/backends.md#pkcs1-v15-without-a-padding-oracle).
        const unwrapped = await backend.rsaDecrypt(privateKey, this.padding, edk.ciphertext, materials.suite.keyLength)
        dataKey = new Uint8Array(unwrapped)
        // The backend's buffer held the data key too; only our copy lives on.
        unwrapped.fill(0)
      } catch (e) {
        if (e instanceof UnsupportedError) {
          unsupported ??= e
          log.record(edk, e.message)
        } else {
          log.record(edk, unwrapFailed)
        }
        continue
      }
      if (dataKey.length !== materials.suite.keyLength) {
        dataKey.fill(0)
        log.record(edk, unwrapFailed)
        continue
      }
      return withDecryptionDataKey(materials, dataKey)
    }
    // The environment, not the message, is what stands in the way: say so with the remedy.
    if (unsupported) throw unsupported
    throw log.error()
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['RawRsaKeyring', { keyNamespace: this.keyNamespace, keyName: this.keyName, padding: this.padding }]
  }
}
