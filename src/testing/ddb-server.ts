/**
 * A DynamoDB-compatible server for offline development and tests
 * (spec/hierarchy.md#local-dynamodb-server). It speaks the DynamoDB JSON 1.0
 * protocol over HTTP on loopback for what the branch key store needs:
 * CreateTable, DescribeTable, GetItem, PutItem, DeleteItem, Query and TransactWriteItems,
 * with condition expressions (attribute_exists, attribute_not_exists, =, <>,
 * AND, OR, NOT, parentheses). The real @aws-sdk/client-dynamodb talks to it
 * unchanged when pointed at its endpoint; signatures are not verified.
 * Tables live in memory, optionally persisted to a file. Never for real data.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { hostName, listenOnLoopback, readBoundedBody, serverLimits, writeAtomically } from './loopback.js'

export type DdbOperation = 'CreateTable' | 'DescribeTable' | 'GetItem' | 'PutItem' | 'DeleteItem' | 'Query' | 'TransactWriteItems'
const OPERATIONS = new Set<string>(['CreateTable', 'DescribeTable', 'GetItem', 'PutItem', 'DeleteItem', 'Query', 'TransactWriteItems'])

/** An attribute value in DynamoDB JSON (B values base64, N values decimal strings). */
export type DdbAttributeValue = Record<string, unknown>
export type DdbItem = Record<string, DdbAttributeValue>

export interface DdbFault {
  /** Restrict to one operation; default any. */
  readonly operation?: DdbOperation
  /** throttle: 400 ProvisionedThroughputExceededException; internal: 500 InternalServerError; latency: delay then serve. */
  readonly kind: 'throttle' | 'internal' | 'latency'
  /** How many requests it applies to; default 1. */
  times?: number
  readonly delayMs?: number
}

export interface DdbCallRecord {
  readonly operation: string
  readonly table: string | undefined
  readonly status: number
}

export interface LocalDynamoDbOptions {
  readonly host?: string
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly region?: string
  readonly account?: string
  /**
   * Load tables from this JSON file if it exists, and save them there after every write: mode 0600,
   * written to a temporary file and renamed over it. The file carries a format version; a newer
   * version of envelope-sdk reads older files.
   */
  readonly persistPath?: string
  /** Most bytes a request body may hold; larger ones get 413. Default 1 MiB (DynamoDB items are at most 400 KB). */
  readonly maxRequestBytes?: number
  /** Most milliseconds a client may take to send a whole request; a slower one gets 408. Default 10 s. */
  readonly requestTimeoutMs?: number
}

export interface LocalDynamoDb {
  readonly endpoint: string
  readonly region: string
  /** A deep copy of an item (DynamoDB JSON), or undefined. `key` holds the key attributes. */
  getItem(table: string, key: DdbItem): DdbItem | undefined
  /** Writes an item as given, with no condition: for tests that tamper with a table. */
  putItem(table: string, item: DdbItem): void
  /** Every item of a table, in key order (deep copies). */
  items(table: string): DdbItem[]
  /** Makes the next matching requests fail (or wait), as DynamoDB throttling or errors would. */
  addFault(fault: DdbFault): void
  /** Drops every fault not yet used up. */
  clearFaults(): void
  readonly calls: readonly DdbCallRecord[]
  /** How many requests were served, of one operation or table if given. */
  countCalls(filter?: { operation?: string; table?: string }): number
  /** Forgets the requests recorded so far. */
  resetCalls(): void
  /** Config for an AWS SDK v3 client pointed at this server. */
  clientConfig(): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } }
  /** Stops the server, closing open connections. */
  close(): Promise<void>
}

/** What the persisted file says it is; bump VERSION and keep reading older versions when the layout changes. */
const FILE_FORMAT = 'envelope-sdk local DynamoDB'
const FILE_VERSION = 1
const MAX_ITEM_BYTES = 400 * 1024
const MAX_TRANSACT_ITEMS = 100
const MAX_EXPRESSION_CHARS = 4096
const TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'])
const PREFIX = 'com.amazonaws.dynamodb.v20120810#'

interface KeyElement {
  AttributeName: string
  KeyType: 'HASH' | 'RANGE'
}
interface AttributeDefinition {
  AttributeName: string
  AttributeType: 'S' | 'N' | 'B'
}
interface Table {
  name: string
  keySchema: KeyElement[]
  attributeDefinitions: AttributeDefinition[]
  billingMode: string
  indexes?: { IndexName: string; KeySchema: KeyElement[]; Projection: object }[]
  created: number
  items: Map<string, DdbItem>
}

class DdbFailure extends Error {
  readonly type: string
  readonly status: number
  readonly extra: object
  constructor(type: string, message: string, status = 400, extra: object = {}) {
    super(message)
    this.type = type
    this.status = status
    this.extra = extra
  }
}

const validation = (message: string) => new DdbFailure('ValidationException', message)

/** A well-formed attribute value: one type, with a value of that type (nested for M and L). */
function checkValue(value: unknown, path: string, depth = 0): DdbAttributeValue {
  if (depth > 32) throw validation(`${path}: nesting deeper than 32 levels`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validation(`${path}: not an attribute value`)
  const keys = Object.keys(value)
  if (keys.length !== 1 || !TYPES.has(keys[0]!)) throw validation(`${path}: an attribute value must have exactly one of ${[...TYPES].join(', ')}`)
  const type = keys[0]!
  const v = (value as Record<string, unknown>)[type]
  const ok = (() => {
    switch (type) {
      case 'S':
        return typeof v === 'string'
      case 'N':
        return typeof v === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)
      case 'B':
        return typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0
      case 'BOOL':
        return typeof v === 'boolean'
      case 'NULL':
        return v === true
      case 'M':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
        for (const [k, inner] of Object.entries(v)) checkValue(inner, `${path}.${k}`, depth + 1)
        return true
      case 'L':
        if (!Array.isArray(v)) return false
        v.forEach((inner, i) => checkValue(inner, `${path}[${i}]`, depth + 1))
        return true
      default:
        return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')
    }
  })()
  if (!ok) throw validation(`${path}: invalid ${type} value`)
  return value as DdbAttributeValue
}

function checkItem(item: unknown, what: string): DdbItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw validation(`${what} must be a map of attribute values`)
  for (const [name, value] of Object.entries(item)) {
    if (name.length === 0) throw validation(`${what}: an attribute name is empty`)
    checkValue(value, `${what}.${name}`)
  }
  if (JSON.stringify(item).length > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size')
  return item as DdbItem
}

/** Equality of two attribute values: same type, same value (B compared as bytes, N as numbers). */
function equal(a: DdbAttributeValue | undefined, b: DdbAttributeValue | undefined): boolean {
  if (!a || !b) return false
  const [ta] = Object.keys(a)
  const [tb] = Object.keys(b)
  if (ta !== tb) return false
  if (ta === 'B') return Buffer.from(a.B as string, 'base64').equals(Buffer.from(b.B as string, 'base64'))
  if (ta === 'N') return Number(a.N) === Number(b.N)
  return JSON.stringify(a) === JSON.stringify(b)
}

/** An item's own attribute (never one inherited from Object.prototype, such as `__proto__`). */
function attribute(item: DdbItem | undefined, name: string): DdbAttributeValue | undefined {
  return item !== undefined && Object.hasOwn(item, name) ? item[name] : undefined
}

// ---- condition expressions ----------------------------------------------------------------------

type Token = { kind: 'name' | 'value' | 'word' | 'op' | '(' | ')' | ','; text: string }

function tokenize(expression: string): Token[] {
  if (expression.length > MAX_EXPRESSION_CHARS) throw validation(`expression longer than ${MAX_EXPRESSION_CHARS} characters`)
  const tokens: Token[] = []
  const pattern = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>)|(\()|(\))|(,))/y
  let at = 0
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break
    pattern.lastIndex = at
    const m = pattern.exec(expression)
    if (!m) throw validation(`Invalid expression: syntax error near ${JSON.stringify(expression.slice(at, at + 20))}`)
    at = pattern.lastIndex
    if (m[1]) tokens.push({ kind: 'name', text: m[1] })
    else if (m[2]) tokens.push({ kind: 'value', text: m[2] })
    else if (m[3]) tokens.push({ kind: 'word', text: m[3] })
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] })
    else if (m[5]) tokens.push({ kind: '(', text: '(' })
    else if (m[6]) tokens.push({ kind: ')', text: ')' })
    else tokens.push({ kind: ',', text: ',' })
  }
  return tokens
}

/** A parsed condition, evaluated against an item (undefined when the item does not exist). */
type Condition = (item: DdbItem | undefined) => boolean

interface Substitutions {
  readonly names: Record<string, unknown>
  readonly values: Record<string, unknown>
  readonly usedNames: Set<string>
  readonly usedValues: Set<string>
  /** Attribute names the expression reads, after substitution. */
  readonly paths: Set<string>
}

/**
 * Recursive descent over: or := and (OR and)*; and := not (AND not)*; not := NOT not | primary;
 * primary := ( or ) | fn ( path [, :v] ) | operand cmp operand.
 */
function parseCondition(expression: string, subs: Substitutions, allowed: ReadonlySet<string>): Condition {
  const tokens = tokenize(expression)
  let i = 0
  const peek = () => tokens[i]
  const keyword = (word: string) => peek()?.kind === 'word' && peek()!.text.toUpperCase() === word
  const expect = (kind: Token['kind']) => {
    const t = tokens[i++]
    if (t?.kind !== kind) throw validation(`Invalid expression: expected ${kind} in ${JSON.stringify(expression)}`)
    return t
  }
  const path = (): string => {
    const t = tokens[i++]
    if (t?.kind === 'name') {
      const name = subs.names[t.text]
      if (typeof name !== 'string') throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${t.text}`)
      subs.usedNames.add(t.text)
      subs.paths.add(name)
      return name
    }
    if (t?.kind === 'word') {
      subs.paths.add(t.text)
      return t.text
    }
    throw validation(`Invalid expression: expected an attribute name in ${JSON.stringify(expression)}`)
  }
  const operand = (): ((item: DdbItem | undefined) => DdbAttributeValue | undefined) => {
    if (peek()?.kind === 'value') {
      const t = tokens[i++]!
      const value = subs.values[t.text]
      if (value === undefined) throw validation(`An expression attribute value used in expression is not defined: ${t.text}`)
      subs.usedValues.add(t.text)
      const checked = checkValue(value, t.text)
      return () => checked
    }
    const name = path()
    return (item) => attribute(item, name)
  }
  const primary = (): Condition => {
    if (peek()?.kind === '(') {
      i++
      const inner = or()
      expect(')')
      return inner
    }
    if (peek()?.kind === 'word' && tokens[i + 1]?.kind === '(') {
      const fn = tokens[i++]!.text
      if (!allowed.has(fn)) throw validation(`Invalid expression: function ${fn} is not supported here`)
      expect('(')
      const name = path()
      let prefix: (() => DdbAttributeValue | undefined) | undefined
      if (fn === 'begins_with') {
        expect(',')
        const v = operand()
        prefix = () => v(undefined)
      }
      expect(')')
      if (fn === 'attribute_exists') return (item) => attribute(item, name) !== undefined
      if (fn === 'attribute_not_exists') return (item) => attribute(item, name) === undefined
      return (item) => {
        const a = attribute(item, name)
        const p = prefix!()
        return typeof a?.S === 'string' && typeof p?.S === 'string' && a.S.startsWith(p.S)
      }
    }
    const left = operand()
    const op = expect('op').text
    if (op !== '=' && op !== '<>') throw validation(`Invalid expression: comparator ${op} is not supported by this local server`)
    const right = operand()
    return op === '=' ? (item) => equal(left(item), right(item)) : (item) => left(item) !== undefined && !equal(left(item), right(item))
  }
  const not = (): Condition => {
    if (keyword('NOT')) {
      i++
      const inner = not()
      return (item) => !inner(item)
    }
    return primary()
  }
  const and = (): Condition => {
    let left = not()
    while (keyword('AND')) {
      i++
      const a = left
      const b = not()
      left = (item) => a(item) && b(item)
    }
    return left
  }
  const or = (): Condition => {
    let left = and()
    while (keyword('OR')) {
      i++
      const a = left
      const b = and()
      left = (item) => a(item) || b(item)
    }
    return left
  }
  const condition = or()
  if (i !== tokens.length) throw validation(`Invalid expression: unexpected ${JSON.stringify(tokens[i]!.text)}`)
  return condition
}

const CONDITION_FUNCTIONS = new Set(['attribute_exists', 'attribute_not_exists', 'begins_with'])
const KEY_CONDITION_FUNCTIONS = new Set(['begins_with'])

function substitutions(input: any): Substitutions {
  const names = input.ExpressionAttributeNames ?? {}
  const values = input.ExpressionAttributeValues ?? {}
  if (typeof names !== 'object' || names === null || typeof values !== 'object' || values === null) throw validation('ExpressionAttributeNames and ExpressionAttributeValues must be maps')
  return { names, values, usedNames: new Set(), usedValues: new Set(), paths: new Set() }
}

/** DynamoDB refuses names and values an expression does not use. */
function checkAllUsed(subs: Substitutions): void {
  const unusedNames = Object.keys(subs.names).filter((n) => !subs.usedNames.has(n))
  if (unusedNames.length > 0) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`)
  const unusedValues = Object.keys(subs.values).filter((n) => !subs.usedValues.has(n))
  if (unusedValues.length > 0) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`)
}

/** The condition of a write (always true without one), with its substitutions checked. */
function writeCondition(input: any): Condition {
  const subs = substitutions(input)
  const condition = input.ConditionExpression === undefined ? () => true : parseCondition(String(input.ConditionExpression), subs, CONDITION_FUNCTIONS)
  checkAllUsed(subs)
  return condition
}

// ---- the server ---------------------------------------------------------------------------------

/**
 * Starts a DynamoDB-compatible local server on loopback, with what BranchKeyStore uses; never for real data.
 * @example
 * ```ts
 * const ddb = await startLocalDynamoDb()
 * const kms = await startLocalKms()
 * const keyStore = new BranchKeyStore({
 *   tableName: 'BranchKeys',
 *   kmsKeyArn: kms.createKey({}),
 *   ddbClient: new DynamoDBClient(ddb.clientConfig()),
 *   kmsClient: new KMSClient(kms.clientConfig()),
 * })
 * await keyStore.createTable()
 * ```
 * @throws {RangeError} a maxRequestBytes or requestTimeoutMs that is not a positive whole number.
 * @throws {Error} the port is taken, or a persistPath file cannot be read.
 */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const region = options.region ?? 'us-west-2'
  const account = options.account ?? '111122223333'
  const { maxRequestBytes, requestTimeoutMs, servedHosts } = serverLimits(options)
  const tables = new Map<string, Table>()
  const faults: DdbFault[] = []
  const calls: DdbCallRecord[] = []
  let requests = 0

  const save = () => {
    if (!options.persistPath) return
    const data = [...tables.values()].map((t) => ({
      name: t.name,
      keySchema: t.keySchema,
      attributeDefinitions: t.attributeDefinitions,
      billingMode: t.billingMode,
      indexes: t.indexes ?? [],
      created: t.created,
      items: [...t.items.values()],
    }))
    writeAtomically(options.persistPath, JSON.stringify({ format: FILE_FORMAT, version: FILE_VERSION, tables: data }))
  }
  if (options.persistPath) {
    let text: string | undefined
    try {
      text = readFileSync(options.persistPath, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    if (text !== undefined) {
      const data = JSON.parse(text)
      if (data?.format !== FILE_FORMAT || !Number.isInteger(data.version)) throw new Error(`${options.persistPath} is not a local DynamoDB file`)
      if (data.version > FILE_VERSION) throw new Error(`${options.persistPath} was written by a newer envelope-sdk (format version ${data.version}; this one reads up to ${FILE_VERSION})`)
      for (const t of data.tables) {
        const table: Table = { ...t, items: new Map() }
        for (const item of t.items) table.items.set(keyOf(table, item), item)
        tables.set(t.name, table)
      }
    }
    // Rewritten at once: an older or hand-written file becomes private (0600) and current.
    save()
  }

  const arnOf = (name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`

  const tableOf = (input: any): Table => {
    const name = input?.TableName
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) throw validation('TableName must be 3-255 characters of [a-zA-Z0-9_.-]')
    const table = tables.get(name)
    if (!table) throw new DdbFailure('ResourceNotFoundException', 'Requested resource not found')
    return table
  }

  /** The item's primary key as a map key: its key attributes, checked against the schema. */
  function keyOf(table: Table, item: DdbItem): string {
    return JSON.stringify(
      table.keySchema.map(({ AttributeName: name }) => {
        const value = attribute(item, name)
        const type = table.attributeDefinitions.find((d) => d.AttributeName === name)!.AttributeType
        if (!value || Object.keys(value)[0] !== type) throw validation(`One or more parameter values were invalid: missing or mistyped key attribute ${name} (${type})`)
        if (type !== 'N' && (value[type] as string).length === 0) throw validation(`One or more parameter values were invalid: key attribute ${name} is empty`)
        return value[type]
      }),
    )
  }

  const keyOnly = (table: Table, key: unknown): DdbItem => {
    const checked = checkItem(key, 'Key')
    if (Object.keys(checked).length !== table.keySchema.length) throw validation('The provided key element does not match the schema')
    keyOf(table, checked)
    return checked
  }

  const describe = (t: Table) => ({
    TableName: t.name,
    TableArn: arnOf(t.name),
    TableId: t.name,
    TableStatus: 'ACTIVE',
    KeySchema: t.keySchema,
    AttributeDefinitions: t.attributeDefinitions,
    CreationDateTime: t.created / 1000,
    ItemCount: t.items.size,
    TableSizeBytes: [...t.items.values()].reduce((n, item) => n + JSON.stringify(item).length, 0),
    BillingModeSummary: { BillingMode: t.billingMode },
    ...(t.indexes?.length ? { GlobalSecondaryIndexes: t.indexes.map((index) => ({ ...index, IndexStatus: 'ACTIVE', IndexArn: `${arnOf(t.name)}/index/${index.IndexName}` })) } : {}),
    ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0, NumberOfDecreasesToday: 0 },
  })

  const copy = <T>(value: T): T => structuredClone(value)

  /** A Put of a transaction or PutItem, validated but not yet applied. */
  const preparePut = (input: any) => {
    const table = tableOf(input)
    const item = checkItem(input.Item, 'Item')
    const key = keyOf(table, item)
    return { table, key, item, condition: writeCondition(input) }
  }

  const handlers: Record<DdbOperation, (input: any) => { result: object; table?: string }> = {
    CreateTable(input) {
      const name = input?.TableName
      if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) throw validation('TableName must be 3-255 characters of [a-zA-Z0-9_.-]')
      if (tables.has(name)) throw new DdbFailure('ResourceInUseException', `Table already exists: ${name}`)
      const schema = input.KeySchema
      const defs = input.AttributeDefinitions
      if (!Array.isArray(schema) || schema.length < 1 || schema.length > 2 || schema[0]?.KeyType !== 'HASH' || (schema.length === 2 && schema[1]?.KeyType !== 'RANGE')) {
        throw validation('KeySchema must be a HASH key, optionally followed by a RANGE key')
      }
      // Global secondary indexes are kept and described (a key store table may have them), not served.
      const indexes = input.GlobalSecondaryIndexes ?? []
      if (!Array.isArray(indexes) || indexes.length > 20 || input.LocalSecondaryIndexes !== undefined) throw validation('at most 20 GlobalSecondaryIndexes; LocalSecondaryIndexes are not supported by this local server')
      const keyNames = new Set<string>()
      for (const k of [...schema, ...indexes.flatMap((index: any) => (Array.isArray(index?.KeySchema) ? index.KeySchema : [undefined]))]) {
        if (typeof k?.AttributeName !== 'string' || k.AttributeName.length === 0) throw validation('KeySchema AttributeName must be a non-empty string')
        keyNames.add(k.AttributeName)
      }
      if (!Array.isArray(defs) || defs.length !== keyNames.size) throw validation('AttributeDefinitions must define exactly the attributes of the table and index key schemas')
      for (const name of keyNames) {
        const def = defs.find((d: any) => d?.AttributeName === name)
        if (!def || !['S', 'N', 'B'].includes(def.AttributeType)) throw validation(`AttributeDefinitions must give ${name} a type of S, N or B`)
      }
      const table: Table = {
        name,
        keySchema: schema.map((k: any) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
        attributeDefinitions: defs.map((d: any) => ({ AttributeName: d.AttributeName, AttributeType: d.AttributeType })),
        billingMode: input.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
        indexes: indexes.map((index: any) => ({ IndexName: String(index.IndexName), KeySchema: index.KeySchema, Projection: index.Projection ?? { ProjectionType: 'ALL' } })),
        created: Date.now(),
        items: new Map(),
      }
      tables.set(name, table)
      save()
      return { table: name, result: { TableDescription: describe(table) } }
    },
    DescribeTable(input) {
      const table = tableOf(input)
      return { table: table.name, result: { Table: describe(table) } }
    },
    GetItem(input) {
      const table = tableOf(input)
      if (input.ProjectionExpression !== undefined) throw validation('ProjectionExpression is not supported by this local server')
      const item = table.items.get(keyOf(table, keyOnly(table, input.Key)))
      return { table: table.name, result: item ? { Item: copy(item) } : {} }
    },
    PutItem(input) {
      const put = preparePut(input)
      if (!put.condition(put.table.items.get(put.key))) throw new DdbFailure('ConditionalCheckFailedException', 'The conditional request failed')
      put.table.items.set(put.key, copy(put.item))
      save()
      return { table: put.table.name, result: {} }
    },
    DeleteItem(input) {
      const table = tableOf(input)
      const key = keyOf(table, keyOnly(table, input.Key))
      if (!writeCondition(input)(table.items.get(key))) throw new DdbFailure('ConditionalCheckFailedException', 'The conditional request failed')
      table.items.delete(key)
      save()
      return { table: table.name, result: {} }
    },
    Query(input) {
      const table = tableOf(input)
      if (input.IndexName !== undefined || input.FilterExpression !== undefined || input.ProjectionExpression !== undefined) {
        throw validation('IndexName, FilterExpression and ProjectionExpression are not supported by this local server')
      }
      if (typeof input.KeyConditionExpression !== 'string') throw validation('KeyConditionExpression is required')
      const subs = substitutions(input)
      const condition = parseCondition(input.KeyConditionExpression, subs, KEY_CONDITION_FUNCTIONS)
      checkAllUsed(subs)
      const hash = table.keySchema[0]!.AttributeName
      const keyNames = new Set(table.keySchema.map((k) => k.AttributeName))
      if (!subs.paths.has(hash) || [...subs.paths].some((p) => !keyNames.has(p))) throw validation('Query condition missed key schema element or names a non-key attribute')
      const limit = input.Limit === undefined ? Infinity : input.Limit
      if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw validation('Limit must be a positive integer')
      // Only items whose partition key the condition pins: every match must share one hash value.
      let matched = [...table.items.values()].filter((item) => condition(item))
      if (new Set(matched.map((item) => JSON.stringify(item[hash]))).size > 1) throw validation('Query condition must specify the partition key with =')
      const range = table.keySchema[1]?.AttributeName
      if (range) {
        const type = table.attributeDefinitions.find((d) => d.AttributeName === range)!.AttributeType
        matched.sort((a, b) => compareKey(a[range]![type] as string, b[range]![type] as string, type))
      }
      if (input.ScanIndexForward === false) matched.reverse()
      matched = matched.slice(0, limit)
      return { table: table.name, result: { Items: matched.map(copy), Count: matched.length, ScannedCount: matched.length } }
    },
    TransactWriteItems(input) {
      const actions = input?.TransactItems
      if (!Array.isArray(actions) || actions.length < 1 || actions.length > MAX_TRANSACT_ITEMS) throw validation(`TransactItems must hold 1 to ${MAX_TRANSACT_ITEMS} actions`)
      const prepared = actions.map((action: any) => {
        const kinds = Object.keys(action ?? {})
        if (kinds.length !== 1) throw validation('each TransactItem must have exactly one of Put, ConditionCheck')
        if (kinds[0] === 'Put') return { ...preparePut(action.Put), write: true }
        if (kinds[0] === 'ConditionCheck') {
          const table = tableOf(action.ConditionCheck)
          const key = keyOf(table, keyOnly(table, action.ConditionCheck.Key))
          if (action.ConditionCheck.ConditionExpression === undefined) throw validation('ConditionCheck needs a ConditionExpression')
          return { table, key, item: undefined, condition: writeCondition(action.ConditionCheck), write: false }
        }
        throw validation(`${kinds[0]} in TransactItems is not supported by this local server`)
      })
      const seen = new Set(prepared.map((p) => `${p.table.name}\n${p.key}`))
      if (seen.size !== prepared.length) throw validation('Transaction request cannot include multiple operations on one item')
      // All conditions are checked before anything is written: all or nothing.
      const reasons = prepared.map((p) => (p.condition(p.table.items.get(p.key)) ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }))
      if (reasons.some((r) => r.Code !== 'None')) {
        throw new DdbFailure('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`, 400, {
          CancellationReasons: reasons,
        })
      }
      for (const p of prepared) if (p.write) p.table.items.set(p.key, copy(p.item!))
      save()
      return { table: prepared[0]!.table.name, result: {} }
    },
  }

  const takeFault = (operation: string): DdbFault | undefined => {
    const index = faults.findIndex((f) => f.operation === undefined || f.operation === operation)
    if (index < 0) return undefined
    const fault = faults[index]!
    fault.times = (fault.times ?? 1) - 1
    if (fault.times <= 0) faults.splice(index, 1)
    return fault
  }

  const reply = (res: ServerResponse, status: number, body: object, close = false) => {
    requests++
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `local-${requests}`, ...(close ? { connection: 'close' } : {}) })
    res.end(JSON.stringify(body))
  }
  const failure = (type: string, message: string, extra: object = {}) =>
    // TransactionCanceledException carries Message (capital M) in DynamoDB's answers; the rest message.
    type === 'TransactionCanceledException' ? { __type: PREFIX + type, Message: message, ...extra } : { __type: PREFIX + type, message, ...extra }

  const server: Server = createServer({ connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) }, (req, res) => {
    const refuse = (status: number, type: string, message: string) => {
      req.resume()
      reply(res, status, failure(type, message), true)
    }
    const host = hostName(req.headers.host)
    if (host === undefined || !servedHosts.has(host)) {
      return refuse(403, 'AccessDeniedException', `this local DynamoDB answers only requests for ${[...servedHosts].join(', ')} (Host header)`)
    }
    const tooLarge = () => refuse(413, 'ValidationException', `request body larger than ${maxRequestBytes} bytes`)
    const serve = async (body: Buffer) => {
      const target = String(req.headers['x-amz-target'] ?? '')
      const operation = target.startsWith('DynamoDB_20120810.') ? target.slice('DynamoDB_20120810.'.length) : ''
      let input: any
      try {
        input = JSON.parse(body.toString('utf8') || '{}')
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('not an object')
      } catch {
        return reply(res, 400, failure('SerializationException', 'request body is not a JSON object'))
      }
      const table = typeof input.TableName === 'string' ? input.TableName : undefined
      const record = (status: number, name = table) => calls.push({ operation, table: name, status })
      if (!OPERATIONS.has(operation)) {
        record(400)
        return reply(res, 400, failure('UnknownOperationException', `unsupported operation ${target.slice(0, 100)}`))
      }
      const fault = takeFault(operation)
      if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.delayMs ?? 100))
      if (fault?.kind === 'throttle') {
        record(400)
        return reply(res, 400, failure('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded (injected)'))
      }
      if (fault?.kind === 'internal') {
        record(500)
        return reply(res, 500, failure('InternalServerError', 'Internal server error (injected)'))
      }
      try {
        const { result, table: name } = handlers[operation as DdbOperation](input)
        record(200, name)
        reply(res, 200, result)
      } catch (e) {
        const f = e instanceof DdbFailure ? e : new DdbFailure('InternalServerError', String(e), 500)
        record(f.status)
        reply(res, f.status, failure(f.type, f.message, f.extra))
      }
    }
    readBoundedBody(req, maxRequestBytes, tooLarge, (body) => void serve(body))
  })
  server.requestTimeout = requestTimeoutMs
  server.headersTimeout = requestTimeoutMs

  const endpoint = await listenOnLoopback(server, options.port, options.host)

  const direct = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (e) {
      throw e instanceof DdbFailure ? new Error(`${e.type}: ${e.message}`) : e
    }
  }

  return {
    endpoint,
    region,
    getItem(name, key) {
      return direct(() => {
        const table = tableOf({ TableName: name })
        const item = table.items.get(keyOf(table, keyOnly(table, key)))
        return item && copy(item)
      })
    },
    putItem(name, item) {
      direct(() => {
        const table = tableOf({ TableName: name })
        const checked = checkItem(item, 'Item')
        table.items.set(keyOf(table, checked), copy(checked))
        save()
      })
    },
    items(name) {
      return direct(() => {
        const table = tableOf({ TableName: name })
        return [...table.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => copy(item))
      })
    },
    addFault(fault) {
      faults.push({ ...fault })
    },
    clearFaults() {
      faults.length = 0
    },
    calls,
    countCalls(filter = {}) {
      return calls.filter((c) => (filter.operation === undefined || c.operation === filter.operation) && (filter.table === undefined || c.table === filter.table)).length
    },
    resetCalls() {
      calls.length = 0
    },
    clientConfig() {
      return { region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    },
    close() {
      return new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
    },
  }
}

/** Sort-key order: S by UTF-8 bytes (as DynamoDB), N numerically, B by bytes. */
function compareKey(a: string, b: string, type: 'S' | 'N' | 'B'): number {
  if (type === 'N') return Number(a) - Number(b)
  return Buffer.compare(type === 'B' ? Buffer.from(a, 'base64') : Buffer.from(a, 'utf8'), type === 'B' ? Buffer.from(b, 'base64') : Buffer.from(b, 'utf8'))
}
