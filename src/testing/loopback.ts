/**
 * What the local KMS and DynamoDB servers share (docs/kms-local.md): loopback-only Host names,
 * request size and time bounds, a bounded body reader, and private atomic persistence.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUuid } from '../crypto/uuid.js'

/**
 * Host names a server answers to. Any other Host header (a browser page whose
 * domain was rebound to 127.0.0.1, say) is refused, so a web page cannot use the
 * server through DNS rebinding.
 */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]']

/** The host part of a Host header (`name`, `name:port`, `[v6]` or `[v6]:port`), lower-cased. */
export function hostName(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/i.exec(header)
  return match?.[1]!.toLowerCase()
}

export interface ServerLimitOptions {
  readonly host?: string
  readonly maxRequestBytes?: number
  readonly requestTimeoutMs?: number
}

/** Checked bounds (defaults: 1 MiB, 10 s) and the Host names served: loopback, and the address it listens on. */
export function serverLimits(options: ServerLimitOptions): { maxRequestBytes: number; requestTimeoutMs: number; servedHosts: Set<string> } {
  const maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes < 1) throw new RangeError('maxRequestBytes must be a positive whole number')
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw new RangeError('requestTimeoutMs must be a positive whole number')
  const servedHosts = new Set([...LOOPBACK_HOSTS, ...(options.host ? [options.host.includes(':') ? `[${options.host}]` : options.host.toLowerCase()] : [])])
  return { maxRequestBytes, requestTimeoutMs, servedHosts }
}

/**
 * Reads a request body of at most `maxBytes`, then calls `serve` with it. A larger one (declared or
 * streamed) calls `tooLarge` instead and holds none of it.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => void, serve: (body: Buffer) => void): void {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  const end = () => serve(Buffer.concat(chunks))
  const collect = (c: Buffer) => {
    size += c.length
    if (size <= maxBytes) {
      chunks.push(c)
      return
    }
    req.off('data', collect)
    req.off('end', end)
    chunks.length = 0
    tooLarge()
  }
  req.on('data', collect)
  req.on('end', end)
}

/** Writes `text` to `path` through a private temporary file renamed into place. */
export function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${randomUuid()}.tmp`
  try {
    // flush: the bytes reach the disk before the rename makes them the file.
    writeFileSync(temp, text, { flag: 'wx', mode: 0o600, flush: true })
    renameSync(temp, path)
  } catch (e) {
    rmSync(temp, { force: true })
    throw e
  }
}

/**
 * Starts `server` on `host` (default 127.0.0.1) and `port` (default: any free one); returns its
 * http:// endpoint, with an IPv6 address in brackets.
 */
export async function listenOnLoopback(server: Server, port = 0, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolveListen())
  })
  const address = server.address() as AddressInfo
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
}
