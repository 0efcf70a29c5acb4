/**
 * A worker thread that seals a run of regular frames while the main thread
 * seals the others: one-shot encrypt of a large unsigned message then uses
 * two cores (spec/backends.md#parallel-frames). Signed messages keep the
 * second core for SHA-384 (node-hash-worker.ts) and never come here.
 *
 * - One worker per process, started by the first message large enough to
 *   use it and used from the next one on: starting a worker costs more than
 *   sealing one such message, so no message waits for it.
 * - One run at a time. A second large message while a run is out seals all
 *   its frames itself: queueing behind another message would upset the split.
 * - The run's plaintext is copied into shared memory, which this thread zeroes
 *   once the run is back; the key travels as a KeyObject, so its bytes stay in
 *   native memory on both sides. The sealed frames come back as a moved buffer.
 * - If the worker fails, this thread seals the run from the copy: a message
 *   never fails because of the worker.
 * - Unref'd except while a run is out, so an idle worker never holds the
 *   process open. A worker that fails or stalls is dropped; after a few
 *   failures no new one is started.
 */
import { createCipheriv, type KeyObject } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/** What the worker seals: frames firstSequence, firstSequence + 1, ... of frameLength bytes each. */
export interface FrameRun {
  readonly algorithm: string
  readonly key: KeyObject
  /** messageId ‖ the body AAD content string; each frame's AAD appends uint32 seq ‖ uint64 length. */
  readonly aadPrefix: Uint8Array
  readonly firstSequence: number
  readonly frameLength: number
  /** A whole number of frames. */
  readonly plaintext: Uint8Array
}

/** A run that takes longer than this, plus a millisecond per 10 kB (10 MB/s), has a dead worker behind it. */
const STALL_MS = 30_000
/** Failed workers after which none is started again in this process. */
const MAX_FAILURES = 3

/**
 * Seals frames firstSequence, firstSequence + 1, ... of `plaintext` into a new
 * buffer, each laid out as a regular frame (spec/message-format.md#framed-body):
 * uint32 seq ‖ IV (8 zero bytes ‖ uint32 seq) ‖ ciphertext ‖ tag, with AAD
 * aadPrefix ‖ uint32 seq ‖ uint64 frameLength. Self-contained (no imports, no
 * closure): the worker runs its source text, and this thread calls it when
 * the worker fails.
 */
function sealRun(
  createCipheriv: typeof import('node:crypto').createCipheriv,
  algorithm: string,
  key: KeyObject,
  aadPrefix: Uint8Array,
  firstSequence: number,
  frameLength: number,
  plaintext: Uint8Array,
): Uint8Array {
  const put = (bytes: Uint8Array, o: number, v: number): void => {
    bytes[o] = v >>> 24
    bytes[o + 1] = (v >>> 16) & 255
    bytes[o + 2] = (v >>> 8) & 255
    bytes[o + 3] = v & 255
  }
  const count = plaintext.length / frameLength
  const step = frameLength + 32
  const out = new Uint8Array(count * step)
  const iv = new Uint8Array(12)
  const n = aadPrefix.length
  const aad = new Uint8Array(n + 12)
  aad.set(aadPrefix)
  put(aad, n + 8, frameLength)
  const options = { authTagLength: 16 } as const
  for (let i = 0; i < count; i++) {
    const seq = firstSequence + i
    const o = i * step
    put(iv, 8, seq)
    put(aad, n, seq)
    put(out, o, seq)
    out.set(iv, o + 4)
    const cipher = createCipheriv(algorithm as 'aes-256-gcm', key, iv, options)
    cipher.setAAD(aad)
    out.set(cipher.update(plaintext.subarray(i * frameLength, (i + 1) * frameLength)), o + 16)
    cipher.final()
    out.set(cipher.getAuthTag(), o + 16 + frameLength)
  }
  return out
}

/** Plain CommonJS, run with `eval`: no file to locate next to a bundle. */
const SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createCipheriv } = require('node:crypto')
const sealRun = ${sealRun.toString()}
parentPort.on('message', ({ algorithm, key, aadPrefix, firstSequence, frameLength, input }) => {
  try {
    const out = sealRun(createCipheriv, algorithm, key, aadPrefix, firstSequence, frameLength, new Uint8Array(input))
    parentPort.postMessage({ output: out.buffer }, [out.buffer])
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) })
  }
})
`

interface Pending {
  resolve(frames: Uint8Array): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout>
}

class FrameWorker {
  readonly #worker: Worker
  #online = false
  #pending: Pending | undefined
  #failed = false

  constructor() {
    this.#worker = new Worker(SOURCE, { eval: true, name: 'envelope-sdk frames' })
    this.#worker.unref()
    this.#worker.once('online', () => (this.#online = true))
    this.#worker.on('message', (m: { output?: ArrayBuffer; error?: string }) => {
      const pending = this.#take()
      if (!pending) return
      if (m.output) {
        runs++
        pending.resolve(new Uint8Array(m.output))
      }
      else pending.reject(new Error(`frame worker: ${m.error}`))
    })
    this.#worker.on('error', (error) => this.#fail(error))
    this.#worker.on('exit', (code) => this.#fail(new Error(`the frame worker exited with code ${code}`)))
  }

  get ready(): boolean {
    return this.#online && !this.#failed && !this.#pending
  }

  get failed(): boolean {
    return this.#failed
  }

  /** `input` is the run's plaintext, copied into shared memory by the caller (who zeroes it after). */
  seal(run: FrameRun, input: SharedArrayBuffer): Promise<Uint8Array> {
    const { algorithm, key, aadPrefix, firstSequence, frameLength } = run
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error('the frame worker stopped making progress'))
        void this.#worker.terminate()
      }, STALL_MS + run.plaintext.length / 10_000)
      timer.unref()
      this.#pending = { resolve, reject, timer }
      this.#worker.ref()
      this.#worker.postMessage({ algorithm, key, aadPrefix, firstSequence, frameLength, input })
      if (crashNextRun) {
        crashNextRun = false
        void this.#worker.terminate()
      }
    })
  }

  #take(): Pending | undefined {
    const pending = this.#pending
    this.#pending = undefined
    this.#worker.unref()
    if (pending) clearTimeout(pending.timer)
    return pending
  }

  #fail(error: Error): void {
    if (this.#failed) return
    this.#failed = true
    failures++
    if (current === this) current = undefined
    this.#take()?.reject(error)
  }
}

let current: FrameWorker | undefined
let failures = 0
let runs = 0
let crashNextRun = false
let cores: number | undefined

/**
 * The process's frame worker when it is idle and online; otherwise undefined,
 * after starting one if none runs (so a later message finds it ready).
 */
function idleFrameWorker(): FrameWorker | undefined {
  cores ??= availableParallelism()
  if (cores < 2 || failures >= MAX_FAILURES) return undefined
  if (!current) {
    try {
      current = new FrameWorker()
    } catch {
      failures = MAX_FAILURES
    }
    return undefined
  }
  return current.ready ? current : undefined
}

/**
 * Seals `run` on the frame worker, or returns undefined when none is idle.
 * The plaintext is copied before this returns, so the caller may change it
 * afterwards. If the worker fails, the frames are sealed here from that copy:
 * the promise resolves with them either way.
 */
export function sealFramesOnWorker(run: FrameRun): Promise<Uint8Array> | undefined {
  const worker = idleFrameWorker()
  if (!worker) return undefined
  const input = new SharedArrayBuffer(run.plaintext.length)
  const copy = new Uint8Array(input)
  copy.set(run.plaintext)
  const sealHere = (): Uint8Array =>
    sealRun(createCipheriv, run.algorithm, run.key, run.aadPrefix, run.firstSequence, run.frameLength, copy)
  return worker
    .seal(run, input)
    .catch(sealHere)
    .finally(() => copy.fill(0))
}

/** For tests: whether a worker is online and idle, the runs it sealed, and how many workers failed. */
export function frameWorkerState(): { ready: boolean; runs: number; failures: number } {
  return { ready: current?.ready ?? false, runs, failures }
}

/** For tests: the worker is ended right after it receives the next run, as a crash would end it. */
export function crashFrameWorkerOnNextRun(): void {
  crashNextRun = true
}
