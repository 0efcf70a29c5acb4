// @ts-check
/**
 * Our crypto backends side by side on Node (spec/backends.md#performance):
 * node:crypto, WebCrypto (crypto.subtle, with pure JS for what it lacks) and
 * pure JS (@noble/*), each bound into a client by createClient({ backend }).
 *
 * - One-shot encrypt and decrypt of 16 MiB in 4 KiB frames, 0x0478 (MB/s):
 *   the frame loop, where the backends differ most.
 * - 1 KiB messages, 0x0478 and 0x0578, one at a time (ops/s): key derivation,
 *   key wrapping and, for 0x0578, ECDSA.
 *
 * - 1 KiB messages, 0x0478, under the asymmetric raw keyrings (ops/s): RSA-OAEP-SHA256
 *   2048 and ECDH (ephemeral sender to a public key; discovery with the private key)
 *   on P-256, P-384 and P-521, where the public-key operation is the per-message cost.
 *
 * The 16 MiB encrypt row has a fourth contender, `subtle frames`: the same
 * 4 KiB frames sealed by crypto.subtle directly, one awaited call per frame,
 * with no message format, no keyring and no copy: the best an asynchronous
 * frame loop could reach (spec/backends.md#why-symmetric-stays-synchronous).
 *
 * Before timing, each backend's message is decrypted by the node:crypto client
 * and node:crypto's message by each backend, and compared with the plaintext.
 */
import { generateKeyPairSync } from 'node:crypto'
import { loadOursWith } from '../contenders.mjs'
import { assertSameBytes, compare, formatBytes, patterned } from '../harness.mjs'

const FRAME = 4096
const BIG = 16 << 20
const SMALL = 1 << 10
const BACKENDS = /** @type {const} */ (['node', 'webcrypto', 'noble'])

/** @typedef {import('../contenders.mjs').Ours & import('../contenders.mjs').Subpaths['crypto']} Sdk */
/** @typedef {Record<typeof BACKENDS[number], import('../../dist/index.js').Client>} Clients */
/**
 * One op of one (suite, size[, keyring]): a result per backend, and `subtle frames` in the 16 MiB encrypt row.
 * @typedef {{ case: 'backends', op: 'encrypt' | 'decrypt', suite: number, size: number, frameLength: number, keyring?: string, results: import('../harness.mjs').Summary[] }} Row
 */

/**
 * Messages of 1 MiB and more measure the frame loop (0x0478 only); smaller ones the per-message work.
 * @param {number} size
 */
function suitesFor(size) {
  return size >= 1 << 20 ? [0x0478] : [0x0478, 0x0578]
}

/** @param {number} size @param {boolean} quick */
function timing(size, quick) {
  if (size >= 1 << 20) return quick ? { rounds: 5, minTime: 60, warmup: 300 } : { rounds: 7, minTime: 300, warmup: 1000 }
  return quick ? { rounds: 3, minTime: 100 } : { rounds: 7, minTime: 200 }
}

/**
 * @param {Pick<import('../harness.mjs').CaseOptions, 'quick' | 'src' | 'log' | 'filter'>} options
 * @returns {Promise<Row[]>}
 */
export async function run({ quick, src, log, filter }) {
  const sdk = await loadOursWith('crypto', { src })
  const backends = { node: sdk.nodeBackend, webcrypto: sdk.createWebCryptoBackend(), noble: sdk.nobleBackend }
  const keyring = new sdk.RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-256', wrappingKey: patterned(32, 99) })
  const encryptionContext = { purpose: 'bench' }
  const clientOf = (/** @type {keyof Clients} */ name) => sdk.createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT', backend: backends[name] })
  /** @type {Clients} */
  const clients = { node: clientOf('node'), webcrypto: clientOf('webcrypto'), noble: clientOf('noble') }
  /** @type {Row[]} */
  const rows = []
  for (const size of filter.sizes ?? [BIG, SMALL]) {
    const plaintext = patterned(size, size + 7)
    for (const suiteId of suitesFor(size).filter((s) => !filter.suites || filter.suites.includes(s))) {
      const options = { suiteId, frameLength: FRAME, encryptionContext }
      const encrypt = (/** @type {keyof Clients} */ name) => async () => (await clients[name].encrypt(keyring, plaintext, options)).ciphertext
      // Cross-validation against node:crypto, both ways, before anything is timed.
      const reference = await encrypt('node')()
      for (const name of BACKENDS) {
        assertSameBytes((await clients.node.decrypt(keyring, await encrypt(name)())).plaintext, plaintext, `node:crypto decrypts ${name}`)
        assertSameBytes((await clients[name].decrypt(keyring, reference)).plaintext, plaintext, `${name} decrypts node:crypto`)
      }
      const extra = size >= 1 << 20 && suiteId === 0x0478 ? [await subtleFrames(plaintext)] : []
      const t = { ...timing(size, quick), bytes: size }
      const enc = await compare([...BACKENDS.map((name) => ({ name, fn: encrypt(name) })), ...extra], t)
      const dec = await compare(
        BACKENDS.map((name) => ({ name, fn: () => clients[name].decrypt(keyring, reference) })),
        t,
      )
      for (const [op, results] of /** @type {const} */ ([['encrypt', enc], ['decrypt', dec]])) {
        /** @type {Row} */
        const row = { case: 'backends', op, suite: suiteId, size, frameLength: FRAME, results }
        rows.push(row)
        log(describe(row))
      }
    }
  }
  if (!filter.sizes || filter.sizes.includes(SMALL)) rows.push(...(await asymmetric(sdk, clients, quick, log)))
  return rows
}

/**
 * Encrypt and decrypt keyrings for each asymmetric row: raw RSA, then raw ECDH per curve.
 * @param {Sdk} sdk
 */
function asymmetricKeyrings(sdk) {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
  /** @type {[name: string, encrypting: import('../../dist/index.js').Keyring, decrypting: import('../../dist/index.js').Keyring][]} */
  const rows = [
    [
      'raw-rsa-2048',
      new sdk.RawRsaKeyring({ keyNamespace: 'bench', keyName: 'rsa', padding: 'oaep-sha256', publicKey: rsa.publicKey }),
      new sdk.RawRsaKeyring({ keyNamespace: 'bench', keyName: 'rsa', padding: 'oaep-sha256', privateKey: rsa.privateKey }),
    ],
  ]
  for (const curve of /** @type {const} */ (['P-256', 'P-384', 'P-521'])) {
    const ec = generateKeyPairSync('ec', { namedCurve: curve, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    rows.push([
      `raw-ecdh-${curve}`,
      new sdk.RawEcdhKeyring({ curve, scheme: { kind: 'ephemeral', recipientPublicKey: ec.publicKey } }),
      new sdk.RawEcdhKeyring({ curve, scheme: { kind: 'discovery', recipientPrivateKey: ec.privateKey } }),
    ])
  }
  return rows
}

/**
 * @param {Sdk} sdk
 * @param {Clients} clients
 * @param {boolean} quick
 * @param {(line: string) => void} log
 */
async function asymmetric(sdk, clients, quick, log) {
  const plaintext = patterned(SMALL, 11)
  const options = { suiteId: 0x0478, frameLength: FRAME, encryptionContext: { purpose: 'bench' } }
  const t = { ...timing(SMALL, quick), bytes: SMALL }
  /** @type {Row[]} */
  const rows = []
  for (const [keyringName, encrypting, decrypting] of asymmetricKeyrings(sdk)) {
    const reference = (await clients.node.encrypt(encrypting, plaintext, options)).ciphertext
    for (const name of BACKENDS) {
      const own = (await clients[name].encrypt(encrypting, plaintext, options)).ciphertext
      assertSameBytes((await clients.node.decrypt(decrypting, own)).plaintext, plaintext, `node:crypto decrypts ${name} (${keyringName})`)
      assertSameBytes((await clients[name].decrypt(decrypting, reference)).plaintext, plaintext, `${name} decrypts node:crypto (${keyringName})`)
    }
    const enc = await compare(BACKENDS.map((name) => ({ name, fn: () => clients[name].encrypt(encrypting, plaintext, options) })), t)
    const dec = await compare(BACKENDS.map((name) => ({ name, fn: () => clients[name].decrypt(decrypting, reference) })), t)
    for (const [op, results] of /** @type {const} */ ([['encrypt', enc], ['decrypt', dec]])) {
      /** @type {Row} */
      const row = { case: 'backends', op, suite: 0x0478, size: SMALL, frameLength: FRAME, keyring: keyringName, results }
      rows.push(row)
      log(describe(row))
    }
  }
  return rows
}

/**
 * crypto.subtle AES-256-GCM over the frames of `plaintext`, awaited one by one; checked by opening the first frame.
 * @param {Uint8Array<ArrayBuffer>} plaintext crypto.subtle takes no view of a SharedArrayBuffer
 * @returns {Promise<import('../harness.mjs').Contender>}
 */
async function subtleFrames(plaintext) {
  const subtle = globalThis.crypto.subtle
  const raw = patterned(32, 5)
  const key = await subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  const iv = new Uint8Array(12)
  const aad = new Uint8Array(32)
  const seal = (/** @type {number} */ i) => {
    new DataView(iv.buffer).setUint32(8, i + 1)
    return subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plaintext.subarray(i * FRAME, (i + 1) * FRAME))
  }
  const first = await seal(0)
  new DataView(iv.buffer).setUint32(8, 1)
  assertSameBytes(new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, first)), plaintext.subarray(0, FRAME), 'crypto.subtle opens its first frame')
  const frames = Math.ceil(plaintext.length / FRAME)
  return {
    name: 'subtle frames',
    fn: async () => {
      for (let i = 0; i < frames; i++) await seal(i)
    },
  }
}

/** @param {Row} row */
export function describe(row) {
  const big = row.size >= 1 << 20
  const parts = row.results.map((r) => `${r.name} ${big ? `${r.mbPerSec} MB/s` : `${Math.round(r.opsPerSec)} ops/s`} ±${Math.round(r.spread * 100)}%`)
  return `0x${row.suite.toString(16).padStart(4, '0')} ${row.op} ${formatBytes(row.size)}${big ? ` @ ${formatBytes(row.frameLength)}` : ''}${row.keyring ? ` ${row.keyring}` : ''}: ${parts.join(', ')}`
}
