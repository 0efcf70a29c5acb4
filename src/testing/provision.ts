/**
 * Provisions the `aws-kms` keys of a test-vector keys manifest (v1-v3) into a
 * local KMS (docs/kms-local.md#keys-from-a-keys-manifest), so the manifest's
 * KMS scenarios run offline against it:
 *
 * - a key ARN becomes a key with that account, region and id;
 * - an alias ARN becomes the alias of a key whose id is derived from the
 *   alias, so provisioning the same manifest again finds the same key;
 * - an `mrk-` key gets a replica in every region the manifest names (and in
 *   `options.regions`), sharing one key material;
 * - `encrypt` / `decrypt` flags become the key's allowed operations, so an
 *   encrypt-only key refuses Decrypt as it does in the public account.
 *
 * Other key types (raw keys, aws-kms-rsa, aws-kms-ecdh, static materials) are
 * left alone. Provisioning is idempotent: existing keys keep their material.
 */
import { nodeBackend } from '../crypto/node.js'
import { utf8Encode } from '../encoding.js'
import { parseKmsArn } from '../keyrings/kms/arn.js'
import type { KmsOperation, LocalKms } from './kms-server.js'

export interface ProvisionOptions {
  /** More regions for the replicas of multi-region keys, beyond those the manifest names. */
  readonly regions?: readonly string[]
}

/** One `aws-kms` entry of the keys manifest, as provisioned. */
export interface ProvisionedKey {
  /** The entry's name in the keys manifest. */
  readonly name: string
  /** The entry's `key-id`: a key ARN, alias ARN, alias name or key id. */
  readonly keyId: string
  /** The ARN of the key it names, in the entry's region. */
  readonly arn: string
  /** The alias the entry names, if it names one. */
  readonly alias: string | undefined
  /** Every region the key exists in (more than one only for multi-region keys). */
  readonly regions: readonly string[]
  readonly encrypt: boolean
  readonly decrypt: boolean
}

const ENCRYPT_OPERATIONS: readonly KmsOperation[] = ['Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext']

/** Allowed operations for the flags: DescribeKey always, ReEncrypt only with both. */
export function operationsFor(encrypt: boolean, decrypt: boolean): KmsOperation[] {
  return [...(encrypt ? ENCRYPT_OPERATIONS : []), ...(decrypt ? (['Decrypt'] as const) : []), ...(encrypt && decrypt ? (['ReEncrypt'] as const) : []), 'DescribeKey']
}

/** A stable key id (UUID layout) for the key behind an alias: the same alias always gets the same key. */
export function aliasKeyId(account: string, region: string, alias: string): string {
  const h = Buffer.from(nodeBackend.digest('sha256', utf8Encode(`${account}\n${region}\n${alias}`))).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

interface Planned {
  readonly id: string
  readonly account: string
  readonly regions: string[]
  readonly aliases: Set<string>
  encrypt: boolean
  decrypt: boolean
}

interface Entry {
  readonly name: string
  readonly keyId: string
  readonly region: string
  readonly alias: string | undefined
  readonly plan: Planned
  readonly encrypt: boolean
  readonly decrypt: boolean
}

/**
 * Creates (or updates) a local key for every `aws-kms` entry of `keysManifest`
 * (the parsed JSON) and returns what each entry now names. Throws on a keys
 * manifest it cannot read and on a `key-id` that is not a KMS identifier.
 * @example
 * ```ts
 * provisionManifestKeys(await startLocalKms(), keysManifestJson)
 * ```
 * @throws {Error} a manifest that is not a keys manifest, or a KMS key it cannot create.
 */
export function provisionManifestKeys(kms: LocalKms, keysManifest: unknown, options: ProvisionOptions = {}): ProvisionedKey[] {
  const json = keysManifest as { manifest?: { type?: unknown; version?: unknown }; keys?: Record<string, any> }
  const version = json?.manifest?.version
  if (json?.manifest?.type !== 'keys' || typeof version !== 'number' || ![1, 2, 3].includes(version)) {
    throw new Error(`not a keys manifest v1-v3 (${JSON.stringify(json?.manifest)})`)
  }
  const plans = new Map<string, Planned>()
  const entries: Entry[] = []
  const regionsUsed = new Set<string>()

  for (const [name, raw] of Object.entries<any>(json.keys ?? {})) {
    if (raw?.type !== 'aws-kms') continue
    const keyId = raw['key-id']
    if (typeof keyId !== 'string' || keyId.length === 0) throw new Error(`keys manifest entry ${name}: an aws-kms key needs a key-id`)
    let account = kms.defaultAccount
    let region = kms.defaultRegion
    let resource = keyId
    if (keyId.startsWith('arn:')) {
      const arn = parseKmsArn(keyId)
      if (!arn) throw new Error(`keys manifest entry ${name}: ${JSON.stringify(keyId)} is not a KMS ARN`)
      account = arn.account
      region = arn.region
      resource = `${arn.resourceType}/${arn.resourceId}`
    } else if (keyId.includes(':')) {
      throw new Error(`keys manifest entry ${name}: ${JSON.stringify(keyId)} is neither an ARN, an alias/ name nor a key id`)
    }
    const alias = resource.startsWith('alias/') ? resource : undefined
    const id = alias ? aliasKeyId(account, region, alias) : resource.replace(/^key\//, '')
    const slot = `${account}/${id}`
    let plan = plans.get(slot)
    if (!plan) {
      plan = { id, account, regions: [], aliases: new Set(), encrypt: false, decrypt: false }
      plans.set(slot, plan)
    }
    if (!plan.regions.includes(region)) plan.regions.push(region)
    if (alias) plan.aliases.add(alias)
    // One key, one policy: it allows what any entry naming it needs.
    const encrypt = raw.encrypt !== false
    const decrypt = raw.decrypt !== false
    plan.encrypt ||= encrypt
    plan.decrypt ||= decrypt
    regionsUsed.add(region)
    entries.push({ name, keyId, region, alias, plan, encrypt, decrypt })
  }
  for (const region of options.regions ?? []) regionsUsed.add(region)

  for (const plan of plans.values()) {
    if (plan.id.startsWith('mrk-')) {
      for (const region of regionsUsed) if (!plan.regions.includes(region)) plan.regions.push(region)
    } else if (plan.regions.length > 1) {
      throw new Error(`key ${plan.id} is named in ${plan.regions.join(' and ')}, but only multi-region keys (mrk-…) have replicas`)
    }
    kms.ensureKey({ id: plan.id, account: plan.account, regions: plan.regions, aliases: [...plan.aliases], operations: operationsFor(plan.encrypt, plan.decrypt), enabled: true })
  }

  return entries.map(({ name, keyId, region, alias, plan, encrypt, decrypt }) => ({
    name,
    keyId,
    arn: `arn:aws:kms:${region}:${plan.account}:key/${plan.id}`,
    alias,
    regions: [...plan.regions],
    encrypt,
    decrypt,
  }))
}
