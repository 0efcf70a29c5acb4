/**
 * The split of a large one-shot message between the calling thread and the
 * frame worker tunes itself so both finish together (src/core/offload.ts,
 * spec/backends.md#parallel-frames). The expected shares below are worked out
 * from the timings given, not read back from the code.
 */
import { describe, expect, it } from 'vitest'
import { OffloadShare } from '../../src/core/offload.js'

describe('OffloadShare', () => {
  it('starts below half and hands off whole frames', () => {
    const share = new OffloadShare()
    expect(share.share).toBeLessThan(0.5)
    expect(share.framesAway(1000, 4096)).toBe(Math.floor(1000 * share.share))
  })

  it('moves toward the share that would have ended both threads together', () => {
    const share = new OffloadShare()
    const start = share.share
    // 550 frames here in 55 ms (0.1 ms each); the other thread worked 90 ms on its 450 (0.2 ms each).
    // Both end together when 0.1 (1 - s) = 0.2 s, so s = 1/3; half the step is taken.
    share.record(550, 55, 450, 90)
    expect(share.share).toBeCloseTo((start + 1 / 3) / 2, 10)
    // Measured again and again, it settles there.
    for (let i = 0; i < 40; i++) {
      const away = share.framesAway(1000, 4096)
      share.record(1000 - away, (1000 - away) * 0.1, away, away * 0.2)
    }
    expect(share.share).toBeGreaterThan(1 / 3 - 0.01)
    expect(share.share).toBeLessThan(1 / 3 + 0.01)
  })

  it('grows when the other thread finished first, however short the wait for its answer', () => {
    // Frames cost the same on both threads, so the split that ends both together is half and half.
    // The other thread's answer always waits a turn of this thread's event loop, which a split tuned
    // on waits took for the other thread's work: from 45 % it never moved.
    const share = new OffloadShare()
    expect(share.share).toBe(0.45)
    share.record(550, 55, 450, 45)
    // (0.45 + 0.5) / 2
    expect(share.share).toBeCloseTo(0.475, 10)
    for (let i = 0; i < 40; i++) {
      const away = share.framesAway(1000, 4096)
      share.record(1000 - away, (1000 - away) * 0.1, away, away * 0.1)
    }
    expect(share.share).toBeGreaterThan(0.49)
    expect(share.share).toBeLessThanOrEqual(0.5)
  })

  it('hands off at most 16 MiB of frames, the largest run the frame pool keeps a buffer for', () => {
    const share = new OffloadShare()
    // A 4 KiB frame is 4,128 bytes in the message (a 4-byte sequence number and a 12-byte IV before its
    // content, a 16-byte tag after). 45 % of 1,000 frames is 1.9 MB: all of it goes.
    expect(share.framesAway(1000, 4096)).toBe(450)
    // 45 % of 20,000 is 9,000 frames, 37 MB: capped at 16 MiB less 64 bytes, 16,777,152 / 4,128 = 4,064.2 frames.
    expect(share.framesAway(20_000, 4096)).toBe(4064)
  })

  it('stays within its bounds whatever it is told', () => {
    const share = new OffloadShare()
    // The other thread 100 times as fast: the target is 0.99, the share stops at 0.6.
    for (let i = 0; i < 100; i++) share.record(500, 50, 500, 0.5)
    expect(share.share).toBe(0.6)
    // 100 times as slow: the target is 0.01, the share stops at 0.2.
    for (let i = 0; i < 100; i++) share.record(500, 1, 500, 100)
    expect(share.share).toBe(0.2)
  })

  it('ignores timings that say nothing (no frames, a clock that went backwards, NaN, no time at all)', () => {
    const share = new OffloadShare()
    const start = share.share
    share.record(0, 10, 100, 5)
    share.record(100, 10, 0, 5)
    share.record(100, -1, 100, 5)
    share.record(100, 10, 100, Number.NaN)
    share.record(100, Number.NaN, 100, 5)
    share.record(100, 10, 100, 0)
    expect(share.share).toBe(start)
  })
})
