/**
 * When one-shot encrypt and decrypt hand regular frames to the backend's
 * other thread (spec/backends.md#parallel-frames).
 */

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
 * How many of `frames` regular frames go to the other thread: the later 45 %,
 * less than half because the calling thread also copies them in and out.
 */
export function framesToOffload(frames: number): number {
  return Math.floor(frames * 0.45)
}
