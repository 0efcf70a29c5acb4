/** Shared fixtures for the stream tests: clients, chunkers, sources and sinks for both stream APIs. */
import { createHash } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient, RawAesKeyring, type AlgorithmSuite, type Client } from '../../src/index.js'
import { IncrementalEncryptor } from '../../src/core/stream-encryptor.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { toCmm } from '../../src/materials/cmm.js'
import { concat, rng } from '../support/helpers.js'
import { bodySize, RegularFrame } from '../../src/format/frame.js'
import { aesKey } from '../support/keys.js'
import { peerAesKeyring } from '../support/peer.js'

export const wrappingKey = aesKey(32)
export const keyring = new RawAesKeyring({ keyNamespace: 'stream', keyName: 'k', wrappingKey })
export const peerKeyring = peerAesKeyring('stream', 'k', wrappingKey)

/** Committing suites under the default policy; the others need FORBID_ENCRYPT_ALLOW_DECRYPT to be written at all. */
export const requireClient = createClient()
export const forbidClient = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
export const clientFor = (suite: AlgorithmSuite): Client => (suite.committing ? requireClient : forbidClient)
export const settingsFor = (suite: AlgorithmSuite) => ({
  backend: nodeBackend,
  commitmentPolicy: clientFor(suite).commitmentPolicy,
  maxEncryptedDataKeys: 65535,
  maxHeaderSize: 1 << 20,
})

export function randomSizes(seed: number, count: number, max: number): number[] {
  const next = rng(seed)
  return Array.from({ length: count }, () => 1 + Math.floor(next() * max))
}

/** Splits bytes into chunks of the given sizes, cycling through them. */
export function* chunked(bytes: Uint8Array, sizes: readonly number[]): Generator<Uint8Array> {
  let i = 0
  for (let o = 0; o < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    yield bytes.subarray(o, o + n)
    o += n
  }
}

export function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

export function sha256(parts: Iterable<Uint8Array>): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** A Node Readable over chunks; with `delayMs`, a slow producer. */
export function nodeSource(chunks: Iterable<Uint8Array>, delayMs = 0): Readable {
  if (delayMs === 0) return Readable.from(chunks)
  return Readable.from(
    (async function* () {
      for (const c of chunks) {
        await sleep(delayMs)
        yield c
      }
    })(),
  )
}

/** A Writable that keeps what it receives; with `delayMs`, a slow consumer. */
export function nodeSink(delayMs = 0): Writable & { parts: Uint8Array[] } {
  const parts: Uint8Array[] = []
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Uint8Array, _e, cb) {
      parts.push(chunk)
      if (delayMs === 0) cb()
      else setTimeout(cb, delayMs)
    },
  })
  return Object.assign(sink, { parts })
}

/** Pipes chunks through Node streams and returns the output, or rejects with the pipeline's error. */
export async function throughNode(chunks: Iterable<Uint8Array>, ...streams: NodeJS.ReadWriteStream[]): Promise<Uint8Array> {
  const sink = nodeSink()
  await (pipeline as (...streams: unknown[]) => Promise<void>)(nodeSource(chunks), ...streams, sink)
  return concat(sink.parts)
}

/** A ReadableStream over chunks (ReadableStream.from is not in every runtime); with `delayMs`, a slow producer. */
export function webSource(chunks: Iterable<Uint8Array>, delayMs = 0): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.iterator]()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (delayMs > 0) await sleep(delayMs)
        const next = it.next()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      },
    },
    { highWaterMark: 0 },
  )
}

export async function readAllWeb(readable: ReadableStream<Uint8Array>, into: Uint8Array[] = []): Promise<Uint8Array> {
  const reader = readable.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return concat(into)
    into.push(value)
  }
}

export function throughWeb(chunks: Iterable<Uint8Array>, ...streams: TransformStream<Uint8Array, Uint8Array>[]): Promise<Uint8Array> {
  let readable = webSource(chunks)
  for (const s of streams) readable = readable.pipeThrough(s)
  return readAllWeb(readable)
}

/**
 * A message laid out by the streaming encryptor, with its byte offsets: where the
 * header ends, where each regular frame ends, where the final frame ends (the
 * footer follows for signed suites). Offsets come from the body codec
 * (src/format/frame.ts), checked against the message length.
 */
export interface LaidOutMessage {
  readonly ciphertext: Uint8Array
  readonly plaintext: Uint8Array
  readonly headerEnd: number
  readonly frameEnds: readonly number[]
  readonly finalEnd: number
}

export async function layOut(suite: AlgorithmSuite, plaintext: Uint8Array, frameLength: number): Promise<LaidOutMessage> {
  const encryptor = await IncrementalEncryptor.start(toCmm(keyring), settingsFor(suite), { suiteId: suite.id, frameLength })
  const parts = [encryptor.headerBytes, ...(await encryptor.push(plaintext)), ...(await encryptor.finish())]
  const ciphertext = concat(parts)
  const headerEnd = encryptor.headerBytes.length
  const regular = plaintext.length === 0 ? 0 : Math.ceil(plaintext.length / frameLength) - 1
  const frameEnds = Array.from({ length: regular }, (_, i) => headerEnd + (i + 1) * (frameLength + RegularFrame.OVERHEAD))
  const finalEnd = headerEnd + bodySize(plaintext.length, frameLength)
  if (!suite.signature && finalEnd !== ciphertext.length) throw new Error('layout arithmetic disagrees with the message length')
  return { ciphertext, plaintext, headerEnd, frameEnds, finalEnd }
}
