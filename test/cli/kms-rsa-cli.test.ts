/**
 * KMS RSA from the command line, with the built binary (dist/cli/main.js): `envelope kms-local
 * --key ID:SPEC` serves asymmetric keys in one child process, `envelope encrypt -w
 * "provider=aws-kms-rsa …"` encrypts with the public key alone and `decrypt` through KMS, and
 * `envelope vectors encrypt` runs the Dafny aws-kms-rsa scenarios against the server.
 */
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createPublicKey, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PUBLIC_VECTORS, readVectorJson } from '../support/vectors.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const DAFNY = join(PUBLIC_VECTORS, 'dafny-esdk-4.1.0-via-c')
// NODE_NO_WARNINGS: the SDK warns on stderr about Node 20's support window.
const ENV = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-west-2', NODE_NO_WARNINGS: '1' }

let dir: string
let server: ChildProcessWithoutNullStreams | undefined
let banner = ''
let endpoint = ''
let rsaArn = ''

function envelope(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split('\n').at(-1) }
}

beforeAll(async () => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-kms-rsa-cli-'))
  const child = spawn(process.execPath, [bin, 'kms-local', '--port', '0', '--key', 'rsa-1:RSA_2048', '--key', 'ecdh-1:ECC_NIST_P256', '--key', 'plain', '--keys-manifest', join(DAFNY, 'keys.json')], { cwd: dir })
  server = child
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      banner += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(banner)
      if (found && banner.includes('us-east-1-mrk')) {
        endpoint = found[1]!
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`kms-local exited with ${code}: ${banner}`)))
  })
  rsaArn = /^key (arn:\S+\/rsa-1) \(RSA_2048\)$/m.exec(banner)![1]!
  const der = (await new KMSClient({ region: 'us-west-2', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }).send(new GetPublicKeyCommand({ KeyId: rsaArn }))).PublicKey!
  writeFileSync(join(dir, 'pub.der'), der)
  writeFileSync(join(dir, 'pub.pem'), createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }))
})

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
})

describe('envelope kms-local --key ID:SPEC', () => {
  it('creates keys of each spec and prints the asymmetric ones with their spec; the manifest RSA key too', () => {
    expect(banner).toMatch(/^key arn:aws:kms:us-west-2:111122223333:key\/rsa-1 \(RSA_2048\)$/m)
    expect(banner).toMatch(/^key arn:aws:kms:us-west-2:111122223333:key\/ecdh-1 \(ECC_NIST_P256\)$/m)
    expect(banner).toMatch(/^key arn:aws:kms:us-west-2:111122223333:key\/plain$/m)
    expect(banner).toContain('key us-west-2-rsa-mrk: arn:aws:kms:us-west-2:370957321024:key/mrk-63d386cb70614ea59b32ad65c9315297 (RSA_2048)')
  })

  it('refuses an unknown key spec with a usage error', () => {
    const bad = envelope(['kms-local', '--port', '0', '--key', 'k:RSA_1024'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--key: key spec must be one of SYMMETRIC_DEFAULT, RSA_2048')
    expect(envelope(['kms-local', '--help']).stdout).toContain('--key ID[:SPEC]')
  })
})

describe('envelope encrypt/decrypt -w provider=aws-kms-rsa', () => {
  const spec = (extra: string) => `provider=aws-kms-rsa key=${rsaArn} algorithm=RSAES_OAEP_SHA_256 endpoint=${endpoint} ${extra}`.trim()

  it('encrypts with the public key (PEM or DER) and decrypts through KMS', () => {
    const data = randomBytes(5000)
    writeFileSync(join(dir, 'data.bin'), data)
    for (const pub of ['pub.pem', 'pub.der']) {
      const enc = envelope(['encrypt', '-i', 'data.bin', '-o', `data.${pub}.enc`, '--algorithm', '0x0478', '-w', spec(`public-key=${pub}`), '--metadata-output', `meta.${pub}.jsonl`])
      expect(enc.stderr).toBe('')
      expect(enc.code).toBe(0)
      const meta = JSON.parse(readFileSync(join(dir, `meta.${pub}.jsonl`), 'utf8').trim())
      expect(meta.header.encryptedDataKeys.map((k: { providerId: string }) => k.providerId)).toEqual(['aws-kms-rsa'])
      const dec = envelope(['decrypt', '-i', `data.${pub}.enc`, '-o', `data.${pub}.out`, '-w', spec('')])
      expect(dec.stderr).toBe('')
      expect(dec.code).toBe(0)
      expect(readFileSync(join(dir, `data.${pub}.out`)).equals(data)).toBe(true)
    }
  })

  it('says what to do with the default (signed) suite, without a public key, and with unknown fields', () => {
    writeFileSync(join(dir, 'small.txt'), 'x')
    const signed = envelope(['encrypt', '-i', 'small.txt', '-o', 'small.enc', '-w', spec('public-key=pub.pem')])
    expect(signed.code).not.toBe(0)
    expect(signed.stderr).toContain('ERR_SIGNED_NOT_ALLOWED')
    expect(signed.stderr).toContain('0x0478')
    const noKey = envelope(['encrypt', '-i', 'small.txt', '-o', 'small.enc', '--algorithm', '0x0478', '-w', spec('')])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain('public-key=FILE')
    const unknown = envelope(['encrypt', '-i', 'small.txt', '-o', 'small.enc', '--algorithm', '0x0478', '-w', spec('public-key=pub.pem region=us-east-1')])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('takes no region=')
    const alias = envelope(['decrypt', '-i', 'small.enc', '-o', 'small.out', '-w', `provider=aws-kms-rsa key=alias/rsa algorithm=RSAES_OAEP_SHA_256`])
    expect(alias.code).toBe(2)
    expect(alias.stderr).toContain('must be a key ARN')
    expect(envelope(['encrypt', '--help']).stdout).toContain('provider=aws-kms-rsa key=ARN algorithm=RSAES_OAEP_SHA_1|RSAES_OAEP_SHA_256')
  })
})

describe('envelope vectors encrypt: the Dafny aws-kms-rsa scenarios', () => {
  it('encrypts the 14 through the server and decrypts the output through it, one-shot and streaming', () => {
    const manifest = readVectorJson('dafny-esdk-4.1.0-via-c', 'encrypt-manifest.json')
    const tests = Object.fromEntries(Object.entries<any>(manifest.tests).filter(([, t]) => t['encryption-scenario'].encryptKeyDescription.type === 'aws-kms-rsa'))
    writeFileSync(join(dir, 'keys.json'), readFileSync(join(DAFNY, 'keys.json')))
    writeFileSync(join(dir, 'rsa.json'), JSON.stringify({ ...manifest, tests }))
    const enc = envelope(['vectors', 'encrypt', '--manifest', 'rsa.json', '--out', 'out', '--kms-endpoint', endpoint])
    expect(enc.last).toBe('14 passed, 0 failed, 0 skipped')
    const dec = envelope(['vectors', 'decrypt', '--manifest', 'out/manifest.json', '--kms-endpoint', endpoint])
    expect(dec.last).toBe('14 passed, 0 failed, 0 skipped')
  })
})
