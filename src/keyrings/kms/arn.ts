/**
 * AWS KMS key identifiers: ARNs, aliases, raw key ids, and multi-region-key
 * (MRK) matching (spec/keyrings.md#kms-identifiers).
 */

export interface KmsArn {
  readonly partition: string
  readonly service: 'kms'
  readonly region: string
  readonly account: string
  readonly resourceType: 'key' | 'alias'
  readonly resourceId: string
}

/**
 * Parses `arn:partition:kms:region:account:key/id` (or `alias/name`); undefined when malformed.
 * @example
 * ```ts
 * parseKmsArn('arn:aws:kms:us-west-2:111122223333:key/k1')?.region // 'us-west-2'
 * ```
 * @throws never: text that is not a KMS ARN gives undefined.
 */
export function parseKmsArn(text: string): KmsArn | undefined {
  if (typeof text !== 'string') return undefined
  const parts = text.split(':')
  if (parts.length !== 6) return undefined
  const [arn, partition, service, region, account, resource] = parts as [string, string, string, string, string, string]
  if (arn !== 'arn' || !partition || service !== 'kms' || !region || !account) return undefined
  const slash = resource.indexOf('/')
  if (slash <= 0) return undefined
  const resourceType = resource.slice(0, slash)
  const resourceId = resource.slice(slash + 1)
  if ((resourceType !== 'key' && resourceType !== 'alias') || !resourceId) return undefined
  return { partition, service: 'kms', region, account, resourceType, resourceId }
}

export function formatKmsArn(arn: KmsArn): string {
  return `arn:${arn.partition}:kms:${arn.region}:${arn.account}:${arn.resourceType}/${arn.resourceId}`
}

/** A key ARN (not an alias ARN): what provider info must hold. */
export function parseKeyArn(text: string): KmsArn | undefined {
  const arn = parseKmsArn(text)
  return arn?.resourceType === 'key' ? arn : undefined
}

/** True for an ARN, an `alias/...` name or a bare key id; throws TypeError for anything else. */
export function checkKeyIdentifier(text: unknown, what = 'KMS key identifier'): string {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError(`${what} must be a non-empty string`)
  if (text.startsWith('arn:')) {
    if (!parseKmsArn(text)) throw new TypeError(`${what} ${JSON.stringify(text)} is not a well-formed KMS ARN`)
  } else if (text.includes(':')) {
    throw new TypeError(`${what} ${JSON.stringify(text)} is neither an ARN, an alias/ name nor a key id`)
  }
  return text
}

/**
 * MRK: a key (never an alias) whose id starts with `mrk-`.
 * @example
 * ```ts
 * isMultiRegionKey('arn:aws:kms:us-west-2:111122223333:key/mrk-1') // true
 * ```
 * @throws never.
 */
export function isMultiRegionKey(identifier: string): boolean {
  if (identifier.startsWith('arn:')) {
    const arn = parseKmsArn(identifier)
    return arn !== undefined && arn.resourceType === 'key' && arn.resourceId.startsWith('mrk-')
  }
  if (identifier.startsWith('alias/')) return false
  return identifier.startsWith('mrk-')
}

/** The region an identifier names, if it is an ARN. */
export function regionOf(identifier: string): string | undefined {
  return identifier.startsWith('arn:') ? parseKmsArn(identifier)?.region : undefined
}

/**
 * Whether two identifiers name the same key for decrypt: equal strings, or two
 * MRK ARNs that differ only in region (replicas share key material).
 * @example
 * ```ts
 * mrkMatch(usWestReplicaArn, euWestReplicaArn) // true
 * ```
 * @throws never.
 */
export function mrkMatch(a: string, b: string): boolean {
  if (a === b) return true
  if (!isMultiRegionKey(a) || !isMultiRegionKey(b)) return false
  const x = parseKmsArn(a)
  const y = parseKmsArn(b)
  if (!x || !y) return false
  return x.partition === y.partition && x.account === y.account && x.resourceType === y.resourceType && x.resourceId === y.resourceId
}

/** The same MRK ARN in another region. */
export function inRegion(arn: KmsArn, region: string): string {
  return formatKmsArn({ ...arn, region })
}
