/**
 * The frame worker's entry: built at our build into dist/crypto/frame-worker.mjs
 * and started by FramePool (node-frame-worker.ts) as a file, so nothing runs
 * from text a consumer's bundler could rewrite (spec/backends.md#parallel-frames).
 */
import * as nodeCrypto from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'
import { DONE, INPUT_OFFSET, QUEUED, RUNNING, runFrames, type RunAnswer, type RunMessage } from './frame-run.js'

const port = parentPort!
port.on('message', ({ run, open, algorithm, key, aadPrefix, firstSequence, frameLength, input, length }: RunMessage) => {
  const answer = (m: Omit<RunAnswer, 'run'>, transfer?: ArrayBuffer[]): void => port.postMessage({ run, ...m }, transfer)
  const owner = new Int32Array(input, 0, 1)
  if (Atomics.compareExchange(owner, 0, QUEUED, RUNNING) !== QUEUED) return
  const started = performance.now()
  try {
    const bytes = new Uint8Array(input, INPUT_OFFSET, length)
    const out = runFrames(nodeCrypto, open, algorithm, key, aadPrefix, firstSequence, frameLength, bytes)
    if (Atomics.compareExchange(owner, 0, RUNNING, DONE) !== RUNNING) {
      // The calling thread took the run back and is doing it from the copy: leave the copy alone.
      if (typeof out !== 'number') out.fill(0)
      return
    }
    // The plaintext copy of a seal run is wiped here, off the calling thread's path.
    if (!open) bytes.fill(0)
    const ms = performance.now() - started
    if (typeof out === 'number') answer({ failed: out, ms })
    else answer({ output: out.buffer as ArrayBuffer, ms }, [out.buffer as ArrayBuffer])
  } catch (e) {
    answer({ error: String((e as Error | undefined)?.message ?? e) })
  }
})

// Ready: the pool reads this without waiting for an event (node-frame-worker.ts, FrameWorker).
Atomics.store(new Int32Array((workerData as { started: SharedArrayBuffer }).started), 0, 1)
