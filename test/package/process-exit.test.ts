/**
 * A process that used the frame worker (spec/backends.md#parallel-frames) or holds a live
 * CachingCmm entry (test/caching/safety.test.ts, item 7) exits on its own: plain `node` children
 * run the built package, since the suite's own forked workers would never notice a handle that
 * keeps the event loop alive.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const dist = (path: string) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url))

/**
 * Kills a child that has not exited after this long: a failure guard, not a timing assertion. Two runs
 * plus 10 s fit in the default 60 s test timeout.
 */
const KILL_AFTER_MS = 25_000

/** Runs `node args`, resolving with its exit code, or 'hung' if it had to be killed. */
function run(args: string[], cwd?: string): Promise<{ code: number | 'hung'; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    let hung = false
    const guard = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, KILL_AFTER_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(guard)
      resolve({ code: hung ? 'hung' : (code ?? -1), stdout, stderr })
    })
  })
}

/**
 * One-shot encrypt of a 3 MB unsigned message at 4 KiB frames with the default
 * client, then (with `decrypt`) its decrypt; prints "ok" when all went well.
 * Encrypt alone starts the worker without using it (it is not online yet),
 * which is the case that hung whatever the timing; whether the decrypt then
 * finds the worker online depends on the machine.
 */
const body = (decrypt: boolean) => `
const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'exit', wrappingKey: new Uint8Array(32).fill(7) })
const client = createClient()
const plaintext = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 255)
const { ciphertext } = await client.encrypt(keyring, plaintext, { suiteId: 0x0478, frameLength: 4096 })
const decrypted = ${decrypt} ? (await client.decrypt(keyring, ciphertext)).plaintext : plaintext
console.log(Buffer.compare(decrypted, plaintext) === 0 ? 'ok' : 'mismatch')
`

// With one core no worker starts, so there is nothing that could hold the process.
describe.runIf(availableParallelism() >= 2)('a process that did a large unsigned one-shot message exits', () => {
  beforeAll(() => {
    expect(existsSync(dist('index.js')), 'npm test builds dist/ first').toBe(true)
  })

  // Script files, not `-e`: node ends an `--input-type=module -e` script on its own terms.
  it.each([true, false])('ESM (dist/index.js), decrypt after encrypt: %s', async (decrypt) => {
    const script = join(mkdtempSync(join(tmpdir(), 'envelope-exit-')), 'child.mjs')
    writeFileSync(script, `import { createClient, RawAesKeyring } from ${JSON.stringify(dist('index.js'))}\n${body(decrypt)}`)
    const result = await run([script])
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' })
  }, KILL_AFTER_MS + 10_000)

  it.each([true, false])('CommonJS (dist/index.cjs), decrypt after encrypt: %s', async (decrypt) => {
    const script = join(mkdtempSync(join(tmpdir(), 'envelope-exit-')), 'child.cjs')
    writeFileSync(script, `const { createClient, RawAesKeyring } = require(${JSON.stringify(dist('index.cjs'))})\n;(async () => {\n${body(decrypt)}\n})()`)
    const result = await run([script])
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' })
  }, KILL_AFTER_MS + 10_000)

  it('the CLI: envelope decrypt --buffer of a 3 MB message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-exit-'))
    writeFileSync(join(dir, 'k.key'), randomBytes(32))
    writeFileSync(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024))
    const key = `provider=exit key=k file=${join(dir, 'k.key')}`
    const cli = dist('cli/main.js')
    const enc = await run([cli, 'encrypt', '-i', 'big.bin', '-o', 'big.enc', '-w', key, '--algorithm', '0x0478', '--frame-length', '4096'], dir)
    expect(enc.code).toBe(0)
    const dec = await run([cli, 'decrypt', '--buffer', '-i', 'big.enc', '-o', 'big.out', '-w', key], dir)
    expect(dec.code).toBe(0)
  })
})

describe('a process with a live CachingCmm entry exits: the expiry sweep is unref\'d (item 7)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  // Counts the timers armed while the script runs and whether any still holds the process.
  const script = (load: string) => `
    const armed = []
    const real = globalThis.setTimeout
    globalThis.setTimeout = (...args) => { const t = real(...args); armed.push(t); return t }
    const { CachingCmm, RawAesKeyring, createClient } = ${load}
    const keyring = new RawAesKeyring({ keyNamespace: 'n', keyName: 'k', wrappingKey: new Uint8Array(32).fill(7) })
    const cmm = new CachingCmm({ keyring, maxAge: 3_600_000 })
    createClient().encrypt(cmm, 'x').then(() => {
      console.log(JSON.stringify({ armed: armed.length, holding: armed.filter((t) => t.hasRef()).length }))
    })`

  it.each([
    ['ESM', ['--input-type=module', '-e', script(`await import('envelope-sdk')`)]],
    ['CJS', ['-e', script(`require('envelope-sdk')`)]],
  ])('%s: a process with a live entry (maxAge one hour) exits on its own', (_kind, args) => {
    expect(existsSync(`${root}/dist/index.js`), 'build first (npm test does)').toBe(true)
    // The timeout only stops a hung child; the assertion is that it exited by itself.
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 120_000 })
    expect(result.stderr).toBe('')
    expect(result.signal).toBeNull()
    expect(result.status).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ armed: 1, holding: 0 })
  })
})
