/**
 * A worker thread that hashes, signs and verifies large signed messages, so
 * SHA-384 over the message runs on another core while this thread does
 * AES-GCM (spec/backends.md#node). Only messages of 1 MiB or more come here;
 * smaller ones are signed in libuv's thread pool (node-ecdsa.ts).
 *
 * - One worker per SignaturePool (the node backend uses the process's pool
 *   unless createNodeBackend({ signatureWorker }) gives it another), made on
 *   first use. It keeps the process alive only
 *   while a result or a free slot is awaited, so an abandoned stream never
 *   holds the process and a waiting one is not cut short.
 * - Bytes travel through a fixed ring of shared slots: each job gathers a
 *   piece in its own buffer, copies it into a free slot and names the slot in
 *   a small message; a large update fills several slots in a row and names
 *   them in one message. The worker hashes them and marks them free. Memory is
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
 *   them), and the next message starts a new worker, until MAX_WORKER_FAILURES
 *   have failed: then large messages hash on this thread (the frame pool's
 *   policy too).
 * - A job abandoned before its result (a destroyed stream) is dropped in the
 *   worker once its owner is garbage-collected.
 */
import type { KeyObject } from 'node:crypto'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { WorkerError } from '../errors.js'
import { checkOptions } from '../options.js'
import { builtWorkerFile, MAX_WORKER_FAILURES, missingWorkerFile } from './worker-file.js'

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

/** The signature worker and its ring, as a SignaturePool starts it (tests make their own with a stand-in transport). */
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

  /** `spawn` starts the worker module at `file` (node's Worker, or a test's stand-in). `onFail` hears of its failure, once. */
  constructor(spawn: (file: URL, options: WorkerOptions) => HashWorkerThread, file: URL, onFail?: (error: Error) => void) {
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
      if (this.#failure) return
      this.#failure = new WorkerError('the signature worker failed holding the hash of a message', { cause })
      onFail?.(cause instanceof Error ? cause : new Error(String(cause)))
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

  /**
   * Copies the start of `bytes` into the free slots from the next one on (up
   * to the ring's end) and queues it for job `id` in one message; returns the
   * bytes queued, 0 when the next slot is still queued. One message for
   * several slots: waking the worker costs more than the message itself.
   */
  send(id: number, bytes: Uint8Array): number {
    if (this.#failure) throw this.#failure
    const control = this.#control
    const first = this.#nextSlot
    const wanted = Math.ceil(bytes.length / PIECE)
    let slots = 0
    // The worker frees slots in the order they were sent, so the free ones follow the next one.
    while (slots < wanted && first + slots < SLOTS && Atomics.load(control, first + slots) === 0) slots++
    if (slots === 0) return 0
    for (let slot = first; slot < first + slots; slot++) Atomics.store(control, slot, 1)
    this.#nextSlot = (first + slots) % SLOTS
    const length = Math.min(bytes.length, slots * PIECE)
    this.#ring.set(bytes.subarray(0, length), first * PIECE)
    this.#worker.postMessage({ op: 'data', id, slot: first, length })
    return length
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
}

/** What a SignaturePool takes: where its worker file is and how to start it. */
export interface SignaturePoolOptions {
  /** The worker module: by default dist/crypto/hash-worker.mjs next to the library's own files. */
  readonly workerFile?: URL
  /** Starts a worker running the module at `file` with `options`; by default node's Worker. */
  readonly spawn?: (file: URL, options: WorkerOptions) => HashWorkerThread
}

/** Whether large signed messages hash on a worker, and when they cannot, why. */
export interface SignatureWorkerStatus {
  readonly available: boolean
  readonly reason?: string
}

/**
 * Where large signed messages are hashed, signed and verified: one worker at
 * a time, started by the first message that needs it and again after a
 * failure, until MAX_WORKER_FAILURES have failed. The node backend uses one
 * pool per process unless `createNodeBackend({ signatureWorker })` gives it
 * another (a bundle that ships the worker file elsewhere, or a test's
 * stand-in transport).
 * @example
 * ```ts
 * const backend = createNodeBackend({ signatureWorker: new SignaturePool() })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type.
 */
export class SignaturePool {
  readonly #spawn: NonNullable<SignaturePoolOptions['spawn']>
  readonly #file: URL | undefined
  #current: HashWorker | undefined
  #failures = 0
  /** Why no message will go to a worker again, once that is known. */
  #unavailable: string | undefined

  constructor(options: SignaturePoolOptions = {}) {
    checkOptions(options, 'SignaturePool', { workerFile: 'url', spawn: 'function' })
    this.#spawn = options.spawn ?? spawnWorker
    this.#file = options.workerFile ?? WORKER_FILE
  }

  /** The worker, started if none runs; undefined where none can (signatures then stay on this thread). */
  worker(): HashWorker | undefined {
    if (this.#current && !this.#current.failed) return this.#current
    this.#unavailable ??= missingWorkerFile(this.#file, 'signature worker')
    this.#current = undefined
    if (this.#unavailable !== undefined || !this.#file) return undefined
    try {
      const worker: HashWorker = new HashWorker(this.#spawn, this.#file, (error) => this.#failed(worker, error))
      this.#current = worker
    } catch (e) {
      this.#unavailable = `the signature worker did not start: ${(e as Error).message}`
    }
    return this.#current
  }

  /** Workers that failed or exited. */
  get failures(): number {
    return this.#failures
  }

  /** Available unless no worker can run: no worker file, or too many failed workers. */
  get status(): SignatureWorkerStatus {
    if (!this.#current) this.#unavailable ??= missingWorkerFile(this.#file, 'signature worker')
    return this.#unavailable === undefined ? { available: true } : { available: false, reason: this.#unavailable }
  }

  #failed(worker: HashWorker, error: Error): void {
    this.#failures++
    if (this.#current === worker) this.#current = undefined
    if (this.#failures >= MAX_WORKER_FAILURES) this.#unavailable ??= `${MAX_WORKER_FAILURES} signature workers failed, the last with: ${error.message}`
  }
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

  /** Undefined when there is no `worker`. */
  static start(kind: 'sign' | 'verify', hash: string, worker: HashWorker | undefined): WorkerDigest | undefined {
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
    // Whole pieces of a large chunk go straight to the ring, as many per message as there are free slots in a row.
    if (this.#filled === 0) {
      while (data.length - o >= PIECE) {
        const queued = this.#worker.send(this.#id, data.subarray(o, o + Math.floor((data.length - o) / PIECE) * PIECE))
        if (queued === 0) return o
        o += queued
      }
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
    if (this.#worker.send(this.#id, this.#piece.subarray(0, this.#filled)) === 0) return false
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
