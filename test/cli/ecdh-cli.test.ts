/** `envelope encrypt|decrypt -w "ecdh ..."` (src/cli/keyrings.ts) through the real binary, on PEM and DER key files. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ecKeyPair } from '../support/keys.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
let dir: string

function envelope(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir })
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'envelope-ecdh-cli-'))
  const alice = ecKeyPair('P-384')
  const bob = ecKeyPair('P-384')
  writeFileSync(join(dir, 'alice-priv.pem'), alice.privatePem)
  writeFileSync(join(dir, 'alice-pub.der'), alice.publicDer)
  writeFileSync(join(dir, 'bob-priv.der'), bob.privateDer)
  writeFileSync(join(dir, 'bob-pub.pem'), bob.publicPem)
  writeFileSync(join(dir, 'doc'), 'for bob')
})

describe('envelope -w "ecdh ..."', () => {
  it('ephemeral to a public key, then discovery with the private key', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'doc.eph', '-w', 'ecdh curve=P-384 recipient=bob-pub.pem'])).toMatchObject({ code: 0, stderr: '' })
    expect(envelope(['decrypt', '-i', 'doc.eph', '-o', '-', '-w', 'ecdh curve=P-384 recipient=bob-priv.der'])).toMatchObject({ code: 0, stdout: 'for bob' })
  })

  it('static: the sender writes, the recipient reads with its own key and the sender\'s public key', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'doc.static', '-w', 'ecdh curve=P-384 sender=alice-priv.pem recipient=bob-pub.pem']).code).toBe(0)
    expect(envelope(['decrypt', '-i', 'doc.static', '-o', '-', '-w', 'ecdh curve=P-384 sender=bob-priv.der recipient=alice-pub.der'])).toMatchObject({ code: 0, stdout: 'for bob' })
    expect(envelope(['decrypt', '-i', 'doc.static', '-o', '-', '-w', 'ecdh curve=P-384 recipient=bob-priv.der'])).toMatchObject({ code: 0, stdout: 'for bob' })
  })

  it('refuses unknown fields, a missing curve, and a scheme that cannot do the operation', () => {
    const unknown = envelope(['encrypt', '-i', 'doc', '-o', 'x', '-w', 'ecdh curve=P-384 recipient=bob-pub.pem colour=blue'])
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/ecdh does not take colour/)
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'x', '-w', 'ecdh recipient=bob-pub.pem']).stderr).toMatch(/needs curve=/)
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'x', '-w', 'ecdh curve=P-384 recipient=bob-priv.der']).stderr).toMatch(/only decrypts/)
    expect(envelope(['decrypt', '-i', 'doc.eph', '-o', 'x', '-w', 'ecdh curve=P-384 recipient=bob-pub.pem']).stderr).toMatch(/cannot decrypt/)
  })

  it('a key on another curve is a typed error naming the curves', () => {
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'x', '-w', 'ecdh curve=P-256 recipient=bob-pub.pem'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/P-384 key, not P-256/)
  })

  it('--help shows ECDH examples', () => {
    expect(envelope(['encrypt', '--help']).stdout).toContain('ecdh curve=P-256 recipient=bob-pub.pem')
    expect(envelope(['decrypt', '--help']).stdout).toContain('ecdh curve=P-256 recipient=bob-priv.pem')
  })
})

