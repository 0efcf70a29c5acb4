/**
 * Rewrap KMS -> hierarchical keyring through the real @aws-sdk clients against the local KMS and
 * DynamoDB servers: a KmsKeyring message gets the hierarchical keyring's EDK in place of the KMS one,
 * the message id is new, and the result decrypts with the hierarchical keyring alone (ours and the peer's).
 */
import { BranchKeyStoreNode } from '@aws-crypto/branch-keystore-node'
import { KmsHierarchicalKeyRingNode } from '@aws-crypto/kms-keyring-node'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BranchKeyStore, createClient, inspectMessage, KmsHierarchicalKeyring, KmsKeyring, type MessageInfo } from '../../src/index.js'
import { startLocalDynamoDb, startLocalKms, type LocalDynamoDb, type LocalKms } from '../../src/testing/index.js'
import { patterned } from '../support/keys.js'
import { localProvider } from '../support/local-kms.js'
import { peerAllow } from '../support/peer.js'

let kms: LocalKms
let ddb: LocalDynamoDb
let store: BranchKeyStore
let kmsKeyArn: string
let dataKeyArn: string

beforeAll(async () => {
  kms = await startLocalKms()
  ddb = await startLocalDynamoDb()
  kmsKeyArn = kms.createKey({ id: 'branch-kek' })
  dataKeyArn = kms.createKey({ id: 'message-key' })
  store = new BranchKeyStore({ tableName: 'Keys', kmsKeyArn, ddbClient: new DynamoDBClient(ddb.clientConfig()), kmsClient: new KMSClient(kms.clientConfig()) })
  await store.createTable()
})
afterAll(async () => {
  await ddb?.close()
  await kms?.close()
})

const client = createClient()
const info = (message: Uint8Array) => inspectMessage(message) as MessageInfo
const plaintext = patterned(10_000)

describe('rewrap KMS -> hierarchical keyring', () => {
  // 0x0478: signed messages cannot be rewrapped (the signature covers the header).
  it('the result decrypts with the hierarchical keyring alone, not with the KMS key', async () => {
    const suiteId = 0x0478
    const { branchKeyId } = await store.createKey()
    const from = new KmsKeyring({ generatorKeyId: dataKeyArn, clientProvider: localProvider(kms) })
    const to = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId, ttlSeconds: 60 })
    const encryptionContext = { tenant: 'acme' }
    const { ciphertext } = await client.encrypt(from, plaintext, { encryptionContext, suiteId, frameLength: 1000 })
    const { ciphertext: out } = await client.rewrap(ciphertext, { from, to })

    expect(info(out).encryptedDataKeys.map((k) => [k.providerId, k.keyName])).toEqual([['aws-kms-hierarchy', branchKeyId]])
    expect(info(out).messageId).not.toEqual(info(ciphertext).messageId)
    // A fresh keyring (empty cache) over the store alone.
    const only = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId, ttlSeconds: 60 })
    const decrypted = await client.decrypt(only, out, { encryptionContext })
    expect(new Uint8Array(decrypted.plaintext)).toEqual(plaintext)
    await expect(client.decrypt(from, out)).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_KEY' })

    const peerStore = new BranchKeyStoreNode({
      logicalKeyStoreName: 'Keys',
      storage: { ddbTableName: 'Keys', ddbClient: new DynamoDBClient(ddb.clientConfig()) },
      keyManagement: { kmsClient: new KMSClient(kms.clientConfig()) },
      kmsConfiguration: { identifier: kmsKeyArn },
    })
    const peer = new KmsHierarchicalKeyRingNode({ keyStore: peerStore, branchKeyId, cacheLimitTtl: 60, utf8Sorting: true })
    expect(new Uint8Array((await peerAllow.decrypt(peer, out)).plaintext)).toEqual(plaintext)
  })
})
