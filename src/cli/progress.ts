/**
 * A progress bar for `envelope encrypt|decrypt` of large files, drawn on
 * stderr only when stderr is a terminal, so pipes, logs and CI output never
 * carry control characters. It counts input bytes as they are read.
 */
import { Transform } from 'node:stream'

/** Inputs smaller than this finish before a bar would be worth drawing. */
export const PROGRESS_FROM_BYTES = 8 * 1024 * 1024
const REDRAW_EVERY_MS = 100
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
  const clear = () => target.write('\r\x1b[2K')
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
