/**
 * What the frame worker (frame-worker.ts) and the calling thread that stands
 * in for it (node-frame-worker.ts) share: sealing or opening a run of regular
 * frames, and the owner word of a run's shared copy. The frame layout comes
 * from the one frame codec, format/frame.ts. An ordinary module: the
 * worker file is built from it at our build, so a consumer's bundler never
 * rewrites code that runs as text (spec/backends.md#parallel-frames).
 */
import type { KeyObject } from 'node:crypto'
import { TAG_LENGTH } from '../format/constants.js'
import { BODY_AAD_TAIL, FrameIv, RegularFrame, writeBodyAadTail, writeRegularFrameHeader } from '../format/frame.js'

/** What runFrames needs of node:crypto: passed in, so this module imports no cryptography itself. */
export type GcmFactory = Pick<typeof import('node:crypto'), 'createCipheriv' | 'createDecipheriv'>

/**
 * Seals (`open` false) or opens frames firstSequence, firstSequence + 1, ...
 * laid out as regular frames by the frame codec (format/frame.ts,
 * spec/message-format.md#framed-body), with the body AAD `aadPrefix` ‖ uint32
 * seq ‖ uint64 frameLength. Opening uses the IV each frame carries (the
 * caller has checked each frame's sequence number) and returns the sequence
 * number of the first frame whose tag does not verify, with the plaintext so
 * far zeroed.
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
  const step = frameLength + RegularFrame.OVERHEAD
  const { frames: count, outputLength } = runShape(open, frameLength, input.length)
  const out = new Uint8Array(outputLength)
  const iv = new FrameIv()
  const aad = new Uint8Array(aadPrefix.length + BODY_AAD_TAIL)
  aad.set(aadPrefix)
  const options = { authTagLength: TAG_LENGTH } as const
  const cipherName = algorithm as 'aes-256-gcm'
  for (let i = 0; i < count; i++) {
    const seq = firstSequence + i
    const o = i * step
    writeBodyAadTail(aad, seq, frameLength)
    if (open) {
      const content = o + RegularFrame.CONTENT
      const decipher = gcm.createDecipheriv(cipherName, key, input.subarray(o + RegularFrame.IV, content), options)
      decipher.setAuthTag(input.subarray(content + frameLength, o + step))
      decipher.setAAD(aad)
      const plaintext = decipher.update(input.subarray(content, content + frameLength))
      try {
        decipher.final()
      } catch {
        plaintext.fill(0)
        out.fill(0, 0, i * frameLength)
        return seq
      }
      out.set(plaintext, i * frameLength)
    } else {
      const content = writeRegularFrameHeader(out, o, seq, iv.set(seq))
      const cipher = gcm.createCipheriv(cipherName, key, iv.bytes, options)
      cipher.setAAD(aad)
      out.set(cipher.update(input.subarray(i * frameLength, (i + 1) * frameLength)), content)
      cipher.final()
      out.set(cipher.getAuthTag(), content + frameLength)
    }
  }
  return out
}

/** The frames in a run of `inputLength` bytes of input, and the bytes of output they make. */
export function runShape(open: boolean, frameLength: number, inputLength: number): { frames: number; outputLength: number } {
  const step = frameLength + RegularFrame.OVERHEAD
  const frames = open ? inputLength / step : inputLength / frameLength
  return { frames, outputLength: open ? frames * frameLength : frames * step }
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

/** One run as posted to the worker; `input` holds the owner word and the run's input. */
export interface RunMessage {
  /** Numbers the run, so that an answer is matched with the run it answers. */
  readonly run: number
  readonly open: boolean
  readonly algorithm: string
  readonly key: KeyObject
  readonly aadPrefix: Uint8Array
  readonly firstSequence: number
  readonly frameLength: number
  readonly input: SharedArrayBuffer
  /** Bytes of input after the owner word: the buffer may be longer (the pool reuses it). */
  readonly length: number
}

/**
 * The worker's answer: the run's output (moved) or the first frame that
 * failed, with the milliseconds it worked on the run (to balance the next
 * split); or why it could not run.
 */
export interface RunAnswer {
  /** The run answered (RunMessage.run). */
  readonly run: number
  readonly output?: ArrayBuffer
  readonly failed?: number
  readonly ms?: number
  readonly error?: string
}
