/**
 * What the Node and WHATWG adapters drive: the incremental encryptor or
 * decryptor behind one shape (bytes in, bytes out, the header once), plus the
 * header promise both adapters expose. No stream API and no Node built-in here
 * (spec/streaming.md).
 */
import type { DecryptOptions, DecryptSettings } from '../core/decryptor.js'
import { IncrementalDecryptor } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import { IncrementalRewrapper, type RewrapCoreOptions, type RewrapSettings } from '../core/rewrap.js'
import { checkStreamEncryptOptions, IncrementalEncryptor, type StreamEncryptOptions } from '../core/stream-encryptor.js'
import { FinalFrame } from '../format/frame.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import type { Keyring } from '../materials/keyring.js'

/**
 * Streaming decrypt must hold a whole frame (or a whole non-framed body) until
 * its tag verifies, so unless the caller sets `maxBodySize` a stream refuses
 * frames and non-framed bodies larger than 64 MiB (spec/decrypt-rules.md#limits).
 * One-shot decrypt has the whole input in memory already and keeps no default.
 * @example
 * ```ts
 * client.decryptStream(keyring, { maxBodySize: DEFAULT_STREAM_MAX_BODY_SIZE * 4 })
 * ```
 */
export const DEFAULT_STREAM_MAX_BODY_SIZE = 64 * 1024 * 1024

/**
 * Adapters cut input chunks to at most this many bytes (or four frames, if
 * larger) and wait for the consumer between pieces, so one huge write does not
 * turn into one huge burst of output.
 */
const MIN_SLICE = 64 * 1024

export interface StreamEngine {
  /** Output due before any input: the header bytes for encrypt (after the CMM ran), nothing for decrypt. */
  start(): Promise<Uint8Array[]>
  write(chunk: Uint8Array): Promise<Uint8Array[]>
  /** The input is complete: the final frame and footer, or `ERR_TRUNCATED` if the message is not. */
  end(): Promise<Uint8Array[]>
  /** Drops buffered plaintext; every later call fails. */
  abort(reason: unknown): void
  /** Set once known: encrypt after start(), decrypt once the header has authenticated. */
  readonly header: MessageHeader | undefined
  /** Bytes the core holds between calls (see IncrementalDecryptor.bufferedBytes / IncrementalEncryptor.bufferedBytes). */
  readonly bufferedBytes: number
  /** Largest piece of input to hand to write() at once. */
  readonly sliceSize: number
}

function sliceFor(frameLength: number | undefined): number {
  return frameLength === undefined ? MIN_SLICE : Math.max(MIN_SLICE, 4 * (frameLength + FinalFrame.OVERHEAD))
}

export function encryptEngine(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions): StreamEngine {
  // Option mistakes throw here, at the call that creates the stream.
  const { frameLength } = checkStreamEncryptOptions(options)
  let encryptor: IncrementalEncryptor | undefined
  let aborted: { reason: unknown } | undefined
  return {
    async start() {
      encryptor = await IncrementalEncryptor.start(cmm, settings, options)
      if (aborted) encryptor.abort(aborted.reason)
      return [encryptor.headerBytes]
    },
    async write(chunk) {
      return encryptor!.push(chunk)
    },
    end() {
      return encryptor!.finish()
    },
    abort(reason) {
      aborted = { reason }
      encryptor?.abort(reason)
    },
    get header() {
      return encryptor?.header
    },
    get bufferedBytes() {
      return encryptor?.bufferedBytes ?? 0
    },
    sliceSize: sliceFor(frameLength),
  }
}

export function decryptEngine(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions): StreamEngine {
  const decryptor = new IncrementalDecryptor(cmm, settings, { ...options, maxBodySize: options.maxBodySize ?? DEFAULT_STREAM_MAX_BODY_SIZE })
  return {
    async start() {
      return []
    },
    write(chunk) {
      return decryptor.push(chunk)
    },
    end() {
      return decryptor.end()
    },
    abort(reason) {
      decryptor.abort(reason)
    },
    get header() {
      return decryptor.info?.header
    },
    get bufferedBytes() {
      return decryptor.bufferedBytes
    },
    get sliceSize() {
      return sliceFor(decryptor.info?.header.frameLength)
    },
  }
}

/** Message in, a new message with the same data key under new wrapping keys out (spec/rewrap.md#streams); same body-size default as decrypt. */
export function rewrapEngine(from: Cmm, to: Keyring, settings: RewrapSettings, options: RewrapCoreOptions): StreamEngine {
  const rewrapper = new IncrementalRewrapper(from, to, settings, { ...options, maxBodySize: options.maxBodySize ?? DEFAULT_STREAM_MAX_BODY_SIZE })
  return {
    async start() {
      return []
    },
    write(chunk) {
      return rewrapper.push(chunk)
    },
    end() {
      return rewrapper.end()
    },
    abort(reason) {
      rewrapper.abort(reason)
    },
    get header() {
      return rewrapper.header
    },
    get bufferedBytes() {
      return rewrapper.bufferedBytes
    },
    get sliceSize() {
      return sliceFor(rewrapper.header?.frameLength)
    },
  }
}

/** The `header` promise of a stream: resolved once, before the first output byte; rejected if the stream fails first. */
export class HeaderSignal {
  readonly promise: Promise<MessageHeader>
  #resolve!: (header: MessageHeader) => void
  #reject!: (reason: unknown) => void
  #settled = false

  constructor() {
    this.promise = new Promise<MessageHeader>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // Nobody has to await it: a failed stream must not also raise an unhandled rejection.
    this.promise.catch(() => {})
  }

  /** Resolves with the engine's header if it has one now; returns the header only from the call that resolved it. */
  announce(engine: StreamEngine): MessageHeader | undefined {
    if (this.#settled || engine.header === undefined) return undefined
    this.#settled = true
    this.#resolve(engine.header)
    return engine.header
  }

  fail(reason: unknown): void {
    if (this.#settled) return
    this.#settled = true
    this.#reject(reason)
  }
}
