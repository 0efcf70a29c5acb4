/**
 * Child of test/backends/frame-worker-stall.test.ts, bundled from src: one-shot
 * encrypt and decrypt of 4 MiB unsigned messages through a frame pool with a
 * short stall timeout, until stdin ends. Writes "out" as each run goes to the
 * worker (the parent freezes it then), checks every message reads back to its
 * exact input, and exits 0 only if all did.
 */
import { writeSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { FramePool } from '../../src/crypto/node-frame-worker.js'
import { nodeBackendWithFramePool } from '../../src/crypto/node.js'
import { createClient, RawAesKeyring } from '../../src/index.js'

let stalls = 0
const pool = new FramePool({
  stallMs: 1,
  spawn: (source, options) => {
    const worker = new Worker(source, options)
    const post = worker.postMessage.bind(worker)
    worker.postMessage = (m: unknown) => {
      post(m)
      writeSync(1, 'out\n')
    }
    return worker
  },
  setTimer: (onStall, ms) => {
    const timer = setTimeout(() => {
      stalls++
      onStall()
    }, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
})
const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'stall', wrappingKey: new Uint8Array(32).fill(9) })
const parallel = createClient({ backend: nodeBackendWithFramePool(pool) })
const serial = createClient({ parallel: false })

let done = false
process.stdin.on('data', () => {})
process.stdin.on('end', () => (done = true))

let rounds = 0
let mismatches = 0
while (!done) {
  const plaintext = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7 + rounds) & 255)
  const { ciphertext } = await parallel.encrypt(keyring, plaintext, { suiteId: 0x0478, frameLength: 4096 })
  for (const c of [serial, parallel]) {
    const decrypted = await c.decrypt(keyring, ciphertext).then((r) => r.plaintext, () => undefined)
    if (!decrypted || Buffer.compare(decrypted, plaintext) !== 0) mismatches++
  }
  rounds++
  // Lets the stdin 'end' event in between messages.
  await new Promise((resolve) => setImmediate(resolve))
}
console.log(JSON.stringify({ rounds, mismatches, stalls }))
process.exitCode = mismatches === 0 ? 0 : 1
