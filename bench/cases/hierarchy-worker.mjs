// @ts-check
/**
 * One "process" of the fleet simulation in bench/cases/hierarchy.mjs, as a
 * worker thread with its own keyring (so its own caches and SDK clients): it
 * encrypts N messages for each of T tenants, tells the parent, waits for the
 * parent's go (so the parent can count the encrypt and decrypt phases apart at
 * the servers), then decrypts them all.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'

const { entry, kind, kmsConfig, ddbConfig, branchKeyArn, dataKeyArn, table, tenants, messages, ttlSeconds } = workerData
/** @type {typeof import('../../dist/index.js')} */
const ours = await import(pathToFileURL(entry).href)
if (!parentPort) throw new Error('hierarchy-worker.mjs runs as a worker thread')
const parent = parentPort

function keyringFor() {
  if (kind === 'hierarchy') {
    const keyStore = new ours.BranchKeyStore({ tableName: table, kmsKeyArn: branchKeyArn, ddbClient: new DynamoDBClient(ddbConfig), kmsClient: new KMSClient(kmsConfig) })
    return new ours.KmsHierarchicalKeyring({ keyStore, ttlSeconds, branchKeyIdSupplier: (ec) => tenants[Number(ec.tenant)] })
  }
  const kms = new ours.KmsKeyring({ generatorKeyId: dataKeyArn, clientProvider: ours.defaultClientProvider(kmsConfig) })
  if (kind === 'kms') return kms
  // The caching CMM partitions entries by encryption context, so each tenant gets its own data key.
  return new ours.CachingCmm({ keyring: kms, maxAge: ttlSeconds * 1000, capacity: 1000 })
}

const keyring = keyringFor()
const client = ours.createClient()
const plaintext = new Uint8Array(1024).fill(7)
const written = []
for (let i = 0; i < messages; i++) {
  for (let t = 0; t < tenants.length; t++) {
    const encryptionContext = { tenant: String(t) }
    written.push({ encryptionContext, message: (await client.encrypt(keyring, plaintext, { suiteId: 0x0478, encryptionContext })).ciphertext })
  }
}
parent.postMessage('encrypted')
await new Promise((resolve) => parent.once('message', resolve))
for (const { encryptionContext, message } of written) {
  const { plaintext: out } = await client.decrypt(keyring, message, { encryptionContext })
  if (out.length !== plaintext.length) throw new Error('fleet: a message did not round-trip')
}
parent.postMessage('decrypted')
