/**
 * Child of test/backends/frame-worker-stall-process.test.ts, bundled from src: one-shot
 * encrypt and decrypt of 4 MiB unsigned messages through a frame pool with a
 * short stall timeout, until stdin ends. Writes "out" as each run is about to
 * go to the worker and waits, blocked, for the parent's byte on fd 3: the
 * parent freezes it (SIGSTOP) before answering, so the freeze always lands
 * while the run is out and its stall timer runs. Writes "stall" when a stall
 * timer fires and "round" after each message, checks every message reads back to its exact input, and exits
 * 0 only if all did. Its first argument is the URL of the built frame worker.
 */
import { readSync, writeSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { FramePool } from '../../src/crypto/node-frame-worker.js'
import { createNodeBackend } from '../../src/crypto/node.js'
import { createClient, RawAesKeyring } from '../../src/index.js'

let stalls = 0
const pool = new FramePool({
  stallMs: 1,
  workerFile: new URL(process.argv[2]!),
  spawn: (file, options) => {
    const worker = new Worker(file, options)
    const post = worker.postMessage.bind(worker)
    worker.postMessage = (m: unknown) => {
      writeSync(1, 'out\n')
      waitForParent()
      post(m)
    }
    return worker
  },
  setTimer: (onStall, ms) => {
    const timer = setTimeout(() => {
      stalls++
      writeSync(1, 'stall\n')
      onStall()
    }, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
})
/** Blocks this thread until the parent writes a byte on fd 3 (it may freeze the process first). */
function waitForParent(): void {
  const byte = new Uint8Array(1)
  for (;;) {
    try {
      if (readSync(3, byte) === 1) return
      throw new Error('the parent closed the handshake pipe')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}

const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'stall', wrappingKey: new Uint8Array(32).fill(9) })
const parallel = createClient({ backend: createNodeBackend({ frameWorker: pool }) })
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
  writeSync(1, 'round\n')
  // Lets the stdin 'end' event in between messages.
  await new Promise((resolve) => setImmediate(resolve))
}
console.log(JSON.stringify({ rounds, mismatches, stalls }))
process.exitCode = mismatches === 0 ? 0 : 1
