/**
 * The local KMS server's own defences (docs/kms-local.md#safety), through real
 * HTTP requests to a server this file starts: it answers only loopback Host
 * names (DNS rebinding), bounds request bodies, and persists keys privately and
 * atomically.
 */
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startLocalKms, type LocalKms } from '../../src/testing/index.js'
import { useLocalKms } from '../support/local-kms.js'

const local = useLocalKms({ keys: [{ id: 'key-1' }] })

interface Reply {
  readonly status: number
  readonly body: any
}

const portOf = (kms: LocalKms) => Number(new URL(kms.endpoint).port)

function read(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined })
    })
    res.on('error', reject)
  })
}

/** POSTs one KMS call with the given Host header and body. */
function call(kms: LocalKms, options: { host?: string; body?: string | Buffer; target?: string; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? JSON.stringify({ KeyId: 'key-1' })
    const req = request({
      host: '127.0.0.1',
      port: portOf(kms),
      method: 'POST',
      path: '/',
      setHost: options.host !== undefined,
      headers: {
        ...(options.host !== undefined ? { host: options.host } : {}),
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${options.target ?? 'DescribeKey'}`,
        'content-length': String(Buffer.byteLength(body)),
        ...options.headers,
      },
    })
    req.on('response', (res) => read(res).then(resolve, reject))
    req.on('error', reject)
    req.end(body)
  })
}

/** A body of exactly `size` bytes that is the JSON of a DescribeKey call. */
const paddedBody = (size: number) => {
  const json = JSON.stringify({ KeyId: 'key-1' })
  return json + ' '.repeat(size - json.length)
}

describe('local KMS: Host header (DNS rebinding)', () => {
  it('answers 127.0.0.1, localhost and [::1], with or without a port', async () => {
    const kms = local()
    const port = portOf(kms)
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`, '127.0.0.1', 'localhost', '[::1]']) {
      const reply = await call(kms, { host })
      expect(reply.status, host).toBe(200)
      expect(reply.body.KeyMetadata.KeyId).toBe('key-1')
    }
    // The real SDK, which sends Host 127.0.0.1:port.
    const sdk = new KMSClient(kms.clientConfig())
    expect((await sdk.send(new DescribeKeyCommand({ KeyId: 'key-1' }))).KeyMetadata?.KeyId).toBe('key-1')
  })

  it('refuses any other Host with 403 in KMS’s error shape, before any handler runs', async () => {
    const kms = local()
    const port = portOf(kms)
    kms.resetCalls()
    for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost.attacker.example`, `[::2]:${port}`, '0.0.0.0', `127.0.0.1:${port}@evil`]) {
      const reply = await call(kms, { host })
      expect(reply.status, host).toBe(403)
      expect(reply.body.__type).toBe('AccessDeniedException')
      expect(reply.body.message).toContain('127.0.0.1, localhost, [::1]')
    }
    expect(kms.calls).toEqual([])
  })

  it('a request without a Host header is refused', async () => {
    const reply = await call(local(), {})
    expect(reply.status).toBeGreaterThanOrEqual(400)
    expect(reply.status).toBeLessThan(500)
  })

  it('also answers the address it was told to listen on', async () => {
    const kms = await startLocalKms({ host: '127.0.0.1', keys: [{ id: 'key-1' }] })
    try {
      expect((await call(kms, { host: `127.0.0.1:${portOf(kms)}` })).status).toBe(200)
      expect((await call(kms, { host: 'other.example' })).status).toBe(403)
    } finally {
      await kms.close()
    }
  })
})

describe('local KMS: request body size', () => {
  it('serves a body of exactly 1 MiB (the default) and refuses one byte more with 413', async () => {
    const kms = local()
    const host = `127.0.0.1:${portOf(kms)}`
    expect((await call(kms, { host, body: paddedBody(1024 * 1024) })).status).toBe(200)
    const refused = await call(kms, { host, body: paddedBody(1024 * 1024 + 1) })
    expect(refused.status).toBe(413)
    expect(refused.body).toEqual({ __type: 'ValidationException', message: 'request body larger than 1048576 bytes' })
  })

  it('answers 413 as soon as a body without Content-Length passes the limit, without waiting for its end', async () => {
    const kms = await startLocalKms({ maxRequestBytes: 1024, keys: [{ id: 'key-1' }] })
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: portOf(kms), method: 'POST', path: '/', headers: { 'x-amz-target': 'TrentService.DescribeKey' } })
        // The request is never ended: the answer comes from the bytes seen so far.
        req.on('response', (res) => read(res).then(resolve, reject).finally(() => req.destroy()))
        req.on('error', () => {})
        req.write(' '.repeat(600))
        req.write(' '.repeat(600))
      })
      expect(reply).toEqual({ status: 413, body: { __type: 'ValidationException', message: 'request body larger than 1024 bytes' } })
      // The server goes on serving.
      expect((await call(kms, { host: `127.0.0.1:${portOf(kms)}`, body: paddedBody(1024) })).status).toBe(200)
    } finally {
      await kms.close()
    }
  })
})

describe('local KMS: --persist file', () => {
  it('is written with mode 0600, replaced by rename on every change, and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-kms-persist-'))
    const path = join(dir, 'keys.json')
    const kms = await startLocalKms({ persistPath: path })
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600)
      const before = statSync(path).ino
      kms.createKey({ id: 'k2' })
      const after = statSync(path)
      expect(after.mode & 0o777).toBe(0o600)
      // A new inode: the old file stayed whole until the new one was complete.
      expect(after.ino).not.toBe(before)
      expect(JSON.parse(readFileSync(path, 'utf8')).keys.map((k: { id: string }) => k.id)).toEqual(['k2'])
      expect(readdirSync(dir)).toEqual(['keys.json'])
    } finally {
      await kms.close()
    }
  })

  it('loads a file written by earlier versions (mode 0644, same format) and rewrites it as 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-kms-persist-'))
    const path = join(dir, 'keys.json')
    const material = Buffer.alloc(32, 7).toString('base64')
    const earlier = {
      keys: [{ id: 'mrk-old', account: '111122223333', regions: ['us-west-2', 'us-east-1'], aliases: ['alias/old'], enabled: true, operations: ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt', 'ReEncrypt', 'DescribeKey'], material }],
    }
    writeFileSync(path, JSON.stringify(earlier, null, 2))
    chmodSync(path, 0o644)
    const kms = await startLocalKms({ persistPath: path })
    try {
      // Version-1 keys are symmetric; the file is rewritten as version 2 (kms-asymmetric.test.ts).
      const upgraded = { ...earlier.keys[0], keySpec: 'SYMMETRIC_DEFAULT' }
      expect(kms.getKey('mrk-old')).toEqual(upgraded)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 2, keys: [upgraded] })
    } finally {
      await kms.close()
    }
  })
})

describe('local KMS: slow requests', () => {
  it('disconnects a client that stalls in its headers (slowloris) after requestTimeoutMs, and goes on serving', async () => {
    const kms = await startLocalKms({ requestTimeoutMs: 300, keys: [{ id: 'key-1' }] })
    try {
      const socket = connect(portOf(kms), '127.0.0.1')
      const received: Buffer[] = []
      socket.on('data', (d) => received.push(d))
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: TrentService.DescribeKey\r\n')
      // Never finishes its headers: the server must end the connection on its own (the guard only stops a hang).
      const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 20_000).unref())])
      socket.destroy()
      expect(outcome).toBe('closed')
      expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408/)
      expect((await call(kms, { host: `127.0.0.1:${portOf(kms)}`, body: paddedBody(64) })).status).toBe(200)
    } finally {
      await kms.close()
    }
  })

  it('refuses a request timeout that is not a positive whole number', async () => {
    await expect(startLocalKms({ requestTimeoutMs: 0 })).rejects.toThrow(RangeError)
  })
})

/** A machine without an IPv6 loopback interface cannot listen on ::1: the test below then has nothing to check. */
const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'))

describe('local KMS: IPv6 loopback', () => {
  it.runIf(hasIpv6Loopback)('gives a usable endpoint when it listens on ::1 (the address in brackets)', async () => {
    const kms = await startLocalKms({ host: '::1' })
    try {
      expect(kms.endpoint).toMatch(/^http:\/\/\[::1\]:\d+$/)
      const client = new KMSClient({ endpoint: kms.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
      const keyId = kms.createKey()
      const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }))
      expect(described.KeyMetadata?.KeyId).toBeDefined()
      client.destroy()
    } finally {
      await kms.close()
    }
  })
})
