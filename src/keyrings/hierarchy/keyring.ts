/**
 * KmsHierarchicalKeyring: wraps each data key under a key derived from a
 * branch key that a key store (BranchKeyStore, or any BranchKeySource) hands
 * out and this keyring caches for `ttlSeconds` (spec/hierarchy.md#hierarchical-keyring).
 * Byte-compatible with the AWS KMS Hierarchical keyring of the MPL-based ESDKs
 * and of the JS peer.
 */
import type { CryptoBackend } from '../../crypto/backend.js'
import { Redacted, type PublicFacts } from '../../crypto/redacted.js'
import { utf8Encode } from '../../encoding.js'
import { EnvelopeError, KeyringError, printable } from '../../errors.js'
import { checkOptions, type OptionKind } from '../../options.js'
import { concatBytes, equalBytes } from '../../format/bytes.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { EncryptionContext } from '../../format/encryption-context.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import {
  withDecryptionDataKey,
  withEncryptedDataKey,
  withEncryptionDataKey,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../../materials/materials.js'
import { AttemptLog, attemptLimitReason, checkMaxUnwrapAttempts, newDataKey } from '../common.js'
import { checkLegacyContextOrder, DecryptAads, encryptAad, type LegacyContextOrder } from '../context-order.js'
import type { BranchKeyMaterials, BranchKeySource } from './branch-key.js'
import { BranchKeyCache } from './cache.js'
import { BRANCH_KEY_LENGTH, HIERARCHY_PROVIDER_ID, unwrapDataKey, versionBytes, versionOf, versionString, wrapDataKey, wrappedLength } from './wrap.js'

/** Picks the branch key id for an encryption context; may be async (a lookup in your own database, say). */
export type BranchKeyIdSupplier = (encryptionContext: EncryptionContext) => string | Promise<string>

export interface KmsHierarchicalKeyringOptions {
  /** Where branch keys come from: a BranchKeyStore, or any BranchKeySource. */
  readonly keyStore: BranchKeySource
  /** How long a loaded branch key may be used, in seconds (> 0). A rotated key is picked up once it has passed. */
  readonly ttlSeconds: number
  /** The branch key every message uses. Give this or branchKeyIdSupplier, not both. */
  readonly branchKeyId?: string
  /** Picks the branch key from the encryption context (one per tenant, say), on encrypt and on decrypt. */
  readonly branchKeyIdSupplier?: BranchKeyIdSupplier
  /** Capacity of this keyring's own cache (default 1000), or a BranchKeyCache shared with other keyrings. */
  readonly cache?: number | BranchKeyCache
  /** Keyrings that share a cache share entries only when their partition ids match. Default: a random one per keyring. */
  readonly partitionId?: string
  /** Most encrypted data keys this keyring tries to unwrap per message (spec/keyrings.md#unwrap-attempts). Default 4. */
  readonly maxUnwrapAttempts?: number
  /** Whether to accept, or also write, the JS peer's locale-ordered context in the AAD (spec/hierarchy.md#context-order). Default `'decrypt'`. */
  readonly legacyContextOrder?: LegacyContextOrder
}

/** `cache` is a capacity or a BranchKeyCache, checked below with a message naming both. */
const OPTIONS = {
  keyStore: 'object',
  ttlSeconds: 'number',
  branchKeyId: 'string',
  branchKeyIdSupplier: 'function',
  cache: 'any',
  partitionId: 'string',
  maxUnwrapAttempts: 'number',
  legacyContextOrder: 'string',
} as const satisfies Record<string, OptionKind>

/** Cache id scopes (spec/hierarchy.md#cache-ids): resource 0x02 is this keyring, 0x01 encrypt and 0x02 decrypt. */
const RESOURCE_ID = 0x02
const ENCRYPT_SCOPE = 0x01
const DECRYPT_SCOPE = 0x02
/** A loaded entry evicted before its loader could use it (a cache far smaller than the keys in use) is loaded again this many times. */
const LOAD_TRIES = 3

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

function quoted(text: string): string {
  return printable(JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text))
}

/**
 * The AWS KMS Hierarchical keyring (spec/hierarchy.md#hierarchical-keyring): each data key is
 * wrapped under a key derived from a branch key, which comes from a key store (one KMS call per
 * branch key version) and is cached for `ttlSeconds`. Give a `branchKeyId`, or a
 * `branchKeyIdSupplier` that picks one per encryption context (one branch key per tenant, say).
 * @example
 * ```ts
 * const keyStore = new BranchKeyStore({ tableName: 'BranchKeys', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:key/…' })
 * const { branchKeyId } = await keyStore.createKey()
 * const keyring = new KmsHierarchicalKeyring({ keyStore, branchKeyId, ttlSeconds: 600 })
 * const { ciphertext } = await client.encrypt(keyring, 'secret')
 * ```
 * @throws {TypeError} bad options: not an object, an unknown key, a wrong type, a keyStore without
 * the BranchKeySource methods, not exactly one of branchKeyId and branchKeyIdSupplier, an empty id.
 * @throws {RangeError} ttlSeconds not finite and > 0, or a cache capacity below 1.
 */
export class KmsHierarchicalKeyring extends Redacted implements Keyring {
  readonly keyStore: BranchKeySource
  readonly ttlSeconds: number
  readonly branchKeyId: string | undefined
  readonly branchKeyIdSupplier: BranchKeyIdSupplier | undefined
  readonly maxUnwrapAttempts: number
  readonly legacyContextOrder: LegacyContextOrder
  readonly #cache: BranchKeyCache
  readonly #ttlMs: number
  readonly #storeName: Uint8Array
  #partition: Uint8Array | undefined

  constructor(options: KmsHierarchicalKeyringOptions) {
    super()
    const { keyStore, ttlSeconds, branchKeyId, branchKeyIdSupplier, cache, partitionId, maxUnwrapAttempts, legacyContextOrder } = checkOptions(options, 'KmsHierarchicalKeyring', OPTIONS)
    if (
      typeof keyStore !== 'object' ||
      keyStore === null ||
      typeof keyStore.getActiveBranchKey !== 'function' ||
      typeof keyStore.getBranchKeyVersion !== 'function' ||
      typeof keyStore.logicalKeyStoreName !== 'string' ||
      keyStore.logicalKeyStoreName.length === 0
    ) {
      throw new TypeError('keyStore must be a BranchKeyStore or BranchKeySource (logicalKeyStoreName, getActiveBranchKey, getBranchKeyVersion)')
    }
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError('ttlSeconds must be a finite number of seconds > 0')
    if ((branchKeyId === undefined) === (branchKeyIdSupplier === undefined)) throw new TypeError('give exactly one of branchKeyId and branchKeyIdSupplier')
    if (branchKeyId !== undefined && (typeof branchKeyId !== 'string' || branchKeyId.length === 0)) throw new TypeError('branchKeyId must be a non-empty string')
    if (branchKeyIdSupplier !== undefined && typeof branchKeyIdSupplier !== 'function') throw new TypeError('branchKeyIdSupplier must be a function (encryptionContext) => string | Promise<string>')
    if (partitionId !== undefined && (typeof partitionId !== 'string' || partitionId.length === 0)) throw new TypeError('partitionId must be a non-empty string')
    if (cache !== undefined && typeof cache !== 'number' && !(cache instanceof BranchKeyCache)) throw new TypeError('cache must be a capacity (number) or a BranchKeyCache')
    this.keyStore = keyStore
    this.ttlSeconds = ttlSeconds
    this.branchKeyId = branchKeyId
    this.branchKeyIdSupplier = branchKeyIdSupplier
    this.maxUnwrapAttempts = checkMaxUnwrapAttempts(maxUnwrapAttempts)
    this.legacyContextOrder = checkLegacyContextOrder(legacyContextOrder)
    this.#cache = cache instanceof BranchKeyCache ? cache : new BranchKeyCache({ capacity: cache })
    this.#ttlMs = ttlSeconds * 1000
    this.#storeName = utf8Encode(keyStore.logicalKeyStoreName)
    if (partitionId !== undefined) this.#partition = utf8Encode(partitionId)
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    const branchKeyId = await this.#branchKeyIdFor(materials.encryptionContext)
    const id = utf8Encode(branchKeyId)
    const cacheId = this.#cacheId(backend, ENCRYPT_SCOPE, id)
    const load = () => this.#fromStore(() => this.keyStore.getActiveBranchKey(branchKeyId), `the active version of branch key ${quoted(branchKeyId)}`)
    for (let tries = 1; ; tries++) {
      // Load and check errors are already typed (#fromStore, checkMaterials).
      const entry = await this.#cache.get(cacheId, this.#ttlMs, load, (m) => checkMaterials(m, branchKeyId, undefined))
      if (entry.wiped) {
        if (tries < LOAD_TRIES) continue
        throw new KeyringError('the branch key cache evicted the branch key before it could be used: give it a larger capacity')
      }
      // Synchronous from here to the end, so the entry cannot be wiped under us.
      const { branchKey, branchKeyVersion } = entry.materials
      let result = materials
      if (!result.plaintextDataKey) result = withEncryptionDataKey(result, newDataKey(backend, result.suite.keyLength))
      const ciphertext = wrapDataKey(backend, branchKey, id, versionBytes(branchKeyVersion)!, encryptAad(result.encryptionContext, this.legacyContextOrder), result.plaintextDataKey!)
      return withEncryptedDataKey(result, { providerId: HIERARCHY_PROVIDER_ID, providerInfo: id, ciphertext })
    }
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], { backend }: KeyringServices): Promise<DecryptionMaterials> {
    if (materials.plaintextDataKey) throw new KeyringError('the decryption materials already have a data key')
    const branchKeyId = await this.#branchKeyIdFor(materials.encryptionContext)
    const id = utf8Encode(branchKeyId)
    const log = new AttemptLog('KmsHierarchicalKeyring')
    const aads = new DecryptAads(materials.encryptionContext, this.legacyContextOrder)
    const contexts = function* () {
      yield aads.canonical
      yield* aads.legacy
    }
    const expectedLength = wrappedLength(materials.suite.keyLength)
    let attempts = 0
    for (const edk of edks) {
      if (log.otherNamespace(edk, HIERARCHY_PROVIDER_ID)) continue
      if (!equalBytes(edk.providerInfo, id)) {
        log.skip(edk, `not branch key ${quoted(branchKeyId)}`)
        continue
      }
      const ct = edk.ciphertext
      if (ct.length !== expectedLength) {
        log.record(edk, `wrapped key is ${ct.length} bytes, expected ${expectedLength}`)
        continue
      }
      if (attempts === this.maxUnwrapAttempts) {
        log.record(edk, attemptLimitReason(attempts))
        continue
      }
      attempts++
      const version = versionString(versionOf(ct))
      const cacheId = this.#cacheId(backend, DECRYPT_SCOPE, id, version)
      const load = () => this.#fromStore(() => this.keyStore.getBranchKeyVersion(branchKeyId, version), `version ${version} of branch key ${quoted(branchKeyId)}`)
      let dataKey: Uint8Array | undefined
      try {
        for (let tries = 1; ; tries++) {
          const entry = await this.#cache.get(cacheId, this.#ttlMs, load, (m) => checkMaterials(m, branchKeyId, version))
          if (!entry.wiped) {
            dataKey = unwrapDataKey(backend, entry.materials.branchKey, id, ct, contexts())
            break
          }
          if (tries === LOAD_TRIES) throw new KeyringError('the branch key cache evicted the branch key before it could be used: give it a larger capacity')
        }
      } catch (e) {
        log.record(edk, `could not get version ${version}: ${e instanceof Error ? e.message : String(e)}`, e)
        continue
      }
      if (!dataKey) {
        log.record(edk, `unwrap failed with version ${version}: altered key or different encryption context`)
        continue
      }
      return withDecryptionDataKey(materials, dataKey)
    }
    throw log.error()
  }

  async #branchKeyIdFor(context: EncryptionContext): Promise<string> {
    if (this.branchKeyId !== undefined) return this.branchKeyId
    let id: unknown
    try {
      id = await this.branchKeyIdSupplier!(context)
    } catch (e) {
      throw new KeyringError('branchKeyIdSupplier failed', { cause: e })
    }
    if (typeof id !== 'string' || id.length === 0) throw new KeyringError('branchKeyIdSupplier returned no branch key id (it must return a non-empty string)')
    return id
  }

  /** Key store errors keep their type when typed; anything else becomes a KeyringError with the original as cause. */
  async #fromStore(call: () => Promise<BranchKeyMaterials>, what: string): Promise<BranchKeyMaterials> {
    try {
      return await call()
    } catch (e) {
      if (e instanceof EnvelopeError) throw e
      throw new KeyringError(`the key store could not return ${what}`, { cause: e })
    }
  }

  /** SHA-384 over resource ‖ 00 ‖ scope ‖ 00 ‖ partition ‖ 00 ‖ store name ‖ 00 ‖ branch key id [‖ 00 ‖ version], in hex. */
  #cacheId(backend: CryptoBackend, scope: number, branchKeyId: Uint8Array, version?: string): string {
    // The default partition: 16 random bytes per keyring, as the spec's fresh UUID (drawn on first use, from the backend).
    this.#partition ??= backend.randomBytes(16)
    const parts = [new Uint8Array([RESOURCE_ID, 0, scope, 0]), this.#partition, new Uint8Array([0]), this.#storeName, new Uint8Array([0]), branchKeyId]
    if (version !== undefined) parts.push(new Uint8Array([0]), utf8Encode(version))
    return hex(backend.digest('sha384', concatBytes(parts)))
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return [
      'KmsHierarchicalKeyring',
      { branchKeyId: this.branchKeyId ?? '(supplier)', logicalKeyStoreName: this.keyStore.logicalKeyStoreName, ttlSeconds: this.ttlSeconds },
    ]
  }
}

/** What a key store returned is a 32-byte key of the asked-for branch key (and version, on decrypt) before it is cached or used. */
function checkMaterials(m: BranchKeyMaterials, branchKeyId: string, version: string | undefined): void {
  if (typeof m !== 'object' || m === null) throw new KeyringError('the key store returned no branch key materials')
  if (m.branchKeyId !== branchKeyId) throw new KeyringError(`the key store returned branch key ${quoted(String(m.branchKeyId))} when asked for ${quoted(branchKeyId)}`)
  if (!(m.branchKey instanceof Uint8Array) || m.branchKey.length !== BRANCH_KEY_LENGTH) throw new KeyringError(`the key store returned a branch key that is not ${BRANCH_KEY_LENGTH} bytes`)
  if (!versionBytes(m.branchKeyVersion)) throw new KeyringError('the key store returned a branch key version that is not a UUID')
  if (version !== undefined && m.branchKeyVersion.toLowerCase() !== version) {
    throw new KeyringError(`the key store returned version ${quoted(m.branchKeyVersion)} when asked for ${version}`)
  }
}
