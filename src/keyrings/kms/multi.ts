/** Builders for the usual KMS multi-keyrings (spec/keyrings.md#aws-kms). */
import { checkOptions } from '../../options.js'
import { MultiKeyring } from '../multi.js'
import { isMultiRegionKey, parseKmsArn } from './arn.js'
import { KMS_CLIENT_OPTIONS, type KmsClientOptions } from './calls.js'
import type { DiscoveryFilter } from './discovery.js'
import { KmsMrkDiscoveryKeyring, KmsMrkKeyring } from './mrk.js'

export interface KmsMrkMultiKeyringOptions extends KmsClientOptions {
  readonly generatorKeyId?: string
  readonly keyIds?: readonly string[]
}

/**
 * One MRK-aware keyring per key, the first as generator. Two MRKs with the same
 * id in different regions would wrap twice with the same material: rejected.
 * @example
 * ```ts
 * const keyring = buildKmsMrkStrictMultiKeyring({ generatorKeyId: mrkArn, keyIds: [otherArn] })
 * ```
 * @throws {TypeError} bad options, or two replicas of one multi-region key.
 */
export function buildKmsMrkStrictMultiKeyring(options: KmsMrkMultiKeyringOptions): MultiKeyring {
  const { generatorKeyId, keyIds = [], ...client } = checkOptions(options, 'buildKmsMrkStrictMultiKeyring', { ...KMS_CLIENT_OPTIONS, generatorKeyId: 'string', keyIds: 'array' })
  const all = [...(generatorKeyId ? [generatorKeyId] : []), ...keyIds]
  const seen = new Map<string, string[]>()
  for (const id of all) {
    if (!isMultiRegionKey(id)) continue
    const resource = parseKmsArn(id)?.resourceId ?? id
    seen.set(resource, [...(seen.get(resource) ?? []), id])
  }
  const duplicates = [...seen.values()].filter((ids) => ids.length > 1).flat()
  if (duplicates.length > 0) throw new TypeError(`multi-region keys must be unique in a keyring; these are replicas of each other: ${duplicates.join(', ')}`)
  return new MultiKeyring({
    generator: generatorKeyId ? new KmsMrkKeyring({ ...client, keyId: generatorKeyId }) : undefined,
    children: keyIds.map((keyId) => new KmsMrkKeyring({ ...client, keyId })),
  })
}

export interface KmsMrkDiscoveryMultiKeyringOptions extends KmsClientOptions {
  readonly regions: readonly string[]
  readonly discoveryFilter?: DiscoveryFilter
}

/**
 * One MRK discovery keyring per region.
 * @example
 * ```ts
 * const keyring = buildKmsMrkDiscoveryMultiKeyring({ regions: ['us-west-2', 'eu-west-1'] })
 * ```
 * @throws {TypeError} bad options or no region.
 */
export function buildKmsMrkDiscoveryMultiKeyring(options: KmsMrkDiscoveryMultiKeyringOptions): MultiKeyring {
  const { regions, discoveryFilter, ...client } = checkOptions(options, 'buildKmsMrkDiscoveryMultiKeyring', { ...KMS_CLIENT_OPTIONS, regions: 'array', discoveryFilter: 'object' })
  if (!Array.isArray(regions) || regions.length === 0) throw new TypeError('regions must be a non-empty array')
  return new MultiKeyring({ children: regions.map((region) => new KmsMrkDiscoveryKeyring({ ...client, region, discoveryFilter })) })
}
