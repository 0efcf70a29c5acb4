/**
 * When one-shot encrypt and decrypt hand regular frames to the backend's
 * other thread (spec/backends.md#parallel-frames).
 */

/** Messages with fewer bytes of regular frames than this keep every frame on the calling thread. */
export const OFFLOAD_FROM = 1024 * 1024

/**
 * How many of `frames` regular frames go to the other thread: the later 45 %,
 * less than half because the calling thread also copies them in and out.
 */
export function framesToOffload(frames: number): number {
  return Math.floor(frames * 0.45)
}
