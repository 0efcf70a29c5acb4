/** The CLI progress bar: drawn only on a terminal, throttled, and bytes pass through untouched. */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { PROGRESS_FROM_BYTES, progressBar, renderProgress } from '../../src/cli/progress.js'

function terminal(isTTY = true) {
  const writes: string[] = []
  return { isTTY, writes, write: (text: string) => writes.push(text) }
}

describe('renderProgress', () => {
  it('fills the bar in proportion, caps at 100%, and reports the rate', () => {
    const half = renderProgress(8 * 1024 * 1024, 16 * 1024 * 1024, 100)
    expect(half).toMatch(/^\[#{12}\.{12}\]  50%  8\.0 MiB \/ 16\.0 MiB  84 MB\/s$/)
    expect(renderProgress(20, 10, 1)).toContain('100%')
    expect(renderProgress(0, 10, 0)).toMatch(/^\[\.{24}\]   0% .* -$/)
  })
})

describe('progressBar', () => {
  it('is not drawn when the target is no terminal or the input is small', () => {
    expect(progressBar(PROGRESS_FROM_BYTES * 4, terminal(false))).toBeUndefined()
    expect(progressBar(PROGRESS_FROM_BYTES - 1, terminal())).toBeUndefined()
  })

  it('passes every byte through, redraws at most every 100 ms, and clears its line at the end', async () => {
    const tty = terminal()
    let clock = 0
    const total = PROGRESS_FROM_BYTES
    const bar = progressBar(total, tty, () => clock)!
    const chunk = 64 * 1024
    const chunks = Array.from({ length: total / chunk }, (_, i) => new Uint8Array(chunk).fill(i & 0xff))
    const received: Uint8Array[] = []
    async function* timed() {
      for (const c of chunks) {
        clock += 10 // 128 chunks over 1.28 s: about 13 redraws, not 128
        yield c
      }
    }
    await pipeline(
      Readable.from(timed()),
      bar,
      new Writable({
        write(c, _e, cb) {
          received.push(c)
          cb()
        },
      }),
    )
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true)
    const draws = tty.writes.filter((w) => w.startsWith('\r['))
    expect(draws.length).toBeGreaterThanOrEqual(12)
    expect(draws.length).toBeLessThanOrEqual(14)
    expect(draws.at(-1)).toMatch(/\] +(9\d|100)%/)
    expect(tty.writes.at(-1)).toBe('\r\x1b[2K')
  })

  it('clears its line when the pipeline fails', async () => {
    const tty = terminal()
    const bar = progressBar(PROGRESS_FROM_BYTES, tty)!
    async function* failing() {
      yield new Uint8Array(1024)
      throw new Error('disk gone')
    }
    await expect(pipeline(Readable.from(failing()), bar, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toThrow('disk gone')
    expect(tty.writes.at(-1)).toBe('\r\x1b[2K')
  })
})

describe('envelope encrypt|decrypt on a terminal', () => {
  // util-linux `script` gives the child a pseudo-terminal; it is part of every Debian system (bsdutils).
  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p))
  const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

  it.skipIf(!script)('draws the bar on a terminal, never in a pipe, and the files still round-trip', () => {
    expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'envelope-progress-'))
    const key = join(dir, 'k.key')
    writeFileSync(key, randomBytes(32))
    const data = randomBytes(PROGRESS_FROM_BYTES + 12345)
    writeFileSync(join(dir, 'big.bin'), data)
    const wrap = `provider=p key=k file=${key}`
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    const onTerminal = (args: string[]) =>
      spawnSync(script!, ['-qec', [process.execPath, bin, ...args].map(quote).join(' '), '/dev/null'], { cwd: dir, encoding: 'latin1' })
    const encrypted = onTerminal(['encrypt', '-i', 'big.bin', '-o', 'big.enc', '-w', wrap])
    expect(encrypted.status).toBe(0)
    expect(encrypted.stdout).toMatch(/\r\[[#.]{24}\] +\d+%/)
    expect(encrypted.stdout.endsWith('\r\x1b[2K')).toBe(true)
    const quiet = onTerminal(['decrypt', '-i', 'big.enc', '-o', 'big.out', '-w', wrap, '--no-progress'])
    expect(quiet.status).toBe(0)
    expect(quiet.stdout).not.toContain('\r[')
    expect(readFileSync(join(dir, 'big.out')).equals(data)).toBe(true)
    const piped = spawnSync(process.execPath, [bin, 'decrypt', '-i', 'big.enc', '-o', 'big.out2', '-w', wrap], { cwd: dir, encoding: 'latin1' })
    expect(piped.status).toBe(0)
    expect(piped.stderr).toBe('')
  })
})
