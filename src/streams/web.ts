/**
 * WHATWG TransformStream adapters (spec/streaming.md): no Node built-ins, so
 * they run in browsers, workers and Node alike.
 *
 * The stream's own queues give backpressure between chunks: transform() is not
 * called while the readable side is full. Within one chunk a transformer
 * cannot wait for the reader, so output per chunk is about the chunk's size;
 * producers bound memory by the chunk sizes they write (fetch bodies and file
 * streams use 16-64 KiB).
 */
import type { DecryptOptions, DecryptSettings } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import type { StreamEncryptOptions } from '../core/stream-encryptor.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import type { RewrapCoreOptions, RewrapSettings } from '../core/rewrap.js'
import type { Keyring } from '../materials/keyring.js'
import { decryptEngine, encryptEngine, HeaderSignal, rewrapEngine, type StreamEngine } from './engine.js'

export interface HeaderTransformStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Resolves with the header before the first output chunk is enqueued; rejects if the stream fails first. */
  readonly header: Promise<MessageHeader>
}

function engineTransform(engine: StreamEngine, what: 'plaintext' | 'ciphertext'): HeaderTransformStream {
  const signal = new HeaderSignal()
  const guard = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work()
    } catch (e) {
      engine.abort(e)
      signal.fail(e)
      throw e
    }
  }
  const enqueue = (out: Uint8Array[], controller: TransformStreamDefaultController<Uint8Array>): void => {
    signal.announce(engine)
    for (const part of out) controller.enqueue(part)
  }
  // `cancel` is in the Streams standard and Node 20 but not yet in TypeScript's DOM types.
  const transformer: Transformer<Uint8Array, Uint8Array> & { cancel(reason: unknown): void } = {
    start: (controller) => guard(async () => enqueue(await engine.start(), controller)),
    transform: (chunk, controller) =>
      guard(async () => {
        if (!(chunk instanceof Uint8Array)) throw new TypeError(`${what} chunks must be Uint8Array`)
        for (let o = 0; o < chunk.length; ) {
          const size = engine.sliceSize
          enqueue(await engine.write(o === 0 && chunk.length <= size ? chunk : chunk.subarray(o, o + size)), controller)
          o += size
        }
      }),
    flush: (controller) => guard(async () => enqueue(await engine.end(), controller)),
    // Called when the reader cancels or the writer aborts (where the runtime supports it).
    cancel: (reason) => {
      engine.abort(reason)
      signal.fail(reason)
    },
  }
  const stream = new TransformStream<Uint8Array, Uint8Array>(transformer)
  return Object.defineProperty(stream, 'header', { value: signal.promise, enumerable: true }) as HeaderTransformStream
}

/** Plaintext in, message out. The CMM runs when the stream is created; the header is the first chunk. */
export function encryptWebStream(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions = {}): HeaderTransformStream {
  return engineTransform(encryptEngine(cmm, settings, options), 'plaintext')
}

/** Message in, verified plaintext out (spec/decrypt-rules.md#release-rules). */
export function decryptWebStream(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions = {}): HeaderTransformStream {
  return engineTransform(decryptEngine(cmm, settings, options), 'ciphertext')
}

/** Message in, the same message with new data keys out; same rules as rewrapStream (spec/rewrap.md#streams). */
export function rewrapWebStream(from: Cmm, to: Keyring, settings: RewrapSettings, options: RewrapCoreOptions = {}): HeaderTransformStream {
  return engineTransform(rewrapEngine(from, to, settings, options), 'ciphertext')
}
