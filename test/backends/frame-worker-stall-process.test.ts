/**
 * A frame worker that stalls for real (spec/backends.md#worker-failures; the cases the test
 * decides with a held transport and its own clock are test/backends/frame-worker-stall.test.ts):
 * a child process bundled from src is frozen (SIGSTOP) while a run is out and resumed past its
 * stall timeout, and every message it wrote must read back to its exact input.
 */
import { spawn as spawnChild } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it, onTestFinished } from 'vitest'
import { builtWorkerFile } from '../support/worker-files.js'

describe.runIf(availableParallelism() >= 2)('frame worker stalls', () => {
  it('a child process frozen (SIGSTOP) past the stall timeout and resumed writes only messages that read back exactly', async () => {
    // Inside the repository, so the bundle's external packages (the ECDH keyrings' @noble/curves) resolve.
    const cache = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url))
    mkdirSync(cache, { recursive: true })
    const dir = mkdtempSync(join(cache, 'envelope-stall-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const outfile = join(dir, 'child.mjs')
    await build({ entryPoints: [fileURLToPath(new URL('../support/stall-child.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'silent' })
    // fd 3: the handshake. The child blocks on it as it hands each run to its worker.
    const child = spawnChild(process.execPath, [outfile, (await builtWorkerFile('frame-worker')).href], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'], cwd: fileURLToPath(new URL('../..', import.meta.url)) })
    const stdin = child.stdin!
    const stdout = child.stdout!
    const handshake = child.stdio[3] as Writable
    let output = ''
    let stops = 0
    let stalled = false
    let rounds = 0
    // Two freezes with a stall timer fired in one (each freeze makes one, unless this machine is very slow), or
    // ten, and three rounds: then stdin ends. Not at a run: after three stalls the pool stops using workers.
    const stopIfEnough = (): void => {
      if (((stalled && stops >= 2) || stops === 10) && rounds >= 3 && !stdin.writableEnded) stdin.end()
    }
    const exited = once(child, 'exit')
    stdout.setEncoding('utf8')
    stdout.on('data', (chunk: string) => {
      output += chunk
      if (chunk.includes('stall\n')) stalled = true
      rounds += chunk.split('round\n').length - 1
      stopIfEnough()
      if (!chunk.includes('out\n')) return
      if (stdin.writableEnded) return void handshake.write('g')
      // The child waits with the run not yet out: freeze it, then let it go on, for longer than its stall
      // timeout (200 ms or so). The run goes to the worker on resume with its stall timer already due, and
      // timers run before the worker's answer can be read.
      child.kill('SIGSTOP')
      handshake.write('g')
      setTimeout(() => {
        child.kill('SIGCONT')
        stops++
        stopIfEnough()
      }, 1000)
    })
    const [code] = await exited
    const report = JSON.parse(output.split('\n').filter((line) => line.startsWith('{')).pop()!) as { rounds: number; mismatches: number; stalls: number }
    expect(code).toBe(0)
    expect(report.mismatches).toBe(0)
    expect(report.rounds).toBeGreaterThanOrEqual(3)
    // At least one freeze landed while a run was out, so the stall path ran.
    expect(report.stalls).toBeGreaterThanOrEqual(1)
  }, 120_000)
})
