/**
 * Node stream adapters over the incremental encryptor and decryptor
 * (spec/streaming.md). Each is a Transform: usable with stream.pipeline,
 * backpressure handled by Node, the first error destroys the stream.
 * The authenticated header is emitted as a 'header' event, and resolves the
 * `header` promise, before the first output byte.
 */
import { Transform, type TransformCallback } from 'node:stream'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { MessageDecryptor, type DecryptOptions, type DecryptSettings } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import { StreamEncryptor, type StreamEncryptOptions } from '../core/stream-encryptor.js'

export interface HeaderStream extends Transform {
  /** Resolves with the header before the first output byte; rejects if the stream fails first. */
  readonly header: Promise<MessageHeader>
}

function withHeaderPromise(stream: Transform): { stream: HeaderStream; resolve: (h: MessageHeader) => void } {
  let resolve!: (h: MessageHeader) => void
  const header = new Promise<MessageHeader>((res, rej) => {
    resolve = res
    stream.once('error', rej)
  })
  // A stream that fails before its header must not leave an unhandled rejection behind.
  header.catch(() => {})
  Object.defineProperty(stream, 'header', { value: header })
  return { stream: stream as HeaderStream, resolve }
}

export function encryptStream(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions): HeaderStream {
  let encryptor: StreamEncryptor | undefined
  let resolveHeader: (h: MessageHeader) => void
  const begin = async (self: Transform): Promise<StreamEncryptor> => {
    if (encryptor) return encryptor
    const started = await StreamEncryptor.start(cmm, settings, options)
    encryptor = started.encryptor
    resolveHeader(encryptor.header)
    self.emit('header', encryptor.header)
    self.push(started.header)
    return encryptor
  }
  const transform = new Transform({
    async transform(this: Transform, chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        const e = await begin(this)
        for (const frame of e.push(toBytes(chunk))) this.push(frame)
        callback()
      } catch (err) {
        callback(err as Error)
      }
    },
    async flush(this: Transform, callback: TransformCallback) {
      try {
        const e = await begin(this)
        for (const part of await e.finish()) this.push(part)
        callback()
      } catch (err) {
        callback(err as Error)
      }
    },
  })
  const { stream, resolve } = withHeaderPromise(transform)
  resolveHeader = resolve
  return stream
}

export function decryptStream(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions): HeaderStream {
  const decryptor = new MessageDecryptor(cmm, settings, options)
  let announced = false
  let resolveHeader: (h: MessageHeader) => void
  const release = (self: Transform, parts: Uint8Array[]) => {
    if (!announced && decryptor.info) {
      announced = true
      resolveHeader(decryptor.info.header)
      self.emit('header', decryptor.info.header)
    }
    for (const part of parts) self.push(part)
  }
  const transform = new Transform({
    async transform(this: Transform, chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        release(this, await decryptor.push(toBytes(chunk)))
        callback()
      } catch (err) {
        callback(err as Error)
      }
    },
    async flush(this: Transform, callback: TransformCallback) {
      try {
        release(this, await decryptor.end())
        callback()
      } catch (err) {
        callback(err as Error)
      }
    },
  })
  const { stream, resolve } = withHeaderPromise(transform)
  resolveHeader = resolve
  return stream
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk)
  throw new TypeError('stream chunks must be Uint8Array or string')
}
