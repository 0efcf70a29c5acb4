/**
 * A worker thread that hashes, signs and verifies large signed messages, so
 * SHA-384 over the message runs on another core while this thread does
 * AES-GCM (spec/backends.md#node). Only messages of 1 MiB or more come here;
 * smaller ones are signed in libuv's thread pool (node-ecdsa.ts).
 *
 * - One worker per process, made on first use. It keeps the process alive only
 *   while a result or a free slot is awaited, so an abandoned stream never
 *   holds the process and a waiting one is not cut short.
 * - Bytes travel through a fixed ring of shared slots: each job gathers a
 *   piece in its own buffer, copies it into a free slot and names the slot in
 *   a small message; the worker hashes the slot and marks it free. Memory is
 *   the ring, whatever the message size. Nothing the caller holds is shared,
 *   so later changes to the caller's bytes cannot reach what is hashed.
 * - When every slot is queued, update returns a promise and stops there: the
 *   rest of its bytes are read, from the caller's buffer, as slots free, and
 *   the promise resolves once all are queued. Nothing is copied outside the
 *   ring and the job's piece, so memory stays bounded however far the
 *   producer runs ahead of SHA-384; the wait is Atomics.waitAsync, which never
 *   blocks this thread (spec/backends.md#worker-failures).
 * - A worker that fails takes its jobs' hash state with it; those messages
 *   fail with a WorkerError (their input is gone, so this thread cannot redo
 *   them), and the next message starts a new worker.
 * - A job abandoned before its result (a destroyed stream) is dropped in the
 *   worker once its owner is garbage-collected.
 */
import type { KeyObject } from 'node:crypto'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { WorkerError } from '../errors.js'
import { builtWorkerFile, missingWorkerFile } from './worker-file.js'

/** Bytes per piece (and slot): one message per 512 KiB, not one per frame. */
const PIECE = 512 * 1024
/** Slots in the ring: at most SLOTS * PIECE bytes (4 MiB) are queued for the worker. */
const SLOTS = 8
/** The built worker (hash-worker.ts, dist/crypto/hash-worker.mjs; see worker-file.ts). */
const WORKER_FILE = builtWorkerFile('hash-worker')

interface Reply {
  resolve(value: unknown): void
  reject(error: unknown): void
}

type Finish = { op: 'sign'; key: KeyObject } | { op: 'verify'; key: KeyObject; signature: Uint8Array }

/** What HashWorker needs of a worker: node's Worker, or a test's wrapper around one. */
export interface HashWorkerThread {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void
  ref(): void
  unref(): void
  on(event: 'message' | 'error' | 'exit', listener: (value: any) => void): unknown
}

const spawnWorker = (file: URL, options: WorkerOptions): HashWorkerThread => new Worker(file, options)

/** The signature worker and its ring. The backend keeps one per process; tests make their own with a stand-in transport. */
export class HashWorker {
  readonly #worker: HashWorkerThread
  readonly #ring: Uint8Array
  readonly #control: Int32Array
  readonly #replies = new Map<number, Reply>()
  #nextId = 1
  #nextSlot = 0
  /** Callers waiting for a free slot: the worker is kept referenced meanwhile, so the process does not exit mid-message. */
  #waiting = 0
  #failure: Error | undefined

  /** `spawn` starts the worker module at `file`; by default node's Worker on the built file. */
  constructor(spawn: (file: URL, options: WorkerOptions) => HashWorkerThread = spawnWorker, file: URL | undefined = WORKER_FILE) {
    if (!file) throw new TypeError('the signature worker file is unknown')
    const ring = new SharedArrayBuffer(SLOTS * PIECE)
    const control = new SharedArrayBuffer(4 * SLOTS)
    this.#ring = new Uint8Array(ring)
    this.#control = new Int32Array(control)
    this.#worker = spawn(file, { workerData: { ring, control, piece: PIECE }, name: 'envelope-sdk signatures' })
    this.#worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const reply = this.#replies.get(m.id)
      if (!reply) return
      this.#replies.delete(m.id)
      this.#refIfWaiting()
      if (m.error !== undefined) reply.reject(new WorkerError(`the signature worker failed: ${m.error}`))
      else reply.resolve(m.value)
    })
    const fail = (cause: unknown): void => {
      this.#failure ??= new WorkerError('the signature worker failed holding the hash of a message', { cause })
      if (current === this) current = undefined
      for (const reply of this.#replies.values()) reply.reject(this.#failure)
      this.#replies.clear()
      // No slot will free now: wake whoever waits for one, to see the failure.
      for (let slot = 0; slot < SLOTS; slot++) Atomics.notify(this.#control, slot)
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', (code: number) => fail(new Error(`the signature worker exited with code ${code}`)))
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref()
  }

  get failed(): boolean {
    return this.#failure !== undefined
  }

  start(kind: 'sign' | 'verify', hash: string): number {
    const id = this.#nextId++
    this.#worker.postMessage({ op: 'start', id, kind, hash })
    return id
  }

  /** Copies `bytes` (at most PIECE) into a free slot and queues it for job `id`; false, sending nothing, when every slot is queued. */
  send(id: number, bytes: Uint8Array): boolean {
    if (this.#failure) throw this.#failure
    const slot = this.#takeSlot()
    if (slot < 0) return false
    this.#ring.set(bytes, slot * PIECE)
    this.#worker.postMessage({ op: 'data', id, slot, length: bytes.length })
    return true
  }

  /**
   * Resolves once the slot sent longest ago is free (the worker frees slots in
   * the order they were sent, so with the ring full that is the next one to
   * take); rejects with the WorkerError if the worker fails first.
   */
  async room(): Promise<void> {
    if (this.#failure) throw this.#failure
    const wait = Atomics.waitAsync(this.#control, this.#nextSlot, 1)
    if (wait.async) {
      this.#waiting++
      this.#refIfWaiting()
      try {
        await wait.value
      } finally {
        this.#waiting--
        this.#refIfWaiting()
      }
    }
    if (this.#failure) throw this.#failure
  }

  finish(id: number, message: Finish): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#replies.set(id, { resolve, reject })
      this.#refIfWaiting()
      this.#worker.postMessage({ ...message, id })
    })
  }

  drop(id: number): void {
    if (!this.#failure) this.#worker.postMessage({ op: 'drop', id })
  }

  #refIfWaiting(): void {
    if (this.#replies.size > 0 || this.#waiting > 0) this.#worker.ref()
    else this.#worker.unref()
  }

  /** A free slot, marked queued, or -1 when all are queued. */
  #takeSlot(): number {
    const control = this.#control
    for (let k = 0; k < SLOTS; k++) {
      const slot = (this.#nextSlot + k) % SLOTS
      if (Atomics.load(control, slot) === 0) {
        Atomics.store(control, slot, 1)
        this.#nextSlot = (slot + 1) % SLOTS
        return slot
      }
    }
    return -1
  }
}

let current: HashWorker | undefined
/** Why the process has no signature worker, once that is known. */
let unavailable: string | undefined

/** The process's signature worker, or undefined where workers cannot start (signatures then stay on this thread). */
function getWorker(): HashWorker | undefined {
  if (unavailable !== undefined) return undefined
  if (!current || current.failed) {
    if (!fileExists()) return undefined
    try {
      current = new HashWorker()
    } catch (e) {
      unavailable = `the signature worker did not start: ${(e as Error).message}`
      return undefined
    }
  }
  return current
}

/** Whether the built worker is where the library looks for it; notes why not, once. */
function fileExists(): boolean {
  unavailable ??= missingWorkerFile(WORKER_FILE, 'signature worker')
  return unavailable === undefined
}

/** Whether large signed messages can hash on the signature worker, and if not, why. */
export function signatureWorkerStatus(): { readonly available: boolean; readonly reason?: string } {
  if (unavailable === undefined && !current) fileExists()
  return unavailable === undefined ? { available: true } : { available: false, reason: unavailable }
}

/** Tests: makes `worker` the process's signature worker, so whole messages run through a held transport. */
export function useHashWorker(worker: HashWorker): void {
  current = worker
}

const abandoned = new FinalizationRegistry<{ worker: HashWorker; id: number }>(({ worker, id }) => worker.drop(id))

/**
 * One message's signature input, streamed to the worker. Create it only when
 * the message is large; `start` returns undefined when no worker is available.
 */
export class WorkerDigest {
  readonly #worker: HashWorker
  readonly #id: number
  readonly #token = {}
  /** This job's piece: filled here, then copied into a slot. */
  #piece = new Uint8Array(PIECE)
  #filled = 0
  /** Set while an update waits for room: the job takes nothing else until it settles. */
  #pending: Promise<void> | undefined
  #finished = false

  private constructor(worker: HashWorker, id: number) {
    this.#worker = worker
    this.#id = id
    abandoned.register(this, { worker, id }, this.#token)
  }

  /** `worker` is the process's unless a test gives its own. */
  static start(kind: 'sign' | 'verify', hash: string, worker = getWorker()): WorkerDigest | undefined {
    return worker && new WorkerDigest(worker, worker.start(kind, hash))
  }

  /**
   * Queues `data`. Returns undefined when it is all queued; otherwise a promise
   * that resolves once it is, and `data` is read until then: do not change it,
   * nor call update, sign or verify, before the promise settles.
   */
  update(data: Uint8Array): Promise<void> | undefined {
    this.#idle()
    const from = this.#take(data, 0)
    if (from < 0) return undefined
    return (this.#pending = this.#takeLater(data, from))
  }

  async sign(key: KeyObject): Promise<Uint8Array> {
    return (await this.#finish({ op: 'sign', key })) as Uint8Array
  }

  async verify(key: KeyObject, signature: Uint8Array): Promise<boolean> {
    return (await this.#finish({ op: 'verify', key, signature })) === true
  }

  #idle(): void {
    if (this.#finished) throw new TypeError('the signature was already computed')
    if (this.#pending) throw new TypeError('the previous update has not settled')
  }

  /** Queues `data` from `o` on; returns -1 once all of it is queued, or where to go on when a slot frees. */
  #take(data: Uint8Array, o: number): number {
    if (this.#filled === PIECE && !this.#flush()) return o
    // Whole pieces of a large chunk go straight to a slot.
    if (this.#filled === 0) {
      for (; data.length - o >= PIECE; o += PIECE) if (!this.#worker.send(this.#id, data.subarray(o, o + PIECE))) return o
    }
    while (o < data.length) {
      const n = Math.min(data.length - o, PIECE - this.#filled)
      this.#piece.set(data.subarray(o, o + n), this.#filled)
      this.#filled += n
      o += n
      if (this.#filled === PIECE && !this.#flush()) return o
    }
    return -1
  }

  async #takeLater(data: Uint8Array, from: number): Promise<void> {
    try {
      do await this.#worker.room()
      while ((from = this.#take(data, from)) >= 0)
    } finally {
      this.#pending = undefined
    }
  }

  /** Sends the piece gathered so far; false when no slot is free. */
  #flush(): boolean {
    if (this.#filled === 0) return true
    if (!this.#worker.send(this.#id, this.#piece.subarray(0, this.#filled))) return false
    this.#filled = 0
    return true
  }

  async #finish(message: Finish): Promise<unknown> {
    this.#idle()
    this.#finished = true
    abandoned.unregister(this.#token)
    while (!this.#flush()) await this.#worker.room()
    this.#piece = new Uint8Array(0)
    return this.#worker.finish(this.#id, message)
  }
}
