// @ts-check
/**
 * The hierarchical keyring, against the local DynamoDB and KMS servers
 * (envelope-sdk/testing, in this process), through the real @aws-sdk clients.
 *
 * (a) warm: ops/s of 1 KiB messages (0x0478), one at a time, with the branch
 *     key already cached: ours (KmsHierarchicalKeyring) against the peer's
 *     KmsHierarchicalKeyRingNode over its BranchKeyStoreNode, same table and
 *     KMS key. Each side first decrypts the other's message; KMS calls during
 *     the timed runs are counted at the server (0 once warm).
 * (b) fleet: P worker threads ("processes", each with its own keyring, caches
 *     and clients) x T tenants x N messages, each encrypted and then decrypted,
 *     for the KMS keyring, the caching CMM over it, and the hierarchical
 *     keyring (one branch key per tenant, a supplier). KMS and DynamoDB calls
 *     are counted at the servers, encrypt and decrypt phases apart. The run is
 *     shorter than the TTL (600 s), so "per TTL" is "per run".
 */
import { BranchKeyStoreNode, KmsHierarchicalKeyRingNode } from '@aws-crypto/client-node'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CONTEXT, loadOursWith, ourEntry } from '../contenders.mjs'
import { assertSameBytes, compare, formatBytes, patterned } from '../harness.mjs'

const SUITE = 0x0478
const SIZE = 1 << 10
const TABLE = 'BranchKeys'
const TTL_SECONDS = 600
const KINDS = /** @type {const} */ (['kms', 'caching', 'hierarchy'])

/** @typedef {import('../../dist/testing/index.js').LocalKms} LocalKms */
/** @typedef {import('../../dist/testing/index.js').LocalDynamoDb} LocalDynamoDb */
/** @typedef {{ kms: LocalKms, ddb: LocalDynamoDb, keyStore: import('../../dist/index.js').BranchKeyStore, branchKeyArn: string }} Servers */
/** @typedef {{ case: 'hierarchy', op: 'encrypt' | 'decrypt', suite: number, size: number, kmsCallsWhileTimed: number, results: import('../harness.mjs').Summary[] }} WarmRow ours, then the peer */
/** @typedef {{ kms: number, ddb: number, kmsPerProcessTenant: number }} Calls counted at the servers during one phase */
/**
 * One keyring in the fleet simulation; `kind` is hierarchy-worker.mjs's keyring kind.
 * @typedef {{ case: 'hierarchy-fleet', keyring: typeof KINDS[number], processes: number, tenants: number, messagesPerTenant: number, ttlSeconds: number, messages: number, encrypt: Calls, decrypt: Calls }} FleetRow
 */
/** @typedef {WarmRow | FleetRow} Row */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, src, log }) {
  const { startLocalKms, startLocalDynamoDb } = await loadOursWith('testing', { src })
  const kms = await startLocalKms()
  const ddb = await startLocalDynamoDb()
  try {
    const branchKeyArn = kms.createKey({ id: 'branch-kek' })
    const keyStore = new ours.BranchKeyStore({ tableName: TABLE, kmsKeyArn: branchKeyArn, ddbClient: new DynamoDBClient(ddb.clientConfig()), kmsClient: new KMSClient(kms.clientConfig()) })
    await keyStore.createTable()
    return [...(await warm({ ours, peer, quick, log, kms, keyStore, ddb, branchKeyArn })), ...(await fleet({ quick, src, log, kms, ddb, keyStore, branchKeyArn }))]
  } finally {
    await ddb.close()
    await kms.close()
  }
}

/**
 * @param {Pick<import('../harness.mjs').CaseOptions, 'ours' | 'peer' | 'quick' | 'log'> & Servers} options
 * @returns {Promise<WarmRow[]>}
 */
async function warm({ ours, peer, quick, log, kms, keyStore, ddb, branchKeyArn }) {
  const { branchKeyId } = await keyStore.createKey()
  const options = { suiteId: SUITE, encryptionContext: CONTEXT }
  const ourClient = ours.createClient()
  const ourKeyring = new ours.KmsHierarchicalKeyring({ keyStore, branchKeyId, ttlSeconds: TTL_SECONDS })
  const peerStore = new BranchKeyStoreNode({
    logicalKeyStoreName: TABLE,
    storage: { ddbTableName: TABLE, ddbClient: new DynamoDBClient(ddb.clientConfig()) },
    keyManagement: { kmsClient: new KMSClient(kms.clientConfig()) },
    kmsConfiguration: { identifier: branchKeyArn },
  })
  const peerKeyring = new KmsHierarchicalKeyRingNode({ keyStore: peerStore, branchKeyId, cacheLimitTtl: TTL_SECONDS, utf8Sorting: true })
  const peerClient = peer.buildClient(peer.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  /** @type {Record<'ours' | 'peer', { encrypt: import('../contenders.mjs').Codec, decrypt: import('../contenders.mjs').Codec }>} */
  const sides = {
    ours: { encrypt: async (b) => (await ourClient.encrypt(ourKeyring, b, options)).ciphertext, decrypt: async (m) => (await ourClient.decrypt(ourKeyring, m)).plaintext },
    peer: { encrypt: async (b) => (await peerClient.encrypt(peerKeyring, b, options)).result, decrypt: async (m) => (await peerClient.decrypt(peerKeyring, m)).plaintext },
  }
  // Cross-validation (which also warms both caches): each side reads the other's message.
  const plaintext = patterned(SIZE, 13)
  const messages = { ours: await sides.ours.encrypt(plaintext), peer: await sides.peer.encrypt(plaintext) }
  for (const reader of /** @type {const} */ (['ours', 'peer'])) for (const writer of /** @type {const} */ (['ours', 'peer'])) assertSameBytes(await sides[reader].decrypt(messages[writer]), plaintext, `${reader} decrypts ${writer}`)

  const t = quick ? { rounds: 3, minTime: 100 } : { rounds: 7, minTime: 200 }
  /** @type {WarmRow[]} */
  const rows = []
  for (const op of /** @type {const} */ (['encrypt', 'decrypt'])) {
    kms.resetCalls()
    const fn = (/** @type {keyof typeof sides} */ side) => (op === 'encrypt' ? () => sides[side].encrypt(plaintext) : () => sides[side].decrypt(messages.ours))
    const results = await compare([{ name: 'ours', fn: fn('ours') }, { name: 'peer', fn: fn('peer') }], { ...t, bytes: SIZE })
    /** @type {WarmRow} */
    const row = { case: 'hierarchy', op, suite: SUITE, size: SIZE, kmsCallsWhileTimed: kms.calls.length, results }
    rows.push(row)
    const [o, p] = results
    log(`warm ${op} ${formatBytes(SIZE)}: ours ${Math.round(o.opsPerSec)} ops/s ±${Math.round(o.spread * 100)}%, peer ${Math.round(p.opsPerSec)} ops/s ±${Math.round(p.spread * 100)}% (${(o.opsPerSec / p.opsPerSec).toFixed(1)}x); KMS calls while timed: ${row.kmsCallsWhileTimed}`)
    if (row.kmsCallsWhileTimed !== 0) throw new Error(`hierarchy: ${row.kmsCallsWhileTimed} KMS calls with a warm branch key cache`)
  }
  return rows
}

/**
 * @param {Pick<import('../harness.mjs').CaseOptions, 'quick' | 'src' | 'log'> & Servers} options
 * @returns {Promise<FleetRow[]>}
 */
async function fleet({ quick, src, log, kms, ddb, keyStore, branchKeyArn }) {
  const [processes, tenantCount, messages] = quick ? [2, 4, 10] : [4, 10, 50]
  const entry = await ourEntry({ src })
  const dataKeyArn = kms.createKey({ id: 'data-key' })
  /** @type {string[]} */
  const tenants = []
  for (let t = 0; t < tenantCount; t++) tenants.push((await keyStore.createKey()).branchKeyId)
  /** @type {FleetRow[]} */
  const rows = []
  for (const kind of KINDS) {
    kms.resetCalls()
    ddb.resetCalls()
    const workerData = { entry, kind, kmsConfig: kms.clientConfig(), ddbConfig: ddb.clientConfig(), branchKeyArn, dataKeyArn, table: TABLE, tenants, messages, ttlSeconds: TTL_SECONDS }
    const workers = Array.from({ length: processes }, () => new Worker(fileURLToPath(new URL('./hierarchy-worker.mjs', import.meta.url)), { workerData }))
    const phase = (/** @type {'encrypted' | 'decrypted'} */ expected) =>
      Promise.all(
        workers.map(
          (w) =>
            /** @type {Promise<void>} */
            (new Promise((resolve, reject) => {
              const onMessage = (/** @type {unknown} */ m) => {
                w.off('error', reject)
                if (m === expected) resolve()
                else reject(new Error(`fleet worker sent ${m}, expected ${expected}`))
              }
              w.once('message', onMessage)
              w.once('error', reject)
            })),
        ),
      )
    await phase('encrypted')
    const encrypt = { kms: kms.calls.length, ddb: ddb.calls.length }
    for (const w of workers) w.postMessage('go')
    await phase('decrypted')
    await Promise.all(workers.map((w) => w.terminate()))
    const decrypt = { kms: kms.calls.length - encrypt.kms, ddb: ddb.calls.length - encrypt.ddb }
    const per = (/** @type {number} */ n) => Math.round((n / (processes * tenantCount)) * 100) / 100
    /** @type {FleetRow} */
    const row = {
      case: 'hierarchy-fleet',
      keyring: kind,
      processes,
      tenants: tenantCount,
      messagesPerTenant: messages,
      ttlSeconds: TTL_SECONDS,
      messages: processes * tenantCount * messages,
      encrypt: { ...encrypt, kmsPerProcessTenant: per(encrypt.kms) },
      decrypt: { ...decrypt, kmsPerProcessTenant: per(decrypt.kms) },
    }
    rows.push(row)
    log(`fleet ${kind}: ${processes} processes x ${tenantCount} tenants x ${messages} messages: encrypt ${encrypt.kms} KMS / ${encrypt.ddb} DynamoDB calls (${row.encrypt.kmsPerProcessTenant} KMS per process per tenant), decrypt ${decrypt.kms} KMS / ${decrypt.ddb} DynamoDB (${row.decrypt.kmsPerProcessTenant})`)
  }
  return rows
}
