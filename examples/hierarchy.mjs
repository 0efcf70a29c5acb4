// @ts-check
// The hierarchical keyring: one branch key per tenant in a DynamoDB table, each protected by a KMS key.
// A process fetches a tenant's branch key once per TTL (one DynamoDB read, one KMS Decrypt) and derives
// a fresh wrapping key for every message locally.
//
// By default this runs against the DynamoDB- and KMS-compatible local servers that ship with envelope-sdk
// (no AWS account). To use real AWS, set both variables and have AWS credentials configured:
//   BRANCH_KEY_TABLE=BranchKeys KMS_KEY_ARN=arn:aws:kms:us-west-2:111122223333:key/... node examples/hierarchy.mjs
// The table is created if it does not exist (this needs dynamodb:CreateTable), and the example adds two
// branch keys to it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { BranchKeyStore, createClient, KmsHierarchicalKeyring } from 'envelope-sdk'
import { startLocalDynamoDb, startLocalKms } from 'envelope-sdk/testing'

/** @type {import('envelope-sdk/testing').LocalKms | undefined} */
let kms
/** @type {import('envelope-sdk/testing').LocalDynamoDb | undefined} */
let ddb
let keyStore
if (process.env.BRANCH_KEY_TABLE && process.env.KMS_KEY_ARN) {
  // The store makes its DynamoDB and KMS clients for the KMS key's region on first use.
  keyStore = new BranchKeyStore({ tableName: process.env.BRANCH_KEY_TABLE, kmsKeyArn: process.env.KMS_KEY_ARN })
} else {
  kms = await startLocalKms()
  ddb = await startLocalDynamoDb()
  const kmsKeyArn = kms.createKey({ aliases: ['alias/branch-keys'] })
  console.log(`local KMS at ${kms.endpoint}, local DynamoDB at ${ddb.endpoint}`)
  // The same clients you would use for AWS, pointed at the local endpoints.
  keyStore = new BranchKeyStore({
    tableName: 'BranchKeys',
    kmsKeyArn,
    ddbClient: new DynamoDBClient(ddb.clientConfig()),
    kmsClient: new KMSClient(kms.clientConfig()),
  })
}

const countKms = () => kms?.countCalls({ operation: 'Decrypt' }) ?? 0
try {
  await keyStore.createTable() // does nothing if the table exists

  // One branch key per tenant; a real service keeps this map in its own database.
  const tenantKeys = new Map()
  for (const tenant of ['acme', 'globex']) {
    const { branchKeyId } = await keyStore.createKey()
    tenantKeys.set(tenant, branchKeyId)
  }
  console.log(`created branch keys for ${[...tenantKeys.keys()].join(', ')}`)

  // One keyring for every tenant: the supplier picks the branch key from the encryption context.
  const keyring = new KmsHierarchicalKeyring({
    keyStore,
    ttlSeconds: 600,
    branchKeyIdSupplier: (encryptionContext) => {
      const id = tenantKeys.get(encryptionContext.tenant)
      if (!id) throw new Error(`unknown tenant ${encryptionContext.tenant}`)
      return id
    },
  })
  const client = createClient()

  const before = countKms()
  const messages = []
  for (let i = 0; i < 10; i++) {
    const encryptionContext = { tenant: i % 2 === 0 ? 'acme' : 'globex', order: String(i) }
    messages.push((await client.encrypt(keyring, `order ${i}`, { encryptionContext })).ciphertext)
  }
  console.log(`encrypted 10 messages for 2 tenants with ${kms ? countKms() - before : '?'} KMS calls`)

  const [order0, , , order3] = messages
  if (!order0 || !order3) throw new Error('expected 10 messages')
  const { plaintext, header } = await client.decrypt(keyring, order3, { encryptionContext: { tenant: 'globex' } })
  console.log(`decrypted: ${new TextDecoder().decode(plaintext)} (branch key ${header.encryptedDataKeys.map((k) => new TextDecoder().decode(k.providerInfo)).join(', ')})`)

  // Rotation: a new ACTIVE version; messages under the old one still decrypt. A running keyring picks the
  // new version up when its cached one expires (ttlSeconds); a new keyring uses it at once.
  const acme = tenantKeys.get('acme')
  const oldVersion = (await keyStore.getActiveBranchKey(acme)).branchKeyVersion
  await keyStore.versionKey({ branchKeyId: acme })
  const newVersion = (await keyStore.getActiveBranchKey(acme)).branchKeyVersion
  const fresh = new KmsHierarchicalKeyring({ keyStore, branchKeyId: acme, ttlSeconds: 600 })
  const rotated = (await client.encrypt(fresh, 'after rotation', { encryptionContext: { tenant: 'acme' } })).ciphertext
  const old = await client.decrypt(fresh, order0)
  const current = await client.decrypt(fresh, rotated)
  console.log(`rotated acme: ${oldVersion === newVersion ? 'same version!' : 'new version'}; old message: ${new TextDecoder().decode(old.plaintext)}; new message: ${new TextDecoder().decode(current.plaintext)}`)
} finally {
  await ddb?.close()
  await kms?.close()
}
