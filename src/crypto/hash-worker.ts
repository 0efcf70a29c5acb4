/**
 * The signature worker's entry: built at our build into
 * dist/crypto/hash-worker.mjs and started by HashWorker (node-hash-worker.ts)
 * as a file. It hashes the ring slots it is told of (one, or several in a row),
 * in the order sent, and signs or verifies when a job finishes. control[i] is
 * 1 while slot i is queued.
 */
import { createSign, createVerify, type KeyObject, type Sign, type Verify } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'

interface Job {
  readonly state: Sign | Verify
  error: unknown
}

type Message =
  | { op: 'start'; id: number; kind: 'sign' | 'verify'; hash: string }
  | { op: 'data'; id: number; slot: number; length: number }
  | { op: 'drop'; id: number }
  | { op: 'sign'; id: number; key: KeyObject }
  | { op: 'verify'; id: number; key: KeyObject; signature: Uint8Array }

const port = parentPort!
const { ring, control: shared, piece } = workerData as { ring: SharedArrayBuffer; control: SharedArrayBuffer; piece: number }
const control = new Int32Array(shared)
const jobs = new Map<number, Job>()

port.on('message', (m: Message) => {
  const job = jobs.get(m.id)
  if (m.op === 'start') {
    jobs.set(m.id, { state: m.kind === 'sign' ? createSign(m.hash) : createVerify(m.hash), error: undefined })
  } else if (m.op === 'data') {
    try {
      if (job && !job.error) job.state.update(new Uint8Array(ring, m.slot * piece, m.length))
    } catch (e) {
      if (job) job.error = e
    } finally {
      // A message names one slot, or several in a row for a large update.
      const last = m.slot + Math.max(1, Math.ceil(m.length / piece))
      for (let slot = m.slot; slot < last; slot++) {
        Atomics.store(control, slot, 0)
        Atomics.notify(control, slot)
      }
    }
  } else if (m.op === 'drop') {
    jobs.delete(m.id)
  } else {
    jobs.delete(m.id)
    try {
      if (!job) throw new Error('unknown signature job')
      if (job.error) throw job.error
      if (m.op === 'sign') port.postMessage({ id: m.id, value: (job.state as Sign).sign(m.key) })
      else {
        let ok = false
        try {
          ok = (job.state as Verify).verify(m.key, m.signature)
        } catch {
          // A malformed signature or key verifies as false, as on the calling thread.
        }
        port.postMessage({ id: m.id, value: ok })
      }
    } catch (e) {
      port.postMessage({ id: m.id, error: String((e as Error | undefined)?.message ?? e) })
    }
  }
})
