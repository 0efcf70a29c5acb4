/**
 * Progress on a terminal: the bar of `envelope encrypt|decrypt` for large
 * files (input bytes as they are read) and the line of `envelope vectors`
 * (tests done and their outcomes). Drawn only when the target is a terminal,
 * so pipes, logs and CI output never carry control characters.
 */
import { Transform } from 'node:stream'
import { printable } from '../errors.js'
import { summaryLine, type Summary, type TestResult } from '../runner/report.js'

/** Inputs smaller than this finish before a bar would be worth drawing. */
export const PROGRESS_FROM_BYTES = 8 * 1024 * 1024
const REDRAW_EVERY_MS = 100
const CLEAR_LINE = '\r\x1b[2K'
const BAR_WIDTH = 24

export interface ProgressTarget {
  readonly isTTY?: boolean
  write(text: string): unknown
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** One line of the bar: `[#######.........]  42%  12.0 MiB / 28.5 MiB  310 MB/s`. */
export function renderProgress(done: number, total: number, elapsedMs: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1
  const filled = Math.round(fraction * BAR_WIDTH)
  const rate = elapsedMs > 0 ? `${Math.round(done / 1000 / elapsedMs)} MB/s` : '-'
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}  ${mebibytes(done)} / ${mebibytes(total)}  ${rate}`
}

/**
 * A pass-through stream that redraws the bar at most every 100 ms and clears
 * its line when the input ends or fails. Returns undefined when no bar should
 * be drawn: `target` is not a terminal, or `total` is below the threshold.
 */
export function progressBar(total: number, target: ProgressTarget, now: () => number = Date.now): Transform | undefined {
  if (!target.isTTY || total < PROGRESS_FROM_BYTES) return undefined
  const start = now()
  let done = 0
  let drawnAt = -Infinity
  const clear = () => target.write(CLEAR_LINE)
  const bar = new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      done += chunk.length
      const t = now()
      if (t - drawnAt >= REDRAW_EVERY_MS) {
        drawnAt = t
        target.write(`\r${renderProgress(done, total, t - start)}`)
      }
      callback(null, chunk)
    },
    flush(callback) {
      clear()
      callback()
    },
  })
  bar.once('error', clear)
  return bar
}

/** The progress line: `1234/3300 (37%)  1200 passed, 0 failed, 34 skipped`. */
export function formatVectorProgress(done: number, total: number, counts: Summary): string {
  const percent = total > 0 ? Math.floor((Math.min(done, total) / total) * 100) : 100
  return `${String(done).padStart(String(total).length)}/${total} (${percent}%)  ${summaryLine(counts)}`
}

/**
 * Progress for a vector run, drawn on `target` only when it is a terminal, so
 * logs and pipes never carry control characters. Result lines printed
 * meanwhile go through `print`, which clears the progress line first.
 */
export function vectorProgress(target: ProgressTarget, now: () => number = Date.now) {
  const counts = { passed: 0, failed: 0, skipped: 0 }
  let total = 0
  let done = 0
  let drawnAt = -Infinity
  let drawn = false
  const clear = () => {
    if (drawn) target.write(CLEAR_LINE)
    drawn = false
  }
  return {
    start(count: number) {
      total = count
    },
    result(r: TestResult, print: (line: string) => void) {
      done++
      counts[r.status]++
      if (r.status !== 'passed') {
        clear()
        // Ids come from the manifest, reasons from errors: one escaped line per result.
        print(`${r.status} ${printable(r.id)}: ${printable(String(r.reason))}`)
      }
      const t = now()
      if (target.isTTY && (t - drawnAt >= REDRAW_EVERY_MS || done === total)) {
        drawnAt = t
        drawn = true
        target.write(`\r${formatVectorProgress(done, total, counts)}`)
      }
    },
    finish: clear,
  }
}
