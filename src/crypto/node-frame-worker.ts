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
 * - The worker is a built file (frame-worker.ts, dist/crypto/frame-worker.mjs),
 *   never text run with `eval`. Where it is missing (a bundle that left it
 *   behind) every run stays on the calling thread, and `status` says why.
 */
import { checkOptions } from '../options.js'
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { WorkerError } from '../errors.js'
import type { FramesDone } from './backend.js'
import { builtWorkerFile, MAX_WORKER_FAILURES, missingWorkerFile } from './worker-file.js'
import { INPUT_OFFSET, QUEUED, RUNNING, runFrames, runShape, TAKEN, type RunAnswer, type RunMessage } from './frame-run.js'

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
export type OpenedFrames = FramesDone | number

/**
 * Largest shared buffer a run may use, kept for the next run (a 16 MiB message at 4 KiB frames
 * offloads 3-10 MiB). A run that needs more is not taken: its buffer could not be kept, and a
 * fresh one per run is freed only when the worker's heap is collected, which an idle worker
 * hardly ever does (measured: 10 MiB more memory per 32 MiB message, for good). One-shot
 * messages hand off at most MAX_RUN_BYTES (core/offload.ts), which fits.
 */
const SPARE_MAX = 16 * 1024 * 1024

/** By default, a run that takes longer than this, plus a millisecond per 10 kB (10 MB/s), has a dead worker behind it. */
const STALL_MS = 30_000

/** Takes a run back from the worker unless it finished it; true when this thread owns the copy. */
function takeBack(owner: Int32Array): boolean {
  Atomics.compareExchange(owner, 0, QUEUED, TAKEN)
  Atomics.compareExchange(owner, 0, RUNNING, TAKEN)
  return Atomics.load(owner, 0) === TAKEN
}

/** The built worker, dist/crypto/frame-worker.mjs (see worker-file.ts). */
const WORKER_FILE = builtWorkerFile('frame-worker')

/** What FramePool needs of a worker: node's Worker, or a test's wrapper around one. */
export interface FrameWorkerThread {
  /** Sends a message to the worker (as worker_threads). */
  postMessage(message: unknown): void
  /** Keeps the process alive while the worker runs. */
  ref(): void
  /** Lets the process exit while the worker is idle. */
  unref(): void
  /** Stops the worker. */
  terminate(): Promise<number>
  /** Listens for replies, failures and exit. */
  on(event: 'message' | 'error' | 'exit', listener: (value: any) => void): unknown
}

export interface FramePoolOptions {
  /** The worker module: by default dist/crypto/frame-worker.mjs next to the library's own files. */
  readonly workerFile?: URL
  /** Starts a worker running the module at `file` with `options`; by default node's Worker. */
  readonly spawn?: (file: URL, options: WorkerOptions) => FrameWorkerThread
  /** A run out longer than this, plus a millisecond per 10 kB (10 MB/s), has a dead worker behind it. */
  readonly stallMs?: number
  /** Calls `onStall` after `ms`, without holding the process open; returns what cancels it. By default an unref'd setTimeout. */
  readonly setTimer?: (onStall: () => void, ms: number) => () => void
}

interface Pending {
  /** The run's number (RunMessage.run). */
  readonly id: number
  readonly owner: Int32Array
  /** Bytes of output a complete run gives. */
  readonly outputLength: number
  readonly firstSequence: number
  /** Frames in the run. */
  readonly frames: number
  resolve(result: OpenedFrames): void
  reject(error: Error): void
  cancelTimer: () => void
}

/** Whether parallel frames can run, how many runs a worker did, and, when they cannot, why. */
export interface ParallelFramesStatus {
  readonly available: boolean
  readonly reason?: string
  readonly runs: number
}

const spawnWorker = (file: URL, options: WorkerOptions): FrameWorkerThread => new Worker(file, options)
const unrefTimer = (onStall: () => void, ms: number): (() => void) => {
  const timer = setTimeout(onStall, ms)
  timer.unref()
  return () => clearTimeout(timer)
}

/** What a FrameWorker tells its pool. */
interface FrameWorkerEvents {
  /** A run's answer arrived. */
  ran(): void
  /** A stall timer took a run back. */
  stalled(): void
  /** It failed, exited or stalled (once). */
  failed(worker: FrameWorker, error: Error): void
}

class FrameWorker {
  readonly #events: FrameWorkerEvents
  readonly #worker: FrameWorkerThread
  /**
   * Set to 1 by the worker as it starts (frame-worker.ts). Shared memory, not
   * the 'online' event: a caller awaiting message after message without ever
   * turning the event loop would never see the event, and never use the worker.
   */
  readonly #started = new Int32Array(new SharedArrayBuffer(4))
  #pending: Pending | undefined
  #failed = false
  #runs = 0
  /** The run given up on last (stalled or its worker failed): an answer to it has its output wiped. */
  #abandoned: number | undefined

  constructor(events: FrameWorkerEvents, spawn: NonNullable<FramePoolOptions['spawn']>, file: URL) {
    this.#events = events
    this.#worker = spawn(file, { name: 'envelope-sdk frames', workerData: { started: this.#started.buffer } })
    this.#worker.on('message', (m: RunAnswer) => this.#answered(m))
    this.#worker.on('error', (error: Error) => this.#fail(error))
    this.#worker.on('exit', (code: number) => this.#fail(new Error(`the frame worker exited with code ${code}`)))
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref()
  }

  get ready(): boolean {
    return Atomics.load(this.#started, 0) === 1 && !this.#failed && !this.#pending
  }

  /** `input` holds the owner word and the run's input, copied into shared memory by the caller. */
  run(open: boolean, run: FrameRun, input: SharedArrayBuffer, stallMs: number, setTimer: NonNullable<FramePoolOptions['setTimer']>): Promise<OpenedFrames> {
    const { algorithm, key, aadPrefix, firstSequence, frameLength } = run
    const owner = new Int32Array(input, 0, 1)
    const { frames, outputLength } = runShape(open, frameLength, run.input.length)
    return new Promise((resolve, reject) => {
      const id = ++this.#runs
      const pending: Pending = { id, owner, outputLength, firstSequence, frames, resolve, reject, cancelTimer: () => undefined }
      // Pending before the timer starts: a timer that fires at once still finds the run to give up.
      this.#pending = pending
      pending.cancelTimer = setTimer(() => {
        // A worker that finished (a frozen process, a slow machine) has its answer on the way: wait for it.
        if (!takeBack(owner)) return
        this.#events.stalled()
        this.#fail(new Error('the frame worker stopped making progress'))
        void this.#worker.terminate()
      }, stallMs + run.input.length / 10_000)
      if (this.#pending !== pending) return
      this.#worker.ref()
      const message: RunMessage = { run: id, open, algorithm, key, aadPrefix, firstSequence, frameLength, input, length: run.input.length }
      this.#worker.postMessage(message)
    })
  }

  /**
   * An answer: to the run out, checked before it is used; to an earlier run,
   * ignored (a repeat) or, if that run was given up on, its plaintext wiped;
   * one that names no run of this worker fails the run out.
   */
  #answered(m: RunAnswer): void {
    const pending = this.#pending
    const run = typeof m === 'object' && m !== null ? m.run : undefined
    if (Number.isSafeInteger(run) && run! >= 1 && run! <= this.#runs && run !== pending?.id) {
      if (run === this.#abandoned && m.output instanceof ArrayBuffer) new Uint8Array(m.output).fill(0)
      return
    }
    if (!pending) return
    this.#take()
    if (run !== pending.id) {
      if (m?.output instanceof ArrayBuffer) new Uint8Array(m.output).fill(0)
      return this.#drop(pending, new WorkerError('the frame worker gave an answer this version cannot read'))
    }
    if (typeof m.error === 'string') return this.#drop(pending, new Error(`frame worker: ${m.error}`))
    // Time the worker reports for its run; anything else says nothing about its speed.
    const ms = typeof m.ms === 'number' && Number.isFinite(m.ms) && m.ms > 0 ? m.ms : 0
    if (m.output instanceof ArrayBuffer && m.output.byteLength === pending.outputLength) {
      this.#events.ran()
      return pending.resolve({ bytes: new Uint8Array(m.output), ms })
    }
    const failed = m.failed
    if (m.output === undefined && Number.isSafeInteger(failed) && failed! >= pending.firstSequence && failed! < pending.firstSequence + pending.frames) {
      this.#events.ran()
      return pending.resolve(failed!)
    }
    if (m.output instanceof ArrayBuffer) new Uint8Array(m.output).fill(0)
    this.#drop(pending, new WorkerError('the frame worker gave an answer this version cannot read'))
  }

  /** A worker that cannot run, or answers what it should not, is dropped: after a few no message pays for the copies again. */
  #drop(pending: Pending, error: Error): void {
    pending.reject(error)
    this.#fail(error)
    void this.#worker.terminate()
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
    this.#events.failed(this, error)
    const pending = this.#take()
    if (!pending) return
    this.#abandoned = pending.id
    pending.reject(error)
  }
}

let cores: number | undefined

/**
 * Where frame runs go: at most one worker at a time, started by the first
 * message large enough to use it. The node backend uses one pool per process
 * unless `createNodeBackend({ frameWorker })` gives it another (a bundle that
 * ships the worker file elsewhere, or a test's stand-in transport or clock).
 * @example
 * ```ts
 * const backend = createNodeBackend({ frameWorker: new FramePool() })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type.
 */
export class FramePool {
  readonly #spawn: NonNullable<FramePoolOptions['spawn']>
  readonly #file: URL | undefined
  readonly #stallMs: number
  readonly #setTimer: NonNullable<FramePoolOptions['setTimer']>
  #current: FrameWorker | undefined
  readonly #events: FrameWorkerEvents = {
    ran: () => void this.#runs++,
    stalled: () => void this.#stalls++,
    // After MAX_WORKER_FAILURES the pool gives up, saying why.
    failed: (worker, error) => {
      this.#failures++
      if (this.#current === worker) this.#current = undefined
      if (this.#failures >= MAX_WORKER_FAILURES) this.#unavailable ??= `${MAX_WORKER_FAILURES} frame workers failed, the last with: ${error.message}`
    },
  }
  /** The shared buffer of the last run the worker finished, kept for the next (see #sharedBuffer). */
  #spare: SharedArrayBuffer | undefined
  #failures = 0
  #runs = 0
  #stalls = 0
  /** Why no run will go to a worker again, once that is known. */
  #unavailable: string | undefined

  constructor(options: FramePoolOptions = {}) {
    checkOptions(options, 'FramePool', { workerFile: 'url', spawn: 'function', stallMs: 'number', setTimer: 'function' })
    this.#spawn = options.spawn ?? spawnWorker
    this.#file = options.workerFile ?? WORKER_FILE
    this.#stallMs = options.stallMs ?? STALL_MS
    this.#setTimer = options.setTimer ?? unrefTimer
  }

  /** Whether a worker is online and idle. */
  get ready(): boolean {
    return this.#current?.ready ?? false
  }

  /** Workers that failed, exited or stalled. */
  get failures(): number {
    return this.#failures
  }

  /** Runs taken back from a worker that had not finished them when the stall timer fired. */
  get stalls(): number {
    return this.#stalls
  }

  /** Available unless no worker can run: one core, no worker file, or too many failed workers. */
  get status(): ParallelFramesStatus {
    cores ??= availableParallelism()
    if (!this.#current) this.#checkFile()
    const reason = cores < 2 ? 'one core: os.availableParallelism() is 1' : this.#unavailable
    return reason === undefined ? { available: true, runs: this.#runs } : { available: false, reason, runs: this.#runs }
  }

  /** Seals `run.input` (plaintext) as regular frames on the worker; see #runOnWorker. */
  seal(run: FrameRun): Promise<FramesDone> | undefined {
    return this.#runOnWorker(false, run) as Promise<FramesDone> | undefined
  }

  /** Opens the regular frames in `run.input` on the worker; see #runOnWorker. */
  open(run: FrameRun): Promise<OpenedFrames> | undefined {
    return this.#runOnWorker(true, run)
  }

  /** Notes the worker file missing, once: a bundle may have left it behind. */
  #checkFile(): void {
    this.#unavailable ??= missingWorkerFile(this.#file, 'frame worker')
  }

  /**
   * The worker when it is idle and online; otherwise undefined, after
   * starting one if none runs (so a later message finds it ready).
   */
  #idleWorker(): FrameWorker | undefined {
    if (!this.status.available) return undefined
    if (!this.#current) {
      // Never undefined here: status is unavailable without a file.
      if (!this.#file) return undefined
      try {
        this.#current = new FrameWorker(this.#events, this.#spawn, this.#file)
      } catch (e) {
        this.#unavailable = `the frame worker did not start: ${(e as Error).message}`
      }
      return undefined
    }
    return this.#current.ready ? this.#current : undefined
  }

  /**
   * Does `run` on the worker, or returns undefined when none is idle or the
   * run is larger than the pool keeps buffers for (SPARE_MAX).
   * The input is copied before this returns, so the caller may change it
   * afterwards. If the worker fails before it finished the run, the run is
   * done here from that copy; if it fails after (its answer lost with it),
   * the copy may be wiped and the promise rejects with a WorkerError. The
   * frames given out are this thread's own memory either way.
   */
  #runOnWorker(open: boolean, run: FrameRun): Promise<OpenedFrames> | undefined {
    if (INPUT_OFFSET + run.input.length > SPARE_MAX) return undefined
    const worker = this.#idleWorker()
    if (!worker) return undefined
    const input = this.#sharedBuffer(INPUT_OFFSET + run.input.length)
    const copy = new Uint8Array(input, INPUT_OFFSET, run.input.length)
    copy.set(run.input)
    const here = (error: Error): OpenedFrames => {
      if (!takeBack(new Int32Array(input, 0, 1))) {
        throw new WorkerError('the frame worker ended after finishing a run, before its answer arrived', { cause: error })
      }
      // The worker wipes a seal run's plaintext copy when it finishes it; here this thread does.
      try {
        const started = performance.now()
        const out = runFrames({ createCipheriv, createDecipheriv }, open, run.algorithm, run.key, run.aadPrefix, run.firstSequence, run.frameLength, copy)
        return typeof out === 'number' ? out : { bytes: out, ms: performance.now() - started }
      } finally {
        if (!open) copy.fill(0)
      }
    }
    return worker.run(open, run, input, this.#stallMs, this.#setTimer).then((result) => {
      // Answered, so the worker marked the run done and is through with the buffer (a seal run's plaintext wiped).
      this.#spare = input
      return result
    }, here)
  }

  /**
   * A shared buffer of at least `size` bytes with its owner word QUEUED: the
   * last one a finished run gave back when it is large enough, so messages
   * after the first fault in no fresh pages for their copy. A buffer whose
   * run was taken back from the worker is never given back (the worker may
   * still hold it).
   */
  #sharedBuffer(size: number): SharedArrayBuffer {
    const spare = this.#spare
    this.#spare = undefined
    // Room for a run a quarter larger: the share of frames sent here moves a little from message to message.
    if (!spare || spare.byteLength < size) return new SharedArrayBuffer(Math.min(SPARE_MAX, Math.ceil(size * 1.25)))
    Atomics.store(new Int32Array(spare, 0, 1), 0, QUEUED)
    return spare
  }
}
