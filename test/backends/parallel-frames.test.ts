/**
 * One-shot encrypt and decrypt of large unsigned messages do part of their
 * frames on the node backend's frame worker (spec/backends.md#parallel-frames).
 * Messages sealed that way must be ordinary messages, read by us and by the
 * peer; messages opened that way must fail exactly as on one thread; and
 * both must work when the worker dies holding a run.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { beforeAll, describe, expect, it } from 'vitest'
import { FramePool } from '../../src/crypto/node-frame-worker.js'
import { createClient, RawAesKeyring } from '../../src/index.js'
import { createNodeBackend } from '../../src/crypto/node.js'
import { builtWorkerFile } from '../support/worker-files.js'
import { bodySize, RegularFrame } from '../../src/format/frame.js'
import { aesKey, patterned } from '../support/keys.js'
import { peerAesKeyring, peerAllow } from '../support/peer.js'

const MiB = 1024 * 1024
const wrappingKey = aesKey(32)
const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'parallel', wrappingKey })
const peerKeyring = peerAesKeyring('ns', 'parallel', wrappingKey)

/** Set to end the worker right after it receives its next run, as a crash would end it. */
let crashNextRun = false
/** Every run posted, in order: its shared buffer and the bytes of input in it. */
const posted: { input: SharedArrayBuffer; length: number }[] = []
/** The worker's last answer, as this thread received it (the same object the pool gets). */
let lastAnswer: { output?: ArrayBuffer } | undefined
const pool = new FramePool({
  workerFile: await builtWorkerFile('frame-worker'),
  spawn: (file, options) => {
    const worker = new Worker(file, options)
    worker.on('message', (m: { output?: ArrayBuffer }) => (lastAnswer = m))
    const post = worker.postMessage.bind(worker)
    worker.postMessage = (m: unknown) => {
      posted.push(m as { input: SharedArrayBuffer; length: number })
      post(m)
      if (crashNextRun) {
        crashNextRun = false
        void worker.terminate()
      }
    }
    return worker
  },
})
const backend = createNodeBackend({ frameWorker: pool })
const frameWorkerState = () => ({ ready: pool.ready, runs: pool.status.runs, failures: pool.failures })
const client = createClient({ backend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const serial = createClient({ backend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', parallel: false })

/** The first large message starts the worker without waiting for it; this waits until it is online. */
async function workerReady(): Promise<void> {
  for (let i = 0; i < 200 && !frameWorkerState().ready; i++) {
    await client.encrypt(keyring, patterned(2 * MiB), { suiteId: 0x0478 })
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  expect(frameWorkerState().ready).toBe(true)
}

/** Encrypts with `c`, returns the message and how many runs the worker sealed meanwhile. */
async function encryptCountingRuns(c: typeof client, plaintext: Uint8Array, options: { suiteId: number; frameLength?: number }) {
  const before = frameWorkerState().runs
  const { ciphertext } = await c.encrypt(keyring, plaintext, options)
  return { ciphertext, runs: frameWorkerState().runs - before }
}

async function expectBothRead(ciphertext: Uint8Array, plaintext: Uint8Array): Promise<void> {
  expect(Buffer.compare((await client.decrypt(keyring, ciphertext)).plaintext, plaintext)).toBe(0)
  expect(Buffer.compare((await peerAllow.decrypt(peerKeyring, ciphertext)).plaintext, plaintext)).toBe(0)
}

// With one core the backend never starts a worker, so there is nothing to test.
describe.runIf(availableParallelism() >= 2)('parallel frames (node backend, two or more cores)', () => {
  beforeAll(workerReady, 60_000)

  // Frame lengths that do and do not divide the message, a final frame that is full, 1-byte and empty
  // final frames, both message formats and three key lengths.
  const shapes = [
    { suite: '0x0478', size: 3 * MiB, frameLength: 4096 },
    { suite: '0x0478', size: 3 * MiB + 1, frameLength: 4096 },
    { suite: '0x0478', size: 2 * MiB + 999, frameLength: 1000 },
    { suite: '0x0178', size: 3 * MiB - 7, frameLength: 4095 },
    { suite: '0x0014', size: 2 * MiB + 4096, frameLength: 512 },
    { suite: '0x0146', size: 2 * MiB + 13, frameLength: 333 },
  ] as const

  it.each(shapes)('seals part of $suite / $size B / $frameLength B frames on the worker; we and the peer read it', async ({ suite, size, frameLength }) => {
    const suiteId = Number(suite)
    const plaintext = patterned(size, size)
    const commitmentPolicy = suiteId === 0x0478 ? 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT'
    const { ciphertext, runs } = await encryptCountingRuns(createClient({ backend, commitmentPolicy }), plaintext, { suiteId, frameLength })
    expect(runs).toBe(1)
    // Exactly the size of a message sealed on one thread.
    const { ciphertext: reference } = await createClient({ backend, commitmentPolicy, parallel: false }).encrypt(keyring, plaintext, { suiteId, frameLength })
    expect(ciphertext.length).toBe(reference.length)
    await expectBothRead(ciphertext, plaintext)
  })

  it('leaves small messages, frames over 4 KiB, signed suites and parallel: false on this thread', async () => {
    for (const [c, plaintext, suiteId, frameLength] of [
      [client, patterned(MiB), 0x0478, 4096],
      [client, patterned(4 * MiB), 0x0478, 4097],
      [client, patterned(4 * MiB), 0x0578, 4096],
      [serial, patterned(4 * MiB), 0x0478, 4096],
    ] as const) {
      await workerReady()
      const { ciphertext, runs } = await encryptCountingRuns(c, plaintext, { suiteId, frameLength })
      expect(runs).toBe(0)
      await expectBothRead(ciphertext, plaintext)
    }
  })

  it('serves one message at a time: concurrent large encrypts all succeed, the others sealed here', async () => {
    const plaintexts = [0, 1, 2, 3].map((i) => patterned(2 * MiB + i, i))
    const before = frameWorkerState().runs
    const messages = await Promise.all(plaintexts.map((p) => client.encrypt(keyring, p, { suiteId: 0x0478 })))
    expect(frameWorkerState().runs - before).toBeGreaterThanOrEqual(1)
    expect(frameWorkerState().runs - before).toBeLessThan(4)
    for (const [i, { ciphertext }] of messages.entries()) await expectBothRead(ciphertext, plaintexts[i]!)
  })

  it('a caller that awaits message after message, never turning the event loop, still gets the worker', async () => {
    // A pool of its own, so its worker starts during this loop. Raw AES keys: nothing here waits for I/O.
    const fresh = new FramePool({ workerFile: await builtWorkerFile('frame-worker') })
    const tight = createClient({ backend: createNodeBackend({ frameWorker: fresh }) })
    const plaintext = patterned(2 * MiB, 9)
    for (let i = 0; i < 1000 && fresh.status.runs === 0; i++) await tight.encrypt(keyring, plaintext, { suiteId: 0x0478 })
    expect(fresh.status.runs).toBeGreaterThan(0)
  })

  it('reuses the shared buffer of a finished run, wiped of plaintext', async () => {
    await workerReady()
    // The worker gets 20 to 60 % of the frames (src/core/offload.ts): at least 1.6 MiB of this message,
    // at most 1.2 MiB of the next ones, which therefore fit in its buffer.
    const first = await encryptCountingRuns(client, patterned(8 * MiB, 5), { suiteId: 0x0478 })
    expect(first.runs).toBe(1)
    const { input: buffer, length } = posted.at(-1)!
    // The worker wiped the plaintext it sealed before it answered (the bytes after the owner word).
    expect(length).toBeGreaterThan(1.5 * MiB)
    expect(new Uint8Array(buffer, 8, length).every((b) => b === 0)).toBe(true)
    for (const seed of [6, 7]) {
      expect((await encryptCountingRuns(client, patterned(2 * MiB, seed), { suiteId: 0x0478 })).runs).toBe(1)
      expect(posted.at(-1)!.input).toBe(buffer)
    }
  })

  it('hands off at most 16 MiB of a large message, so runs reuse the kept buffers', async () => {
    // A fresh shared buffer per run was freed only when the idle worker's heap was collected: 10 MiB kept per 32 MiB message.
    await workerReady()
    const plaintext = patterned(40 * MiB, 11)
    const from = posted.length
    let ciphertext: Uint8Array = new Uint8Array(0)
    for (let i = 0; i < 3; i++) {
      const sealed = await encryptCountingRuns(client, plaintext, { suiteId: 0x0478 })
      expect(sealed.runs).toBe(1)
      ciphertext = sealed.ciphertext
      expect(Buffer.compare((await client.decrypt(keyring, ciphertext)).plaintext, plaintext)).toBe(0)
    }
    await expectBothRead(ciphertext, plaintext)
    const runs = posted.slice(from)
    // Three encrypts and four decrypts (expectBothRead decrypts once more) went to the worker, each at most 16 MiB with its owner word.
    expect(runs.length).toBe(7)
    for (const run of runs) expect(8 + run.length).toBeLessThanOrEqual(16 * MiB)
    // A buffer is replaced only by a larger one, never larger than 16 MiB: a few at most, not one per run.
    const buffers = new Set(runs.map((run) => run.input))
    expect(buffers.size).toBeLessThanOrEqual(3)
    for (const buffer of buffers) expect(buffer.byteLength).toBeLessThanOrEqual(16 * MiB)
  })

  it('does not take a run larger than 16 MiB given to the pool directly', async () => {
    await workerReady()
    const key = (await import('node:crypto')).createSecretKey(Buffer.alloc(32, 1))
    const run = { algorithm: 'aes-256-gcm', key, aadPrefix: new Uint8Array(40), firstSequence: 1, frameLength: 4096, input: new Uint8Array(16 * MiB) }
    expect(pool.seal(run)).toBeUndefined()
    expect(pool.ready).toBe(true)
  })

  it('seals the run here when the worker dies holding it, and starts a new worker afterwards', async () => {
    const plaintext = patterned(16 * MiB, 3)
    const { failures: failuresBefore, runs: runsBefore } = frameWorkerState()
    crashNextRun = true
    const pending = client.encrypt(keyring, plaintext, { suiteId: 0x0478 })
    const { ciphertext } = await pending
    const crashed = posted.length - 1
    const held = posted[crashed]!.input
    expect(frameWorkerState().failures).toBe(failuresBefore + 1)
    expect(frameWorkerState().runs).toBe(runsBefore) // sealed here, from the copy
    await expectBothRead(ciphertext, plaintext)
    await workerReady()
    const again = await encryptCountingRuns(client, plaintext, { suiteId: 0x0478 })
    expect(again.runs).toBe(1)
    await expectBothRead(again.ciphertext, plaintext)
    // The buffer the dead worker held is never used again: it might still have written to it.
    expect(posted.length).toBeGreaterThan(crashed + 1)
    expect(posted.slice(crashed + 1).map((m) => m.input)).not.toContain(held)
  })

  describe('decrypt', () => {
    const frameLength = 4096
    const step = frameLength + RegularFrame.OVERHEAD
    /** A 0x0478 message of `frames` regular frames and a final frame, sealed on one thread, and where its body starts. */
    async function message(frames: number) {
      const plaintext = patterned(frames * frameLength + 100, frames)
      const { ciphertext, header } = await serial.encrypt(keyring, plaintext, { suiteId: 0x0478, frameLength })
      const bodyStart = ciphertext.length - bodySize(frames * frameLength + 100, frameLength)
      expect(header.frameLength).toBe(frameLength)
      return { plaintext, ciphertext, bodyStart }
    }

    async function decryptCountingRuns(c: typeof client, ciphertext: Uint8Array) {
      const before = frameWorkerState().runs
      const result = await c.decrypt(keyring, ciphertext).then(
        (r) => ({ plaintext: r.plaintext, error: undefined }),
        (error: unknown) => ({ plaintext: undefined, error: error as { code?: string; sequenceNumber?: number; message: string } }),
      )
      return { ...result, runs: frameWorkerState().runs - before }
    }

    it('wipes the worker\'s verified plaintext when a later frame fails', async () => {
      const { ciphertext } = await message(700)
      const tampered = Uint8Array.from(ciphertext)
      // The last byte is the final frame's tag: every regular frame verifies, the message does not.
      tampered[tampered.length - 1]! ^= 1
      lastAnswer = undefined
      const { error, runs } = await decryptCountingRuns(client, tampered)
      expect(error?.code).toBe('ERR_AUTHENTICATION_FAILED')
      expect(runs).toBe(1)
      const output = new Uint8Array(lastAnswer!.output!)
      expect(output.length).toBeGreaterThan(0)
      expect(output.every((b) => b === 0)).toBe(true)
    })

    it('opens part of a large message on the worker, ours and the peer\'s', async () => {
      const { plaintext, ciphertext } = await message(700)
      const mine = await decryptCountingRuns(client, ciphertext)
      expect(mine.runs).toBe(1)
      expect(Buffer.compare(mine.plaintext!, plaintext)).toBe(0)
      const peerMessage = (await peerAllow.encrypt(peerKeyring, plaintext, { frameLength, suiteId: 0x0478 })).result
      const theirs = await decryptCountingRuns(client, peerMessage)
      expect(theirs.runs).toBe(1)
      expect(Buffer.compare(theirs.plaintext!, plaintext)).toBe(0)
      expect((await decryptCountingRuns(serial, ciphertext)).runs).toBe(0)
    })

    it('fails on a flipped bit in a frame opened here, on the worker, or in the final frame, naming the frame', async () => {
      const { ciphertext, bodyStart } = await message(700)
      // Frame 10 is opened here, frame 600 on the worker (the later 45 %), 701 is the final frame.
      for (const seq of [10, 600, 701]) {
        const bad = Uint8Array.from(ciphertext)
        bad[bodyStart + (seq - 1) * step + 40]! ^= 1
        await workerReady()
        const { error, plaintext, runs } = await decryptCountingRuns(client, bad)
        // Frame 10 fails before the worker's answer is awaited; the other two wait for it.
        if (seq !== 10) expect(runs).toBe(1)
        expect(plaintext).toBeUndefined()
        expect(error?.code).toBe('ERR_AUTHENTICATION_FAILED')
        expect(error?.message).toContain(String(seq))
      }
    })

    it('fails on frames out of order and on truncation, as on one thread', async () => {
      const { ciphertext, bodyStart } = await message(700)
      const swapped = Uint8Array.from(ciphertext)
      const a = bodyStart + 599 * step
      swapped.set(ciphertext.subarray(a + step, a + 2 * step), a)
      swapped.set(ciphertext.subarray(a, a + step), a + step)
      const truncated = ciphertext.subarray(0, bodyStart + 650 * step + 7)
      for (const bad of [swapped, truncated]) {
        await workerReady()
        const parallel = await decryptCountingRuns(client, bad)
        expect(parallel.runs).toBe(1)
        const one = await decryptCountingRuns(serial, bad)
        expect(parallel.error?.code).toBeDefined()
        expect(parallel.error?.code).toBe(one.error?.code)
        expect(parallel.error?.message).toBe(one.error?.message)
      }
    })

    it('opens the run here when the worker dies holding it', async () => {
      const { plaintext, ciphertext } = await message(4000)
      // A run abandoned by an earlier failed decrypt is collected on a later turn of the event loop.
      await workerReady()
      const { failures, runs } = frameWorkerState()
      crashNextRun = true
      const result = await client.decrypt(keyring, ciphertext)
      expect(frameWorkerState().failures).toBe(failures + 1)
      expect(frameWorkerState().runs).toBe(runs)
      expect(Buffer.compare(result.plaintext, plaintext)).toBe(0)
      await workerReady()
    })
  })

  it('rejects a parallel option that is not a boolean', () => {
    expect(() => createClient({ parallel: 'yes' as unknown as boolean })).toThrow(TypeError)
  })
})
