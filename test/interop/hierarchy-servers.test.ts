/**
 * The hierarchical keyring against the peer's, both ways, through the real
 * servers: the peer's BranchKeyStoreNode and KmsHierarchicalKeyRingNode
 * (@aws-crypto 5.0.2) and our BranchKeyStore and KmsHierarchicalKeyring all use
 * real @aws-sdk clients pointed at startLocalDynamoDb and startLocalKms, one
 * table, one KMS key. Keys made by either side's createKey, rotated by either
 * side's versionKey, and chosen by a branch key id supplier.
 */
import { BranchKeyStoreNode } from '@aws-crypto/branch-keystore-node'
import { KmsHierarchicalKeyRingNode } from '@aws-crypto/kms-keyring-node'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BranchKeyStore, createClient, KmsHierarchicalKeyring, type EncryptionContext } from '../../src/index.js'
import { startLocalDynamoDb, startLocalKms, type LocalDynamoDb, type LocalKms } from '../../src/testing/index.js'
import { peerAllow, peerForbid } from '../support/peer.js'

const TABLE = 'hierarchy-interop'
let kms: LocalKms
let ddb: LocalDynamoDb
let ours: BranchKeyStore
let peerStore: BranchKeyStoreNode

beforeAll(async () => {
  kms = await startLocalKms()
  ddb = await startLocalDynamoDb()
  const kmsKeyArn = kms.createKey({ id: 'hierarchy-kek' })
  ours = new BranchKeyStore({ tableName: TABLE, kmsKeyArn, ddbClient: new DynamoDBClient(ddb.clientConfig()), kmsClient: new KMSClient(kms.clientConfig()) })
  await ours.createTable()
  peerStore = new BranchKeyStoreNode({
    logicalKeyStoreName: TABLE,
    storage: { ddbTableName: TABLE, ddbClient: new DynamoDBClient(ddb.clientConfig()) },
    keyManagement: { kmsClient: new KMSClient(kms.clientConfig()) },
    kmsConfiguration: { identifier: kmsKeyArn },
  })
})
afterAll(async () => {
  await ddb?.close()
  await kms?.close()
})

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const client = createClient()
const legacyClient = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const mine = (branchKeyId: string) => new KmsHierarchicalKeyring({ keyStore: ours, branchKeyId, ttlSeconds: 60 })
const theirs = (branchKeyId: string) => new KmsHierarchicalKeyRingNode({ keyStore: peerStore, branchKeyId, cacheLimitTtl: 60, utf8Sorting: true })

/** Each side encrypts under `branchKeyId` (a committing and a non-committing suite); the other side decrypts. */
async function bothWays(branchKeyId: string, encryptionContext: EncryptionContext = { purpose: 'interop' }): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = []
  const ourMessage = (await client.encrypt(mine(branchKeyId), `ours ${branchKeyId}`, { encryptionContext })).ciphertext
  expect(text((await peerAllow.decrypt(theirs(branchKeyId), ourMessage)).plaintext)).toBe(`ours ${branchKeyId}`)
  const ourLegacy = (await legacyClient.encrypt(mine(branchKeyId), 'ours, 0x0378', { suiteId: 0x0378, encryptionContext })).ciphertext
  expect(text((await peerForbid.decrypt(theirs(branchKeyId), ourLegacy)).plaintext)).toBe('ours, 0x0378')
  const peerMessage = (await peerAllow.encrypt(theirs(branchKeyId), `peer ${branchKeyId}`, { encryptionContext })).result
  expect(text((await client.decrypt(mine(branchKeyId), peerMessage)).plaintext)).toBe(`peer ${branchKeyId}`)
  const peerLegacy = (await peerForbid.encrypt(theirs(branchKeyId), 'peer, 0x0378', { suiteId: 0x0378, encryptionContext })).result
  expect(text((await legacyClient.decrypt(mine(branchKeyId), peerLegacy)).plaintext)).toBe('peer, 0x0378')
  messages.push(ourMessage, peerMessage)
  return messages
}

/** The branch key version a message's (only) hierarchical EDK was wrapped with: ciphertext = salt(16) ‖ IV(12) ‖ version(16) ‖ … */
async function versionOf(message: Uint8Array, branchKeyId: string): Promise<string> {
  const { header } = await client.decrypt(mine(branchKeyId), message)
  const v = Buffer.from(header.encryptedDataKeys[0]!.ciphertext.subarray(28, 44)).toString('hex')
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`
}

describe('hierarchical keyring and the peer through the local DynamoDB and KMS servers', () => {
  it('a key our createKey made', async () => {
    const { branchKeyId } = await ours.createKey()
    await bothWays(branchKeyId)
  })

  it('a key the peer’s createKey made', async () => {
    const { branchKeyIdentifier } = await peerStore.createKey({ branchKeyIdentifier: 'peer-made', encryptionContext: { owner: 'peer' } })
    await bothWays(branchKeyIdentifier)
  })

  it('after versionKey rotations by either side, both sides decrypt every version', async () => {
    const { branchKeyId } = await ours.createKey()
    const v1 = await bothWays(branchKeyId)
    await ours.versionKey({ branchKeyId })
    const v2 = await bothWays(branchKeyId)
    await peerStore.versionKey({ branchKeyIdentifier: branchKeyId })
    const v3 = await bothWays(branchKeyId)
    const resolved = await Promise.all([v1, v2, v3].map((pair) => Promise.all(pair.map((m) => versionOf(m, branchKeyId)))))
    // Both sides wrapped with the same (ACTIVE) version each round, and each round's differs.
    for (const [a, b] of resolved) expect(a).toBe(b)
    expect(new Set(resolved.map(([a]) => a)).size).toBe(3)
    expect(resolved.map(([a]) => a)).toContain((await ours.getActiveBranchKey(branchKeyId)).branchKeyVersion)
    for (const message of [...v1, ...v2, ...v3]) {
      await expect(client.decrypt(mine(branchKeyId), message)).resolves.toBeDefined()
      await expect(peerAllow.decrypt(theirs(branchKeyId), message)).resolves.toBeDefined()
    }
  })

  it('with a branch key id supplier, one keyring per side serves tenants whose keys either side made', async () => {
    const tenants: Record<string, string> = {
      a: (await ours.createKey({ branchKeyId: 'tenant-a', encryptionContext: { tenant: 'a' } })).branchKeyId,
      b: (await peerStore.createKey({ branchKeyIdentifier: 'tenant-b', encryptionContext: { tenant: 'b' } })).branchKeyIdentifier,
    }
    const pick = (ec: EncryptionContext) => tenants[ec.tenant!]!
    const ourKeyring = new KmsHierarchicalKeyring({ keyStore: ours, branchKeyIdSupplier: pick, ttlSeconds: 60 })
    const peerKeyring = new KmsHierarchicalKeyRingNode({ keyStore: peerStore, branchKeyIdSupplier: { getBranchKeyId: pick }, cacheLimitTtl: 60, utf8Sorting: true })
    for (const tenant of ['a', 'b', 'a', 'b']) {
      const encryptionContext = { tenant, purpose: 'supplier' }
      const ourMessage = (await client.encrypt(ourKeyring, `ours for ${tenant}`, { encryptionContext })).ciphertext
            expect(text((await peerAllow.decrypt(peerKeyring, ourMessage)).plaintext)).toBe(`ours for ${tenant}`)
      const peerMessage = (await peerAllow.encrypt(peerKeyring, `peer for ${tenant}`, { encryptionContext })).result
      const decrypted = await client.decrypt(ourKeyring, peerMessage)
      expect(text(decrypted.plaintext)).toBe(`peer for ${tenant}`)
      expect(text(decrypted.header.encryptedDataKeys[0]!.providerInfo)).toBe(tenants[tenant])
    }
    // Both tenants' active keys are cached now: another encrypt calls no KMS.
    const ourDecrypts = kms.countCalls({ operation: 'Decrypt' })
    await client.encrypt(ourKeyring, 'warm', { encryptionContext: { tenant: 'a' } })
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(ourDecrypts)
  })
})
