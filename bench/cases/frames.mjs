// @ts-check
/**
 * One-shot encrypt and decrypt throughput: message size x frame size x suite,
 * ours / peer / limit (other backends: cases/backends.mjs). Each combination
 * is cross-validated before it is timed: ours decrypts the peer's message, the
 * peer decrypts ours, ours round-trips, and the limit round-trips.
 */
import { CONTEXT, crossCheck, makeLimit, makeSides, makeTwoThreadLimit, policyFor } from '../contenders.mjs'
import { assertSameBytes, compare, formatBytes, patterned } from '../harness.mjs'

/**
 * One op of one (size, frame, suite): ours, peer, limit, and where ours may use two threads, `ours 1 thread` and `limit 2 threads`.
 * @typedef {{ case: 'frames', op: 'encrypt' | 'decrypt', suite: number, size: number, frameLength: number, context: number, results: import('../harness.mjs').Summary[] }} Row
 */

export const FULL = {
  sizes: [1 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20],
  frames: [512, 4096, 64 << 10, 1 << 20],
  suites: [0x0178, 0x0478, 0x0578],
}
export const QUICK = { sizes: [16 << 20], frames: FULL.frames, suites: FULL.suites }

/**
 * Fewer, longer samples for big messages: one call already lasts long enough,
 * and a few calls of thousands of frames each warm the JIT as well as a second
 * of small ones does.
 * @param {number} size
 * @param {boolean} quick
 */
function timing(size, quick) {
  if (size >= 64 << 20) return { rounds: 3, minTime: 1, warmup: 0, warmupCalls: 1 }
  const warmup = size >= 1 << 20 ? 300 : 1000
  // Many short rounds: on a shared machine, load comes in bursts, and fine interleaving spreads them over every contender.
  return quick ? { rounds: 5, minTime: 60, warmup } : { rounds: 9, minTime: 80, warmup }
}

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, log, filter }) {
  const plan = quick ? QUICK : FULL
  const sizes = filter.sizes ?? plan.sizes
  const frames = filter.frames ?? plan.frames
  const suites = filter.suites ?? plan.suites
  /** @type {Row[]} */
  const rows = []
  for (const size of sizes) {
    const plaintext = patterned(size, size)
    for (const suiteId of suites) {
      for (const frameLength of frames) {
        // A message is one frame at every frame size above its own size: keep the first of those only.
        if (frameLength > size && frameLength !== frames.find((f) => f >= size)) continue
        const sides = makeSides(ours, peer, suiteId, frameLength)
        const limit = makeLimit(plaintext, frameLength)

        // Cross-validation, before anything is timed.
        const mine = await crossCheck(sides, plaintext)
        assertSameBytes(limit.roundTrip(), plaintext, 'the limit round-trips')

        // Where ours may do frames on a second thread (unsigned, over 1 MiB: spec/backends.md#parallel-frames),
        // it also runs on one thread, to compare with the limit, which has one.
        const serial = suiteId !== 0x0578 && size > 1 << 20 ? oneThread(ours, sides, suiteId) : undefined
        if (serial) assertSameBytes(await serial.decrypt(await serial.encrypt(plaintext)), plaintext, 'ours on one thread round-trips')
        // Where ours may use two threads, the limit does too: the same loop split in halves (contenders.mjs).
        const twoThreads = serial && size % frameLength === 0 ? await makeTwoThreadLimit(plaintext, frameLength) : undefined
        // Its decrypt checks every tag its encrypt's twin sealed at setup.
        await twoThreads?.decrypt()

        const t = { ...timing(size, quick), bytes: size }
        const enc = await compare(
          [
            { name: 'ours', fn: () => sides.ours.encrypt(plaintext) },
            { name: 'peer', fn: () => sides.peer.encrypt(plaintext) },
            { name: 'limit', fn: () => limit.encrypt() },
            ...(serial ? [{ name: 'ours 1 thread', fn: () => serial.encrypt(plaintext) }] : []),
            ...(twoThreads ? [{ name: 'limit 2 threads', fn: () => twoThreads.encrypt() }] : []),
          ],
          t,
        )
        // Both decrypt the same message (ours), which both have just shown they read correctly.
        const dec = await compare(
          [
            { name: 'ours', fn: () => sides.ours.decrypt(mine) },
            { name: 'peer', fn: () => sides.peer.decrypt(mine) },
            { name: 'limit', fn: () => limit.decrypt() },
            ...(serial ? [{ name: 'ours 1 thread', fn: () => serial.decrypt(mine) }] : []),
            ...(twoThreads ? [{ name: 'limit 2 threads', fn: () => twoThreads.decrypt() }] : []),
          ],
          t,
        )
        await twoThreads?.close()
        for (const [op, results] of /** @type {const} */ ([['encrypt', enc], ['decrypt', dec]])) {
          /** @type {Row} */
          const row = { case: 'frames', op, suite: suiteId, size, frameLength, context: Object.keys(CONTEXT).length, results }
          rows.push(row)
          log(describe(row))
        }
      }
    }
  }
  return rows
}

/**
 * Our client with parallel frames off, on the same keyring and options as `sides.ours`.
 * @param {import('../contenders.mjs').Ours} ours
 * @param {import('../contenders.mjs').Sides} sides
 * @param {number} suiteId
 */
function oneThread(ours, sides, suiteId) {
  const client = ours.createClient({ commitmentPolicy: policyFor(suiteId), parallel: false })
  return {
    /** @type {import('../contenders.mjs').Codec} */
    encrypt: async (bytes) => (await client.encrypt(sides.ours.keyring, bytes, sides.options)).ciphertext,
    /** @type {import('../contenders.mjs').Codec} */
    decrypt: async (message) => (await client.decrypt(sides.ours.keyring, message)).plaintext,
  }
}

/** @param {Row} row */
export function describe(row) {
  const named = (/** @type {string} */ name) => row.results.find((r) => r.name === name)
  const [o, p] = [named('ours'), named('peer')]
  if (!o || !p) throw new Error('frames: a row without ours or peer')
  const parts = row.results.map((r) => `${r.name} ${r.mbPerSec} MB/s ±${Math.round(r.spread * 100)}%`)
  const vsPeer = (o.opsPerSec / p.opsPerSec).toFixed(2)
  const limit = named('limit')
  const vsLimit = limit ? ((o.opsPerSec / limit.opsPerSec) * 100).toFixed(0) : '-'
  const two = named('limit 2 threads')
  const vsTwo = two ? `, ${((o.opsPerSec / two.opsPerSec) * 100).toFixed(0)}% of limit 2 threads` : ''
  return `0x${row.suite.toString(16).padStart(4, '0')} ${row.op.padEnd(7)} ${formatBytes(row.size).padStart(7)} @ ${formatBytes(row.frameLength).padStart(7)}: ${parts.join(', ')}  (ours/peer ${vsPeer}x, ${vsLimit}% of limit${vsTwo})`
}
