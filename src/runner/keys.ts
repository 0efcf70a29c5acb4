/**
 * Keys manifests (v1, v2, v3) and key descriptions -> keyrings and CMMs.
 * Master-key descriptions (awses-decrypt v1-v4, awses-encrypt) and the keyring
 * descriptions of v5 manifests share this file.
 */
import {
  KmsHierarchicalKeyring,
  MultiKeyring,
  RawAesKeyring,
  RawEcdhKeyring,
  RawRsaKeyring,
  RequiredEncryptionContextCmm,
  type Cmm,
  type EcdhCurve,
  type Keyring,
  type RsaPadding,
} from '../index.js'
import { rsaPublicPemOf } from '../crypto/node.js'
import { ecdhCurveOf } from './kms-ecdh.js'

export interface KeyEntry {
  readonly name: string
  /** The key name written into messages (`key-id`, or the entry name in v1). */
  readonly keyId: string
  readonly type: string
  readonly algorithm: string | undefined
  readonly bits: number | undefined
  readonly material: string | undefined
  /** ECDH keys (keys manifest v2, type ecc-private or aws-kms-ecdh): each party's material and public key. */
  readonly ecdh?: {
    readonly senderMaterial: string | undefined
    readonly recipientMaterial: string | undefined
    readonly senderPublicKey: string | undefined
    readonly recipientPublicKey: string | undefined
  }
  readonly encrypt: boolean
  readonly decrypt: boolean
  /** `static-branch-key` entries: the version UUID and the base64 branch key. */
  readonly branchKeyVersion?: string
  readonly branchKey?: string
}

export type KeyMap = ReadonlyMap<string, KeyEntry>

/**
 * The keys of a test-vector keys manifest (versions 1 to 3), by name.
 * @example
 * ```ts
 * const keys = parseKeysManifest(JSON.parse(readFileSync('keys.json', 'utf8')))
 * ```
 * @throws {Error} a manifest that is not a keys manifest of version 1 to 3, or a key entry it cannot read.
 */
export function parseKeysManifest(json: any): KeyMap {
  const type = json?.manifest?.type
  const version = json?.manifest?.version
  if (type !== 'keys' || ![1, 2, 3].includes(version)) throw new Error(`unsupported keys manifest ${JSON.stringify(json?.manifest)}`)
  const keys = new Map<string, KeyEntry>()
  for (const [name, raw] of Object.entries<any>(json.keys ?? {})) {
    // v1/v2 split materials into lines; v3 (and the Dafny "v2") use one string.
    const material = Array.isArray(raw.material) ? raw.material.join(raw['line-separator'] ?? '') : raw.material
    keys.set(name, {
      name,
      keyId: raw['key-id'] ?? name,
      type: raw.type,
      algorithm: raw.algorithm,
      bits: raw.bits,
      material,
      ...(raw['sender-material'] !== undefined || raw['recipient-material'] !== undefined
        ? {
            ecdh: {
              senderMaterial: raw['sender-material'],
              recipientMaterial: raw['recipient-material'],
              senderPublicKey: raw['sender-material-public-key'],
              recipientPublicKey: raw['recipient-material-public-key'],
            },
          }
        : {}),
      encrypt: raw.encrypt !== false,
      decrypt: raw.decrypt !== false,
      ...(raw.type === 'static-branch-key' ? { branchKeyVersion: raw.branchKeyVersion, branchKey: raw.branchKey } : {}),
    })
  }
  return keys
}

/** A keyring or CMM, or why this test cannot run here. */
export type ResolvedKeyring = { keyring: Keyring | Cmm } | { skip: string }

/** How the runner reaches KMS; `kmsHooks()` in kms.ts is the implementation (spec/conformance.md#kms). */
export interface KmsHooks {
  /**
   * Builds the keyring for an `aws-kms`, `aws-kms-mrk-aware` or
   * `aws-kms-mrk-aware-discovery` description, or returns a reason to skip.
   */
  keyring(description: any, key: KeyEntry | undefined, usage: 'encrypt' | 'decrypt'): Keyring | string
  /**
   * The key ARN an `aws-kms` key-id names (an alias ARN resolves to its key).
   * The encrypt runner writes key ARNs into its output keys manifest, since a
   * strict KMS keyring matches encrypted data keys by key ARN, never by alias.
   */
  resolveKeyArn?(keyId: string): Promise<string>
}

export const NO_KMS = 'needs AWS KMS: no KMS configured (run with --kms-endpoint URL; docs/kms-local.md)'

function rsaPadding(description: any): RsaPadding {
  const algorithm = description['padding-algorithm']
  if (algorithm === 'pkcs1') return 'pkcs1'
  if (algorithm === 'oaep-mgf1') {
    const hash = String(description['padding-hash'] ?? 'sha1').replace('-', '').toLowerCase()
    if (!['sha1', 'sha256', 'sha384', 'sha512'].includes(hash)) throw new Error(`unsupported OAEP hash ${hash}`)
    return `oaep-${hash}` as RsaPadding
  }
  throw new Error(`unsupported RSA padding ${JSON.stringify(algorithm)}`)
}

function rawKeyring(description: any, keys: KeyMap, usage: 'encrypt' | 'decrypt'): Keyring {
  const key = keys.get(description.key)
  if (!key) throw new Error(`key ${JSON.stringify(description.key)} is not in the keys manifest`)
  if (!key.material) throw new Error(`key ${key.name} has no material`)
  const keyNamespace: string = description['provider-id']
  const algorithm = description['encryption-algorithm'] ?? key.algorithm
  if (algorithm === 'aes') {
    return new RawAesKeyring({ keyNamespace, keyName: key.keyId, wrappingKey: new Uint8Array(Buffer.from(key.material, 'base64')) })
  }
  if (algorithm === 'rsa') {
    const pem = key.material
    const isPrivate = key.type === 'private' || pem.includes('PRIVATE KEY')
    // Public-only keys can wrap; a private key can do both (its public half is derived only here, in the test harness).
    const publicKey = isPrivate && usage === 'encrypt' ? rsaPublicPemOf(pem) : isPrivate ? undefined : pem
    return new RawRsaKeyring({ keyNamespace, keyName: key.keyId, padding: rsaPadding(description), publicKey, privateKey: isPrivate ? pem : undefined })
  }
  throw new Error(`unsupported raw key algorithm ${JSON.stringify(algorithm)}`)
}

function ecdhKey(keys: KeyMap, name: unknown): KeyEntry & { ecdh: NonNullable<KeyEntry['ecdh']> } {
  const key = keys.get(String(name))
  if (!key?.ecdh) throw new Error(`ECDH key ${JSON.stringify(name)} is not in the keys manifest`)
  return key as KeyEntry & { ecdh: NonNullable<KeyEntry['ecdh']> }
}

/** The curve an `ecc-curve` value stands for: a key entry's bits, or the 256/384/521 in a name like `ecc-256`. */
function ecdhCurve(keys: KeyMap, name: unknown): EcdhCurve {
  const curve = ecdhCurveOf(String(name), keys.get(String(name))?.bits)
  if (!curve) throw new Error(`cannot tell the curve of ECDH key ${JSON.stringify(name)}`)
  return curve
}

/** DER bytes of a base64-der public key from the keys manifest. */
function derPublicKey(base64: string | undefined, what: string): Uint8Array {
  if (base64 === undefined) throw new Error(`the keys manifest has no ${what}`)
  return new Uint8Array(Buffer.from(base64, 'base64'))
}

/**
 * A `raw-ecdh` description (MPL test vectors, AllRawECDH): static uses the
 * sender's private key and the recipient's public key on encrypt; on decrypt
 * the recipient's private key and the sender's public key (the keyring
 * matches either orientation). Ephemeral encrypts to the recipient's public
 * key; discovery decrypts with the recipient's private key.
 */
function rawEcdhKeyring(description: any, keys: KeyMap, usage: 'encrypt' | 'decrypt'): Keyring {
  const curve = ecdhCurve(keys, description['ecc-curve'])
  const recipient = ecdhKey(keys, description.recipient)
  const schema = description.schema
  if (schema === 'discovery') return new RawEcdhKeyring({ curve, scheme: { kind: 'discovery', recipientPrivateKey: recipient.ecdh.recipientMaterial! } })
  if (schema === 'ephemeral') {
    return new RawEcdhKeyring({ curve, scheme: { kind: 'ephemeral', recipientPublicKey: derPublicKey(recipient.ecdh.recipientPublicKey, 'recipient public key') } })
  }
  if (schema !== 'static') throw new Error(`unsupported raw-ecdh schema ${JSON.stringify(schema)}`)
  const sender = ecdhKey(keys, description.sender)
  const scheme =
    usage === 'encrypt'
      ? { kind: 'static' as const, senderPrivateKey: sender.ecdh.senderMaterial!, recipientPublicKey: derPublicKey(recipient.ecdh.recipientPublicKey, 'recipient public key') }
      : { kind: 'static' as const, senderPrivateKey: recipient.ecdh.recipientMaterial!, recipientPublicKey: derPublicKey(sender.ecdh.senderPublicKey, 'sender public key') }
  return new RawEcdhKeyring({ curve, scheme })
}

/**
 * A hierarchical keyring over one `static-branch-key` entry: a key store that
 * holds that single version, the only active one, as the vector generators use.
 */
function hierarchyKeyring(description: any, keys: KeyMap): Keyring {
  const key = keys.get(description.key)
  if (!key) throw new Error(`key ${JSON.stringify(description.key)} is not in the keys manifest`)
  if (key.type !== 'static-branch-key' || !key.branchKey || !key.branchKeyVersion) throw new Error(`key ${key.name} is not a static-branch-key`)
  const branchKey = new Uint8Array(Buffer.from(key.branchKey, 'base64'))
  const materials = async (branchKeyId: string, version: string) => {
    if (branchKeyId !== key.keyId || version.toLowerCase() !== key.branchKeyVersion!.toLowerCase()) throw new Error(`static key store: no ${branchKeyId} version ${version}`)
    // A copy each time: the keyring's cache wipes the key it was handed when the entry leaves.
    return { branchKeyId, branchKeyVersion: key.branchKeyVersion!, branchKey: branchKey.slice(), encryptionContext: {} }
  }
  const keyStore = {
    logicalKeyStoreName: description.logicalKeyStoreName ?? 'static',
    getActiveBranchKey: (id: string) => materials(id, key.branchKeyVersion!),
    getBranchKeyVersion: materials,
  }
  return new KmsHierarchicalKeyring({ keyStore, branchKeyId: key.keyId, ttlSeconds: 60 })
}

/**
 * Master keys of awses-decrypt v1-v4 / awses-encrypt: one keyring, or a multi-keyring of several.
 * @example
 * ```ts
 * const { keyring } = keyringForMasterKeys(test['master-keys'], keys, 'encrypt')
 * ```
 * @throws {Error} a master key the manifest does not define or of an unknown type.
 */
export function keyringForMasterKeys(masterKeys: any[], keys: KeyMap, usage: 'encrypt' | 'decrypt', kms?: KmsHooks): ResolvedKeyring {
  const keyrings: Keyring[] = []
  let skipped: { skip: string } | undefined
  for (const mk of masterKeys) {
    const built = keyringForDescription(mk, keys, usage, kms)
    if ('skip' in built) {
      // On decrypt another master key may still do; on encrypt every one is needed.
      if (usage === 'encrypt') return built
      skipped ??= built
      continue
    }
    keyrings.push(built.keyring as Keyring)
  }
  if (keyrings.length === 0) return skipped ?? { skip: 'no master keys' }
  if (keyrings.length === 1) return { keyring: keyrings[0]! }
  return { keyring: new MultiKeyring({ generator: keyrings[0]!, children: keyrings.slice(1) }) }
}

/**
 * One key or keyring description (v1-v4 master key, or v5 MPL keyring description).
 * @example
 * ```ts
 * const { keyring } = keyringForDescription(test.decryptionMethod, keys, 'decrypt')
 * ```
 * @throws {Error} a description naming a key or a keyring type the manifest does not define.
 */
export function keyringForDescription(description: any, keys: KeyMap, usage: 'encrypt' | 'decrypt', kms?: KmsHooks): ResolvedKeyring {
  switch (description.type) {
    case 'raw':
      return { keyring: rawKeyring(description, keys, usage) }
    case 'raw-ecdh':
      return { keyring: rawEcdhKeyring(description, keys, usage) }
    case 'aws-kms-ecdh': {
      if (!kms) return { skip: NO_KMS }
      // The recipient's entry names both KMS keys (sender-material, recipient-material).
      const built = kms.keyring(description, keys.get(String(description.recipient)), usage)
      return typeof built === 'string' ? { skip: built } : { keyring: built }
    }
    case 'aws-kms':
    case 'aws-kms-mrk-aware':
    case 'aws-kms-mrk-aware-discovery':
    case 'aws-kms-rsa': {
      if (!kms) return { skip: NO_KMS }
      const key = description.key === undefined ? undefined : keys.get(description.key)
      if (description.key !== undefined && !key) throw new Error(`key ${JSON.stringify(description.key)} is not in the keys manifest`)
      const built = kms.keyring(description, key, usage)
      return typeof built === 'string' ? { skip: built } : { keyring: built }
    }
    case 'aws-kms-hierarchy':
      return { keyring: hierarchyKeyring(description, keys) }
    case 'multi-keyring': {
      const generator = description.generator ? keyringForDescription(description.generator, keys, usage, kms) : undefined
      const children = (description.childKeyrings ?? []).map((c: any) => keyringForDescription(c, keys, usage, kms))
      const usable = [generator, ...children].filter((m): m is { keyring: Keyring } => m !== undefined && 'keyring' in m)
      if (usable.length === 0) return generator && 'skip' in generator ? generator : { skip: 'no usable keyring in the multi-keyring' }
      if (generator && 'skip' in generator && usage === 'encrypt') return generator
      const gen = generator && 'keyring' in generator ? (generator.keyring as Keyring) : undefined
      const kids = children.filter((c: ResolvedKeyring) => 'keyring' in c).map((c: { keyring: Keyring }) => c.keyring)
      return { keyring: new MultiKeyring({ generator: gen, children: kids }) }
    }
    case 'required-encryption-context-cmm': {
      const underlying = keyringForDescription(description.underlying, keys, usage, kms)
      if ('skip' in underlying) return underlying
      const cmm = new RequiredEncryptionContextCmm({
        requiredEncryptionContextKeys: description.requiredEncryptionContextKeys ?? [],
        ...(isCmmLike(underlying.keyring) ? { cmm: underlying.keyring as Cmm } : { keyring: underlying.keyring as Keyring }),
      })
      return { keyring: cmm }
    }
    default:
      return { skip: `key description type ${JSON.stringify(description.type)} is not supported by envelope-sdk` }
  }
}

function isCmmLike(value: object): boolean {
  return typeof (value as Cmm).decryptMaterials === 'function'
}
