/**
 * The signature hash worker never blocks the calling thread and never queues
 * more than its ring (spec/backends.md#signature-backpressure): with the ring
 * full, update returns a promise that resolves once its bytes are queued, no
 * piece is copied anywhere else, and the signature is the one node:crypto
 * computes here. Its failures are typed, also for a caller waiting for room.
 * The worker is real; its transport holds the pieces back, so no slot frees
 * until the test says.
 */
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { IncrementalDecryptor } from '../../src/core/decryptor.js'
import { IncrementalEncryptor } from '../../src/core/stream-encryptor.js'
import { createNodeBackend } from '../../src/crypto/node.js'
import { HashWorker, SignaturePool, WorkerDigest } from '../../src/crypto/node-hash-worker.js'
import { ALL_SUITES } from '../../src/index.js'
import { toCmm } from '../../src/materials/cmm.js'
import { keyring, same, settingsFor } from '../streams/helpers.js'
import { concat } from '../support/helpers.js'
import { builtWorkerFile } from '../support/worker-files.js'

/** A real worker whose incoming messages the test holds back and then delivers. */
class HeldWorker {
  readonly worker: Worker
  hold = true
  readonly held: [unknown, ArrayBuffer[] | undefined][] = []
  /** Messages that moved a buffer of their own to the worker: bytes queued outside the ring. */
  transfers = 0

  constructor(file: URL, options: WorkerOptions) {
    this.worker = new Worker(file, options)
  }

  postMessage(m: unknown, transfer?: ArrayBuffer[]): void {
    if (transfer?.length) this.transfers++
    if (this.hold) this.held.push([m, transfer])
    else this.worker.postMessage(m, transfer)
  }

  on(event: string, listener: (value: any) => void): this {
    this.worker.on(event, listener)
    return this
  }

  ref(): void {
    this.worker.ref()
  }

  unref(): void {
    this.worker.unref()
  }

  /** Ring slots named by the data messages held back (a message names one slot, or several in a row). */
  get heldSlots(): number {
    return this.held
      .map(([m]) => m as { op: string; length: number })
      .filter((m) => m.op === 'data')
      .reduce((slots, m) => slots + Math.max(1, Math.ceil(m.length / PIECE)), 0)
  }

  deliver(): void {
    this.hold = false
    for (const [m, transfer] of this.held.splice(0)) this.worker.postMessage(m, transfer)
  }
}

const workerFile = await builtWorkerFile('hash-worker')

function heldWorker(): { worker: HashWorker; thread: HeldWorker } {
  let thread: HeldWorker | undefined
  const worker = new HashWorker((file, options) => (thread = new HeldWorker(file, options)), workerFile)
  return { worker, thread: thread! }
}

/** A node backend whose signature pool starts held workers; `thread()` is the one it started last. */
function heldBackend(): { backend: ReturnType<typeof createNodeBackend>; thread: () => HeldWorker } {
  let thread: HeldWorker | undefined
  const pool = new SignaturePool({ workerFile, spawn: (file, options) => (thread = new HeldWorker(file, options)) })
  return { backend: createNodeBackend({ signatureWorker: pool }), thread: () => thread! }
}

/** Settles-or-not, observed without waiting on it. */
function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false }
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  )
  return state
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const PIECE = 512 * 1024
const SLOTS = 8
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })

describe('signature hash worker', () => {
  it('a full ring makes update wait, queues nothing outside the ring, and keeps the signature', async () => {
    const { worker, thread } = heldWorker()
    const digest = WorkerDigest.start('sign', 'sha384', worker)!
    // 12 pieces of 512 KiB against a ring of 8 slots, none freed while the worker receives nothing.
    const data = randomBytes(12 * PIECE + 100)
    expect(digest.update(data.subarray(0, 5 * PIECE + 7))).toBeUndefined()
    const waiting = digest.update(data.subarray(5 * PIECE + 7))
    expect(waiting).toBeInstanceOf(Promise)
    const state = track(waiting!)
    for (let i = 0; i < 5; i++) await turn()
    expect(state.settled).toBe(false)
    // Bounded: the ring's slots, and not one piece moved in a buffer of its own.
    expect(thread.heldSlots).toBe(SLOTS)
    expect(thread.transfers).toBe(0)
    thread.deliver()
    await waiting
    const signature = await digest.sign(privateKey)
    expect(thread.transfers).toBe(0)
    expect(createVerify('sha384').update(data).verify(publicKey, signature)).toBe(true)
    await thread.worker.terminate()
  })

  it('the event loop turns while update waits for room', async () => {
    const { worker, thread } = heldWorker()
    const digest = WorkerDigest.start('verify', 'sha384', worker)!
    const waiting = digest.update(randomBytes((SLOTS + 2) * PIECE))
    expect(waiting).toBeInstanceOf(Promise)
    const state = track(waiting!)
    let turned = false
    setImmediate(() => (turned = true))
    await turn()
    expect(turned).toBe(true)
    expect(state.settled).toBe(false)
    thread.deliver()
    await waiting
    await thread.worker.terminate()
  })

  it('a worker that dies while a caller waits for room rejects the wait with a WorkerError', async () => {
    const { worker, thread } = heldWorker()
    const digest = WorkerDigest.start('sign', 'sha384', worker)!
    const waiting = digest.update(randomBytes((SLOTS + 3) * PIECE))
    expect(waiting).toBeInstanceOf(Promise)
    await thread.worker.terminate()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
  })

  it('a worker that dies holding a job fails it with a WorkerError', async () => {
    const { worker, thread } = heldWorker()
    thread.deliver()
    const digest = WorkerDigest.start('verify', 'sha384', worker)!
    expect(digest.update(randomBytes(600 * 1024))).toBeUndefined()
    const verifying = digest.verify(publicKey, new Uint8Array(64))
    await thread.worker.terminate()
    await expect(verifying).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
  })

  it('a signed stream waits for the worker in push, then encrypts and decrypts (0x0578)', async () => {
    const suite = ALL_SUITES.find((s) => s.id === 0x0578)!
    const settings = settingsFor(suite)
    const plaintext = randomBytes(6 * 1024 * 1024)
    const sealing = heldBackend()
    const encryptor = await IncrementalEncryptor.start(toCmm(keyring), { ...settings, backend: sealing.backend }, { frameLength: 4096 })
    const parts = [encryptor.headerBytes]
    // The first MiB is gathered in this thread; the next chunk starts the (held) worker's job and fills the ring.
    const first = encryptor.push(plaintext.subarray(0, 1024 * 1024 - 1))
    expect(Array.isArray(first)).toBe(true)
    parts.push(...(await first))
    const pushing = encryptor.push(plaintext.subarray(1024 * 1024 - 1))
    expect(pushing).toBeInstanceOf(Promise)
    const state = track(pushing as Promise<unknown>)
    for (let i = 0; i < 5; i++) await turn()
    expect(state.settled).toBe(false)
    let thread = sealing.thread()
    expect(thread.heldSlots).toBe(SLOTS)
    expect(thread.transfers).toBe(0)
    thread.deliver()
    parts.push(...(await pushing), ...(await encryptor.finish()))
    const ciphertext = concat(parts)
    await thread.worker.terminate()

    // The verifier gets the same ring, held again: push waits, then the message decrypts.
    const opening = heldBackend()
    const decryptor = new IncrementalDecryptor(toCmm(keyring), { ...settings, backend: opening.backend })
    const decrypting = decryptor.push(ciphertext)
    const decrypted = track(decrypting)
    for (let i = 0; i < 5; i++) await turn()
    expect(decrypted.settled).toBe(false)
    thread = opening.thread()
    expect(thread.heldSlots).toBe(SLOTS)
    expect(thread.transfers).toBe(0)
    thread.deliver()
    const out = [...(await decrypting), ...(await decryptor.end())]
    expect(same(concat(out), plaintext)).toBe(true)
    await thread.worker.terminate()
  })
})

describe('signature pool', () => {
  it('a large update goes to the ring as one message for several slots in a row', async () => {
    const { worker, thread } = heldWorker()
    const digest = WorkerDigest.start('sign', 'sha384', worker)!
    const data = randomBytes(4 * PIECE + 10)
    expect(digest.update(data)).toBeUndefined()
    // Four whole pieces in one message; the 10 bytes left wait in the job's own piece.
    expect(thread.held.filter(([m]) => (m as { op: string }).op === 'data')).toHaveLength(1)
    expect(thread.heldSlots).toBe(4)
    thread.deliver()
    const signature = await digest.sign(privateKey)
    expect(createVerify('sha384').update(data).verify(publicKey, signature)).toBe(true)
    await thread.worker.terminate()
  })

  it('after three failed workers it starts none, says why, and large messages still sign on this thread', async () => {
    const started: Worker[] = []
    const pool = new SignaturePool({ workerFile, spawn: (file, options) => started[started.push(new Worker(file, options)) - 1]! })
    const backend = createNodeBackend({ signatureWorker: pool })
    for (let i = 1; i <= 3; i++) {
      const worker = pool.worker()!
      expect(started).toHaveLength(i)
      const exited = new Promise((resolve) => started[i - 1]!.once('exit', resolve))
      await started[i - 1]!.terminate()
      await exited
      // The exit reaches the pool through the worker's listeners.
      await turn()
      expect(worker.failed).toBe(true)
      expect(pool.failures).toBe(i)
    }
    expect(pool.worker()).toBeUndefined()
    expect(started).toHaveLength(3)
    expect(backend.signatureWorker).toEqual({ available: false, reason: expect.stringMatching(/^3 signature workers failed/) })
    const key = await backend.generateSigningKey('P-384')
    const signer = backend.createSigner(key, 'sha384')
    const data = randomBytes(2 * 1024 * 1024)
    expect(signer.update(data)).toBeUndefined()
    const signature = await signer.sign()
    const verifier = backend.createVerifier(backend.importVerificationKey('P-384', key.publicKey), 'sha384')
    verifier.update(data)
    expect(await verifier.verify(signature)).toBe(true)
    // Hashed here: no fourth worker was started for it.
    expect(started).toHaveLength(3)
  })

  it('signatureWorker: false hashes large messages on this thread, and says so', async () => {
    const backend = createNodeBackend({ signatureWorker: false })
    expect(backend.signatureWorker).toEqual({ available: false, reason: 'turned off: createNodeBackend({ signatureWorker: false })' })
    const key = await backend.generateSigningKey('P-384')
    const signer = backend.createSigner(key, 'sha384')
    const data = randomBytes(2 * 1024 * 1024)
    signer.update(data)
    const verifier = backend.createVerifier(backend.importVerificationKey('P-384', key.publicKey), 'sha384')
    verifier.update(data)
    expect(await verifier.verify(await signer.sign())).toBe(true)
  })
})
