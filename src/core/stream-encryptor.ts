/**
 * The incremental encryptor: push plaintext in, get the header and whole
 * frames out (spec/streaming.md#encryptor). One frame-sized buffer collects
 * partial input; input that covers whole frames is sealed straight from the
 * caller's chunk. A full buffer is sealed as a regular frame only once more
 * input arrives, so an exact multiple of the frame length ends with a full
 * final frame, as one-shot encrypt writes it.
 */
import { LimitError } from '../errors.js'
import { writeUint16 } from '../format/bytes.js'
import { FINAL_FRAME_OVERHEAD, REGULAR_FRAME_OVERHEAD } from '../format/constants.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { MessageEncryptor, type EncryptOptions, type EncryptSettings } from './encryptor.js'

export interface StreamEncryptOptions extends EncryptOptions {
  /** Upper bound of the plaintext length; exceeding it fails the stream. Also lets a caching CMM cache. */
  readonly plaintextLength?: number
}

export class StreamEncryptor {
  readonly #encryptor: MessageEncryptor
  readonly #buffer: Uint8Array
  #buffered = 0
  #total = 0
  readonly #bound: number | undefined
  #finished = false

  private constructor(encryptor: MessageEncryptor, bound: number | undefined) {
    this.#encryptor = encryptor
    this.#buffer = new Uint8Array(encryptor.frameLength)
    this.#bound = bound
  }

  /** Gets materials and returns the encryptor with the header bytes to emit first. */
  static async start(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions): Promise<{ encryptor: StreamEncryptor; header: Uint8Array }> {
    const bound = options.plaintextLength
    if (bound !== undefined && (!Number.isSafeInteger(bound) || bound < 0)) throw new RangeError('plaintextLength must be a non-negative integer')
    if (options.frameLength === 0) throw new RangeError('a non-framed message cannot be streamed: its length comes before its body')
    const encryptor = await MessageEncryptor.start(cmm, settings, options, bound)
    encryptor.signer?.update(encryptor.headerBytes)
    return { encryptor: new StreamEncryptor(encryptor, bound), header: encryptor.headerBytes }
  }

  get header(): MessageHeader {
    return this.#encryptor.header
  }

  get encryptionContext(): EncryptionContext {
    return this.#encryptor.encryptionContext
  }

  /** Adds plaintext; returns the frames that are now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new Error('push after finish')
    this.#total += chunk.length
    if (this.#bound !== undefined && this.#total > this.#bound) {
      throw new LimitError('plaintextLength', this.#total, this.#bound, 'bytes of plaintext')
    }
    const frameLength = this.#buffer.length
    const out: Uint8Array[] = []
    let offset = 0
    while (offset < chunk.length) {
      if (this.#buffered === frameLength) {
        out.push(this.#seal(this.#buffer))
        this.#buffered = 0
      }
      // Whole frames straight from the chunk, keeping the last one back while nothing follows it.
      if (this.#buffered === 0 && chunk.length - offset > frameLength) {
        out.push(this.#seal(chunk.subarray(offset, offset + frameLength)))
        offset += frameLength
        continue
      }
      const n = Math.min(frameLength - this.#buffered, chunk.length - offset)
      this.#buffer.set(chunk.subarray(offset, offset + n), this.#buffered)
      this.#buffered += n
      offset += n
    }
    return out
  }

  /** Seals the final frame and, for signed suites, the footer. */
  async finish(): Promise<Uint8Array[]> {
    if (this.#finished) throw new Error('finish called twice')
    this.#finished = true
    const plaintext = this.#buffer.subarray(0, this.#buffered)
    const final = new Uint8Array(plaintext.length + FINAL_FRAME_OVERHEAD)
    this.#encryptor.sealFinalFrame(plaintext, final, 0)
    this.#buffer.fill(0)
    const signer = this.#encryptor.signer
    if (!signer) return [final]
    signer.update(final)
    const signature = await signer.sign()
    const footer = new Uint8Array(2 + signature.length)
    writeUint16(footer, 0, signature.length)
    footer.set(signature, 2)
    return [final, footer]
  }

  #seal(plaintext: Uint8Array): Uint8Array {
    const frame = new Uint8Array(plaintext.length + REGULAR_FRAME_OVERHEAD)
    this.#encryptor.sealFrame(plaintext, frame, 0)
    this.#encryptor.signer?.update(frame)
    return frame
  }
}
