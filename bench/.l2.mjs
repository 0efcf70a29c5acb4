import { makeTwoThreadLimit, makeLimit } from './contenders.mjs'
import { randomBytes } from 'node:crypto'
const N = 16 * 1024 * 1024
const pt = new Uint8Array(randomBytes(N))
const two = await makeTwoThreadLimit(pt, 4096)
const one = makeLimit(pt, 4096)
const which = process.argv[2]
const op = process.argv[3] ?? 'encrypt'
const call = which === 'two' ? () => two[op]() : async () => one[op]()
for (let i = 0; i < 5; i++) await call()
const t0 = performance.now(), c0 = process.cpuUsage()
for (let i = 0; i < 40; i++) await call()
const c1 = process.cpuUsage(c0)
console.log(('limit-' + which + ' ' + op).padEnd(8), 'wall/call', ((performance.now() - t0) / 40).toFixed(1), 'cpu/call', ((c1.user + c1.system) / 1000 / 40).toFixed(1))
await two.close()
