/**
 * The key store against the JS ESDK's own (`@aws-crypto/branch-keystore-node`
 * 5.0.2), both through the local DynamoDB and KMS servers with real SDK
 * clients: each reads what the other's createKey and versionKey wrote, and gets
 * the same key bytes, version and custom context.
 */
import { BranchKeyStoreNode } from '@aws-crypto/branch-keystore-node'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BranchKeyStore } from '../../src/index.js'
import { startLocalDynamoDb, startLocalKms, type LocalDynamoDb, type LocalKms } from '../../src/testing/index.js'

const TABLE = 'shared-keys'
const LOGICAL = 'shared-logical-name'

let kms: LocalKms
let ddb: LocalDynamoDb
let arn: string
let ours: BranchKeyStore
let peer: BranchKeyStoreNode

beforeAll(async () => {
  kms = await startLocalKms()
  ddb = await startLocalDynamoDb()
  arn = kms.createKey({ id: 'peer-kek' })
  ours = new BranchKeyStore({
    tableName: TABLE,
    logicalKeyStoreName: LOGICAL,
    kmsKeyArn: arn,
    ddbClient: new DynamoDBClient(ddb.clientConfig()),
    kmsClient: new KMSClient(kms.clientConfig()),
  })
  await ours.createTable()
  peer = new BranchKeyStoreNode({
    logicalKeyStoreName: LOGICAL,
    storage: { ddbTableName: TABLE, ddbClient: new DynamoDBClient(ddb.clientConfig()) },
    keyManagement: { kmsClient: new KMSClient(kms.clientConfig()) },
    kmsConfiguration: { identifier: arn },
  })
})
afterAll(async () => {
  await ddb?.close()
  await kms?.close()
})

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

describe('branch key store interop with @aws-crypto/branch-keystore-node 5.0.2', () => {
  it('the peer reads keys our createKey and versionKey wrote', async () => {
    const { branchKeyId } = await ours.createKey({ encryptionContext: { tenant: 'acme', Zeta: 'ü' } })
    const first = await ours.getActiveBranchKey(branchKeyId)
    const peerFirst = await peer.getActiveBranchKey(branchKeyId)
    expect(peerFirst.branchKeyIdentifier).toBe(branchKeyId)
    expect(peerFirst.branchKeyVersion.toString('utf8')).toBe(first.branchKeyVersion)
    expect(same(peerFirst.branchKey(), first.branchKey)).toBe(true)
    expect(peerFirst.encryptionContext).toEqual({ tenant: 'acme', Zeta: 'ü' })

    await ours.versionKey({ branchKeyId })
    const second = await ours.getActiveBranchKey(branchKeyId)
    const peerSecond = await peer.getActiveBranchKey(branchKeyId)
    expect(peerSecond.branchKeyVersion.toString('utf8')).toBe(second.branchKeyVersion)
    expect(same(peerSecond.branchKey(), second.branchKey)).toBe(true)
    const peerOld = await peer.getBranchKeyVersion(branchKeyId, first.branchKeyVersion)
    expect(same(peerOld.branchKey(), first.branchKey)).toBe(true)
    // The peer rotates a key we made, and we read its new version.
    await peer.versionKey({ branchKeyIdentifier: branchKeyId })
    const third = await ours.getActiveBranchKey(branchKeyId)
    expect(third.branchKeyVersion).not.toBe(second.branchKeyVersion)
    expect(same((await peer.getActiveBranchKey(branchKeyId)).branchKey(), third.branchKey)).toBe(true)
  })

  it('we read keys the peer’s createKey and versionKey wrote, with a chosen id and context', async () => {
    const { branchKeyIdentifier } = await peer.createKey({ branchKeyIdentifier: 'peer-made', encryptionContext: { department: 'x' } })
    expect(branchKeyIdentifier).toBe('peer-made')
    const peerFirst = await peer.getActiveBranchKey('peer-made')
    const first = await ours.getActiveBranchKey('peer-made')
    expect(first.branchKeyVersion).toBe(peerFirst.branchKeyVersion.toString('utf8'))
    expect(same(first.branchKey, peerFirst.branchKey())).toBe(true)
    expect(first.encryptionContext).toEqual({ department: 'x' })
    expect((await ours.getBeaconKey('peer-made')).beaconKey).toHaveLength(32)

    await peer.versionKey({ branchKeyIdentifier: 'peer-made' })
    const peerSecond = await peer.getActiveBranchKey('peer-made')
    const second = await ours.getActiveBranchKey('peer-made')
    expect(second.branchKeyVersion).toBe(peerSecond.branchKeyVersion.toString('utf8'))
    expect(second.branchKeyVersion).not.toBe(first.branchKeyVersion)
    expect(same(second.branchKey, peerSecond.branchKey())).toBe(true)
    const old = await ours.getBranchKeyVersion('peer-made', first.branchKeyVersion)
    expect(same(old.branchKey, peerFirst.branchKey())).toBe(true)
    // And we rotate a key the peer made; the peer reads our version.
    await ours.versionKey({ branchKeyId: 'peer-made' })
    const third = await ours.getActiveBranchKey('peer-made')
    expect(same((await peer.getBranchKeyVersion('peer-made', third.branchKeyVersion)).branchKey(), third.branchKey)).toBe(true)
  })
})
