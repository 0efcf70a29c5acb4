// @ts-check
/**
 * Data-key caching over KMS: ops/s of 1 KiB messages, one at a time, suite
 * 0x0478, with a KMS keyring that talks to the local KMS server
 * (envelope-sdk/testing, started in this process) over HTTP on loopback.
 * Both sides use the real @aws-sdk/client-kms, one client per region.
 *
 * - miss: no cache; every encrypt calls GenerateDataKey and every decrypt
 *   calls Decrypt.
 * - hit: ours through CachingCmm, the peer through NodeCachingMaterialsManager
 *   with its LRU cache; limits high enough that, once warm, no message calls KMS.
 *
 * The server runs in this process, so each miss also pays the server's side of
 * the call (HTTP parsing, JSON, one AES-GCM): the same work for both sides,
 * which makes the miss ratio smaller than the ratio of the clients alone.
 *
 * Why 0x0478: with a signed suite (0x0578) both caches still serve hits (the
 * peer keeps the signing key in its cache entry, as we do: one GenerateDataKey
 * for hundreds of messages), but every message still pays an ECDSA P-384
 * signature or verification, about as much as a whole KMS call to the local
 * server, so the hit rows would mostly measure ECDSA (bench case `signed` does
 * that).
 *
 * Before timing: each side decrypts the other's messages, cached and not, and
 * the KMS calls per operation are counted at the server for every contender
 * (1 on a miss, 0 on a hit) and reported beside the figures.
 */
import { CONTEXT, loadOursWith } from '../contenders.mjs'
import { assertSameBytes, compare, formatBytes, patterned } from '../harness.mjs'

const SUITE = 0x0478
const SIZE = 1 << 10
/** Long enough that no entry ages out during the case. */
const MAX_AGE_MS = 10 * 60_000

/** @typedef {import('../../dist/testing/index.js').LocalKms} LocalKms */
/** @typedef {{ encrypt: import('../contenders.mjs').Codec, decrypt: import('../contenders.mjs').Codec }} Codecs */
/** @typedef {import('../harness.mjs').Summary & { kmsCallsPerOp: number, kmsOperationCalls: number }} Result */
/**
 * One op with or without a cache, ours then the peer; KMS calls counted at the server.
 * @typedef {{ case: 'caching', op: 'encrypt' | 'decrypt', cache: 'miss' | 'hit', kmsOperation: string, suite: number, size: number, results: [Result, Result] }} Row
 */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, src, log, filter }) {
  if (filter.suites && !filter.suites.includes(SUITE)) {
    log(`skipped: the caching case measures 0x${SUITE.toString(16).padStart(4, '0')} only`)
    return []
  }
  const size = filter.sizes?.find((s) => s <= 1 << 20) ?? SIZE
  const { startLocalKms } = await loadOursWith('testing', { src })
  const kms = await startLocalKms()
  try {
    return await measure({ ours, peer, quick, log, kms, size })
  } finally {
    await kms.close()
  }
}

/** @param {Pick<import('../harness.mjs').CaseOptions, 'ours' | 'peer' | 'quick' | 'log'> & { kms: LocalKms, size: number }} options */
async function measure({ ours, peer, quick, log, kms, size }) {
  const keyArn = kms.createKey()
  const options = { suiteId: SUITE, encryptionContext: CONTEXT }
  const policy = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'

  const ourClient = ours.createClient({ commitmentPolicy: policy })
  const ourKeyring = new ours.KmsKeyring({ generatorKeyId: keyArn, clientProvider: ours.defaultClientProvider(kms.clientConfig()) })
  const ourCache = new ours.CachingCmm({ keyring: ourKeyring, maxAge: MAX_AGE_MS, capacity: 100 })

  const peerClient = peer.buildClient(peer.CommitmentPolicy[policy])
  // What the peer's KmsKeyringNode does by default: one cached client per region (getClient alone makes a new client, and a new connection, per call).
  const peerKeyring = new peer.KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: peer.cacheClients(peer.getClient(peer.KMS, kms.clientConfig())) })
  const peerCache = new peer.NodeCachingMaterialsManager({ backingMaterials: peerKeyring, cache: peer.getLocalCryptographicMaterialsCache(100), maxAge: MAX_AGE_MS })

  /** @param {Parameters<typeof ourClient.encrypt>[0]} cmm @returns {Codecs} */
  const ourSide = (cmm) => ({
    encrypt: async (bytes) => (await ourClient.encrypt(cmm, bytes, options)).ciphertext,
    decrypt: async (message) => (await ourClient.decrypt(cmm, message)).plaintext,
  })
  /** @param {Parameters<typeof peerClient.encrypt>[0]} cmm @returns {Codecs} */
  const peerSide = (cmm) => ({
    encrypt: async (bytes) => (await peerClient.encrypt(cmm, bytes, options)).result,
    decrypt: async (message) => (await peerClient.decrypt(cmm, message)).plaintext,
  })
  const sides = {
    ours: { plain: ourSide(ourKeyring), cached: ourSide(ourCache) },
    peer: { plain: peerSide(peerKeyring), cached: peerSide(peerCache) },
  }

  // Cross-validation, before anything is timed: every (side, cache) pair writes a message that every other pair reads.
  const plaintext = patterned(size, 11)
  const pairs = /** @type {const} */ (['ours', 'peer']).flatMap((side) => /** @type {const} */ (['plain', 'cached']).map((cache) => ({ side, cache })))
  for (const writer of pairs) {
    const message = await sides[writer.side][writer.cache].encrypt(plaintext)
    for (const reader of pairs) {
      assertSameBytes(await sides[reader.side][reader.cache].decrypt(message), plaintext, `${reader.side} (${reader.cache}) decrypts ${writer.side} (${writer.cache})`)
    }
  }
  // The message both sides decrypt in the decrypt rows: ours, without cache.
  const message = await sides.ours.plain.encrypt(plaintext)

  const t = quick ? { rounds: 3, minTime: 100 } : { rounds: 7, minTime: 200 }
  /** @type {Row[]} */
  const rows = []
  /** @type {{ op: Row['op'], cache: Row['cache'], kmsOperation: string, fn: (side: keyof typeof sides) => () => Promise<Uint8Array> }[]} */
  const plan = [
    { op: 'encrypt', cache: 'miss', kmsOperation: 'GenerateDataKey', fn: (side) => () => sides[side].plain.encrypt(plaintext) },
    { op: 'encrypt', cache: 'hit', kmsOperation: 'GenerateDataKey', fn: (side) => () => sides[side].cached.encrypt(plaintext) },
    { op: 'decrypt', cache: 'miss', kmsOperation: 'Decrypt', fn: (side) => () => sides[side].plain.decrypt(message) },
    { op: 'decrypt', cache: 'hit', kmsOperation: 'Decrypt', fn: (side) => () => sides[side].cached.decrypt(message) },
  ]
  for (const step of plan) {
    kms.resetCalls()
    const counters = { ours: counter(kms, step.fn('ours')), peer: counter(kms, step.fn('peer')) }
    const [o, p] = await compare(
      [
        { name: 'ours', fn: counters.ours.fn },
        { name: 'peer', fn: counters.peer.fn },
      ],
      { ...t, bytes: size },
    )
    /** @type {[Result, Result]} */
    const results = [withCalls(o, counters.ours), withCalls(p, counters.peer)]
    /** @type {Row} */
    const row = { case: 'caching', op: step.op, cache: step.cache, kmsOperation: step.kmsOperation, suite: SUITE, size, results }
    rows.push(row)
    log(describe(row))
    const expected = step.cache === 'miss' ? 1 : 0
    for (const r of results) {
      // A hit row may see the odd call only if an entry aged out; a miss row must call KMS every time.
      if (step.cache === 'miss' ? r.kmsCallsPerOp !== expected : r.kmsCallsPerOp > 0.01) {
        throw new Error(`caching: ${r.name} ${step.op} (${step.cache}) made ${r.kmsCallsPerOp} KMS calls per operation, expected ${expected}`)
      }
    }
  }
  const stats = ourCache.stats()
  log(`ours CachingCmm: ${stats.hits} hits, ${stats.misses} misses, ${stats.underlyingCalls} underlying calls`)
  return rows
}

/**
 * Wraps `fn`, counting its calls and the KMS calls the server saw while it ran (calls are one at a time).
 * @param {LocalKms} kms
 * @param {() => Promise<unknown>} fn
 */
function counter(kms, fn) {
  const state = { ops: 0, calls: 0 }
  return Object.assign(state, {
    fn: async () => {
      const before = kms.calls.length
      await fn()
      state.ops++
      state.calls += kms.calls.length - before
    },
  })
}

/**
 * Every KMS call made during a step, per operation: 1 on a miss, 0 once a cache is warm.
 * @param {import('../harness.mjs').Summary} summary
 * @param {{ ops: number, calls: number }} counted
 * @returns {Result}
 */
function withCalls(summary, counted) {
  return { ...summary, kmsCallsPerOp: Math.round((counted.calls / counted.ops) * 1000) / 1000, kmsOperationCalls: counted.calls }
}

/** @param {Row} row */
export function describe(row) {
  const [o, p] = row.results
  const one = (/** @type {Result} */ r) => `${r.name} ${Math.round(r.opsPerSec)} ops/s ±${Math.round(r.spread * 100)}% (${r.kmsCallsPerOp} KMS calls/op)`
  return `0x${row.suite.toString(16).padStart(4, '0')} ${row.op} ${formatBytes(row.size)}, cache ${row.cache.padEnd(4)}: ${one(o)}, ${one(p)}  (${(o.opsPerSec / p.opsPerSec).toFixed(1)}x)`
}
