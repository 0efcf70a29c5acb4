// @ts-check
/**
 * Small messages, one at a time: ops/s of encrypt and of decrypt for 100 B,
 * 1 KiB and 16 KiB (one frame at the default 4 KiB frame size except 16 KiB),
 * with a raw AES keyring. Here the per-message work dominates: key wrap, key
 * derivation, header serialization and authentication.
 */
import { crossCheck, makeSides } from '../contenders.mjs'
import { compare, formatBytes, patterned } from '../harness.mjs'

const SIZES = [100, 1 << 10, 16 << 10]
const SUITES = [0x0478, 0x0178]

/** @typedef {{ case: 'small', op: 'encrypt' | 'decrypt' | 'round trip', suite: number, size: number, frameLength: number, results: import('../harness.mjs').Summary[] }} Row */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, peer, quick, log, filter }) {
  /** @type {Row[]} */
  const rows = []
  const sizes = filter.sizes?.filter((s) => s <= 1 << 20) ?? SIZES
  const suites = filter.suites?.filter((s) => s !== 0x0578) ?? SUITES
  for (const suiteId of suites) {
    for (const size of sizes) {
      const plaintext = patterned(size, size + 3)
      const sides = makeSides(ours, peer, suiteId, 4096)
      const mine = await crossCheck(sides, plaintext)
      const t = quick ? { rounds: 3, minTime: 100 } : { rounds: 7, minTime: 200 }
      const enc = await compare(
        [
          { name: 'ours', fn: () => sides.ours.encrypt(plaintext) },
          { name: 'peer', fn: () => sides.peer.encrypt(plaintext) },
        ],
        { ...t, bytes: size },
      )
      const dec = await compare(
        [
          { name: 'ours', fn: () => sides.ours.decrypt(mine) },
          { name: 'peer', fn: () => sides.peer.decrypt(mine) },
        ],
        { ...t, bytes: size },
      )
      // Encrypt then decrypt, as an application that stores and reads back small records does.
      const both = await compare(
        [
          { name: 'ours', fn: async () => sides.ours.decrypt(await sides.ours.encrypt(plaintext)) },
          { name: 'peer', fn: async () => sides.peer.decrypt(await sides.peer.encrypt(plaintext)) },
        ],
        { ...t, bytes: size },
      )
      for (const [op, results] of /** @type {const} */ ([['encrypt', enc], ['decrypt', dec], ['round trip', both]])) {
        const row = /** @satisfies {Row} */ ({ case: 'small', op, suite: suiteId, size, frameLength: 4096, results })
        rows.push(row)
        log(describe(row))
      }
    }
  }
  return rows
}

/** @param {{ op: string, suite: number, size: number, results: readonly [import('../harness.mjs').Summary, import('../harness.mjs').Summary] }} row */
export function describe(row) {
  const [o, p] = row.results
  return `0x${row.suite.toString(16).padStart(4, '0')} ${row.op.padEnd(7)} ${formatBytes(row.size).padStart(6)}: ours ${Math.round(o.opsPerSec)} ops/s ±${Math.round(o.spread * 100)}%, peer ${Math.round(p.opsPerSec)} ops/s ±${Math.round(p.spread * 100)}%  (${(o.opsPerSec / p.opsPerSec).toFixed(1)}x)`
}
