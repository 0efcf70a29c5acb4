/**
 * The CLI's temporary output file (src/cli/crypt.ts) in a folder others can
 * write to: its name cannot be guessed, it is created exclusively with mode
 * 0600, and nothing planted in the folder is followed or reused. Runs the
 * command in this process, so the test knows the pid the old name was built from.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { runCrypt } from '../../src/cli/crypt.js'

let dir: string
let wrap: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'envelope-temp-'))
  const keyFile = join(dir, 'k.key')
  writeFileSync(keyFile, randomBytes(32))
  wrap = `provider=temp-test key=k file=${keyFile}`
  writeFileSync(join(dir, 'secret.txt'), 'the plaintext')
})

const encrypt = (output: string) => runCrypt('encrypt', ['-i', join(dir, 'secret.txt'), '-o', output, '-w', wrap, '--no-progress'])
const decrypt = (input: string, output: string) => runCrypt('decrypt', ['-i', input, '-o', output, '-w', wrap, '--no-progress'])
/** The name the CLI used to write to: predictable by anyone who can list processes. */
const oldTempName = (output: string) => join(dir, `.${output}.${process.pid}.partial`)

describe('CLI temporary output file', () => {
  it('does not follow a symlink planted at the predictable name', async () => {
    const victim = join(dir, 'victim.txt')
    writeFileSync(victim, 'not yours to overwrite')
    symlinkSync(victim, oldTempName('out.enc'))
    expect(await encrypt(join(dir, 'out.enc'))).toBe(0)
    expect(readFileSync(victim, 'utf8')).toBe('not yours to overwrite')
    expect(readlinkSync(oldTempName('out.enc'))).toBe(victim)
    expect(lstatSync(join(dir, 'out.enc')).isFile()).toBe(true)
    expect(await decrypt(join(dir, 'out.enc'), join(dir, 'out.txt'))).toBe(0)
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('the plaintext')
  })

  it('does not reuse a file planted at the predictable name: the plaintext lands in a new 0600 file', async () => {
    expect(await encrypt(join(dir, 'msg.enc'))).toBe(0)
    const planted = oldTempName('plain.txt')
    writeFileSync(planted, 'planted')
    chmodSync(planted, 0o666)
    expect(await decrypt(join(dir, 'msg.enc'), join(dir, 'plain.txt'))).toBe(0)
    expect(readFileSync(join(dir, 'plain.txt'), 'utf8')).toBe('the plaintext')
    expect(statSync(join(dir, 'plain.txt')).mode & 0o777).toBe(0o600)
    expect(readFileSync(planted, 'utf8')).toBe('planted')
    expect(statSync(planted).mode & 0o777).toBe(0o666)
  })

  it('leaves only the output, mode 0600, and no temporary file, after success and after failure', async () => {
    expect(await encrypt(join(dir, 'a.enc'))).toBe(0)
    expect(statSync(join(dir, 'a.enc')).mode & 0o777).toBe(0o600)
    const tampered = readFileSync(join(dir, 'a.enc'))
    tampered[tampered.length - 1]! ^= 1
    writeFileSync(join(dir, 'bad.enc'), tampered)
    await expect(decrypt(join(dir, 'bad.enc'), join(dir, 'bad.txt'))).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED' })
    expect(readdirSync(dir).sort()).toEqual(['a.enc', 'bad.enc', 'k.key', 'secret.txt'])
  })
})
