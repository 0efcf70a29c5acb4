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
 *   encrypt-only key refuses Decrypt as it does in the public account;
 * - an `aws-kms-rsa` entry becomes an RSA key of its `bits` (a new key pair:
 *   the manifest's public key is AWS's, whose private half only AWS holds), so
 *   its users read the public key with GetPublicKey.
 *
 * Other key types (raw keys, aws-kms-ecdh, static materials) are left alone.
 * Provisioning is idempotent: existing keys keep their material.
 */
import { nodeBackend } from '../crypto/node.js'
import { utf8Encode } from '../encoding.js'
import { parseKmsArn } from '../keyrings/kms/arn.js'
import type { KmsOperation, LocalKeySpecName, LocalKms } from './kms-server.js'

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
  /** SYMMETRIC_DEFAULT for `aws-kms` entries, RSA_<bits> for `aws-kms-rsa` ones. */
  readonly keySpec: LocalKeySpecName
}

/** The RSA key sizes AWS KMS has. */
const RSA_BITS = [2048, 3072, 4096]

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
  readonly keySpec: LocalKeySpecName
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
    if (raw?.type !== 'aws-kms' && raw?.type !== 'aws-kms-rsa') continue
    if (raw.type === 'aws-kms-rsa' && !RSA_BITS.includes(raw.bits)) throw new Error(`keys manifest entry ${name}: an aws-kms-rsa key needs bits ${RSA_BITS.join(', ')}`)
    const keySpec: LocalKeySpecName = raw.type === 'aws-kms-rsa' ? (`RSA_${raw.bits}` as LocalKeySpecName) : 'SYMMETRIC_DEFAULT'
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
      plan = { id, account, regions: [], aliases: new Set(), keySpec, encrypt: false, decrypt: false }
      plans.set(slot, plan)
    }
    if (plan.keySpec !== keySpec) throw new Error(`keys manifest entry ${name}: key ${id} is named both as ${plan.keySpec} and as ${keySpec}`)
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
    // The public half of an asymmetric key is public: GetPublicKey is always allowed.
    const operations = operationsFor(plan.encrypt, plan.decrypt)
    if (plan.keySpec !== 'SYMMETRIC_DEFAULT') operations.push('GetPublicKey')
    kms.ensureKey({ id: plan.id, account: plan.account, regions: plan.regions, aliases: [...plan.aliases], keySpec: plan.keySpec, operations, enabled: true })
  }

  // aws-kms-ecdh entries name two KEY_AGREEMENT keys by ARN; their curve is in the entry's name or key-id (e.g. ecc-256).
  for (const [name, raw] of Object.entries<any>(json.keys ?? {})) {
    if (raw?.type !== 'aws-kms-ecdh') continue
    const bits = /(?:^|-)(256|384|521)(?:-|$)/.exec(`${name} ${raw['key-id'] ?? ''}`.replace(' ', '-'))?.[1]
    if (!bits) throw new Error(`keys manifest entry ${name}: cannot tell the curve of an aws-kms-ecdh key (256, 384 or 521 in its name)`)
    for (const material of [raw['sender-material'], raw['recipient-material']]) {
      const arn = typeof material === 'string' ? parseKmsArn(material) : undefined
      if (!arn || arn.resourceType !== 'key') throw new Error(`keys manifest entry ${name}: ${JSON.stringify(material)} is not a KMS key ARN`)
      kms.ensureKey({ id: arn.resourceId, account: arn.account, regions: [arn.region], keySpec: `ECC_NIST_P${bits}` as LocalKeySpecName, operations: ['DeriveSharedSecret', 'GetPublicKey'], enabled: true })
    }
  }

  return entries.map(({ name, keyId, region, alias, plan, encrypt, decrypt }) => ({
    name,
    keyId,
    arn: `arn:aws:kms:${region}:${plan.account}:key/${plan.id}`,
    alias,
    regions: [...plan.regions],
    encrypt,
    decrypt,
    keySpec: plan.keySpec,
  }))
}
