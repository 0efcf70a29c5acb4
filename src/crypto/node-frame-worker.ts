/**
 * A worker thread that seals or opens a run of regular frames while the main
 * thread does the others: one-shot encrypt and decrypt of a large unsigned
 * message then use two cores (spec/backends.md#parallel-frames). Signed
 * messages keep the second core for SHA-384 (node-hash-worker.ts) and never
 * come here.
 *
 * - One worker per process, started by the first message large enough to
 *   use it and used from the next one on: starting a worker costs more than
 *   sealing one such message, so no message waits for it.
 * - One run at a time. A second large message while a run is out does all
 *   its frames itself: queueing behind another message would upset the split.
 * - The run's input is copied into shared memory (a seal run's plaintext copy
 *   is wiped by the worker when done); the key travels as a KeyObject, so its
 *   bytes stay in native memory on both sides. The output comes back as a
 *   moved buffer.
 * - If the worker fails or stalls before it finished a run, this thread does
 *   the run from the copy; a run it finished is awaited, and one whose answer
 *   died with it fails with a WorkerError (spec/backends.md#worker-failures).
 * - Unref'd except while a run is out, so an idle worker never holds the
 *   process open. A worker that fails or stalls is dropped; after a few
 *   failures no new one is started.
 */
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { WorkerError } from '../errors.js'

/** Frames firstSequence, firstSequence + 1, ... of frameLength bytes of content each. */
export interface FrameRun {
  readonly algorithm: string
  readonly key: KeyObject
  /** messageId ‖ the body AAD content string; each frame's AAD appends uint32 seq ‖ uint64 length. */
  readonly aadPrefix: Uint8Array
  readonly firstSequence: number
  readonly frameLength: number
  /** To seal: a whole number of frames of plaintext. To open: the frames as laid out in the message. */
  readonly input: Uint8Array
}

/** What an open run gives: the plaintext of every frame, or the sequence number of the first that failed authentication. */
export type OpenedFrames = Uint8Array | number

/** By default, a run that takes longer than this, plus a millisecond per 10 kB (10 MB/s), has a dead worker behind it. */
const STALL_MS = 30_000
/** Failed workers after which none is started again in this process. */
const MAX_FAILURES = 3

/**
 * Seals (`open` false) or opens frames firstSequence, firstSequence + 1, ...
 * laid out as regular frames (spec/message-format.md#framed-body):
 * uint32 seq ‖ IV ‖ ciphertext ‖ tag, with AAD aadPrefix ‖ uint32 seq ‖
 * uint64 frameLength. Sealing writes the IV as 8 zero bytes ‖ uint32 seq;
 * opening uses the IV each frame carries (the caller has checked each frame's
 * sequence number) and returns the sequence number of the first frame whose
 * tag does not verify, with the plaintext so far zeroed. Self-contained (no
 * imports, no closure): the worker runs its source text, and this thread
 * calls it when the worker fails.
 */
function runFrames(
  nodeCrypto: Pick<typeof import('node:crypto'), 'createCipheriv' | 'createDecipheriv'>,
  open: boolean,
  algorithm: string,
  key: KeyObject,
  aadPrefix: Uint8Array,
  firstSequence: number,
  frameLength: number,
  input: Uint8Array,
): Uint8Array | number {
  // writeUint32 and the frame constants of src/format, restated: this source runs alone in the worker.
  const put = (bytes: Uint8Array, o: number, v: number): void => {
    bytes[o] = v >>> 24
    bytes[o + 1] = (v >>> 16) & 255
    bytes[o + 2] = (v >>> 8) & 255
    bytes[o + 3] = v & 255
  }
  const step = frameLength + 32
  const count = open ? input.length / step : input.length / frameLength
  const out = new Uint8Array(open ? count * frameLength : count * step)
  const iv = new Uint8Array(12)
  const n = aadPrefix.length
  const aad = new Uint8Array(n + 12)
  aad.set(aadPrefix)
  put(aad, n + 8, frameLength)
  const options = { authTagLength: 16 } as const
  const gcm = algorithm as 'aes-256-gcm'
  for (let i = 0; i < count; i++) {
    const seq = firstSequence + i
    const o = i * step
    put(aad, n, seq)
    if (open) {
      const decipher = nodeCrypto.createDecipheriv(gcm, key, input.subarray(o + 4, o + 16), options)
      decipher.setAuthTag(input.subarray(o + 16 + frameLength, o + step))
      decipher.setAAD(aad)
      const plaintext = decipher.update(input.subarray(o + 16, o + 16 + frameLength))
      try {
        decipher.final()
      } catch {
        plaintext.fill(0)
        out.fill(0, 0, i * frameLength)
        return seq
      }
      out.set(plaintext, i * frameLength)
    } else {
      put(iv, 8, seq)
      put(out, o, seq)
      out.set(iv, o + 4)
      const cipher = nodeCrypto.createCipheriv(gcm, key, iv, options)
      cipher.setAAD(aad)
      out.set(cipher.update(input.subarray(i * frameLength, (i + 1) * frameLength)), o + 16)
      cipher.final()
      out.set(cipher.getAuthTag(), o + 16 + frameLength)
    }
  }
  return out
}

/**
 * Who owns a run's shared copy, in the Int32 before it (spec/backends.md#worker-failures).
 * QUEUED -> RUNNING when the worker takes the run; RUNNING -> DONE when it has
 * its answer, and only then does it wipe the copy; QUEUED or RUNNING -> TAKEN
 * when this thread gives up on the worker, after which the worker writes
 * nothing and sends nothing. Every change is one compareExchange, so exactly
 * one side wins: this thread redoes a run only from a copy the worker will
 * never wipe, and a run the worker has finished is never redone.
 */
const QUEUED = 0
const RUNNING = 1
const DONE = 2
const TAKEN = 3
/** Bytes before a run's input in its shared buffer: the owner word, padded so the input stays 8-byte aligned. */
const INPUT_OFFSET = 8

/** Plain CommonJS, run with `eval`: no file to locate next to a bundle. */
const SOURCE = `
const { parentPort } = require('node:worker_threads')
const nodeCrypto = require('node:crypto')
const runFrames = ${runFrames.toString()}
parentPort.on('message', ({ open, algorithm, key, aadPrefix, firstSequence, frameLength, input }) => {
  const owner = new Int32Array(input, 0, 1)
  if (Atomics.compareExchange(owner, 0, ${QUEUED}, ${RUNNING}) !== ${QUEUED}) return
  try {
    const bytes = new Uint8Array(input, ${INPUT_OFFSET})
    const out = runFrames(nodeCrypto, open, algorithm, key, aadPrefix, firstSequence, frameLength, bytes)
    if (Atomics.compareExchange(owner, 0, ${RUNNING}, ${DONE}) !== ${RUNNING}) {
      // The calling thread took the run back and is doing it from the copy: leave the copy alone.
      if (typeof out !== 'number') out.fill(0)
      return
    }
    // The plaintext copy of a seal run is wiped here, off the calling thread's path.
    if (!open) bytes.fill(0)
    if (typeof out === 'number') parentPort.postMessage({ failed: out })
    else parentPort.postMessage({ output: out.buffer }, [out.buffer])
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) })
  }
})
`

/** Takes a run back from the worker unless it finished it; true when this thread owns the copy. */
function takeBack(owner: Int32Array): boolean {
  Atomics.compareExchange(owner, 0, QUEUED, TAKEN)
  Atomics.compareExchange(owner, 0, RUNNING, TAKEN)
  return Atomics.load(owner, 0) === TAKEN
}

/** What FramePool needs of a worker: node's Worker, or a test's wrapper around one. */
export interface FrameWorkerThread {
  postMessage(message: unknown): void
  ref(): void
  unref(): void
  terminate(): Promise<number>
  on(event: 'message' | 'error' | 'exit', listener: (value: any) => void): unknown
  once(event: 'online', listener: () => void): unknown
}

export interface FramePoolOptions {
  /** Starts a worker running `source` (CommonJS) with `options`; by default node's Worker. */
  readonly spawn?: (source: string, options: WorkerOptions) => FrameWorkerThread
  /** A run out longer than this, plus a millisecond per 10 kB (10 MB/s), has a dead worker behind it. */
  readonly stallMs?: number
  /** Calls `onStall` after `ms`, without holding the process open; returns what cancels it. By default an unref'd setTimeout. */
  readonly setTimer?: (onStall: () => void, ms: number) => () => void
}

interface Pending {
  readonly owner: Int32Array
  resolve(result: Uint8Array | number): void
  reject(error: Error): void
  cancelTimer(): void
}

const spawnWorker = (source: string, options: WorkerOptions): FrameWorkerThread => new Worker(source, options)
const unrefTimer = (onStall: () => void, ms: number): (() => void) => {
  const timer = setTimeout(onStall, ms)
  timer.unref()
  return () => clearTimeout(timer)
}

class FrameWorker {
  readonly #pool: FramePool
  readonly #worker: FrameWorkerThread
  #online = false
  #pending: Pending | undefined
  #failed = false

  constructor(pool: FramePool, spawn: NonNullable<FramePoolOptions['spawn']>) {
    this.#pool = pool
    this.#worker = spawn(SOURCE, { eval: true, name: 'envelope-sdk frames' })
    this.#worker.once('online', () => (this.#online = true))
    this.#worker.on('message', (m: { output?: ArrayBuffer; failed?: number; error?: string }) => {
      const pending = this.#take()
      if (!pending) {
        // A run given up on (its worker was taken for stalled): its plaintext is not left behind.
        if (m.output) new Uint8Array(m.output).fill(0)
        return
      }
      if (m.error !== undefined) {
        // A worker that cannot run (a bundler rewrote runFrames, say) is dropped, so that after a
        // few no message pays for the copies again.
        pending.reject(new Error(`frame worker: ${m.error}`))
        this.#fail(new Error(`frame worker: ${m.error}`))
        void this.#worker.terminate()
        return
      }
      pool.runs++
      pending.resolve(m.output ? new Uint8Array(m.output) : m.failed!)
    })
    this.#worker.on('error', (error: Error) => this.#fail(error))
    this.#worker.on('exit', (code: number) => this.#fail(new Error(`the frame worker exited with code ${code}`)))
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref()
  }

  get ready(): boolean {
    return this.#online && !this.#failed && !this.#pending
  }

  /** `input` is the owner word and the run's input, copied into shared memory by the caller. */
  run(open: boolean, run: FrameRun, input: SharedArrayBuffer, stallMs: number, setTimer: NonNullable<FramePoolOptions['setTimer']>): Promise<Uint8Array | number> {
    const { algorithm, key, aadPrefix, firstSequence, frameLength } = run
    const owner = new Int32Array(input, 0, 1)
    return new Promise((resolve, reject) => {
      const cancelTimer = setTimer(() => {
        // A worker that finished (a frozen process, a slow machine) has its answer on the way: wait for it.
        if (!takeBack(owner)) return
        this.#pool.stalls++
        this.#fail(new Error('the frame worker stopped making progress'))
        void this.#worker.terminate()
      }, stallMs + input.byteLength / 10_000)
      this.#pending = { owner, resolve, reject, cancelTimer }
      this.#worker.ref()
      this.#worker.postMessage({ open, algorithm, key, aadPrefix, firstSequence, frameLength, input })
      if (this.#pool.crashNextRun) {
        this.#pool.crashNextRun = false
        void this.#worker.terminate()
      }
    })
  }

  #take(): Pending | undefined {
    const pending = this.#pending
    this.#pending = undefined
    this.#worker.unref()
    pending?.cancelTimer()
    return pending
  }

  #fail(error: Error): void {
    if (this.#failed) return
    this.#failed = true
    this.#pool.workerFailed(this)
    this.#take()?.reject(error)
  }
}

let cores: number | undefined

/**
 * Where frame runs go: at most one worker at a time, started by the first
 * message large enough to use it. The backend uses one pool per process;
 * tests make their own with a stand-in transport or clock.
 */
export class FramePool {
  readonly #spawn: NonNullable<FramePoolOptions['spawn']>
  readonly #stallMs: number
  readonly #setTimer: NonNullable<FramePoolOptions['setTimer']>
  #current: FrameWorker | undefined
  failures = 0
  runs = 0
  /** Runs taken back from a worker that had not finished them when the stall timer fired. */
  stalls = 0
  crashNextRun = false

  constructor(options: FramePoolOptions = {}) {
    this.#spawn = options.spawn ?? spawnWorker
    this.#stallMs = options.stallMs ?? STALL_MS
    this.#setTimer = options.setTimer ?? unrefTimer
  }

  /** Whether a worker is online and idle. */
  get ready(): boolean {
    return this.#current?.ready ?? false
  }

  /** Seals `run.input` (plaintext) as regular frames on the worker; see #runOnWorker. */
  seal(run: FrameRun): Promise<Uint8Array> | undefined {
    return this.#runOnWorker(false, run) as Promise<Uint8Array> | undefined
  }

  /** Opens the regular frames in `run.input` on the worker; see #runOnWorker. */
  open(run: FrameRun): Promise<OpenedFrames> | undefined {
    return this.#runOnWorker(true, run)
  }

  workerFailed(worker: FrameWorker): void {
    this.failures++
    if (this.#current === worker) this.#current = undefined
  }

  /**
   * The worker when it is idle and online; otherwise undefined, after
   * starting one if none runs (so a later message finds it ready).
   */
  #idleWorker(): FrameWorker | undefined {
    cores ??= availableParallelism()
    if (cores < 2 || this.failures >= MAX_FAILURES) return undefined
    if (!this.#current) {
      try {
        this.#current = new FrameWorker(this, this.#spawn)
      } catch {
        this.failures = MAX_FAILURES
      }
      return undefined
    }
    return this.#current.ready ? this.#current : undefined
  }

  /**
   * Does `run` on the worker, or returns undefined when none is idle.
   * The input is copied before this returns, so the caller may change it
   * afterwards. If the worker fails before it finished the run, the run is
   * done here from that copy; if it fails after (its answer lost with it),
   * the copy may be wiped and the promise rejects with a WorkerError. The
   * frames given out are this thread's own memory either way.
   */
  #runOnWorker(open: boolean, run: FrameRun): Promise<Uint8Array | number> | undefined {
    const worker = this.#idleWorker()
    if (!worker) return undefined
    const input = new SharedArrayBuffer(INPUT_OFFSET + run.input.length)
    const copy = new Uint8Array(input, INPUT_OFFSET)
    copy.set(run.input)
    const here = (error: Error): Uint8Array | number => {
      if (!takeBack(new Int32Array(input, 0, 1))) {
        throw new WorkerError('the frame worker ended after finishing a run, before its answer arrived', { cause: error })
      }
      // The worker wipes a seal run's plaintext copy when it finishes it; here this thread does.
      try {
        return runFrames({ createCipheriv, createDecipheriv }, open, run.algorithm, run.key, run.aadPrefix, run.firstSequence, run.frameLength, copy)
      } finally {
        if (!open) copy.fill(0)
      }
    }
    return worker.run(open, run, input, this.#stallMs, this.#setTimer).catch(here)
  }
}

/** The backend's pool. */
const pool = new FramePool()

/** Seals `run.input` (plaintext) as regular frames on the process's frame worker; see FramePool. */
export function sealFramesOnWorker(run: FrameRun): Promise<Uint8Array> | undefined {
  return pool.seal(run)
}

/** Opens the regular frames in `run.input` on the process's frame worker; see FramePool. */
export function openFramesOnWorker(run: FrameRun): Promise<OpenedFrames> | undefined {
  return pool.open(run)
}

/** For tests: whether the process's worker is online and idle, the runs it did, and how many workers failed. */
export function frameWorkerState(): { ready: boolean; runs: number; failures: number } {
  return { ready: pool.ready, runs: pool.runs, failures: pool.failures }
}

/** For tests: the worker is ended right after it receives the next run, as a crash would end it. */
export function crashFrameWorkerOnNextRun(): void {
  pool.crashNextRun = true
}
