/**
 * KmsDiscoveryKeyring: decrypts with whatever key an aws-kms EDK names, within
 * an optional partition and account filter. It cannot encrypt.
 */
import { checkOptions } from '../../options.js'
import { KeyringError } from '../../errors.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import type { DecryptionMaterials } from '../../materials/materials.js'
import type { KmsArn } from './arn.js'
import { callContext, decryptWithFirstKey, KMS_CLIENT_OPTIONS, type KmsClientOptions } from './calls.js'
import type { KmsCallContext } from './client.js'

export interface DiscoveryFilter {
  readonly partition: string
  readonly accountIds: readonly string[]
}

export interface KmsDiscoveryKeyringOptions extends KmsClientOptions {
  readonly discoveryFilter?: DiscoveryFilter
}

export function checkDiscoveryFilter(filter: DiscoveryFilter | undefined): DiscoveryFilter | undefined {
  if (filter === undefined) return undefined
  const { partition, accountIds } = filter
  if (typeof partition !== 'string' || partition.length === 0) throw new TypeError('discoveryFilter.partition must be a non-empty string')
  if (!Array.isArray(accountIds) || accountIds.length === 0 || accountIds.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('discoveryFilter.accountIds must be a non-empty array of account ids')
  }
  return Object.freeze({ partition, accountIds: Object.freeze([...accountIds]) })
}

export function passesFilter(arn: KmsArn, filter: DiscoveryFilter | undefined): boolean {
  return filter === undefined || (arn.partition === filter.partition && filter.accountIds.includes(arn.account))
}

/**
 * Decrypts with whichever AWS KMS key a message names (optionally only keys of the accounts in
 * `discoveryFilter`); it cannot encrypt.
 * @example
 * ```ts
 * const keyring = new KmsDiscoveryKeyring({ discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] } })
 * ```
 * @throws {TypeError} bad options or a malformed discovery filter.
 */
export class KmsDiscoveryKeyring implements Keyring {
  readonly discoveryFilter: DiscoveryFilter | undefined
  readonly #ctx: KmsCallContext

  constructor(options: KmsDiscoveryKeyringOptions = {}) {
    checkOptions(options, 'KmsDiscoveryKeyring', { ...KMS_CLIENT_OPTIONS, discoveryFilter: 'object' })
    this.discoveryFilter = checkDiscoveryFilter(options.discoveryFilter)
    this.#ctx = callContext(options)
  }

  async onEncrypt(): Promise<never> {
    throw new KeyringError('a discovery keyring cannot encrypt: it names no key')
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], services?: KeyringServices): Promise<DecryptionMaterials> {
    return decryptWithFirstKey('KmsDiscoveryKeyring', this.#ctx, materials, edks, (text, arn) =>
      passesFilter(arn, this.discoveryFilter) ? { region: arn.region, keyId: text } : { skip: 'outside the discovery filter' },
      services?.backend,
    )
  }
}
