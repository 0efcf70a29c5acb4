/**
 * `envelope kms-local --keys-manifest` and `envelope vectors … --kms-endpoint`
 * end to end: the built binary (dist/cli/main.js) serves the canonical keys in
 * one child process while others encrypt and decrypt KMS scenarios through it.
 * A sample of 40 KMS scenarios keeps this to a few seconds;
 * test/vectors/kms-vectors.test.ts runs all of them in process.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PUBLIC_VECTORS, readVectorJson } from '../support/vectors.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const KEYS = join(PUBLIC_VECTORS, 'framework-canonical-manifests', '0002-keys.v3.json')
const SAMPLE = 40

let dir: string
let server: ChildProcessWithoutNullStreams | undefined
let banner = ''
let endpoint = ''

function envelope(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split('\n').at(-1) }
}

beforeAll(async () => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-kms-cli-'))
  // Every 5th KMS scenario of 0003, so both the one-key and the two-key (with encrypt-only) kinds are in.
  const manifest = readVectorJson('framework-canonical-manifests', '0003-awses-message-encryption.v2.json')
  const kmsTests = Object.entries<any>(manifest.tests).filter(([, t]) => t['master-keys'].some((mk: any) => mk.type === 'aws-kms'))
  const sample = Object.fromEntries(kmsTests.filter((_, i) => i % 5 === 0).slice(0, SAMPLE))
  writeFileSync(join(dir, 'keys.json'), readFileSync(KEYS))
  writeFileSync(join(dir, 'encrypt.json'), JSON.stringify({ ...manifest, keys: 'file://keys.json', tests: sample }))

  const child = spawn(process.execPath, [bin, 'kms-local', '--port', '0', '--keys-manifest', join(dir, 'encrypt.json')], { cwd: dir })
  server = child
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kms-local did not start: ${banner}`)), 20_000)
    child.stdout.on('data', (chunk: Buffer) => {
      banner += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(banner)
      if (found && banner.includes('us-west-2-encrypt-only')) {
        endpoint = found[1]!
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`kms-local exited with ${code}: ${banner}`)))
  })
})

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
})

describe('envelope kms-local --keys-manifest', () => {
  it('prints every aws-kms key of the manifest with its key ARN, alias and use', () => {
    expect(banner).toMatch(/key us-west-2-decryptable: arn:aws:kms:us-west-2:658956600833:key\/[0-9a-f-]{36} as alias\/EncryptDecrypt\n/)
    expect(banner).toMatch(/key us-west-2-encrypt-only: arn:aws:kms:us-west-2:658956600833:key\/[0-9a-f-]{36} as alias\/EncryptOnly \(encrypt only\)\n/)
    expect(banner).not.toMatch(/^key arn:/m) // no random extra key
  })
})

describe('envelope vectors --kms-endpoint', () => {
  it('encrypts the sampled KMS scenarios through the server, then decrypts them through it', () => {
    const enc = envelope(['vectors', 'encrypt', '--manifest', 'encrypt.json', '--out', 'out', '--kms-endpoint', endpoint])
    expect(enc.stderr).not.toContain('failed')
    expect(enc.last).toBe(`${SAMPLE} passed, 0 failed, 0 skipped`)
    expect(enc.code).toBe(0)
    const keys = JSON.parse(readFileSync(join(dir, 'out', 'keys.json'), 'utf8')).keys
    expect(banner).toContain(`key us-west-2-decryptable: ${keys['us-west-2-decryptable']['key-id']} as alias/EncryptDecrypt`)

    const dec = envelope(['vectors', 'decrypt', '--manifest', 'out/manifest.json', '--kms-endpoint', endpoint])
    expect(dec.last).toBe(`${SAMPLE} passed, 0 failed, 0 skipped`)
    expect(dec.code).toBe(0)
    // Not a terminal: no progress drawn, no control characters.
    expect(dec.stderr).not.toContain('\r')
  })

  it('without it, every KMS test is skipped with a reason that names --kms-endpoint', () => {
    const dec = envelope(['vectors', 'decrypt', '--manifest', 'out/manifest.json'])
    expect(dec.last).toBe(`0 passed, 0 failed, ${SAMPLE} skipped`)
    const skips = dec.stdout.split('\n').filter((line) => line.startsWith('skipped '))
    expect(skips).toHaveLength(SAMPLE)
    for (const line of skips) expect(line).toContain('--kms-endpoint URL')
  })

  it('rejects an endpoint that is not an http(s) URL, and the help names the option', () => {
    const bad = envelope(['vectors', 'decrypt', '--manifest', 'out/manifest.json', '--kms-endpoint', 'localhost:4599'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--kms-endpoint takes an http:// or https:// URL')
    expect(envelope(['vectors', '--help']).stdout).toContain('--kms-endpoint URL')
    expect(envelope(['kms-local', '--help']).stdout).toContain('--keys-manifest PATH')
  })
})
