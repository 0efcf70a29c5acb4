/**
 * A frame worker that stalls (spec/backends.md#worker-failures): whatever the
 * moment the stall timer fires, a run gives the frames of its input or a
 * typed error, never frames of memory the worker wiped or still uses. The
 * pool gets a real worker behind a transport that holds its messages back, and
 * a clock the test fires (a child process frozen for real:
 * test/backends/frame-worker-stall-process.test.ts).
 */
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { availableParallelism } from 'node:os'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { FramePool, type FrameRun } from '../../src/crypto/node-frame-worker.js'
import { createNodeBackend } from '../../src/crypto/node.js'
import { bodySize, RegularFrame } from '../../src/format/frame.js'
import { createClient, RawAesKeyring } from '../../src/index.js'
import { builtWorkerFile } from '../support/worker-files.js'

/** A real worker whose messages, both ways, the test may hold back and then deliver or drop. */
class HeldWorker extends EventEmitter {
  readonly worker: Worker
  holdAnswers = false
  holdRuns = false
  readonly answers: unknown[] = []
  readonly runs: unknown[] = []

  constructor(file: URL, options: WorkerOptions) {
    super()
    this.worker = new Worker(file, options)
    for (const event of ['online', 'error', 'exit']) this.worker.on(event, (value: unknown) => this.emit(event, value))
    this.worker.on('message', (m: unknown) => {
      if (!this.holdAnswers) return void this.emit('message', m)
      this.answers.push(m)
      this.emit('held')
    })
  }

  postMessage(m: unknown): void {
    if (this.holdRuns) this.runs.push(m)
    else this.worker.postMessage(m)
  }

  ref(): void {
    this.worker.ref()
  }

  unref(): void {
    this.worker.unref()
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }

  deliverAnswers(): void {
    this.holdAnswers = false
    for (const m of this.answers.splice(0)) this.emit('message', m)
  }

  deliverRuns(): void {
    this.holdRuns = false
    for (const m of this.runs.splice(0)) this.worker.postMessage(m)
  }
}

const frameLength = 4096
const key = createSecretKey(randomBytes(32))
const aadPrefix = randomBytes(40)

/** The run's frames as the message format lays them out, sealed here with node:crypto. */
function expectedFrames(plaintext: Uint8Array, firstSequence: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; i * frameLength < plaintext.length; i++) {
    const seq = Buffer.alloc(4)
    seq.writeUInt32BE(firstSequence + i)
    const iv = Buffer.concat([Buffer.alloc(8), seq])
    const length = Buffer.alloc(8)
    length.writeUInt32BE(frameLength, 4)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.concat([aadPrefix, seq, length]))
    const body = Buffer.concat([cipher.update(plaintext.subarray(i * frameLength, (i + 1) * frameLength)), cipher.final()])
    parts.push(seq, iv, body, cipher.getAuthTag())
  }
  return Buffer.concat(parts)
}

/** A pool whose worker is a HeldWorker and whose stall timer fires when the test says. */
async function heldPool() {
  let thread: HeldWorker | undefined
  let stall: (() => void) | undefined
  const pool = new FramePool({
    workerFile: await builtWorkerFile('frame-worker'),
    spawn: (file, options) => (thread = new HeldWorker(file, options)),
    setTimer: (onStall) => {
      stall = onStall
      return () => {
        if (stall === onStall) stall = undefined
      }
    },
  })
  const plaintext = randomBytes(300 * frameLength)
  const run: FrameRun = { algorithm: 'aes-256-gcm', key, aadPrefix, firstSequence: 7, frameLength, input: plaintext }
  // The first run starts the worker and is not given to it.
  expect(pool.seal(run)).toBeUndefined()
  // The worker flags itself started in shared memory; a few turns of the event loop let it boot.
  for (let i = 0; i < 5000 && !pool.ready; i++) await new Promise((resolve) => setTimeout(resolve, 1))
  expect(pool.ready).toBe(true)
  return { pool, run, plaintext, expected: expectedFrames(plaintext, 7), thread: thread!, fireStall: () => stall!() }
}

const threads: HeldWorker[] = []
afterEach(async () => {
  for (const thread of threads.splice(0)) await thread.terminate()
})

/** A held pool with a run out whose answer the worker has sent and the transport holds back. */
async function runWithHeldAnswer() {
  const held = await heldPool()
  threads.push(held.thread)
  held.thread.holdAnswers = true
  const sealing = held.pool.seal(held.run)!
  await once(held.thread, 'held')
  return { ...held, sealing }
}

describe.runIf(availableParallelism() >= 2)('frame worker stalls', () => {
  it('stall timer fires after the worker finished and wiped its copy, before its answer is read: the answer is used', async () => {
    const { pool, run, expected, thread, fireStall } = await heldPool()
    threads.push(thread)
    thread.holdAnswers = true
    const sealing = pool.seal(run)!
    await once(thread, 'held')
    fireStall()
    thread.deliverAnswers()
    const { bytes, ms } = await sealing
    expect(Buffer.compare(bytes, expected)).toBe(0)
    // The worker says how long it worked on the run, for the next split.
    expect(ms).toBeGreaterThan(0)
  })

  it('stall timer fires before the worker took the run: sealed here, and the late run changes nothing', async () => {
    const { pool, run, expected, thread, fireStall } = await heldPool()
    threads.push(thread)
    thread.holdRuns = true
    const sealing = pool.seal(run)!
    fireStall()
    const { bytes: sealed, ms } = await sealing
    expect(Buffer.compare(sealed, expected)).toBe(0)
    // Sealed here: this thread's time on it.
    expect(ms).toBeGreaterThan(0)
    const kept = Buffer.from(sealed)
    thread.deliverRuns()
    await once(thread, 'exit')
    expect(Buffer.compare(sealed, kept)).toBe(0)
    expect(pool.failures).toBe(1)
  })

  it('a timer that fires at once: the run is taken back and sealed here, not left hanging', async () => {
    const pool = new FramePool({
      workerFile: await builtWorkerFile('frame-worker'),
      spawn: (file, options) => {
        const thread = new HeldWorker(file, options)
        threads.push(thread)
        return thread
      },
      setTimer: (onStall) => {
        onStall()
        return () => undefined
      },
    })
    const plaintext = randomBytes(300 * frameLength)
    const run: FrameRun = { algorithm: 'aes-256-gcm', key, aadPrefix, firstSequence: 7, frameLength, input: plaintext }
    expect(pool.seal(run)).toBeUndefined()
    for (let i = 0; i < 5000 && !pool.ready; i++) await new Promise((resolve) => setTimeout(resolve, 1))
    const { bytes } = await pool.seal(run)!
    expect(Buffer.compare(bytes, expectedFrames(plaintext, 7))).toBe(0)
    expect(pool.stalls).toBe(1)
  })

  it('an answer delivered twice is used once; the repeat does not touch the frames already given out', async () => {
    const { pool, expected, thread, sealing } = await runWithHeldAnswer()
    const [answer] = thread.answers
    thread.deliverAnswers()
    const { bytes } = await sealing
    thread.emit('message', answer)
    expect(Buffer.compare(bytes, expected)).toBe(0)
    expect(pool.failures).toBe(0)
  })

  it('a time that is not a positive number of milliseconds is ignored, and the frames are used', async () => {
    const { expected, thread, sealing } = await runWithHeldAnswer()
    const answer = thread.answers[0] as { ms?: unknown }
    answer.ms = 12n
    thread.deliverAnswers()
    const { bytes, ms } = await sealing
    expect(ms).toBe(0)
    expect(Buffer.compare(bytes, expected)).toBe(0)
  })

  it.each([
    ['an output that is not a buffer', { output: -1 }],
    ['an output of the wrong size', { output: new ArrayBuffer(10) }],
    ['neither output nor a failed frame', {}],
    ['a failed frame that is not one of the run', { failed: 'x' }],
    ['a failed frame outside the run', { failed: 1 }],
  ])('an answer this version cannot read (%s): a typed error after the worker finished, and the worker is dropped', async (_, replaced) => {
    const { pool, thread, sealing } = await runWithHeldAnswer()
    const { run: id } = thread.answers[0] as { run: number }
    thread.answers[0] = { run: id, ...replaced }
    thread.deliverAnswers()
    await expect(sealing).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
    expect(pool.failures).toBe(1)
  })

  it('a decrypt that fails here while the worker holds its run: the run failing later is no unhandled rejection', async () => {
    const { pool, thread } = await heldPool()
    const client = createClient({ backend: createNodeBackend({ frameWorker: pool }), commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32).fill(3) })
    const { ciphertext } = await createClient({ parallel: false }).encrypt(keyring, randomBytes(600 * frameLength), { suiteId: 0x0478, frameLength })
    // A flipped bit in the first frame's tag: this thread fails on its own share while the worker has the rest.
    const tampered = Uint8Array.from(ciphertext)
    const firstTag = ciphertext.length - bodySize(600 * frameLength, frameLength) + RegularFrame.CONTENT + frameLength
    tampered[firstTag]! ^= 1
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      thread.holdAnswers = true
      await expect(client.decrypt(keyring, tampered)).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED' })
      expect(thread.worker.threadId).toBeGreaterThan(0)
      // The worker's answer is lost with it: its run fails with a WorkerError nobody awaits.
      await once(thread, 'held')
      thread.answers.length = 0
      await thread.terminate()
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(pool.failures).toBe(1)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('the worker exits after finishing, before its answer is read: a typed error, not frames of its wiped copy', async () => {
    const { pool, run, thread } = await heldPool()
    thread.holdAnswers = true
    const sealing = pool.seal(run)!
    await once(thread, 'held')
    thread.answers.length = 0
    await thread.terminate()
    await expect(sealing).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
  })
})
