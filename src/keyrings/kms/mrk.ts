/**
 * Multi-region-key aware keyrings (spec/keyrings.md#aws-kms). An MRK and its
 * replicas share key material, so a message wrapped in one region decrypts
 * with the replica in another: the strict keyring matches EDKs to its key
 * ignoring the region and calls KMS in its own region; the discovery keyring
 * rewrites MRK ARNs to its region.
 */
import { checkOptions } from '../../options.js'
import { KeyringError } from '../../errors.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import { withEncryptedDataKey, withEncryptionDataKey, type DecryptionMaterials, type EncryptionMaterials } from '../../materials/materials.js'
import { checkKeyIdentifier, inRegion, isMultiRegionKey, mrkMatch, regionOf } from './arn.js'
import { callContext, decryptWithFirstKey, encryptDataKey, generateDataKey, KMS_CLIENT_OPTIONS, type KmsClientOptions } from './calls.js'
import type { KmsCallContext } from './client.js'
import { checkDiscoveryFilter, passesFilter, type DiscoveryFilter } from './discovery.js'

export interface KmsMrkKeyringOptions extends KmsClientOptions {
  /** The key (ARN recommended; an MRK ARN matches its replicas on decrypt). */
  readonly keyId: string
}

/**
 * One AWS KMS key, multi-region aware: a message wrapped by a replica of this key in another region
 * decrypts here with the local replica.
 * @example
 * ```ts
 * const keyring = new KmsMrkKeyring({ keyId: 'arn:aws:kms:us-east-1:111122223333:key/mrk-…' })
 * ```
 * @throws {TypeError} bad options or a malformed key id.
 */
export class KmsMrkKeyring implements Keyring {
  readonly keyId: string
  readonly #ctx: KmsCallContext

  constructor(options: KmsMrkKeyringOptions) {
    checkOptions(options, 'KmsMrkKeyring', { ...KMS_CLIENT_OPTIONS, keyId: 'string' })
    this.keyId = checkKeyIdentifier(options.keyId, 'keyId')
    this.#ctx = callContext(options)
  }

  async onEncrypt(materials: EncryptionMaterials, services?: KeyringServices): Promise<EncryptionMaterials> {
    const region = regionOf(this.keyId)
    if (!materials.plaintextDataKey) {
      const { dataKey, edk } = await generateDataKey(this.#ctx, region, this.keyId, materials.suite, materials.encryptionContext, services?.backend)
      return withEncryptedDataKey(withEncryptionDataKey(materials, dataKey), edk)
    }
    return withEncryptedDataKey(materials, await encryptDataKey(this.#ctx, region, this.keyId, materials.plaintextDataKey, materials.encryptionContext))
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], services?: KeyringServices): Promise<DecryptionMaterials> {
    return decryptWithFirstKey('KmsMrkKeyring', this.#ctx, materials, edks, (arn) =>
      mrkMatch(this.keyId, arn) ? { region: regionOf(this.keyId), keyId: this.keyId } : { skip: `does not match ${this.keyId}` },
      services?.backend,
    )
  }
}

export interface KmsMrkDiscoveryKeyringOptions extends KmsClientOptions {
  /** The region this keyring calls KMS in. */
  readonly region: string
  readonly discoveryFilter?: DiscoveryFilter
}

/**
 * Discovery in one region, multi-region aware: a message naming a multi-region key from any region
 * is decrypted with its replica in `region`; decrypt only.
 * @example
 * ```ts
 * const keyring = new KmsMrkDiscoveryKeyring({ region: 'us-west-2' })
 * ```
 * @throws {TypeError} bad options, an empty region or a malformed discovery filter.
 */
export class KmsMrkDiscoveryKeyring implements Keyring {
  readonly region: string
  readonly discoveryFilter: DiscoveryFilter | undefined
  readonly #ctx: KmsCallContext

  constructor(options: KmsMrkDiscoveryKeyringOptions) {
    checkOptions(options, 'KmsMrkDiscoveryKeyring', { ...KMS_CLIENT_OPTIONS, region: 'string', discoveryFilter: 'object' })
    if (typeof options.region !== 'string' || options.region.length === 0) throw new TypeError('region must be a non-empty string')
    this.region = options.region
    this.discoveryFilter = checkDiscoveryFilter(options.discoveryFilter)
    this.#ctx = callContext(options)
  }

  async onEncrypt(): Promise<never> {
    throw new KeyringError('a discovery keyring cannot encrypt: it names no key')
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], services?: KeyringServices): Promise<DecryptionMaterials> {
    return decryptWithFirstKey('KmsMrkDiscoveryKeyring', this.#ctx, materials, edks, (text, arn) => {
      if (!passesFilter(arn, this.discoveryFilter)) return { skip: 'outside the discovery filter' }
      if (isMultiRegionKey(text)) return { region: this.region, keyId: inRegion(arn, this.region) }
      if (arn.region !== this.region) return { skip: `a single-region key in ${arn.region}, not ${this.region}` }
      return { region: this.region, keyId: text }
    }, services?.backend)
  }
}
