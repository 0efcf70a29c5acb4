/** `envelope vectors` progress on stderr: done/total and the counts, only on a terminal, throttled. */
import { describe, expect, it } from 'vitest'
import { formatVectorProgress, vectorProgress } from '../../src/cli/progress.js'
import type { TestResult } from '../../src/runner/report.js'

function terminal(isTTY = true) {
  const writes: string[] = []
  return { isTTY, writes, write: (text: string) => writes.push(text) }
}

describe('formatVectorProgress', () => {
  it('shows done/total, the percentage and the counts so far', () => {
    expect(formatVectorProgress(1234, 3300, { passed: 1200, failed: 0, skipped: 34 })).toBe('1234/3300 (37%)  1200 passed, 0 failed, 34 skipped')
    expect(formatVectorProgress(7, 3300, { passed: 5, failed: 1, skipped: 1 })).toBe('   7/3300 (0%)  5 passed, 1 failed, 1 skipped')
    expect(formatVectorProgress(440, 440, { passed: 440, failed: 0, skipped: 0 })).toBe('440/440 (100%)  440 passed, 0 failed, 0 skipped')
    expect(formatVectorProgress(0, 0, { passed: 0, failed: 0, skipped: 0 })).toBe('0/0 (100%)  0 passed, 0 failed, 0 skipped')
  })
})

describe('vectorProgress', () => {
  const pass = (id: string): TestResult => ({ id, status: 'passed' })

  it('draws nothing when the target is no terminal, but still prints failures and skips', () => {
    const target = terminal(false)
    const printed: string[] = []
    const progress = vectorProgress(target, () => 0)
    progress.start(3)
    progress.result(pass('a'), (l) => printed.push(l))
    progress.result({ id: 'b', status: 'skipped', reason: 'needs AWS KMS' }, (l) => printed.push(l))
    progress.result({ id: 'c', status: 'failed', reason: 'boom' }, (l) => printed.push(l))
    progress.finish()
    expect(target.writes).toEqual([])
    expect(printed).toEqual(['skipped b: needs AWS KMS', 'failed c: boom'])
  })

  it('redraws at most every 100 ms and at the last test, clears the line before a printed result and at the end', () => {
    const target = terminal()
    let clock = 0
    const progress = vectorProgress(target, () => clock)
    // Printed lines go into the same log, to see what the terminal shows in order.
    const print = (line: string) => target.writes.push(`PRINT ${line}`)
    progress.start(100)
    for (let i = 1; i <= 100; i++) {
      clock += 10 // 100 results over 1 s: about 10 redraws, not 100
      progress.result(i === 50 ? { id: 'x', status: 'skipped', reason: 'why' } : pass(String(i)), print)
    }
    progress.finish()
    const draws = target.writes.filter((w) => w.startsWith('\r') && !w.startsWith('\r\x1b'))
    expect(draws.length).toBeGreaterThanOrEqual(10)
    expect(draws.length).toBeLessThanOrEqual(12)
    expect(draws[0]).toBe('\r  1/100 (1%)  1 passed, 0 failed, 0 skipped')
    expect(draws.at(-1)).toBe('\r100/100 (100%)  99 passed, 0 failed, 1 skipped')
    // The skip is printed on a cleared line, and the run ends with the progress line erased.
    const printedAt = target.writes.indexOf('PRINT skipped x: why')
    expect(target.writes[printedAt - 1]).toBe('\r\x1b[2K')
    expect(target.writes.at(-1)).toBe('\r\x1b[2K')
  })
})
