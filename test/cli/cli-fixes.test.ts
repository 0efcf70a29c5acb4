/**
 * Findings of a new user's first try of the CLI, each pinned: decrypt never writes over a plaintext
 * original, -r refuses two inputs with one output, hints name the flag that works, usage errors name
 * the command's help, key-file mistakes are usage errors naming the file. The built binary
 * (dist/cli/main.js) in child processes, on real files.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
let dir: string
const aes = 'provider=fixes key=k file=k.key'
const rewrapKeys = ['--from-wrapping-keys', aes, '--to-wrapping-keys', aes]

function envelope(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir })
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
}

beforeAll(() => {
  expect(existsSync(bin), 'npm run build first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-fixes-'))
  writeFileSync(join(dir, 'k.key'), randomBytes(32))
  writeFileSync(join(dir, 'doc'), 'hello')
})

describe('decrypt never takes the name of a plaintext original', () => {
  it('decrypt -r into the folder holding x and x.encrypted leaves the newer x as it is', () => {
    mkdirSync(join(dir, 'edit'))
    writeFileSync(join(dir, 'edit/x'), 'version 1')
    expect(envelope(['encrypt', '-i', 'edit/x', '-o', 'edit/x.encrypted', '-w', aes]).code).toBe(0)
    writeFileSync(join(dir, 'edit/x'), 'version 2, edited after the backup')
    const r = envelope(['decrypt', '-r', '-i', 'edit', '-o', 'edit', '-w', aes])
    expect(readFileSync(join(dir, 'edit/x'), 'utf8')).toBe('version 2, edited after the backup')
    expect(readFileSync(join(dir, 'edit/x.encrypted.decrypted'), 'utf8')).toBe('version 1')
    // x itself was an input that is not a message: a failure, reported, not a silent skip.
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('edit/x: ERR_MALFORMED_MESSAGE')
    expect(r.stderr).toContain('1 of 2 files failed')
  })

  it('decrypt of one file into that folder too', () => {
    expect(envelope(['decrypt', '-i', 'edit/x.encrypted', '-o', 'edit', '-w', aes]).code).toBe(0)
    expect(readFileSync(join(dir, 'edit/x'), 'utf8')).toBe('version 2, edited after the backup')
  })
})

describe('-r: two inputs with one output name', () => {
  it('rewrap of x.encrypted and x.rewrapped into another folder writes neither and fails both, before writing anything', () => {
    mkdirSync(join(dir, 'pair'))
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'pair/x.encrypted', '-w', aes, '--algorithm', '0x0478']).code).toBe(0)
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'pair/x.rewrapped', '-w', aes, '--algorithm', '0x0478']).code).toBe(0)
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'pair/y.encrypted', '-w', aes, '--algorithm', '0x0478']).code).toBe(0)
    const r = envelope(['rewrap', '-r', '-i', 'pair', '-o', 'pair-out', ...rewrapKeys])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('pair/x.encrypted: pair/x.rewrapped would be written to the same output pair-out/x.rewrapped; neither is written')
    expect(r.stderr).toContain('pair/x.rewrapped: pair/x.encrypted would be written to the same output pair-out/x.rewrapped; neither is written')
    expect(r.stderr).toContain('2 of 3 files failed')
    expect(readdirSync(join(dir, 'pair-out'))).toEqual(['y.rewrapped'])
    // The hint works: --suffix appends to each input name.
    expect(envelope(['rewrap', '-r', '-i', 'pair', '-o', 'pair-sfx', ...rewrapKeys, '--suffix', '.new']).code).toBe(0)
    expect(readdirSync(join(dir, 'pair-sfx')).sort()).toEqual(['x.encrypted.new', 'x.rewrapped.new', 'y.encrypted.new'])
  })
})

describe('--no-overwrite refusing is a failure, not a usage error', () => {
  it('exit 1 without a usage hint, for one file and with -r', () => {
    mkdirSync(join(dir, 'keep'))
    writeFileSync(join(dir, 'keep/a'), 'a')
    writeFileSync(join(dir, 'keep/a.encrypted'), 'older')
    const one = envelope(['encrypt', '-i', 'keep/a', '-o', 'keep/a.encrypted', '-w', aes, '--no-overwrite'])
    expect(one).toMatchObject({ code: 1, stderr: 'envelope: keep/a.encrypted exists and --no-overwrite is set\n' })
    mkdirSync(join(dir, 'keep-out'))
    writeFileSync(join(dir, 'keep-out/a.encrypted'), 'older')
    const tree = envelope(['encrypt', '-r', '-i', 'keep', '-o', 'keep-out', '-w', aes, '--no-overwrite'])
    expect(tree.code).toBe(1)
    expect(tree.stderr).toContain('keep/a: keep-out/a.encrypted exists and --no-overwrite is set')
    expect(tree.stderr).not.toContain('--help')
    expect(readFileSync(join(dir, 'keep-out/a.encrypted'), 'utf8')).toBe('older')
  })
})

describe('commitment policy hints name the policy that works', () => {
  it('rewrap of a non-committing message names forbid-encrypt-allow-decrypt, which then rewraps it', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'old.enc', '-w', aes, '--algorithm', '0x0178', '--commitment-policy', 'forbid-encrypt-allow-decrypt']).code).toBe(0)
    const r = envelope(['rewrap', '-i', 'old.enc', '-o', 'old.new', ...rewrapKeys])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('(rewrap writes the same suite: use --commitment-policy forbid-encrypt-allow-decrypt to rewrap it)')
    expect(r.stderr).not.toContain('require-encrypt-allow-decrypt to read')
    // Decrypt's hint (read with require-encrypt-allow-decrypt) is the one that fails for rewrap: it names the flag that works.
    const read = envelope(['rewrap', '-i', 'old.enc', '-o', 'old.new', ...rewrapKeys, '--commitment-policy', 'require-encrypt-allow-decrypt'])
    expect(read.code).toBe(1)
    expect(read.stderr).toContain('requires key commitment on encrypt (use --commitment-policy forbid-encrypt-allow-decrypt to write it)')
    expect(envelope(['rewrap', '-i', 'old.enc', '-o', 'old.new', ...rewrapKeys, '--commitment-policy', 'forbid-encrypt-allow-decrypt']).code).toBe(0)
    // decrypt keeps its own hint.
    expect(envelope(['decrypt', '-i', 'old.enc', '-o', '-', '-w', aes]).stderr).toContain('use --commitment-policy require-encrypt-allow-decrypt to read older messages')
  })

  it('encrypt --algorithm of a suite the policy will not write names the policy that writes it', () => {
    const legacy = envelope(['encrypt', '-i', 'doc', '-o', 'l.enc', '-w', aes, '--algorithm', '0x0178'])
    expect(legacy.code).toBe(1)
    expect(legacy.stderr).toContain('--algorithm 0x0178 is not key-committing, and --commitment-policy require-encrypt-require-decrypt requires key commitment on encrypt (use --commitment-policy forbid-encrypt-allow-decrypt to write it)')
    const committing = envelope(['encrypt', '-i', 'doc', '-o', 'l.enc', '-w', aes, '--algorithm', '0x0478', '--commitment-policy', 'forbid-encrypt-allow-decrypt'])
    expect(committing.code).toBe(1)
    expect(committing.stderr).toContain('forbids key commitment on encrypt (use --commitment-policy require-encrypt-require-decrypt to write it)')
  })
})

describe('an output folder named with a trailing separator', () => {
  it('encrypt -i file -o missing/ creates the folder, as -r does', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'made/', '-w', aes, '--algorithm', '0x0478'])).toMatchObject({ code: 0, stderr: '' })
    expect(readdirSync(join(dir, 'made'))).toEqual(['doc.encrypted'])
    expect(envelope(['rewrap', '-i', 'made/doc.encrypted', '-o', 'made2/', ...rewrapKeys]).code).toBe(0)
    expect(readdirSync(join(dir, 'made2'))).toEqual(['doc.rewrapped'])
  })

  it('a file in the way is named, for one file and with -r', () => {
    const one = envelope(['encrypt', '-i', 'doc', '-o', 'doc/', '-w', aes])
    expect(one).toMatchObject({ code: 1, stderr: 'envelope: output doc/: it, or a folder above it, is a file, not a directory\n' })
    mkdirSync(join(dir, 'tree'))
    writeFileSync(join(dir, 'tree/a'), 'a')
    const tree = envelope(['encrypt', '-r', '-i', 'tree', '-o', 'doc', '-w', aes])
    expect(tree).toMatchObject({ code: 1, stderr: 'envelope: output doc: it, or a folder above it, is a file, not a directory\n' })
  })
})

describe('usage errors name the command and its help', () => {
  it('an unknown option is named with its command, in balanced quotes', () => {
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'u.enc', '-w', aes, '--frobnicate'])
    expect(r).toMatchObject({ code: 2, stderr: "envelope: unknown option --frobnicate for envelope encrypt\nrun 'envelope encrypt --help' for usage\n" })
    expect(envelope(['inspect', '--frobnicate', 'doc']).stderr).toContain("unknown option --frobnicate for envelope inspect\nrun 'envelope inspect --help' for usage")
  })

  it('rewrap -w points at --from-wrapping-keys and --to-wrapping-keys', () => {
    const r = envelope(['rewrap', '-i', 'doc', '-o', 'u.enc', '-w', aes])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown option -w for envelope rewrap: rewrap takes --from-wrapping-keys (keys that decrypt the message now) and --to-wrapping-keys (keys to wrap it for)')
  })

  it('other usage errors name the command\'s help', () => {
    expect(envelope(['decrypt', '-i', 'doc']).stderr).toBe("envelope: -i/--input and -o/--output are required\nrun 'envelope decrypt --help' for usage\n")
    expect(envelope(['frobnicate']).stderr).toContain("run 'envelope --help' for usage")
  })
})

describe('a file that is not a message, and inspect of stdin', () => {
  it('says it is not an encrypted message, keeping the code', () => {
    const r = envelope(['decrypt', '-i', 'doc', '-o', '-', '-w', aes])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('envelope: ERR_MALFORMED_MESSAGE: unsupported message format version 0x68 (at byte 0): not an encrypted message (it does not start like one)\n')
    expect(envelope(['inspect', 'doc']).stderr).toContain('not an encrypted message')
  })

  it('inspect - reads the message from stdin', () => {
    const message = readFileSync(join(dir, 'made/doc.encrypted'))
    const fromFile = envelope(['inspect', '--json', 'made/doc.encrypted'])
    const fromStdin = envelope(['inspect', '--json', '-'], message)
    expect(fromStdin.code).toBe(0)
    expect({ ...JSON.parse(fromStdin.stdout), file: 'x' }).toEqual({ ...JSON.parse(fromFile.stdout), file: 'x' })
    expect(JSON.parse(fromStdin.stdout).file).toBe('-')
    const cut = envelope(['inspect', '-'], message.subarray(0, 20))
    expect(cut.code).toBe(1)
    expect(cut.stderr).toContain('-: ERR_TRUNCATED: stdin ends inside the message header (20 bytes')
  })
})
