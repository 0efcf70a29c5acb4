/**
 * Node stream adapters (spec/streaming.md): Duplex streams over the shared
 * engine, for `stream.pipeline`. The only module that imports node:stream.
 *
 * - Backpressure end to end: a write's callback runs only once its output has
 *   been taken by the consumer (push() returned true, or _read() was called);
 *   big writes are cut into slices with a wait between them.
 * - The header is emitted as 'header' and resolves `header` before the first
 *   output byte.
 * - Any error destroys the stream; the readable side ends only after the whole
 *   message verified, so truncated input is an error, never a clean 'end'.
 */
import { Duplex } from 'node:stream'
import type { DecryptOptions, DecryptSettings } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import type { StreamEncryptOptions } from '../core/stream-encryptor.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import type { RewrapCoreOptions, RewrapSettings } from '../core/rewrap.js'
import type { Keyring } from '../materials/keyring.js'
import { decryptEngine, encryptEngine, HeaderSignal, rewrapEngine, type StreamEngine } from './engine.js'

/** A Duplex: bytes in, bytes out. Listen for 'header' (a MessageHeader) or await `header`. */
export interface MessageDuplex extends Duplex {
  /** Resolves with the header before the first output byte; rejects if the stream fails first. */
  readonly header: Promise<MessageHeader>
  /** Bytes the core holds between writes (a partial frame, a held final frame): for tests and monitoring. */
  readonly bufferedBytes: number
}

class EngineStream extends Duplex implements MessageDuplex {
  readonly #engine: StreamEngine
  readonly #signal = new HeaderSignal()
  readonly #what: string
  /** Set while output waits for the consumer; _read() calls it. */
  #resume: (() => void) | undefined

  constructor(engine: StreamEngine, what: 'plaintext' | 'ciphertext') {
    // Ciphertext must arrive as bytes; plaintext strings are encoded by Node (UTF-8 unless told otherwise).
    super({ decodeStrings: what === 'plaintext' })
    this.#engine = engine
    this.#what = what
  }

  get header(): Promise<MessageHeader> {
    return this.#signal.promise
  }

  get bufferedBytes(): number {
    return this.#engine.bufferedBytes
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#engine.start().then((out) => {
      // Not #emit: _read is not called before construction completes, so this must not wait.
      this.#announce()
      for (const part of out) this.push(part)
      callback()
    }, callback)
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#settle(this.#writeAll(chunk), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#settle(
      this.#engine.end().then(async (out) => {
        await this.#emit(out)
        this.push(null)
      }),
      callback,
    )
  }

  override _read(): void {
    const resume = this.#resume
    this.#resume = undefined
    resume?.()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const reason = error ?? new Error('the stream was destroyed before the message was complete')
    this.#engine.abort(reason)
    this.#signal.fail(reason)
    this._read()
    callback(error)
  }

  async #writeAll(chunk: unknown): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`${this.#what} chunks must be Uint8Array (or Buffer)`)
    let o = 0
    do {
      const size = this.#engine.sliceSize
      const out = await this.#engine.write(o === 0 && chunk.length <= size ? chunk : chunk.subarray(o, o + size))
      await this.#emit(out)
      o += size
    } while (o < chunk.length && !this.destroyed)
  }

  /** Pushes output, waiting for the consumer whenever the readable buffer is full. */
  async #emit(out: Uint8Array[]): Promise<void> {
    this.#announce()
    for (const part of out) {
      if (this.destroyed) return
      if (!this.push(part)) await new Promise<void>((resolve) => (this.#resume = resolve))
    }
  }

  #announce(): void {
    const header = this.#signal.announce(this.#engine)
    if (header) this.emit('header', header)
  }

  #settle(work: Promise<void>, callback: (error?: Error | null) => void): void {
    work.then(
      () => callback(),
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    )
  }
}

/** Plaintext in, message out. The CMM runs when the stream is created; the header is the first output. */
export function encryptStream(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions = {}): MessageDuplex {
  return new EngineStream(encryptEngine(cmm, settings, options), 'plaintext')
}

/** Message in, verified plaintext out (spec/decrypt-rules.md#release-rules). */
export function decryptStream(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions = {}): MessageDuplex {
  return new EngineStream(decryptEngine(cmm, settings, options), 'ciphertext')
}

/**
 * Message in, the same message with new data keys out (spec/rewrap.md#streams):
 * nothing until the header authenticated, then body bytes as their frames verify.
 */
export function rewrapStream(from: Cmm, to: Keyring, settings: RewrapSettings, options: RewrapCoreOptions = {}): MessageDuplex {
  return new EngineStream(rewrapEngine(from, to, settings, options), 'ciphertext')
}
