/**
 * The CLI as users of aws-encryption-cli expect it (issue 18): the built binary
 * (dist/cli/main.js) in child processes, on real files, and the local KMS
 * server's CORS answers for pages under development.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalKms, type LocalKms } from '../../dist/testing/index.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'dist/cli/main.js')
let dir: string
let keyFile: string
const aesKey = (name: string) => `provider=cli-test key=${name} file=${keyFile}`

function envelope(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir, maxBuffer: 64 << 20 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') }
}

/** Asynchronous, for children that talk to a server living in this process. */
function envelopeAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

beforeAll(() => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-cli-compat-'))
  keyFile = join(dir, 'k1.key')
  writeFileSync(keyFile, randomBytes(32))
  writeFileSync(join(dir, 'plain.txt'), 'hello')
})

describe('-r over a directory', () => {
  it('reports a symbolic link by name instead of skipping it silently', () => {
    mkdirSync(join(dir, 'linked'))
    writeFileSync(join(dir, 'linked/a.txt'), 'a')
    symlinkSync(join(dir, 'plain.txt'), join(dir, 'linked/link.txt'))
    const r = envelope(['encrypt', '-r', '-i', 'linked', '-o', 'linked-enc', '-w', aesKey('k1')])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/link\.txt: a symbolic link, not followed, skipped/)
    expect(r.stderr).toContain('1 entry skipped')
    expect(readdirSync(join(dir, 'linked-enc'))).toEqual(['a.txt.encrypted'])
  })
})

describe('metadata', () => {
  it('-S/--suppress-metadata is accepted, and refused together with --metadata-output', () => {
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 's.enc', '-w', aesKey('k1'), '-S']).code).toBe(0)
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 's.enc', '-w', aesKey('k1'), '--suppress-metadata']).code).toBe(0)
    const both = envelope(['encrypt', '-i', 'plain.txt', '-o', 's.enc', '-w', aesKey('k1'), '-S', '--metadata-output', 'm.jsonl'])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('exclude each other')
  })

  it('--metadata-output appends, as aws-encryption-cli does; --overwrite-metadata starts the file afresh', () => {
    writeFileSync(join(dir, 'log.jsonl'), '{"earlier":true}\n')
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 'a1.enc', '-w', aesKey('k1'), '--metadata-output', 'log.jsonl']).code).toBe(0)
    expect(envelope(['decrypt', '-i', 'a1.enc', '-o', 'a1.out', '-w', aesKey('k1'), '--metadata-output', 'log.jsonl']).code).toBe(0)
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.earlier ?? l.mode)).toEqual([true, 'encrypt', 'decrypt'])
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 'a1.enc', '-w', aesKey('k1'), '--metadata-output', 'log.jsonl', '--overwrite-metadata']).code).toBe(0)
    expect(readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1)
  })

  it('prints providerInfo as base64, so its bytes (key name, tag length, IV) can be recovered', () => {
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 'p.enc', '-w', aesKey('k1'), '--metadata-output', 'p.jsonl']).code).toBe(0)
    const meta = JSON.parse(readFileSync(join(dir, 'p.jsonl'), 'utf8'))
    const [edk] = meta.header.encryptedDataKeys
    expect(edk.providerId).toBe('cli-test')
    const info = Buffer.from(edk.providerInfo, 'base64')
    // Raw AES providerInfo: key name, 4-byte tag length in bits, 4-byte IV length, the 12-byte IV.
    expect(info.length).toBe(2 + 4 + 4 + 12)
    expect(info.subarray(0, 2).toString('utf8')).toBe('k1')
    expect(info.readUInt32BE(2)).toBe(128)
    expect(info.readUInt32BE(6)).toBe(12)
    expect(edk.providerInfo).toBe(info.toString('base64'))
  })
})

describe('--commitment-policy', () => {
  it("accepts aws-encryption-cli's lowercase forms and lists them when the value is unknown", () => {
    const r = envelope(['encrypt', '-i', 'plain.txt', '-o', 'c.enc', '-w', aesKey('k1'), '--commitment-policy', 'forbid-encrypt-allow-decrypt', '--metadata-output', 'c.jsonl'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // Forbid-encrypt means a suite without key commitment: 0x0378 by default.
    expect(JSON.parse(readFileSync(join(dir, 'c.jsonl'), 'utf8')).header.suiteId).toBe('0x0378')
    expect(envelope(['decrypt', '-i', 'c.enc', '-o', 'c.out', '-w', aesKey('k1'), '--commitment-policy', 'require-encrypt-allow-decrypt']).code).toBe(0)
    const bad = envelope(['encrypt', '-i', 'plain.txt', '-o', 'c.enc', '-w', aesKey('k1'), '--commitment-policy', 'sometimes'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('require-encrypt-require-decrypt')
  })
})

describe('wrapping key specs', () => {
  it('a spec without provider= is an error that lists the providers, not a silent KMS key', () => {
    const r = envelope(['encrypt', '-i', 'plain.txt', '-o', 'n.enc', '-w', `key=k1 file=${keyFile}`])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('has no provider=')
    expect(r.stderr).toContain('provider=aws-kms')
    expect(r.stderr).toContain('provider=NAMESPACE')
    expect(existsSync(join(dir, 'n.enc'))).toBe(false)
  })

  it('an unknown field is an error naming it and the fields the provider takes', () => {
    const raw = envelope(['encrypt', '-i', 'plain.txt', '-o', 'u.enc', '-w', `${aesKey('k1')} colour=blue`])
    expect(raw.code).toBe(2)
    expect(raw.stderr).toContain('takes no colour=')
    expect(raw.stderr).toContain('file, padding')
    const kms = envelope(['encrypt', '-i', 'plain.txt', '-o', 'u.enc', '-w', 'provider=aws-kms key=arn:aws:kms:us-west-2:111122223333:key/x file=k1.key'])
    expect(kms.code).toBe(2)
    expect(kms.stderr).toContain('takes no file=')
    // padding= belongs to RSA keys only.
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 'u.enc', '-w', `${aesKey('k1')} padding=pkcs1`]).code).toBe(2)
  })

  it('--help documents every field', () => {
    for (const mode of ['encrypt', 'decrypt']) {
      const help = envelope([mode, '--help']).stdout.toString('utf8')
      for (const field of ['provider=aws-kms', 'key=', 'discovery=', 'discovery-partition=', 'discovery-account=', 'region=', 'endpoint=', 'file=', 'padding=']) {
        expect(help, `${mode} --help: ${field}`).toContain(field)
      }
      // Each field is also explained on a line of its own, with the RSA paddings spelt out.
      for (const field of ['key', 'region', 'endpoint', 'discovery', 'file', 'padding']) expect(help).toMatch(new RegExp(`\\n {6}${field} +\\S`))
      for (const padding of ['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512', 'pkcs1']) expect(help).toContain(padding)
      expect(help).toContain('--suppress-metadata')
    }
  })
})

describe('errors', () => {
  it('an extra -c pair on decrypt says context mismatch, not wrong key', () => {
    expect(envelope(['encrypt', '-i', 'plain.txt', '-o', 'x.enc', '-w', aesKey('k1'), '-c', 'team=blue']).code).toBe(0)
    for (const extra of [[], ['--buffer']]) {
      const r = envelope(['decrypt', '-i', 'x.enc', '-o', 'x.out', '-w', aesKey('k1'), '-c', 'team=blue', 'stage=prod', ...extra])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^envelope: ERR_CONTEXT_MISMATCH: .*"stage"/)
      expect(r.stderr).not.toContain('ERR_NO_MATCHING_KEY')
    }
  })

  it('a missing input file is exit 1 naming the path, not a usage error', () => {
    const r = envelope(['encrypt', '-i', 'no-such-input.txt', '-o', 'o.enc', '-w', aesKey('k1')])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('envelope: input no-such-input.txt: no such file or directory\n')
  })

  it('a missing key file is exit 1 naming the path, not a raw ENOENT', () => {
    for (const spec of ['provider=cli-test key=k1 file=no-such.key']) {
      const r = envelope(['encrypt', '-i', 'plain.txt', '-o', 'o.enc', '-w', spec])
      expect(r.code).toBe(1)
      expect(r.stderr).toBe('envelope: key file no-such.key: no such file\n')
    }
  })

  it('a reader that closes the output early (| head) ends the command quietly', async () => {
    writeFileSync(join(dir, 'zeros.bin'), Buffer.alloc(8 << 20))
    const child = spawn(process.execPath, [bin, 'encrypt', '-i', 'zeros.bin', '-o', '-', '-w', aesKey('k1')], { cwd: dir })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    // 8 MiB cannot fit the pipe buffer, so the child is still writing when the reader goes away.
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise((resolve) => child.once('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })
})

describe('KMS, quickstart and kms-local', () => {
  let kms: LocalKms
  beforeAll(async () => {
    kms = await startLocalKms()
  })
  afterAll(() => kms?.close())

  it("a KMS spec prints no AWS SDK Node-version warning in the CLI's output", async () => {
    const arn = kms.createKey({})
    const spec = `provider=aws-kms key=${arn} endpoint=${kms.endpoint}`
    const env = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' }
    const enc = await envelopeAsync(['encrypt', '-i', 'plain.txt', '-o', 'kms.enc', '-w', spec], env)
    expect(enc.stderr).toBe('')
    expect(enc.code).toBe(0)
    const dec = await envelopeAsync(['decrypt', '-i', 'kms.enc', '-o', '-', '-w', spec], env)
    expect(dec.stderr).toBe('')
    expect(dec.stdout).toBe('hello')
  })

  it('npm run quickstart prints its result with no AWS SDK warning in the middle', () => {
    const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.quickstart as string
    // The part after the build: the command that runs the example.
    const [node, ...args] = script.split('&&').at(-1)!.trim().split(/\s+/)
    expect(node).toBe('node')
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ENVELOPE_KMS_KEY_ARN: '' } })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/decrypted: Hello, envelope!\n$/)
  })

  it('kms-local --help points at a guide that exists and ships in the package', () => {
    const help = envelope(['kms-local', '--help']).stdout.toString('utf8')
    const docs = [...help.matchAll(/\bdocs\/[\w.-]+\.md\b/g)].map((m) => m[0])
    expect(docs.length).toBeGreaterThan(0)
    const files = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files as string[]
    for (const doc of docs) {
      expect(existsSync(join(root, doc)), doc).toBe(true)
      expect(files.some((f) => doc === f || doc.startsWith(`${f}/`)), `${doc} is in package.json files`).toBe(true)
    }
  })

  it('the local KMS answers CORS preflight for loopback origins only', async () => {
    const headers = { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,authorization' }
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
      const pre = await fetch(kms.endpoint, { method: 'OPTIONS', headers: { origin, ...headers } })
      expect(pre.status, origin).toBe(204)
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin)
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
      expect(pre.headers.get('access-control-allow-headers')).toContain('x-amz-target')
    }
    const arn = kms.createKey({})
    const call = await fetch(kms.endpoint, {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey' },
      body: JSON.stringify({ KeyId: arn }),
    })
    expect(call.status).toBe(200)
    expect(call.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    for (const origin of ['https://example.com', 'http://localhost.example.com', 'null']) {
      const pre = await fetch(kms.endpoint, { method: 'OPTIONS', headers: { origin, ...headers } })
      expect(pre.status, origin).toBe(403)
      expect(pre.headers.get('access-control-allow-origin')).toBeNull()
      const post = await fetch(kms.endpoint, { method: 'POST', headers: { origin, 'x-amz-target': 'TrentService.DescribeKey' }, body: JSON.stringify({ KeyId: arn }) })
      expect(post.status, origin).toBe(403)
    }
  })
})

describe('failures while writing to stdout', () => {
  it('a decrypt that fails with -o - prints one coded line and exits 1, with no stack trace (it used to throw from the stdout error handler)', () => {
    const other = join(dir, 'k2.key')
    writeFileSync(other, randomBytes(32))
    const enc = envelope(['encrypt', '-i', 'plain.txt', '-o', 'stdout-fail.enc', '-w', aesKey('k1')])
    expect(enc.code).toBe(0)
    const r = envelope(['decrypt', '-i', 'stdout-fail.enc', '-o', '-', '-w', `provider=cli-test key=k1 file=${other}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^envelope: .*ERR_NO_MATCHING_KEY/m)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout.length).toBe(0)
  })
})

describe('missing inputs and local endpoints', () => {
  it('inspect and rewrap of a missing input exit 1 naming it, as encrypt and decrypt do', () => {
    const inspect = envelope(['inspect', 'nowhere.enc'])
    expect([inspect.code, inspect.stderr]).toEqual([1, expect.stringContaining('nowhere.enc: no such file or directory')])
    const rewrap = envelope(['rewrap', '-i', 'nowhere.enc', '-o', 'x', '--from-wrapping-keys', aesKey('k1'), '--to-wrapping-keys', aesKey('k1')])
    expect([rewrap.code, rewrap.stderr]).toEqual([1, expect.stringContaining('nowhere.enc: no such file or directory')])
  })

  it('a loopback endpoint= (the local KMS) works with no AWS credentials in the environment', async () => {
    const kms = await startLocalKms()
    try {
      const arn = kms.createKey({ id: 'cli-local' })
      const env: Record<string, string> = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: join(dir, 'none') }
      const spec = `provider=aws-kms key=${arn} endpoint=${kms.endpoint}`
      const enc = await envelopeAsync(['encrypt', '-i', 'plain.txt', '-o', 'local-kms.enc', '-w', spec], env)
      expect(enc.stderr).toBe('')
      expect(enc.code).toBe(0)
      const dec = await envelopeAsync(['decrypt', '-i', 'local-kms.enc', '-o', '-', '-w', spec], env)
      expect([dec.code, dec.stdout]).toEqual([0, 'hello'])
    } finally {
      await kms.close()
    }
  })
})
