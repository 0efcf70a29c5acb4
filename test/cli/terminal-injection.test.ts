/**
 * Terminal injection through the CLI (issue 14 item 8; the library side is
 * test/hostile/terminal-injection.test.ts): the built CLI, run as a child process,
 * prints a hostile message's names, a hostile file name and a hostile encryption
 * context only in printable form.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { jsonLine } from '../../src/cli/crypt.js'
import { printable } from '../../src/errors.js'
import { createClient, RawAesKeyring } from '../../src/index.js'
import { CONTROL, CONTROL_BUT_LF, EVIL_KEY_NAME, EVIL_NAMESPACE, hostileMessage } from '../hostile/injection.js'

const client = createClient()

describe('the CLI', () => {
  const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

  function envelope(cwd: string, args: string[]) {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, maxBuffer: 64 << 20 })
    return { code: r.status, stderr: r.stderr.toString('utf8') }
  }

  it('prints a hostile message\'s names escaped on stderr', async () => {
    expect(existsSync(bin), 'run npm run build first').toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    writeFileSync(join(dir, 'k.key'), randomBytes(32))
    writeFileSync(join(dir, 'evil.enc'), await hostileMessage())
    const r = envelope(dir, ['decrypt', '-i', 'evil.enc', '-o', 'out', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('ERR_NO_MATCHING_KEY')
    expect(r.stderr).toContain(printable(EVIL_NAMESPACE))
    expect(r.stderr).not.toMatch(CONTROL_BUT_LF)
    for (const line of r.stderr.trimEnd().split('\n').slice(1)) expect(line).toMatch(/^ {2}- /)
  })

  it('escapes a hostile file name found while recursing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    writeFileSync(join(dir, 'k.key'), randomBytes(32))
    const evil = 'a\x1b]0;pwned\x07\rb.txt'
    mkdirSync(join(dir, 'in'))
    writeFileSync(join(dir, 'in', evil), 'x')
    mkdirSync(join(dir, 'out'))
    writeFileSync(join(dir, 'out', `${evil}.encrypted`), 'already here')
    const r = envelope(dir, ['encrypt', '-r', '--no-overwrite', '-i', 'in', '-o', 'out', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('a\\x1b]0;pwned\\x07\\x0db.txt')
    expect(r.stderr).not.toMatch(CONTROL_BUT_LF)
  })

  it('writes --metadata-output JSON whose text has no control, bidi or separator character, and parses back to the same context', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-injection-'))
    const key = randomBytes(32)
    writeFileSync(join(dir, 'k.key'), key)
    const context = { [EVIL_KEY_NAME]: EVIL_NAMESPACE, plain: 'v' }
    const keyring = new RawAesKeyring({ keyNamespace: 'cli', keyName: 'k', wrappingKey: key })
    writeFileSync(join(dir, 'm.enc'), (await client.encrypt(keyring, 'x', { encryptionContext: context })).ciphertext)
    const r = spawnSync(process.execPath, [bin, 'decrypt', '-i', 'm.enc', '-o', 'out', '--metadata-output', '-', '-w', `provider=cli key=k file=${join(dir, 'k.key')}`], { cwd: dir })
    const stdout = r.stdout.toString('utf8')
    expect(r.status).toBe(0)
    expect(stdout.trimEnd().split('\n')).toHaveLength(1)
    expect(stdout.trimEnd()).not.toMatch(CONTROL)
    expect(JSON.stringify(JSON.parse(stdout))).toContain(JSON.stringify(EVIL_KEY_NAME).slice(1, -1))
    expect(JSON.parse(jsonLine(context))).toEqual(context)
  })
})
