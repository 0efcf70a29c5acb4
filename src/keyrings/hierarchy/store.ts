/**
 * The branch key store (spec/hierarchy.md#branch-key-store): branch keys in a
 * DynamoDB table, each item's key encrypted by AWS KMS under an encryption
 * context made of the item's own attributes, so any edit to an item makes KMS
 * refuse it. Items, KMS calls and conditional writes are those of the AWS
 * specification (branch-key-store.md v0.9.0), so the MPL and the JS ESDK read
 * what this store writes, and the other way round.
 */
import { randomUuid } from '../../crypto/uuid.js'
import { KeyStoreError, UnsupportedError } from '../../errors.js'
import { checkOptions, type OptionKind } from '../../options.js'
import { kmsError, loadKmsSdk, type KmsClientLike } from '../kms/client.js'
import { parseKeyArn } from '../kms/arn.js'
import type { BranchKeyMaterials, BranchKeySource } from './branch-key.js'
import { ddbError, describeSdkError, loadDdbSdk, type DdbClientLike } from './ddb-client.js'

export interface BranchKeyStoreOptions {
  /** The DynamoDB table holding the branch keys. */
  readonly tableName: string
  /** Bound into every branch key's KMS encryption context (as `tablename`); default `tableName`. */
  readonly logicalKeyStoreName?: string
  /** The KMS key ARN that protects the branch keys; items naming another key are refused. */
  readonly kmsKeyArn: string
  /** A DynamoDBClient (or anything with its `send`); default one for the KMS key's region, made on first use. */
  readonly ddbClient?: DdbClientLike
  /** A KMSClient (or anything with its `send`); default one for the KMS key's region, made on first use. */
  readonly kmsClient?: KmsClientLike
  readonly grantTokens?: readonly string[]
}

export interface CreateBranchKeyInput {
  /** Default: a random UUID. A chosen id needs a non-empty `encryptionContext` (specification rule). */
  readonly branchKeyId?: string
  /** Stored on every item as `aws-crypto-ec:<key>` and bound into its KMS encryption context. */
  readonly encryptionContext?: Readonly<Record<string, string>>
}

export interface BeaconKeyMaterials {
  readonly beaconKeyId: string
  /** 32 bytes; the caller owns it. */
  readonly beaconKey: Uint8Array
  readonly encryptionContext: Readonly<Record<string, string>>
}

export interface KeyStoreInfo {
  readonly tableName: string
  readonly logicalKeyStoreName: string
  readonly kmsKeyArn: string
  readonly grantTokens: readonly string[]
}

const OPTIONS = { tableName: 'string', logicalKeyStoreName: 'string', kmsKeyArn: 'string', ddbClient: 'object', kmsClient: 'object', grantTokens: 'array' } as const satisfies Record<string, OptionKind>
const CREATE_KEYS = new Set(['branchKeyId', 'encryptionContext'])

// Item attribute names and type values (spec/hierarchy.md#items).
const ID = 'branch-key-id'
const TYPE = 'type'
const CREATE_TIME = 'create-time'
const KMS_ARN = 'kms-arn'
const HIERARCHY_VERSION = 'hierarchy-version'
const ENC = 'enc'
const VERSION = 'version'
const TABLENAME = 'tablename'
const CUSTOM_PREFIX = 'aws-crypto-ec:'
const ACTIVE = 'branch:ACTIVE'
const BEACON = 'beacon:ACTIVE'
const VERSION_PREFIX = 'branch:version:'
const KEY_BYTES = 32
const KMS_USER_AGENT = 'aws-kms-hierarchy'
/** How long createTable waits for a new table to become ACTIVE, and how often it looks. */
const TABLE_WAIT_POLLS = 240
const TABLE_WAIT_MS = 500

type AttributeValue = { S?: string; N?: string; B?: Uint8Array } & Record<string, unknown>
type Item = Record<string, AttributeValue>

/** A validated item: its ciphertext and the KMS encryption context made from its other attributes. */
interface BranchKeyItem {
  readonly branchKeyId: string
  readonly type: string
  readonly kmsArn: string
  readonly enc: Uint8Array
  readonly context: Record<string, string>
  /** For ACTIVE items, the version UUID; for version items, theirs. */
  readonly version: string | undefined
}

/** ISO-8601 UTC with microseconds, as the MPL and the JS ESDK write it. */
function createTime(): string {
  return new Date().toISOString().replace('Z', '000Z')
}

function nonEmptyString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`)
  return value
}

/**
 * Branch keys in a DynamoDB table, each protected by one AWS KMS key (spec/hierarchy.md#branch-key-store),
 * in the items the other ESDKs read and write. `@aws-sdk/client-dynamodb` and `@aws-sdk/client-kms`
 * are loaded on first use unless clients are given. Its methods throw KeyStoreError, whose code says
 * what failed: ERR_BRANCH_KEY_NOT_FOUND, ERR_BRANCH_KEY_VERSION_NOT_FOUND, ERR_BRANCH_KEY_INVALID,
 * ERR_KEY_STORE_KMS_KEY, ERR_KEY_STORE_CONFLICT, ERR_KEY_STORE_THROTTLED or ERR_KEY_STORE.
 * @example
 * ```ts
 * const keyStore = new BranchKeyStore({ tableName: 'BranchKeys', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:key/…' })
 * await keyStore.createTable() // once; does nothing if the table exists
 * const { branchKeyId } = await keyStore.createKey()
 * await keyStore.versionKey({ branchKeyId }) // rotation
 * ```
 * @throws {TypeError} bad options: not an object, an unknown key, a wrong type, an empty name, a
 * kmsKeyArn that is not a key ARN, a client without send(), grantTokens that are not strings.
 */
export class BranchKeyStore implements BranchKeySource {
  readonly tableName: string
  readonly logicalKeyStoreName: string
  readonly kmsKeyArn: string
  readonly grantTokens: readonly string[]
  readonly #region: string
  readonly #ddbGiven: DdbClientLike | undefined
  readonly #kmsGiven: KmsClientLike | undefined
  #ddb: Promise<DdbClientLike> | undefined
  #kms: Promise<KmsClientLike> | undefined

  constructor(options: BranchKeyStoreOptions) {
    checkOptions(options, 'BranchKeyStore', OPTIONS)
    this.tableName = nonEmptyString(options.tableName, 'tableName')
    this.logicalKeyStoreName = nonEmptyString(options.logicalKeyStoreName ?? options.tableName, 'logicalKeyStoreName')
    // A key ARN, not an alias: the ARN is stored in every item and compared on every read.
    const arn = parseKeyArn(nonEmptyString(options.kmsKeyArn, 'kmsKeyArn'))
    if (!arn) throw new TypeError(`kmsKeyArn ${JSON.stringify(options.kmsKeyArn)} must be a KMS key ARN (arn:…:kms:region:account:key/id)`)
    this.kmsKeyArn = options.kmsKeyArn
    this.#region = arn.region
    for (const name of ['ddbClient', 'kmsClient'] as const) {
      const client = options[name]
      if (client !== undefined && typeof (client as { send?: unknown })?.send !== 'function') throw new TypeError(`${name} must have a send() method`)
    }
    this.#ddbGiven = options.ddbClient
    this.#kmsGiven = options.kmsClient
    const tokens = options.grantTokens ?? []
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) throw new TypeError('grantTokens must be an array of strings')
    this.grantTokens = Object.freeze([...tokens])
  }

  /** The store's configuration, as the other ESDKs' GetKeyStoreInfo reports it. */
  getKeyStoreInfo(): KeyStoreInfo {
    return { tableName: this.tableName, logicalKeyStoreName: this.logicalKeyStoreName, kmsKeyArn: this.kmsKeyArn, grantTokens: this.grantTokens }
  }

  /** Creates the table (key schema `branch-key-id` HASH, `type` RANGE, on demand) unless it exists; returns its ARN. */
  async createTable(): Promise<{ tableArn: string | undefined }> {
    const described = await this.#describeTable()
    if (described) return { tableArn: this.#checkTable(described) }
    try {
      await this.#ddbSend('CreateTable', `creating table ${this.tableName}`, {
        TableName: this.tableName,
        KeySchema: [
          { AttributeName: ID, KeyType: 'HASH' },
          { AttributeName: TYPE, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: ID, AttributeType: 'S' },
          { AttributeName: TYPE, AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      })
    } catch (e) {
      // Another process created it meanwhile: the schema check below decides.
      if (!(e instanceof KeyStoreError && /ResourceInUseException/.test(e.message))) throw e
    }
    for (let poll = 0; poll < TABLE_WAIT_POLLS; poll++) {
      const table = await this.#describeTable()
      if (table?.TableStatus === 'ACTIVE') return { tableArn: this.#checkTable(table) }
      await new Promise((r) => setTimeout(r, TABLE_WAIT_MS))
    }
    throw new KeyStoreError('ERR_KEY_STORE', `table ${this.tableName} did not become ACTIVE`, { retryable: true })
  }

  /** Creates a branch key: its first version, the ACTIVE item and the beacon key, all or none. */
  async createKey(input: CreateBranchKeyInput = {}): Promise<{ branchKeyId: string }> {
    if (typeof input !== 'object' || input === null) throw new TypeError('createKey input must be an object')
    const unknown = Object.keys(input).filter((k) => !CREATE_KEYS.has(k))
    if (unknown.length > 0) throw new TypeError(`unknown createKey option ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)
    const custom = input.encryptionContext ?? {}
    if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) throw new TypeError('encryptionContext must be an object of strings')
    const entries = Object.entries(custom)
    for (const [k, v] of entries) {
      if (k.length === 0 || typeof v !== 'string') throw new TypeError('encryptionContext must map non-empty keys to strings')
    }
    if (input.branchKeyId !== undefined && entries.length === 0) {
      throw new TypeError('createKey with a chosen branchKeyId needs a non-empty encryptionContext')
    }
    const branchKeyId = input.branchKeyId === undefined ? randomUuid() : nonEmptyString(input.branchKeyId, 'branchKeyId')
    const base: Record<string, string> = { [ID]: branchKeyId, [CREATE_TIME]: createTime(), [KMS_ARN]: this.kmsKeyArn, [HIERARCHY_VERSION]: '1' }
    for (const [k, v] of entries) base[CUSTOM_PREFIX + k] = v
    const ids = { branchKeyId }
    const version = randomUuid()
    const [versionItem, activeItem] = await this.#newVersion(base, version, ids)
    const beaconContext = { ...base, [TYPE]: BEACON }
    const beacon = await this.#kmsSend<{ CiphertextBlob: Uint8Array }>('GenerateDataKeyWithoutPlaintext', ids, {
      KeyId: this.kmsKeyArn,
      NumberOfBytes: KEY_BYTES,
      EncryptionContext: this.#kmsContext(beaconContext),
      GrantTokens: [...this.grantTokens],
    })
    await this.#transact(`creating branch key ${branchKeyId}`, ids, [
      this.#put(versionItem, 'attribute_not_exists(#bkid)'),
      this.#put(activeItem, 'attribute_not_exists(#bkid)'),
      this.#put(this.#toItem(beaconContext, beacon.CiphertextBlob), 'attribute_not_exists(#bkid)'),
    ])
    return { branchKeyId }
  }

  /**
   * Rotates a branch key: a new version becomes ACTIVE; older versions stay readable.
   * The write succeeds only if ACTIVE still holds what was read, so of two concurrent
   * rotations one wins and the other fails with ERR_KEY_STORE_CONFLICT.
   */
  async versionKey(input: { readonly branchKeyId: string }): Promise<void> {
    if (typeof input !== 'object' || input === null) throw new TypeError('versionKey input must be an object')
    const unknown = Object.keys(input).filter((k) => k !== 'branchKeyId')
    if (unknown.length > 0) throw new TypeError(`unknown versionKey option ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)
    const branchKeyId = nonEmptyString(input.branchKeyId, 'branchKeyId')
    const ids = { branchKeyId }
    const old = await this.#read(branchKeyId, ACTIVE, undefined, true)
    // Authenticate the ACTIVE item before copying its attributes into the new version.
    await this.#kmsSend('ReEncrypt', ids, {
      SourceKeyId: this.kmsKeyArn,
      SourceEncryptionContext: old.context,
      CiphertextBlob: old.enc,
      DestinationKeyId: this.kmsKeyArn,
      DestinationEncryptionContext: old.context,
      GrantTokens: [...this.grantTokens],
    })
    const base: Record<string, string> = { [ID]: branchKeyId, [CREATE_TIME]: createTime(), [KMS_ARN]: this.kmsKeyArn, [HIERARCHY_VERSION]: '1' }
    for (const [k, v] of Object.entries(old.context)) if (k.startsWith(CUSTOM_PREFIX)) base[k] = v
    const [versionItem, activeItem] = await this.#newVersion(base, randomUuid(), ids)
    await this.#transact(`rotating branch key ${branchKeyId}`, ids, [
      this.#put(versionItem, 'attribute_not_exists(#bkid)'),
      {
        Put: {
          TableName: this.tableName,
          Item: activeItem,
          ConditionExpression: 'attribute_exists(#bkid) AND #enc = :encOld',
          ExpressionAttributeNames: { '#bkid': ID, '#enc': ENC },
          ExpressionAttributeValues: { ':encOld': { B: old.enc } },
        },
      },
    ])
  }

  /** The ACTIVE version of a branch key, its key decrypted by KMS; the caller owns the key bytes. */
  async getActiveBranchKey(branchKeyId: string): Promise<BranchKeyMaterials> {
    nonEmptyString(branchKeyId, 'branchKeyId')
    const item = await this.#read(branchKeyId, ACTIVE, undefined, false)
    return this.#materials(item, await this.#decrypt(item))
  }

  /** One version of a branch key (its UUID), its key decrypted by KMS; the caller owns the key bytes. */
  async getBranchKeyVersion(branchKeyId: string, branchKeyVersion: string): Promise<BranchKeyMaterials> {
    nonEmptyString(branchKeyId, 'branchKeyId')
    nonEmptyString(branchKeyVersion, 'branchKeyVersion')
    const item = await this.#read(branchKeyId, VERSION_PREFIX + branchKeyVersion, branchKeyVersion, false)
    return this.#materials(item, await this.#decrypt(item))
  }

  /** The beacon key made with a branch key (for searchable encryption), decrypted by KMS; the caller owns the key bytes. */
  async getBeaconKey(branchKeyId: string): Promise<BeaconKeyMaterials> {
    nonEmptyString(branchKeyId, 'branchKeyId')
    const item = await this.#read(branchKeyId, BEACON, undefined, false)
    const key = await this.#decrypt(item)
    return Object.freeze({ beaconKeyId: item.branchKeyId, beaconKey: key, encryptionContext: customContext(item.context) })
  }

  #materials(item: BranchKeyItem, key: Uint8Array): BranchKeyMaterials {
    return Object.freeze({ branchKeyId: item.branchKeyId, branchKeyVersion: item.version!, branchKey: key, encryptionContext: customContext(item.context) })
  }

  /** The version item and the ACTIVE item of a new version, their keys made by KMS (GenerateDataKeyWithoutPlaintext, ReEncrypt). */
  async #newVersion(base: Record<string, string>, version: string, ids: { branchKeyId: string }): Promise<[Item, Item]> {
    const versionContext = { ...base, [TYPE]: VERSION_PREFIX + version }
    const activeContext = { ...base, [TYPE]: ACTIVE, [VERSION]: VERSION_PREFIX + version }
    const generated = await this.#kmsSend<{ CiphertextBlob: Uint8Array }>('GenerateDataKeyWithoutPlaintext', ids, {
      KeyId: this.kmsKeyArn,
      NumberOfBytes: KEY_BYTES,
      EncryptionContext: this.#kmsContext(versionContext),
      GrantTokens: [...this.grantTokens],
    })
    const reencrypted = await this.#kmsSend<{ CiphertextBlob: Uint8Array }>('ReEncrypt', ids, {
      SourceKeyId: this.kmsKeyArn,
      SourceEncryptionContext: this.#kmsContext(versionContext),
      CiphertextBlob: generated.CiphertextBlob,
      DestinationKeyId: this.kmsKeyArn,
      DestinationEncryptionContext: this.#kmsContext(activeContext),
      GrantTokens: [...this.grantTokens],
    })
    return [this.#toItem(versionContext, generated.CiphertextBlob), this.#toItem(activeContext, reencrypted.CiphertextBlob)]
  }

  /** The KMS encryption context of an item's attributes: they plus `tablename`. */
  #kmsContext(attributes: Record<string, string>): Record<string, string> {
    return { ...attributes, [TABLENAME]: this.logicalKeyStoreName }
  }

  #toItem(attributes: Record<string, string>, enc: Uint8Array): Item {
    const item: Item = {}
    for (const [k, v] of Object.entries(attributes)) item[k] = k === HIERARCHY_VERSION ? { N: v } : { S: v }
    item[ENC] = { B: enc }
    return item
  }

  #put(item: Item, condition: string) {
    return { Put: { TableName: this.tableName, Item: item, ConditionExpression: condition, ExpressionAttributeNames: { '#bkid': ID } } }
  }

  async #transact(what: string, ids: { branchKeyId: string }, items: unknown[]): Promise<void> {
    await this.#ddbSend('TransactWriteItems', what, { TransactItems: items }, ids)
  }

  /** Reads and validates one item; `version` is the version a version item must carry. */
  async #read(branchKeyId: string, type: string, version: string | undefined, consistent: boolean): Promise<BranchKeyItem> {
    const ids = { branchKeyId, ...(version === undefined ? {} : { branchKeyVersion: version }) }
    const what = `${type === ACTIVE ? 'the ACTIVE item of' : type === BEACON ? 'the beacon key of' : `version ${version} of`} branch key ${branchKeyId}`
    const out = await this.#ddbSend<{ Item?: Item }>(
      'GetItem',
      `reading ${what}`,
      { TableName: this.tableName, Key: { [ID]: { S: branchKeyId }, [TYPE]: { S: type } }, ...(consistent ? { ConsistentRead: true } : {}) },
      ids,
    )
    if (!out?.Item) {
      if (version !== undefined) throw new KeyStoreError('ERR_BRANCH_KEY_VERSION_NOT_FOUND', `${what} is not in table ${this.tableName}`, ids)
      throw new KeyStoreError('ERR_BRANCH_KEY_NOT_FOUND', `${what} is not in table ${this.tableName}`, ids)
    }
    const item = this.#validate(out.Item, what, ids)
    if (item.branchKeyId !== branchKeyId || item.type !== type) throw invalid(`${what}: the item names another branch key or type`, ids)
    if (item.kmsArn !== this.kmsKeyArn) {
      throw new KeyStoreError('ERR_KEY_STORE_KMS_KEY', `${what} is protected by ${item.kmsArn}, not this store's ${this.kmsKeyArn}`, ids)
    }
    return item
  }

  /** Checks an item's attributes (spec/hierarchy.md#items) and builds its KMS encryption context. */
  #validate(raw: Item, what: string, ids: { branchKeyId: string }): BranchKeyItem {
    const string = (name: string): string => {
      const v = raw[name]?.S
      if (typeof v !== 'string') throw invalid(`${what}: ${name} is missing or not a string`, ids)
      return v
    }
    const branchKeyId = string(ID)
    const type = string(TYPE)
    const kmsArn = string(KMS_ARN)
    string(CREATE_TIME)
    const hv = raw[HIERARCHY_VERSION]?.N
    if (typeof hv !== 'string') throw invalid(`${what}: ${HIERARCHY_VERSION} is missing or not a number`, ids)
    if (hv !== '1') throw new UnsupportedError(`${what} has hierarchy-version ${hv}; this version of envelope-sdk reads only hierarchy-version 1`)
    const enc = raw[ENC]?.B
    if (!(enc instanceof Uint8Array) || enc.length === 0) throw invalid(`${what}: ${ENC} is missing or not binary`, ids)
    let version: string | undefined
    if (type === ACTIVE) {
      const v = string(VERSION)
      if (!v.startsWith(VERSION_PREFIX) || v.length === VERSION_PREFIX.length) throw invalid(`${what}: version is not branch:version:<uuid>`, ids)
      version = v.slice(VERSION_PREFIX.length)
    } else if (type.startsWith(VERSION_PREFIX) && type.length > VERSION_PREFIX.length) {
      version = type.slice(VERSION_PREFIX.length)
    } else if (type !== BEACON) {
      throw invalid(`${what}: type is none of branch:ACTIVE, beacon:ACTIVE, branch:version:<uuid>`, ids)
    }
    const context: Record<string, string> = {}
    for (const [name, value] of Object.entries(raw)) {
      if (name === ENC) continue
      const text = value?.S ?? value?.N
      if (typeof text !== 'string') throw invalid(`${what}: attribute ${name} is neither a string nor a number`, ids)
      context[name] = text
    }
    context[TABLENAME] = this.logicalKeyStoreName
    return { branchKeyId, type, kmsArn, enc, context, version }
  }

  /** KMS Decrypt of an item's key under the context of its own attributes: an edited item fails here. */
  async #decrypt(item: BranchKeyItem): Promise<Uint8Array> {
    const ids = { branchKeyId: item.branchKeyId, ...(item.version === undefined ? {} : { branchKeyVersion: item.version }) }
    const out = await this.#kmsSend<{ Plaintext?: Uint8Array }>('Decrypt', ids, {
      KeyId: this.kmsKeyArn,
      CiphertextBlob: item.enc,
      EncryptionContext: item.context,
      GrantTokens: [...this.grantTokens],
    })
    const key = out?.Plaintext
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
      if (key instanceof Uint8Array) key.fill(0)
      throw invalid(`KMS returned no ${KEY_BYTES}-byte key for branch key ${item.branchKeyId}`, ids)
    }
    return key
  }

  async #describeTable(): Promise<{ TableStatus?: string; TableArn?: string; KeySchema?: unknown; AttributeDefinitions?: unknown } | undefined> {
    try {
      const out = await this.#ddbSend<{ Table?: any }>('DescribeTable', `describing table ${this.tableName}`, { TableName: this.tableName })
      return out?.Table
    } catch (e) {
      if (e instanceof KeyStoreError && (e.cause as Error | undefined)?.name === 'ResourceNotFoundException') return undefined
      throw e
    }
  }

  /** A table serves as a key store if its key schema includes ours (a superset is accepted). */
  #checkTable(table: { TableArn?: string; KeySchema?: unknown; AttributeDefinitions?: unknown }): string | undefined {
    const schema = Array.isArray(table.KeySchema) ? table.KeySchema : []
    const defs = Array.isArray(table.AttributeDefinitions) ? table.AttributeDefinitions : []
    const has = (name: string, keyType: string) =>
      schema.some((k: any) => k?.AttributeName === name && k?.KeyType === keyType) && defs.some((d: any) => d?.AttributeName === name && d?.AttributeType === 'S')
    if (!has(ID, 'HASH') || !has(TYPE, 'RANGE')) {
      throw new KeyStoreError('ERR_KEY_STORE', `table ${this.tableName} exists but its key schema is not branch-key-id (HASH, S), type (RANGE, S)`)
    }
    return table.TableArn
  }

  #ddbClient(): Promise<DdbClientLike> {
    this.#ddb ??= this.#ddbGiven
      ? Promise.resolve(this.#ddbGiven)
      : loadDdbSdk().then(({ DynamoDBClient }) => new DynamoDBClient({ region: this.#region }))
    return this.#ddb
  }

  #kmsClient(): Promise<KmsClientLike> {
    this.#kms ??= this.#kmsGiven
      ? Promise.resolve(this.#kmsGiven)
      : loadKmsSdk().then(({ KMSClient }) => new KMSClient({ region: this.#region, customUserAgent: KMS_USER_AGENT }))
    return this.#kms
  }

  async #ddbSend<T>(operation: string, what: string, input: object, ids: { branchKeyId?: string; branchKeyVersion?: string } = {}): Promise<T> {
    try {
      const [module, client] = await Promise.all([loadDdbSdk(), this.#ddbClient()])
      const Command = (module as unknown as Record<string, new (input: object) => unknown>)[`${operation}Command`]!
      return (await client.send(new Command(input))) as T
    } catch (cause) {
      throw ddbError(what, cause, ids)
    }
  }

  async #kmsSend<T>(operation: 'Decrypt' | 'ReEncrypt' | 'GenerateDataKeyWithoutPlaintext', ids: { branchKeyId: string; branchKeyVersion?: string }, input: object): Promise<T> {
    try {
      const [module, client] = await Promise.all([loadKmsSdk(), this.#kmsClient()])
      const Command = (module as unknown as Record<string, new (input: object) => unknown>)[`${operation}Command`]!
      return (await client.send(new Command(input))) as T
    } catch (cause) {
      if (cause instanceof UnsupportedError) throw cause
      const { name, throttled } = describeSdkError(cause)
      const error = kmsError(this.kmsKeyArn, cause)
      // KMS refuses a ciphertext whose context differs from the one it was made under: the item was altered.
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw invalid(`KMS ${operation} refused branch key ${ids.branchKeyId}: its item was altered or was not written under this logical key store (${this.logicalKeyStoreName})`, ids, error)
      }
      if (throttled) {
        throw new KeyStoreError('ERR_KEY_STORE_THROTTLED', `KMS ${name} during ${operation} for branch key ${ids.branchKeyId}`, { ...ids, retryable: true, cause: error })
      }
      throw error
    }
  }
}

function invalid(message: string, ids: { branchKeyId?: string; branchKeyVersion?: string }, cause?: unknown): KeyStoreError {
  return new KeyStoreError('ERR_BRANCH_KEY_INVALID', message, { ...ids, ...(cause === undefined ? {} : { cause }) })
}

/** The `aws-crypto-ec:` attributes of an item's context, without the prefix. */
function customContext(context: Record<string, string>): Readonly<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(context)) if (k.startsWith(CUSTOM_PREFIX)) out[k.slice(CUSTOM_PREFIX.length)] = v
  return Object.freeze(out)
}
