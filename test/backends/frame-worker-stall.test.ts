/**
 * A frame worker that stalls (spec/backends.md#worker-failures): whatever the
 * moment the stall timer fires, a run gives the frames of its input or a
 * typed error, never frames of memory the worker wiped or still uses. The
 * pool gets a real worker behind a transport that holds its messages back, and
 * a clock the test fires; a child process is then frozen for real.
 */
import { spawn as spawnChild } from 'node:child_process'
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { build } from 'esbuild'
import { afterEach, describe, expect, it, onTestFinished } from 'vitest'
import { FramePool, type FrameRun } from '../../src/crypto/node-frame-worker.js'
import { builtWorkerFile } from '../support/worker-files.js'

/** A real worker whose messages, both ways, the test may hold back and then deliver or drop. */
class HeldWorker extends EventEmitter {
  readonly worker: Worker
  holdAnswers = false
  holdRuns = false
  readonly answers: unknown[] = []
  readonly runs: unknown[] = []

  constructor(file: URL, options: WorkerOptions) {
    super()
    this.worker = new Worker(file, options)
    for (const event of ['online', 'error', 'exit']) this.worker.on(event, (value: unknown) => this.emit(event, value))
    this.worker.on('message', (m: unknown) => {
      if (!this.holdAnswers) return void this.emit('message', m)
      this.answers.push(m)
      this.emit('held')
    })
  }

  postMessage(m: unknown): void {
    if (this.holdRuns) this.runs.push(m)
    else this.worker.postMessage(m)
  }

  ref(): void {
    this.worker.ref()
  }

  unref(): void {
    this.worker.unref()
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }

  deliverAnswers(): void {
    this.holdAnswers = false
    for (const m of this.answers.splice(0)) this.emit('message', m)
  }

  deliverRuns(): void {
    this.holdRuns = false
    for (const m of this.runs.splice(0)) this.worker.postMessage(m)
  }
}

const frameLength = 4096
const key = createSecretKey(randomBytes(32))
const aadPrefix = randomBytes(40)

/** The run's frames as the message format lays them out, sealed here with node:crypto. */
function expectedFrames(plaintext: Uint8Array, firstSequence: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; i * frameLength < plaintext.length; i++) {
    const seq = Buffer.alloc(4)
    seq.writeUInt32BE(firstSequence + i)
    const iv = Buffer.concat([Buffer.alloc(8), seq])
    const length = Buffer.alloc(8)
    length.writeUInt32BE(frameLength, 4)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.concat([aadPrefix, seq, length]))
    const body = Buffer.concat([cipher.update(plaintext.subarray(i * frameLength, (i + 1) * frameLength)), cipher.final()])
    parts.push(seq, iv, body, cipher.getAuthTag())
  }
  return Buffer.concat(parts)
}

/** A pool whose worker is a HeldWorker and whose stall timer fires when the test says. */
async function heldPool() {
  let thread: HeldWorker | undefined
  let stall: (() => void) | undefined
  const pool = new FramePool({
    workerFile: await builtWorkerFile('frame-worker'),
    spawn: (file, options) => (thread = new HeldWorker(file, options)),
    setTimer: (onStall) => {
      stall = onStall
      return () => {
        if (stall === onStall) stall = undefined
      }
    },
  })
  const plaintext = randomBytes(300 * frameLength)
  const run: FrameRun = { algorithm: 'aes-256-gcm', key, aadPrefix, firstSequence: 7, frameLength, input: plaintext }
  // The first run starts the worker and is not given to it.
  expect(pool.seal(run)).toBeUndefined()
  // The worker flags itself started in shared memory; a few turns of the event loop let it boot.
  for (let i = 0; i < 5000 && !pool.ready; i++) await new Promise((resolve) => setTimeout(resolve, 1))
  expect(pool.ready).toBe(true)
  return { pool, run, plaintext, expected: expectedFrames(plaintext, 7), thread: thread!, fireStall: () => stall!() }
}

const threads: HeldWorker[] = []
afterEach(async () => {
  for (const thread of threads.splice(0)) await thread.terminate()
})

describe.runIf(availableParallelism() >= 2)('frame worker stalls', () => {
  it('stall timer fires after the worker finished and wiped its copy, before its answer is read: the answer is used', async () => {
    const { pool, run, expected, thread, fireStall } = await heldPool()
    threads.push(thread)
    thread.holdAnswers = true
    const sealing = pool.seal(run)!
    await once(thread, 'held')
    fireStall()
    thread.deliverAnswers()
    expect(Buffer.compare(await sealing, expected)).toBe(0)
  })

  it('stall timer fires before the worker took the run: sealed here, and the late run changes nothing', async () => {
    const { pool, run, expected, thread, fireStall } = await heldPool()
    threads.push(thread)
    thread.holdRuns = true
    const sealing = pool.seal(run)!
    fireStall()
    const sealed = await sealing
    expect(Buffer.compare(sealed, expected)).toBe(0)
    const kept = Buffer.from(sealed)
    thread.deliverRuns()
    await once(thread, 'exit')
    expect(Buffer.compare(sealed, kept)).toBe(0)
    expect(pool.failures).toBe(1)
  })

  it('the worker exits after finishing, before its answer is read: a typed error, not frames of its wiped copy', async () => {
    const { pool, run, thread } = await heldPool()
    thread.holdAnswers = true
    const sealing = pool.seal(run)!
    await once(thread, 'held')
    thread.answers.length = 0
    await thread.terminate()
    await expect(sealing).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
  })

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
