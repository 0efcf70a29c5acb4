// @ts-check
import { makeLimit, makeTwoThreadLimit, loadOurs, makeSides, loadPeer } from './contenders.mjs'
import { patterned } from './harness.mjs'
const size = 16 << 20, frameLength = Number(process.env.F ?? 4096)
const suite = Number(process.env.SUITE ?? 0x0478)
const ours = await loadOurs({})
const pt = patterned(size, size)
const sides = makeSides(ours, loadPeer(), suite, frameLength)
const limit = makeLimit(pt, frameLength)
const two = await makeTwoThreadLimit(pt, frameLength)
const client1 = ours.createClient({ commitmentPolicy: suite === 0x0178 ? 'FORBID_ENCRYPT_ALLOW_DECRYPT' : 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT', parallel: false })
const kr = sides.ours.keyring
const ct = (await sides.ours.encrypt(pt))
const c = {
  'ours': () => sides.ours.encrypt(pt),
  'ours1': () => client1.encrypt(kr, pt, sides.options),
  'limit': () => limit.encrypt(),
  'limit2': () => two.encrypt(),
  'dours': () => sides.ours.decrypt(ct),
  'dours1': () => client1.decrypt(kr, ct),
  'dlimit': () => limit.decrypt(),
  'dlimit2': () => two.decrypt(),
}
const only = process.env.ONLY?.split(',')
const names = Object.keys(c).filter((n) => !only || only.includes(n))
/** @type {Record<string, number[]>} */
const t = Object.fromEntries(names.map((n) => [n, []]))
for (const n of names) for (let i = 0; i < 5; i++) await c[n]()
for (let r = 0; r < Number(process.env.R ?? 20); r++) for (const n of names) { const s = performance.now(); await c[n](); t[n].push(performance.now() - s) }
for (const n of names) { const v = t[n].sort((a, b) => a - b); console.log(n.padEnd(8), 'best', (size / 1e3 / v[0]).toFixed(0), 'med', (size / 1e3 / v[v.length >> 1]).toFixed(0), 'MB/s') }
await two.close()
process.exit(0)
