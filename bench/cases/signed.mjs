// @ts-check
/**
 * The signed suite 0x0578 with 1 KiB messages, where ECDSA P-384 sets the pace.
 *
 * The floor is what every signed message must pay on this runtime: one P-384
 * key pair plus one SHA-384 signature (node:crypto, synchronous forms). One
 * message at a time cannot go below it. With 8 encrypts in flight, work that
 * runs in Node's thread pool overlaps, so the floor with 8 in flight is the
 * same pair of operations run concurrently through the callback forms.
 */
import { createSign, generateKeyPair, generateKeyPairSync, sign } from 'node:crypto'
import { promisify } from 'node:util'
import { crossCheck, makeSides } from '../contenders.mjs'
import { assertSameBytes, compare, patterned } from '../harness.mjs'

const SUITE = 0x0578
const SIZE = 1 << 10
const CONCURRENCY = 8
const generateKeyPairAsync = promisify(generateKeyPair)
const signAsync = promisify(sign)

/** @param {Uint8Array} message */
function floorSync(message) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
  return createSign('sha384').update(message).sign(privateKey)
}

/** @param {Uint8Array} message */
async function floorAsync(message) {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'secp384r1' })
  return signAsync('sha384', message, privateKey)
}

/**
 * Runs `fn` CONCURRENCY times at once; one call of this counts CONCURRENCY ops.
 * @param {() => unknown} fn
 */
function batch(fn) {
  return () => Promise.all(Array.from({ length: CONCURRENCY }, fn))
}

/** @typedef {{ case: 'signed', op: 'encrypt' | 'decrypt', suite: number, size: number, concurrency: number, results: import('../harness.mjs').Summary[] }} Row */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, log }) {
  const plaintext = patterned(SIZE, 5)
  const sides = makeSides(ours, peer, SUITE, 4096)
  const mine = await crossCheck(sides, plaintext)
  // Concurrent encrypts must each produce a distinct, valid message.
  const many = await Promise.all(Array.from({ length: CONCURRENCY }, () => sides.ours.encrypt(plaintext)))
  for (const m of many) assertSameBytes(await sides.peer.decrypt(m), plaintext, 'the peer decrypts a concurrent message of ours')

  const t = quick ? { rounds: 3, minTime: 300 } : { rounds: 7, minTime: 400 }
  /** @type {Row[]} */
  const rows = []
  const one = await compare(
    [
      { name: 'ours', fn: () => sides.ours.encrypt(plaintext) },
      { name: 'peer', fn: () => sides.peer.encrypt(plaintext) },
      { name: 'floor', fn: () => floorSync(plaintext) },
    ],
    { ...t, bytes: SIZE },
  )
  rows.push({ case: 'signed', op: 'encrypt', suite: SUITE, size: SIZE, concurrency: 1, results: one })
  const eight = await compare(
    [
      { name: 'ours', fn: batch(() => sides.ours.encrypt(plaintext)) },
      { name: 'peer', fn: batch(() => sides.peer.encrypt(plaintext)) },
      { name: 'floor', fn: batch(() => floorAsync(plaintext)) },
    ],
    { ...t, bytes: SIZE * CONCURRENCY },
  )
  for (const r of eight) scaleOps(r, CONCURRENCY, SIZE)
  rows.push({ case: 'signed', op: 'encrypt', suite: SUITE, size: SIZE, concurrency: CONCURRENCY, results: eight })
  const dec = await compare(
    [
      { name: 'ours', fn: () => sides.ours.decrypt(mine) },
      { name: 'peer', fn: () => sides.peer.decrypt(mine) },
    ],
    { ...t, bytes: SIZE },
  )
  rows.push({ case: 'signed', op: 'decrypt', suite: SUITE, size: SIZE, concurrency: 1, results: dec })
  const decEight = await compare(
    [
      { name: 'ours', fn: batch(() => sides.ours.decrypt(mine)) },
      { name: 'peer', fn: batch(() => sides.peer.decrypt(mine)) },
    ],
    { ...t, bytes: SIZE * CONCURRENCY },
  )
  for (const r of decEight) scaleOps(r, CONCURRENCY, SIZE)
  rows.push({ case: 'signed', op: 'decrypt', suite: SUITE, size: SIZE, concurrency: CONCURRENCY, results: decEight })
  for (const row of rows) log(describe(row))
  return rows
}

/**
 * A batch counts as CONCURRENCY messages.
 * @param {import('../harness.mjs').Summary} result
 * @param {number} n
 * @param {number} size
 */
function scaleOps(result, n, size) {
  result.opsPerSec *= n
  result.bestOpsPerSec *= n
  result.samples = result.samples.map((v) => v * n)
  result.mbPerSec = Math.round(((result.opsPerSec * size) / 1e6) * 10) / 10
}

/** @param {{ op: string, concurrency: number, results: import('../harness.mjs').Summary[] }} row */
export function describe(row) {
  const parts = row.results.map((r) => `${r.name} ${Math.round(r.opsPerSec)} ops/s (${(1000 / r.opsPerSec).toFixed(2)} ms) ±${Math.round(r.spread * 100)}%`)
  return `0x0578 ${row.op} 1 KiB x${row.concurrency} in flight: ${parts.join(', ')}`
}
