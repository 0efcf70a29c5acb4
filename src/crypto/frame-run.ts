/**
 * What the frame worker (frame-worker.ts) and the calling thread that stands
 * in for it (node-frame-worker.ts) share: sealing or opening a run of regular
 * frames, and the owner word of a run's shared copy. An ordinary module: the
 * worker file is built from it at our build, so a consumer's bundler never
 * rewrites code that runs as text (spec/backends.md#parallel-frames).
 */
import type { KeyObject } from 'node:crypto'

/** What runFrames needs of node:crypto: passed in, so this module imports no cryptography itself. */
export type GcmFactory = Pick<typeof import('node:crypto'), 'createCipheriv' | 'createDecipheriv'>

// A regular frame's layout (spec/message-format.md#framed-body), restated: crypto/ sits below format/
// (test/unit/layers.test.ts), and the one-thread frame loop's tests pin both to the same bytes.
const SEQ_LENGTH = 4
const IV_LENGTH = 12
const TAG_LENGTH = 16
const REGULAR_FRAME_OVERHEAD = SEQ_LENGTH + IV_LENGTH + TAG_LENGTH

function writeUint32(bytes: Uint8Array, o: number, v: number): void {
  bytes[o] = v >>> 24
  bytes[o + 1] = (v >>> 16) & 255
  bytes[o + 2] = (v >>> 8) & 255
  bytes[o + 3] = v & 255
}

/**
 * Seals (`open` false) or opens frames firstSequence, firstSequence + 1, ...
 * laid out as regular frames (spec/message-format.md#framed-body):
 * uint32 seq ‖ IV ‖ ciphertext ‖ tag, with AAD aadPrefix ‖ uint32 seq ‖
 * uint64 frameLength. Sealing writes the IV as 8 zero bytes ‖ uint32 seq;
 * opening uses the IV each frame carries (the caller has checked each frame's
 * sequence number) and returns the sequence number of the first frame whose
 * tag does not verify, with the plaintext so far zeroed.
 */
export function runFrames(
  gcm: GcmFactory,
  open: boolean,
  algorithm: string,
  key: KeyObject,
  aadPrefix: Uint8Array,
  firstSequence: number,
  frameLength: number,
  input: Uint8Array,
): Uint8Array | number {
  const step = frameLength + REGULAR_FRAME_OVERHEAD
  const count = open ? input.length / step : input.length / frameLength
  const out = new Uint8Array(open ? count * frameLength : count * step)
  const iv = new Uint8Array(IV_LENGTH)
  const n = aadPrefix.length
  const aad = new Uint8Array(n + 12)
  aad.set(aadPrefix)
  // uint64 frameLength: frames are under 2^32 bytes, so the high word stays zero.
  writeUint32(aad, n + 8, frameLength)
  const options = { authTagLength: TAG_LENGTH } as const
  const cipherName = algorithm as 'aes-256-gcm'
  const body = SEQ_LENGTH + IV_LENGTH
  for (let i = 0; i < count; i++) {
    const seq = firstSequence + i
    const o = i * step
    writeUint32(aad, n, seq)
    if (open) {
      const decipher = gcm.createDecipheriv(cipherName, key, input.subarray(o + SEQ_LENGTH, o + body), options)
      decipher.setAuthTag(input.subarray(o + body + frameLength, o + step))
      decipher.setAAD(aad)
      const plaintext = decipher.update(input.subarray(o + body, o + body + frameLength))
      try {
        decipher.final()
      } catch {
        plaintext.fill(0)
        out.fill(0, 0, i * frameLength)
        return seq
      }
      out.set(plaintext, i * frameLength)
    } else {
      writeUint32(iv, IV_LENGTH - 4, seq)
      writeUint32(out, o, seq)
      out.set(iv, o + SEQ_LENGTH)
      const cipher = gcm.createCipheriv(cipherName, key, iv, options)
      cipher.setAAD(aad)
      out.set(cipher.update(input.subarray(i * frameLength, (i + 1) * frameLength)), o + body)
      cipher.final()
      out.set(cipher.getAuthTag(), o + body + frameLength)
    }
  }
  return out
}

/**
 * Who owns a run's shared copy, in the Int32 before it (spec/backends.md#worker-failures).
 * QUEUED -> RUNNING when the worker takes the run; RUNNING -> DONE when it has
 * its answer, and only then does it wipe the copy; QUEUED or RUNNING -> TAKEN
 * when the calling thread gives up on the worker, after which the worker writes
 * nothing and sends nothing. Every change is one compareExchange, so exactly
 * one side wins: the calling thread redoes a run only from a copy the worker
 * will never wipe, and a run the worker has finished is never redone.
 */
export const QUEUED = 0
export const RUNNING = 1
export const DONE = 2
export const TAKEN = 3
/** Bytes before a run's input in its shared buffer: the owner word, padded so the input stays 8-byte aligned. */
export const INPUT_OFFSET = 8

/** One run as posted to the worker; `input` is the owner word and the run's input. */
export interface RunMessage {
  readonly open: boolean
  readonly algorithm: string
  readonly key: KeyObject
  readonly aadPrefix: Uint8Array
  readonly firstSequence: number
  readonly frameLength: number
  readonly input: SharedArrayBuffer
}

/** The worker's answer: the run's output (moved), the first frame that failed, or why it could not run. */
export interface RunAnswer {
  readonly output?: ArrayBuffer
  readonly failed?: number
  readonly error?: string
}
