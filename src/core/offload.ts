/**
 * When one-shot encrypt and decrypt hand regular frames to the backend's
 * other thread (spec/backends.md#parallel-frames).
 */
import { RegularFrame } from '../format/frame.js'

/** Messages with fewer bytes of regular frames than this keep every frame on the calling thread. */
const OFFLOAD_FROM = 1024 * 1024

/**
 * Frames longer than this stay on the calling thread: the copies in and out
 * grow with the bytes, the saving with the frames. Measured on 16 MiB
 * messages (spec/backends.md#parallel-frames): no gain at 8 KiB frames,
 * 10-25 % slower at 16-32 KiB, slower still in the bench's 64 KiB rows.
 */
const OFFLOAD_MAX_FRAME = 4096

/** Whether a message of `frames` regular frames of `frameLength` bytes is worth splitting. */
export function worthOffloading(frames: number, frameLength: number): boolean {
  return frameLength <= OFFLOAD_MAX_FRAME && frames * frameLength >= OFFLOAD_FROM
}

/**
 * Most bytes of frames (as laid out in the message) one message hands off:
 * the node backend's frame pool keeps and reuses run buffers of up to 16 MiB
 * and takes no larger run (crypto/node-frame-worker.ts, SPARE_MAX). The rest
 * of a larger message stays on the calling thread.
 */
const MAX_RUN_BYTES = 16 * 1024 * 1024 - 64

/** Bounds of the share of regular frames the other thread gets: it never does everything, nor next to nothing. */
const MIN_SHARE = 0.2
const MAX_SHARE = 0.6
/** Where a share starts: less than half, because this thread also copies the other's frames in and out. */
const FIRST_SHARE = 0.45

/**
 * The share of a message's regular frames that goes to the other thread,
 * tuned after every message so that both threads finish together
 * (spec/backends.md#parallel-frames): the right share depends on the copies
 * this thread makes and on how much of the other core is free, which
 * differ by machine and by moment. One per process and per direction
 * (sealing and opening cost differently).
 */
export class OffloadShare {
  #share = FIRST_SHARE

  /** The share now, between MIN_SHARE and MAX_SHARE. */
  get share(): number {
    return this.#share
  }

  /** How many of `frames` regular frames of `frameLength` bytes of content to hand to the other thread. */
  framesAway(frames: number, frameLength: number): number {
    return Math.min(Math.floor(frames * this.#share), Math.floor(MAX_RUN_BYTES / (frameLength + RegularFrame.OVERHEAD)))
  }

  /**
   * After a message: this thread spent `localMs` on `localFrames` frames
   * (with the copy in), and the other thread `awayMs` on its `awayFrames`, as
   * it measured them itself. That gives both speeds, and the share that would
   * have ended both together. Half of each step is taken, so one noisy
   * measurement moves the share only half way. (How long this thread waited
   * says nothing when the other finished first: its answer waits for this
   * thread's next turn, so the wait is a message's latency, whatever the
   * share. Tuned on waits, the share stuck where it started.)
   */
  record(localFrames: number, localMs: number, awayFrames: number, awayMs: number): void {
    if (localFrames <= 0 || awayFrames <= 0 || !(localMs > 0) || !(awayMs > 0)) return
    const here = localMs / localFrames
    const there = awayMs / awayFrames
    const target = here / (here + there)
    this.#share = Math.min(MAX_SHARE, Math.max(MIN_SHARE, (this.#share + target) / 2))
  }
}

/** The process's shares: sealing (one-shot encrypt) and opening (one-shot decrypt). */
export const sealShare = new OffloadShare()
export const openShare = new OffloadShare()
