/** `envelope rewrap` and `envelope inspect`: the real binary (dist/cli/main.js) on real files. */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
let dir: string
const spec = (name: string) => `provider=cli-test key=${name} file=${join(dir, `${name}.key`)}`

function envelope(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir, maxBuffer: 64 << 20 })
  return { code: r.status, out: r.stdout, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
}

beforeAll(() => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-rewrap-cli-'))
  for (const name of ['old', 'new', 'other']) writeFileSync(join(dir, `${name}.key`), randomBytes(32))
})

describe('envelope rewrap', () => {
  it('rewraps a file: the new key decrypts it, the old one no longer does', () => {
    const data = randomBytes(50_000)
    writeFileSync(join(dir, 'a.bin'), data)
    expect(envelope(['encrypt', '-i', 'a.bin', '-o', 'a.enc', '-w', spec('old'), '--algorithm', '0x0478', '-c', 'team=blue']).code).toBe(0)
    const r = envelope(['rewrap', '-i', 'a.enc', '-o', 'a.new', '--from-wrapping-keys', spec('old'), '--to-wrapping-keys', spec('new'), '--to-wrapping-keys', spec('other')])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    for (const key of ['new', 'other']) {
      expect(envelope(['decrypt', '-i', 'a.new', '-o', `a.${key}.out`, '-w', spec(key), '-c', 'team=blue']).code).toBe(0)
      expect(readFileSync(join(dir, `a.${key}.out`)).equals(data)).toBe(true)
    }
    expect(envelope(['decrypt', '-i', 'a.new', '-o', 'a.old.out', '-w', spec('old')]).stderr).toMatch(/ERR_NO_MATCHING_KEY/)
  })

  it('directories with -r: a failed file is reported, the others go on, and it leaves no output', () => {
    mkdirSync(join(dir, 'tree/sub'), { recursive: true })
    writeFileSync(join(dir, 'tree/x.txt'), 'x')
    writeFileSync(join(dir, 'tree/sub/y.txt'), 'y')
    expect(envelope(['encrypt', '-r', '-i', 'tree', '-o', 'tree-enc', '-w', spec('old'), '--algorithm', '0x0478', '--suffix', '']).code).toBe(0)
    // One file tampered in its last byte (the final frame's tag): refused after the header, yet nothing is left behind.
    const bad = readFileSync(join(dir, 'tree-enc/x.txt'))
    bad[bad.length - 1]! ^= 1
    writeFileSync(join(dir, 'tree-enc/x.txt'), bad)
    const r = envelope(['rewrap', '-r', '-i', 'tree-enc', '-o', 'tree-new', '--from-wrapping-keys', spec('old'), '--to-wrapping-keys', spec('new')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/x\.txt: ERR_AUTHENTICATION_FAILED/)
    expect(r.stderr).toMatch(/1 of 2 files failed/)
    expect(readdirSync(join(dir, 'tree-new'))).toEqual(['sub'])
    expect(envelope(['decrypt', '-i', 'tree-new/sub/y.txt.rewrapped', '-o', '-', '-w', spec('new')]).stdout).toBe('y')
  })

  it('a signed message is refused with the reason, and nothing is written', () => {
    writeFileSync(join(dir, 's.txt'), 'signed')
    expect(envelope(['encrypt', '-i', 's.txt', '-o', 's.enc', '-w', spec('old')]).code).toBe(0)
    const r = envelope(['rewrap', '-i', 's.enc', '-o', 's.new', '--from-wrapping-keys', spec('old'), '--to-wrapping-keys', spec('new')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ERR_SIGNED_NOT_ALLOWED: .*signing key was discarded/)
    expect(readdirSync(dir).filter((f) => f.startsWith('s.new') || f.startsWith('.s.new'))).toEqual([])
  })

  it('stdin to stdout; usage errors', () => {
    const enc = envelope(['encrypt', '-i', '-', '-o', '-', '-w', spec('old'), '--algorithm', '0x0478'], 'piped')
    const r = envelope(['rewrap', '-i', '-', '-o', '-', '--from-wrapping-keys', spec('old'), '--to-wrapping-keys', spec('new')], enc.out)
    expect(r.code).toBe(0)
    expect(envelope(['decrypt', '-i', '-', '-o', '-', '-w', spec('new')], r.out).stdout).toBe('piped')
    expect(envelope(['rewrap', '-i', 'a.enc', '-o', 'z', '--from-wrapping-keys', spec('old')]).code).toBe(2)
  })
})

describe('envelope inspect', () => {
  it('one line per file, text and --json, without a key; a non-message file is reported', () => {
    mkdirSync(join(dir, 'insp'), { recursive: true })
    expect(envelope(['encrypt', '-i', 'a.bin', '-o', 'insp/m1', '-w', spec('old'), '--algorithm', '0x0478', '--frame-length', '1024', '-c', 'team=blue']).code).toBe(0)
    writeFileSync(join(dir, 'insp/junk'), 'not a message')
    const text = envelope(['inspect', 'insp'])
    expect(text.code).toBe(1)
    expect(text.stdout.trim().split('\n')).toHaveLength(1)
    expect(text.stdout).toMatch(/insp\/m1: v2; ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY \(0x0478\); id [0-9a-f]{64}; framed 1024; header \d+ B; context \{"team":"blue"\}; keys: cli-test raw-aes-key-name="old" \(48 B\); unauthenticated/)
    expect(text.stderr).toMatch(/insp\/junk: ERR_MALFORMED_MESSAGE/)

    const json = envelope(['inspect', '--json', join('insp', 'm1'), join('insp', 'junk')])
    const [line1, line2] = json.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(line1).toMatchObject({ file: 'insp/m1', complete: true, authenticated: false, suiteId: 0x0478, frameLength: 1024, encryptionContext: { team: 'blue' } })
    expect(line1.encryptedDataKeys[0]).toMatchObject({ providerId: 'cli-test', keyName: 'old', keyNameKind: 'raw-aes-key-name', length: 48 })
    expect(line2).toMatchObject({ file: 'insp/junk', error: { code: 'ERR_MALFORMED_MESSAGE' } })
  })

  it('a file that ends inside the header: ERR_TRUNCATED', () => {
    writeFileSync(join(dir, 'cut'), readFileSync(join(dir, 'insp/m1')).subarray(0, 40))
    expect(envelope(['inspect', 'cut']).stderr).toMatch(/cut: ERR_TRUNCATED/)
  })
})
