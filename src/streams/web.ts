/**
 * WHATWG TransformStream adapters (spec/streaming.md): no Node built-ins, so
 * they run in browsers, workers and Node alike.
 */
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { MessageDecryptor, type DecryptOptions, type DecryptSettings } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import { StreamEncryptor, type StreamEncryptOptions } from '../core/stream-encryptor.js'

export interface HeaderTransformStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Resolves with the header before the first output chunk is enqueued. */
  readonly header: Promise<MessageHeader>
}

function deferred(): { promise: Promise<MessageHeader>; resolve: (h: MessageHeader) => void; reject: (e: unknown) => void } {
  let resolve!: (h: MessageHeader) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<MessageHeader>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

export function encryptWebStream(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions): HeaderTransformStream {
  const header = deferred()
  let encryptor: StreamEncryptor | undefined
  const begin = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (encryptor) return encryptor
    const started = await StreamEncryptor.start(cmm, settings, options)
    encryptor = started.encryptor
    header.resolve(encryptor.header)
    controller.enqueue(started.header)
    return encryptor
  }
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      try {
        for (const frame of (await begin(controller)).push(chunk)) controller.enqueue(frame)
      } catch (e) {
        header.reject(e)
        throw e
      }
    },
    async flush(controller) {
      try {
        for (const part of await (await begin(controller)).finish()) controller.enqueue(part)
      } catch (e) {
        header.reject(e)
        throw e
      }
    },
  })
  return Object.defineProperty(stream, 'header', { value: header.promise }) as HeaderTransformStream
}

export function decryptWebStream(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions): HeaderTransformStream {
  const header = deferred()
  const decryptor = new MessageDecryptor(cmm, settings, options)
  const release = (parts: Uint8Array[], controller: TransformStreamDefaultController<Uint8Array>) => {
    if (decryptor.info) header.resolve(decryptor.info.header)
    for (const part of parts) controller.enqueue(part)
  }
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      try {
        release(await decryptor.push(chunk), controller)
      } catch (e) {
        header.reject(e)
        throw e
      }
    },
    async flush(controller) {
      try {
        release(await decryptor.end(), controller)
      } catch (e) {
        header.reject(e)
        throw e
      }
    },
  })
  return Object.defineProperty(stream, 'header', { value: header.promise }) as HeaderTransformStream
}
