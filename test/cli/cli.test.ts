/** The real `envelope` binary (dist/cli/main.js) in child processes, on real files. */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { PUBLIC_VECTORS } from '../support/vectors.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
let dir: string
let keyFile: string
const aesKey = (name: string) => `provider=cli-test key=${name} file=${keyFile}`

function envelope(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir, maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') }
}

beforeAll(() => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-cli-'))
  keyFile = join(dir, 'k1.key')
  writeFileSync(keyFile, randomBytes(32))
})

describe('envelope encrypt / decrypt', () => {
  it('round-trips a file with context, suite and frame length, and writes metadata', () => {
    const data = randomBytes(100_000)
    writeFileSync(join(dir, 'data.bin'), data)
    const enc = envelope(['encrypt', '-i', 'data.bin', '-o', 'data.bin.enc', '-w', aesKey('k1'), '-c', 'team=blue', 'purpose=test', '--algorithm', '0x0478', '--frame-length', '1024', '--metadata-output', 'meta.jsonl'])
    expect(enc.stderr).toBe('')
    expect(enc.code).toBe(0)
    const meta = JSON.parse(readFileSync(join(dir, 'meta.jsonl'), 'utf8').trim())
    expect(meta.header).toMatchObject({ suiteId: '0x0478', frameLength: 1024, encryptionContext: { team: 'blue', purpose: 'test' } })
    const dec = envelope(['decrypt', '-i', 'data.bin.enc', '-o', 'data.out', '-w', aesKey('k1'), '-c', 'team=blue'])
    expect(dec.code).toBe(0)
    expect(readFileSync(join(dir, 'data.out')).equals(data)).toBe(true)
  })

  it('streams stdin to stdout, with base64 encoding', () => {
    const enc = envelope(['encrypt', '-i', '-', '-o', '-', '-w', aesKey('k1'), '--encode'], 'hello from stdin')
    expect(enc.code).toBe(0)
    expect(enc.stdout.toString('utf8')).toMatch(/^AgV4[A-Za-z0-9+/=]+$/)
    const dec = envelope(['decrypt', '-i', '-', '-o', '-', '-w', aesKey('k1'), '--decode'], enc.stdout)
    expect(dec.code).toBe(0)
    expect(dec.stdout.toString('utf8')).toBe('hello from stdin')
  })

  it('recurses through directories with a suffix', () => {
    mkdirSync(join(dir, 'tree/sub'), { recursive: true })
    writeFileSync(join(dir, 'tree/a.txt'), 'a')
    writeFileSync(join(dir, 'tree/sub/b.txt'), 'b')
    expect(envelope(['encrypt', '-r', '-i', 'tree', '-o', 'tree-enc', '-w', aesKey('k1'), '--suffix', '.env']).code).toBe(0)
    expect(readdirSync(join(dir, 'tree-enc/sub'))).toEqual(['b.txt.env'])
    expect(envelope(['decrypt', '-r', '-i', 'tree-enc', '-o', 'tree-dec', '-w', aesKey('k1')]).code).toBe(0)
    expect(readFileSync(join(dir, 'tree-dec/sub/b.txt.env.decrypted'), 'utf8')).toBe('b')
  })

  it('-r over a directory reports a file that fails by name, goes on with the others, and exits 1 with a summary', () => {
    mkdirSync(join(dir, 'mixed'), { recursive: true })
    writeFileSync(join(dir, 'mixed/a.txt'), 'a')
    writeFileSync(join(dir, 'mixed/c.txt'), 'c')
    expect(envelope(['encrypt', '-r', '-i', 'mixed', '-o', 'mixed-enc', '-w', aesKey('k1')]).code).toBe(0)
    writeFileSync(join(dir, 'mixed-enc/b.txt.encrypted'), randomBytes(1000))
    const r = envelope(['decrypt', '-r', '-i', 'mixed-enc', '-o', 'mixed-dec', '-w', aesKey('k1')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/b\.txt\.encrypted: ERR_MALFORMED_MESSAGE/)
    expect(r.stderr).toContain('1 of 3 files failed')
    expect(readFileSync(join(dir, 'mixed-dec/a.txt.encrypted.decrypted'), 'utf8')).toBe('a')
    expect(readFileSync(join(dir, 'mixed-dec/c.txt.encrypted.decrypted'), 'utf8')).toBe('c')
    expect(readdirSync(join(dir, 'mixed-dec')).sort()).toEqual(['a.txt.encrypted.decrypted', 'c.txt.encrypted.decrypted'])
  })

  it('fails with a wrong key, naming the key it tried, and leaves no output file', () => {
    writeFileSync(join(dir, 'w.bin'), 'secret')
    expect(envelope(['encrypt', '-i', 'w.bin', '-o', 'w.enc', '-w', aesKey('k1')]).code).toBe(0)
    const other = join(dir, 'other.key')
    writeFileSync(other, randomBytes(32))
    const dec = envelope(['decrypt', '-i', 'w.enc', '-o', 'w.out', '-w', `provider=cli-test key=k1 file=${other}`])
    expect(dec.code).toBe(1)
    expect(dec.stderr).toContain('ERR_NO_MATCHING_KEY')
    expect(dec.stderr).toContain('"k1"')
    expect(existsSync(join(dir, 'w.out'))).toBe(false)
  })

  it('a tampered last frame leaves no partial plaintext file behind', () => {
    writeFileSync(join(dir, 'big.bin'), randomBytes(50_000))
    expect(envelope(['encrypt', '-i', 'big.bin', '-o', 'big.enc', '-w', aesKey('k1'), '--algorithm', '0x0478', '--frame-length', '4096']).code).toBe(0)
    const tampered = readFileSync(join(dir, 'big.enc'))
    tampered[tampered.length - 5]! ^= 1
    writeFileSync(join(dir, 'big.bad'), tampered)
    const dec = envelope(['decrypt', '-i', 'big.bad', '-o', 'big.out', '-w', aesKey('k1')])
    expect(dec.code).toBe(1)
    expect(dec.stderr).toContain('ERR_AUTHENTICATION_FAILED')
    expect(readdirSync(dir).filter((f) => f.startsWith('big.out') || f.includes('.partial'))).toEqual([])
  })

  it('rejects bad flags with exit code 2 and a hint', () => {
    for (const args of [['encrypt'], ['encrypt', '-i', 'x', '-o', 'y'], ['decrypt', '--frame-length', '5', '-i', 'a', '-o', 'b', '-w', aesKey('k1')], ['encrypt', '--bogus'], ['frobnicate'], ['encrypt', '-i', 'data.bin', '-o', 'z', '-w', aesKey('k1'), '--algorithm', '0x9999']]) {
      const r = envelope(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^envelope: /)
    }
    expect(envelope(['encrypt', '--help']).stdout.toString()).toContain('--wrapping-keys')
  })

  it('honours --no-overwrite', () => {
    writeFileSync(join(dir, 'keep.txt'), 'x')
    writeFileSync(join(dir, 'keep.enc'), 'existing')
    expect(envelope(['encrypt', '-i', 'keep.txt', '-o', 'keep.enc', '-w', aesKey('k1'), '--no-overwrite']).code).toBe(1)
    expect(readFileSync(join(dir, 'keep.enc'), 'utf8')).toBe('existing')
  })

  it('refuses an output that is the input file itself, leaving it intact', () => {
    writeFileSync(join(dir, 'same.txt'), 'original')
    const r = envelope(['encrypt', '-i', 'same.txt', '-o', './same.txt', '-w', aesKey('k1')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('is the input file itself')
    expect(readFileSync(join(dir, 'same.txt'), 'utf8')).toBe('original')
  })
})

describe('envelope vectors decrypt', () => {
  it('runs a public manifest and ends with the summary line', () => {
    const r = envelope(['vectors', 'decrypt', '--manifest', join(PUBLIC_VECTORS, 'esdk-net-4.0.1/manifest.offline.json')])
    expect(r.code).toBe(0)
    expect(r.stdout.toString().trim().split('\n').at(-1)).toBe('99 passed, 0 failed, 0 skipped')
  })
})

describe('envelope vectors encrypt / generate', () => {
  it('writes an awses-decrypt manifest that the runner then passes', () => {
    const manifest = join(PUBLIC_VECTORS, 'framework-canonical-manifests/0003-awses-message-encryption.v2.json')
    const enc = envelope(['vectors', 'encrypt', '--manifest', manifest, '--out', 'vec-out', '--filter', 'a'])
    expect(enc.code).toBe(0)
    expect(enc.stdout.toString().trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/)
    const written = JSON.parse(readFileSync(join(dir, 'vec-out/manifest.json'), 'utf8'))
    expect(written.manifest).toEqual({ type: 'awses-decrypt', version: 2 })
    const dec = envelope(['vectors', 'decrypt', '--manifest', 'vec-out/manifest.json'])
    expect(dec.code).toBe(0)
    expect(dec.stdout.toString().trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/)
    // Two CLI runs over a few hundred scenarios: 25-65 s on a shared 2-core machine.
  }, 180_000)
})
