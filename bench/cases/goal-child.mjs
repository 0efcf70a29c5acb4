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
import { CONTENDERS } from './goals.mjs'

const USAGE = 'usage: goal-child.mjs <contender> encrypt|decrypt <entry> <suite id> <size> <frame length> <calls> <warm-up calls>'
/** A mistake in the arguments: one line on stderr, no stack trace, exit 2. @param {string} message @returns {never} */
function refuse(message) {
  process.stderr.write(`goal-child.mjs: ${message}\n${USAGE}\n`)
  process.exit(2)
}
/** @param {string | undefined} text @param {string} what @param {number} min */
function wholeNumber(text, what, min) {
  const n = Number(text)
  if (!text || !Number.isSafeInteger(n) || n < min) refuse(`${what} must be a whole number of at least ${min}, not ${text ?? 'nothing'}`)
  return n
}

const [contender, op, entry, suiteText, sizeText, frameText, callsText, warmupText] = process.argv.slice(2)
if (!contender || !entry) refuse('missing arguments')
if (op !== 'encrypt' && op !== 'decrypt') refuse(`the operation is encrypt or decrypt, not ${op ?? 'nothing'}`)
if (!(/** @type {readonly string[]} */ (CONTENDERS)).includes(contender)) refuse(`unknown contender ${contender}; known: ${CONTENDERS.join(', ')}`)
const suiteId = Number(suiteText)
if (![0x0178, 0x0478, 0x0578].includes(suiteId)) refuse(`unknown suite ${suiteText ?? 'nothing'}; known: 0x0178, 0x0478, 0x0578`)
const size = wholeNumber(sizeText, 'the size', 1)
const frameLength = wholeNumber(frameText, 'the frame length', 1)
const calls = wholeNumber(callsText, 'the number of calls', 1)
const warmup = wholeNumber(warmupText, 'the number of warm-up calls', 0)
const plaintext = patterned(size, size)

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
  // Checked above; kept so that a new name in CONTENDERS without a branch fails loudly.
  throw new Error(`no set-up for contender ${contender}`)
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
for (let i = 0; i < warmup; i++) await call()
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
