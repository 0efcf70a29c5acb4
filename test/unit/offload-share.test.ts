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
    expect(share.framesAway(1000)).toBe(Math.floor(1000 * share.share))
  })

  it('moves toward the share that would have ended both threads together', () => {
    const share = new OffloadShare()
    const start = share.share
    // 550 frames here in 55 ms (0.1 ms each); the other thread's 450 took 55 + 35 = 90 ms (0.2 ms each).
    // Both end together when 0.1 (1 - s) = 0.2 s, so s = 1/3; half the step is taken.
    share.record(550, 55, 450, 35)
    expect(share.share).toBeCloseTo((start + 1 / 3) / 2, 10)
    // Measured again and again, it settles there.
    for (let i = 0; i < 40; i++) {
      const away = share.framesAway(1000)
      const local = 1000 - away
      const here = local * 0.1
      const there = away * 0.2
      share.record(local, here, away, Math.max(0, there - here))
    }
    expect(share.share).toBeGreaterThan(1 / 3 - 0.03)
    expect(share.share).toBeLessThan(1 / 3 + 0.03)
  })

  it('gives the other thread a little more when its answer was already there', () => {
    const share = new OffloadShare()
    const start = share.share
    share.record(550, 55, 450, 0.05)
    expect(share.share).toBeGreaterThan(start)
    expect(share.share - start).toBeLessThan(0.02)
  })

  it('stays within its bounds whatever it is told', () => {
    const share = new OffloadShare()
    for (let i = 0; i < 100; i++) share.record(500, 50, 500, 0)
    expect(share.share).toBeLessThanOrEqual(0.6)
    expect(share.share).toBeGreaterThan(0.55)
    for (let i = 0; i < 100; i++) share.record(500, 1, 500, 1000)
    expect(share.share).toBeGreaterThanOrEqual(0.2)
    expect(share.share).toBeLessThan(0.25)
  })

  it('ignores timings that say nothing (no frames, a clock that went backwards, NaN)', () => {
    const share = new OffloadShare()
    const start = share.share
    share.record(0, 10, 100, 5)
    share.record(100, 10, 0, 5)
    share.record(100, -1, 100, 5)
    share.record(100, 10, 100, Number.NaN)
    share.record(100, Number.NaN, 100, 5)
    expect(share.share).toBe(start)
  })
})
