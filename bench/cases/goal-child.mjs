// @ts-check
/**
 * One contender of the goals case (goals.mjs) in a fresh process: it loads
 * only what it measures, checks its own round trip, warms up, then times
 * `calls` calls back to back. Nothing another contender allocated or left to
 * the garbage collector runs here, and the process's allocator starts clean.
 * argv: contender, op (encrypt|decrypt), entry (our module path), suite id,
 * size, frame length, calls, warm-up calls.
 * Prints one JSON line: { msPerCall, cpuMsPerCall, mainFaultsPerCall, faultsPerCall }
 * (page faults: Linux only, else null; the main thread's, and the process's).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { CONTEXT, makeLimit, makeTwoThreadLimit, peerAesKeyring, policyFor } from '../contenders.mjs'
import { assertSameBytes, patterned } from '../harness.mjs'

const [contender, op, entry, suiteText, sizeText, frameText, callsText, warmupText] = process.argv.slice(2)
if (!contender || !entry || !sizeText || !warmupText || (op !== 'encrypt' && op !== 'decrypt')) {
  throw new Error('usage: goal-child.mjs <contender> encrypt|decrypt <entry> <suite id> <size> <frame length> <calls> <warm-up calls>')
}
const suiteId = Number(suiteText)
const frameLength = Number(frameText)
const plaintext = patterned(Number(sizeText), Number(sizeText))
const calls = Number(callsText)

/** @returns {Promise<{ call: () => unknown, close?: () => unknown }>} */
const setUp = async () => {
  const wrappingKey = new Uint8Array(32).fill(7)
  const options = { suiteId, frameLength, encryptionContext: CONTEXT }
  if (contender === 'ours' || contender === 'ours 1 thread') {
    /** @type {import('../contenders.mjs').Ours} */
    const ours = await import(pathToFileURL(entry).href)
    const client = ours.createClient({ commitmentPolicy: policyFor(suiteId), parallel: contender === 'ours' })
    const keyring = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-256', wrappingKey })
    const { ciphertext } = await client.encrypt(keyring, plaintext, options)
    assertSameBytes((await client.decrypt(keyring, ciphertext)).plaintext, plaintext, `${contender} round-trips`)
    return { call: op === 'encrypt' ? () => client.encrypt(keyring, plaintext, options) : () => client.decrypt(keyring, ciphertext) }
  }
  if (contender === 'peer') {
    /** @type {import('../contenders.mjs').Peer} */
    const peer = createRequire(entry)('@aws-crypto/client-node')
    const client = peer.buildClient(peer.CommitmentPolicy[policyFor(suiteId)])
    const keyring = peerAesKeyring(peer, wrappingKey)
    const { result } = await client.encrypt(keyring, plaintext, options)
    assertSameBytes((await client.decrypt(keyring, result)).plaintext, plaintext, 'the peer round-trips')
    return { call: op === 'encrypt' ? () => client.encrypt(keyring, plaintext, options) : () => client.decrypt(keyring, result) }
  }
  if (contender === 'limit' || contender === 'limit + output') {
    const limit = makeLimit(plaintext, frameLength)
    assertSameBytes(limit.roundTrip(), plaintext, 'the limit round-trips')
    assertSameBytes(limit.decryptToBuffer(), plaintext, 'the limit with output decrypts')
    if (contender === 'limit') return { call: op === 'encrypt' ? () => limit.encrypt() : () => limit.decrypt() }
    return { call: op === 'encrypt' ? () => limit.encryptToBuffer() : () => limit.decryptToBuffer() }
  }
  if (contender === 'limit 2 threads') {
    const two = await makeTwoThreadLimit(plaintext, frameLength)
    // Its decrypt checks every tag its encrypt's twin sealed at setup.
    await two.decrypt()
    return { call: op === 'encrypt' ? () => two.encrypt() : () => two.decrypt(), close: () => two.close() }
  }
  throw new Error(`unknown contender ${contender}; known: ours, ours 1 thread, peer, limit, limit + output, limit 2 threads`)
}

/** Minor page faults so far of one thread (`/proc/self/task/<tid>/stat`, field 10); null off Linux. */
function threadFaults(/** @type {string} */ tid) {
  try {
    // The command name before the field may hold spaces, so count from its closing parenthesis.
    return Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[7])
  } catch {
    return null
  }
}
/**
 * Of the main thread, and of every thread alive now (workers and the runtime's own threads; they all
 * live through the timed calls). Summed per thread: this kernel's /proc/self/stat has shown fewer than
 * the main thread alone.
 */
/** @returns {[main: number, all: number] | [null, null]} */
function minorFaults() {
  const tids = (() => {
    try {
      return readdirSync('/proc/self/task')
    } catch {
      return []
    }
  })()
  // One pass, the main thread's count among the others: all - main is then the other threads' own.
  let main = null
  let all = 0
  for (const tid of tids) {
    const faults = threadFaults(tid) ?? 0
    if (tid === String(process.pid)) main = faults
    all += faults
  }
  return main === null ? [null, null] : [main, all]
}

const { call, close } = await setUp()
for (let i = 0; i < Number(warmupText); i++) await call()
const [main0, all0] = minorFaults()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
for (let i = 0; i < calls; i++) await call()
const ms = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const [main1, all1] = minorFaults()
await close?.()
const per = (/** @type {number | null} */ a, /** @type {number | null} */ b) => (a === null || b === null ? null : (b - a) / calls)
process.stdout.write(
  JSON.stringify({ msPerCall: ms / calls, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls, mainFaultsPerCall: per(main0, main1), faultsPerCall: per(all0, all1) }) + '\n',
)
process.exit(0)
