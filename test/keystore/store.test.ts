/**
 * BranchKeyStore end to end: the real @aws-sdk/client-dynamodb and client-kms
 * against the local KMS server and, in turn, our local DynamoDB server and
 * dynalite. The same suite runs on both; only what dynalite cannot do (atomic
 * transactions, fault injection) is left to our server, and says why.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BranchKeyStore, isEnvelopeError, type KmsClientLike } from '../../src/index.js'
import { startLocalKms, type LocalKms } from '../../src/testing/index.js'
import { startBackend, type DdbBackend } from './backends.js'

const TABLE = 'branch-keys'
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** The code of an EnvelopeError, or the thrown value itself when it is not one (so a mismatch shows what was thrown). */
async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (e) {
    return isEnvelopeError(e) ? e.code : e
  }
  return 'resolved'
}

async function errorOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

/** A KMS client that records each command it forwards to the real one. */
function recording(real: KmsClientLike): KmsClientLike & { log: { name: string; input: any }[] } {
  const log: { name: string; input: any }[] = []
  return {
    log,
    send(command: any) {
      log.push({ name: command.constructor.name.replace(/Command$/, ''), input: command.input })
      return real.send(command)
    },
  }
}

for (const backendName of ['local', 'dynalite'] as const) {
  describe(`BranchKeyStore on ${backendName}`, () => {
    let kms: LocalKms
    let ddb: DdbBackend
    let arn: string
    let kmsClient: ReturnType<typeof recording>
    let store: BranchKeyStore
    const raw = () => ddb.client()
    const newStore = (extra: Record<string, unknown> = {}) =>
      new BranchKeyStore({ tableName: TABLE, kmsKeyArn: arn, ddbClient: ddb.storeClient(), kmsClient, ...extra })

    beforeAll(async () => {
      kms = await startLocalKms()
      arn = kms.createKey({ id: 'branch-key-kek' })
      ddb = await startBackend(backendName)
      kmsClient = recording(new KMSClient(kms.clientConfig()))
      store = newStore()
      await store.createTable()
    })
    afterAll(async () => {
      await ddb?.close()
      await kms?.close()
    })

    const getRaw = async (id: string, type: string) => (await raw().send(new GetItemCommand({ TableName: TABLE, Key: { 'branch-key-id': { S: id }, type: { S: type } } }))).Item!
    const putRaw = (item: Record<string, AttributeValue>) => raw().send(new PutItemCommand({ TableName: TABLE, Item: item }))

    it('createTable is idempotent and returns the table ARN', async () => {
      const again = await store.createTable()
      expect(again.tableArn).toMatch(/^arn:aws:dynamodb:[a-z0-9-]+:\d+:table\/branch-keys$/)
    })

    it('createTable refuses an existing table whose key schema is not the key store’s', async () => {
      const other = newStore({ tableName: 'not-a-key-store' })
      const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb')
      await raw().send(
        new CreateTableCommand({
          TableName: 'not-a-key-store',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      expect(await codeOf(other.createTable())).toBe('ERR_KEY_STORE')
    })

    it('createTable accepts an existing table whose schema is a superset of the key store’s (an extra index)', async () => {
      const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb')
      await raw().send(
        new CreateTableCommand({
          TableName: 'superset-store',
          KeySchema: [
            { AttributeName: 'branch-key-id', KeyType: 'HASH' },
            { AttributeName: 'type', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'branch-key-id', AttributeType: 'S' },
            { AttributeName: 'type', AttributeType: 'S' },
            { AttributeName: 'status', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexes: [{ IndexName: 'by-status', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      const superset = newStore({ tableName: 'superset-store' })
      expect((await superset.createTable()).tableArn).toMatch(/table\/superset-store$/)
      const { branchKeyId } = await superset.createKey()
      expect((await superset.getActiveBranchKey(branchKeyId)).branchKey).toHaveLength(32)
    })

    it('createKey writes the three items of the specification; every read returns the key it wrote', async () => {
      kmsClient.log.length = 0
      const { branchKeyId } = await store.createKey({ encryptionContext: { tenant: 'acme', 'ü': 'x' } })
      expect(branchKeyId).toMatch(UUID_V4)

      const active = await getRaw(branchKeyId, 'branch:ACTIVE')
      const version = active.version!.S!
      expect(version).toMatch(/^branch:version:/)
      expect(version.slice('branch:version:'.length)).toMatch(UUID_V4)
      const versionItem = await getRaw(branchKeyId, version)
      const beacon = await getRaw(branchKeyId, 'beacon:ACTIVE')
      for (const item of [active, versionItem, beacon]) {
        expect(item['branch-key-id']).toEqual({ S: branchKeyId })
        expect(item['kms-arn']).toEqual({ S: arn })
        expect(item['hierarchy-version']).toEqual({ N: '1' })
        expect(item['create-time']!.S).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
        expect(item['aws-crypto-ec:tenant']).toEqual({ S: 'acme' })
        expect(item['aws-crypto-ec:ü']).toEqual({ S: 'x' })
        expect(item.enc!.B).toBeInstanceOf(Uint8Array)
        expect(item.tablename).toBeUndefined()
      }
      expect(Object.keys(active).sort()).toEqual(['aws-crypto-ec:tenant', 'aws-crypto-ec:ü', 'branch-key-id', 'create-time', 'enc', 'hierarchy-version', 'kms-arn', 'type', 'version'])
      expect(Object.keys(beacon).sort()).toEqual(Object.keys(versionItem).sort())

      // The KMS calls of the specification, with each item's own context.
      const contextOf = (item: Record<string, AttributeValue>) => ({
        ...Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'enc').map(([k, v]) => [k, v.S ?? v.N!])),
        tablename: TABLE,
      })
      expect(kmsClient.log.map((c) => c.name)).toEqual(['GenerateDataKeyWithoutPlaintext', 'ReEncrypt', 'GenerateDataKeyWithoutPlaintext'])
      expect(kmsClient.log[0]!.input).toEqual({ KeyId: arn, NumberOfBytes: 32, EncryptionContext: contextOf(versionItem), GrantTokens: [] })
      expect(kmsClient.log[1]!.input).toMatchObject({
        SourceKeyId: arn,
        DestinationKeyId: arn,
        SourceEncryptionContext: contextOf(versionItem),
        DestinationEncryptionContext: contextOf(active),
      })
      expect(kmsClient.log[2]!.input).toEqual({ KeyId: arn, NumberOfBytes: 32, EncryptionContext: contextOf(beacon), GrantTokens: [] })

      kmsClient.log.length = 0
      const a = await store.getActiveBranchKey(branchKeyId)
      expect(kmsClient.log).toEqual([{ name: 'Decrypt', input: { KeyId: arn, CiphertextBlob: active.enc!.B, EncryptionContext: contextOf(active), GrantTokens: [] } }])
      expect(a.branchKeyId).toBe(branchKeyId)
      expect(a.branchKeyVersion).toBe(version.slice('branch:version:'.length))
      expect(a.branchKey).toHaveLength(32)
      expect(a.encryptionContext).toEqual({ tenant: 'acme', 'ü': 'x' })
      const v = await store.getBranchKeyVersion(branchKeyId, a.branchKeyVersion)
      expect(Buffer.from(v.branchKey).equals(Buffer.from(a.branchKey))).toBe(true)
      expect(v.branchKeyVersion).toBe(a.branchKeyVersion)
      const b = await store.getBeaconKey(branchKeyId)
      expect(b.beaconKeyId).toBe(branchKeyId)
      expect(b.beaconKey).toHaveLength(32)
      expect(Buffer.from(b.beaconKey).equals(Buffer.from(a.branchKey))).toBe(false)
    })

    it('createKey with a chosen id needs a context, and never overwrites an existing key', async () => {
      await expect(store.createKey({ branchKeyId: 'chosen' })).rejects.toThrow(TypeError)
      expect(await store.createKey({ branchKeyId: 'chosen', encryptionContext: { a: 'b' } })).toEqual({ branchKeyId: 'chosen' })
      const before = await store.getActiveBranchKey('chosen')
      expect(await codeOf(store.createKey({ branchKeyId: 'chosen', encryptionContext: { a: 'c' } }))).toBe('ERR_KEY_STORE_CONFLICT')
      const after = await store.getActiveBranchKey('chosen')
      expect(Buffer.from(after.branchKey).equals(Buffer.from(before.branchKey))).toBe(true)
      expect(after.encryptionContext).toEqual({ a: 'b' })
    })

    it('versionKey makes a new ACTIVE version; the old one stays readable with the same key', async () => {
      const { branchKeyId } = await store.createKey({ encryptionContext: { tenant: 't1' } })
      const first = await store.getActiveBranchKey(branchKeyId)
      const oldActive = await getRaw(branchKeyId, 'branch:ACTIVE')
      kmsClient.log.length = 0
      await store.versionKey({ branchKeyId })
      // Authenticate the old ACTIVE item (ReEncrypt to itself), then a new version as createKey makes it.
      expect(kmsClient.log.map((c) => c.name)).toEqual(['ReEncrypt', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt'])
      expect(kmsClient.log[0]!.input.SourceEncryptionContext).toEqual(kmsClient.log[0]!.input.DestinationEncryptionContext)
      expect(kmsClient.log[0]!.input.CiphertextBlob).toEqual(oldActive.enc!.B)
      const second = await store.getActiveBranchKey(branchKeyId)
      expect(second.branchKeyVersion).not.toBe(first.branchKeyVersion)
      expect(Buffer.from(second.branchKey).equals(Buffer.from(first.branchKey))).toBe(false)
      expect(second.encryptionContext).toEqual({ tenant: 't1' })
      const old = await store.getBranchKeyVersion(branchKeyId, first.branchKeyVersion)
      expect(Buffer.from(old.branchKey).equals(Buffer.from(first.branchKey))).toBe(true)
      const current = await store.getBranchKeyVersion(branchKeyId, second.branchKeyVersion)
      expect(Buffer.from(current.branchKey).equals(Buffer.from(second.branchKey))).toBe(true)
    })

    it('missing key, missing version: typed errors naming what was asked for', async () => {
      const missing = await errorOf(store.getActiveBranchKey('no-such-key'))
      expect(missing.code).toBe('ERR_BRANCH_KEY_NOT_FOUND')
      expect(missing.branchKeyId).toBe('no-such-key')
      expect(await codeOf(store.getBeaconKey('no-such-key'))).toBe('ERR_BRANCH_KEY_NOT_FOUND')
      expect(await codeOf(store.versionKey({ branchKeyId: 'no-such-key' }))).toBe('ERR_BRANCH_KEY_NOT_FOUND')
      const { branchKeyId } = await store.createKey()
      const version = await errorOf(store.getBranchKeyVersion(branchKeyId, '3f1d9bb7-0000-4000-8000-000000000000'))
      expect(version.code).toBe('ERR_BRANCH_KEY_VERSION_NOT_FOUND')
      expect(version.branchKeyVersion).toBe('3f1d9bb7-0000-4000-8000-000000000000')
    })

    it('a missing table is ERR_KEY_STORE', async () => {
      expect(await codeOf(newStore({ tableName: 'no-such-table' }).getActiveBranchKey('x'))).toBe('ERR_KEY_STORE')
    })

    describe('a tampered item is refused', () => {
      let id: string
      let active: Record<string, AttributeValue>
      let key: Uint8Array
      beforeAll(async () => {
        id = (await store.createKey({ encryptionContext: { tenant: 'victim' } })).branchKeyId
        active = await getRaw(id, 'branch:ACTIVE')
        key = (await store.getActiveBranchKey(id)).branchKey
      })
      const withActive = async (edit: (item: Record<string, AttributeValue>) => void) => {
        const item = structuredClone(active)
        edit(item)
        await putRaw(item)
        try {
          return await errorOf(store.getActiveBranchKey(id))
        } finally {
          await putRaw(active)
        }
      }

      it('an edited custom context value: KMS refuses it (ERR_BRANCH_KEY_INVALID), and the error holds no key', async () => {
        const e = await withActive((item) => (item['aws-crypto-ec:tenant'] = { S: 'attacker' }))
        expect(e.code).toBe('ERR_BRANCH_KEY_INVALID')
        const text = JSON.stringify(e, Object.getOwnPropertyNames(e)) + String(e.stack) + String(e.cause?.message)
        expect(text).not.toContain(Buffer.from(key).toString('hex'))
        expect(text).not.toContain(Buffer.from(key).toString('base64'))
      })

      it('an added attribute, an edited create-time, flipped ciphertext bits: ERR_BRANCH_KEY_INVALID', async () => {
        expect((await withActive((item) => (item['aws-crypto-ec:extra'] = { S: 'x' }))).code).toBe('ERR_BRANCH_KEY_INVALID')
        expect((await withActive((item) => (item['create-time'] = { S: '2020-01-01T00:00:00.000000Z' }))).code).toBe('ERR_BRANCH_KEY_INVALID')
        expect(
          (
            await withActive((item) => {
              const enc = Uint8Array.from(item.enc!.B!)
              enc[enc.length - 1]! ^= 1
              item.enc = { B: enc }
            })
          ).code,
        ).toBe('ERR_BRANCH_KEY_INVALID')
      })

      it('ACTIVE pointed at another version: ERR_BRANCH_KEY_INVALID', async () => {
        await store.versionKey({ branchKeyId: id })
        const current = await getRaw(id, 'branch:ACTIVE')
        try {
          // The new ACTIVE item with the old version's name: its context no longer matches its ciphertext.
          const forged = { ...structuredClone(current), version: active.version! }
          await putRaw(forged)
          expect(await codeOf(store.getActiveBranchKey(id))).toBe('ERR_BRANCH_KEY_INVALID')
        } finally {
          await putRaw(current)
          active = current
        }
      })

      it('malformed items: missing or mistyped fields, unknown type value, attribute of another type', async () => {
        for (const edit of [
          (item: Record<string, AttributeValue>) => delete item.enc,
          (item: Record<string, AttributeValue>) => delete item.version,
          (item: Record<string, AttributeValue>) => (item['hierarchy-version'] = { S: '1' }),
          (item: Record<string, AttributeValue>) => (item['create-time'] = { N: '5' }),
          (item: Record<string, AttributeValue>) => (item.version = { S: 'v1' }),
          (item: Record<string, AttributeValue>) => (item['aws-crypto-ec:tenant'] = { BOOL: true }),
        ]) {
          expect((await withActive(edit)).code, String(edit)).toBe('ERR_BRANCH_KEY_INVALID')
        }
      })

      it('an item naming another KMS key: ERR_KEY_STORE_KMS_KEY, before any KMS call', async () => {
        kmsClient.log.length = 0
        const e = await withActive((item) => (item['kms-arn'] = { S: arn.replace('branch-key-kek', 'other-key') }))
        expect(e.code).toBe('ERR_KEY_STORE_KMS_KEY')
        expect(kmsClient.log).toEqual([])
      })

      it('hierarchy-version 2 is not read (ERR_UNSUPPORTED)', async () => {
        expect((await withActive((item) => (item['hierarchy-version'] = { N: '2' }))).code).toBe('ERR_UNSUPPORTED')
      })

      it('a store with another logical name cannot read the key (its context differs)', async () => {
        expect(await codeOf(newStore({ logicalKeyStoreName: 'other-store' }).getActiveBranchKey(id))).toBe('ERR_BRANCH_KEY_INVALID')
      })

      it('a version item filed under another version’s name: ERR_BRANCH_KEY_INVALID', async () => {
        const versions = (await store.getActiveBranchKey(id)).branchKeyVersion
        const item = await getRaw(id, `branch:version:${versions}`)
        const fake = '11111111-2222-4333-8444-555555555555'
        await putRaw({ ...item, type: { S: `branch:version:${fake}` } })
        try {
          expect(await codeOf(store.getBranchKeyVersion(id, fake))).toBe('ERR_BRANCH_KEY_INVALID')
        } finally {
          await raw().send(new DeleteItemCommand({ TableName: TABLE, Key: { 'branch-key-id': { S: id }, type: { S: `branch:version:${fake}` } } }))
        }
      })
    })

    it('two concurrent versionKey calls: one wins, the other gets ERR_KEY_STORE_CONFLICT', async () => {
      const { branchKeyId } = await store.createKey()
      // Both rotations hold their write until both have read ACTIVE: a deterministic race.
      const inner = ddb.storeClient()
      let arrived = 0
      let release!: () => void
      const bothRead = new Promise<void>((r) => (release = r))
      const gated = {
        async send(command: any) {
          if (command.constructor.name === 'TransactWriteItemsCommand') {
            if (++arrived === 2) release()
            await bothRead
          }
          return inner.send(command)
        },
      }
      const racer = newStore({ ddbClient: gated })
      const results = await Promise.allSettled([racer.versionKey({ branchKeyId }), racer.versionKey({ branchKeyId })])
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(lost.reason.code).toBe('ERR_KEY_STORE_CONFLICT')
      // ACTIVE is the winner's version, and readable.
      expect((await store.getActiveBranchKey(branchKeyId)).branchKey).toHaveLength(32)
    })

    it('KMS throttling is ERR_KEY_STORE_THROTTLED, retryable', async () => {
      const { branchKeyId } = await store.createKey()
      kms.addFault({ operation: 'Decrypt', kind: 'throttle' })
      const e = await errorOf(newStore({ kmsClient: new KMSClient({ ...kms.clientConfig(), maxAttempts: 1 }) }).getActiveBranchKey(branchKeyId))
      expect(e.code).toBe('ERR_KEY_STORE_THROTTLED')
      expect(e.retryable).toBe(true)
    })

    // dynalite has no fault injection: DynamoDB throttling is checked on our server only.
    it.skipIf(backendName === 'dynalite')('DynamoDB throttling is ERR_KEY_STORE_THROTTLED, retryable; a 500 is ERR_KEY_STORE, retryable', async () => {
      const { branchKeyId } = await store.createKey()
      const first = (await store.getActiveBranchKey(branchKeyId)).branchKeyVersion
      const once = newStore({ ddbClient: ddb.client({ maxAttempts: 1 }) })
      ddb.local!.addFault({ operation: 'GetItem', kind: 'throttle' })
      const throttled = await errorOf(once.getActiveBranchKey(branchKeyId))
      expect(throttled.code).toBe('ERR_KEY_STORE_THROTTLED')
      expect(throttled.retryable).toBe(true)
      ddb.local!.addFault({ operation: 'TransactWriteItems', kind: 'internal' })
      const failed = await errorOf(once.versionKey({ branchKeyId }))
      expect(failed.code).toBe('ERR_KEY_STORE')
      expect(failed.retryable).toBe(true)
      // Nothing was written: ACTIVE still holds the first version.
      expect((await once.getActiveBranchKey(branchKeyId)).branchKeyVersion).toBe(first)
    })
  })
}

describe('BranchKeyStore options', () => {
  const kmsKeyArn = 'arn:aws:kms:us-west-2:111122223333:key/k'
  it('refuses unknown option keys, a missing table, an alias ARN, a client without send()', () => {
    expect(() => new BranchKeyStore({ tableName: 't', kmsKeyArn, tableNmae: 'x' } as never)).toThrow(/unknown BranchKeyStore option "tableNmae"/)
    expect(() => new BranchKeyStore({ kmsKeyArn } as never)).toThrow(TypeError)
    expect(() => new BranchKeyStore({ tableName: 't', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/a' })).toThrow(TypeError)
    expect(() => new BranchKeyStore({ tableName: 't', kmsKeyArn, ddbClient: {} as never })).toThrow(TypeError)
    expect(() => new BranchKeyStore({ tableName: 't', kmsKeyArn, grantTokens: [1] as never })).toThrow(TypeError)
  })
  it('getKeyStoreInfo: the logical name defaults to the table name', () => {
    expect(new BranchKeyStore({ tableName: 't', kmsKeyArn, grantTokens: ['g'] }).getKeyStoreInfo()).toEqual({
      tableName: 't',
      logicalKeyStoreName: 't',
      kmsKeyArn,
      grantTokens: ['g'],
    })
    expect(new BranchKeyStore({ tableName: 't', logicalKeyStoreName: 'l', kmsKeyArn }).logicalKeyStoreName).toBe('l')
  })
  it('an unreachable DynamoDB endpoint is ERR_KEY_STORE, retryable, naming the operation', async () => {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb')
    const ddbClient = new DynamoDBClient({ region: 'us-west-2', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 })
    const e = await errorOf(new BranchKeyStore({ tableName: 't', kmsKeyArn, ddbClient }).getActiveBranchKey('b'))
    expect(e.code).toBe('ERR_KEY_STORE')
    expect(e.retryable).toBe(true)
    expect(e.message).toContain('branch key b')
  })
  it('createKey and versionKey refuse unknown input keys', async () => {
    const s = new BranchKeyStore({ tableName: 't', kmsKeyArn, ddbClient: { send: async () => ({}) }, kmsClient: { send: async () => ({}) } })
    await expect(s.createKey({ branchKeyID: 'x' } as never)).rejects.toThrow(TypeError)
    await expect(s.versionKey({ branchKeyId: 'x', force: true } as never)).rejects.toThrow(TypeError)
  })
})
