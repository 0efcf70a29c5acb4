/**
 * The incremental encryptor: push plaintext in, get whole frames out; finish()
 * adds the final frame and the footer (spec/streaming.md#encryptor).
 *
 * One frame buffer collects partial input. Input that covers whole frames is
 * sealed straight from the caller's chunk, so no byte is copied more than once,
 * and every frame sealed by one push goes into one output buffer. A full frame
 * buffer is sealed as a regular frame only when more input arrives, so a
 * plaintext that is an exact multiple of the frame length ends with a full
 * final frame, byte for byte what one-shot encrypt writes.
 */
import { LimitError } from '../errors.js'
import { MAX_FRAMES } from '../format/constants.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import { maxFooterSize, writeFooter } from '../format/footer.js'
import { FinalFrame, RegularFrame } from '../format/frame.js'
import type { MessageHeader } from '../format/header.js'
import type { AlgorithmSuite } from '../format/suites.js'
import type { Cmm } from '../materials/cmm.js'
import { checkFrameLength, MessageSealer, type EncryptOptions, type EncryptSettings } from './encryptor.js'

export interface StreamEncryptOptions extends EncryptOptions {
  /**
   * The plaintext length when known, or an upper bound. More plaintext than this
   * fails the stream with `ERR_LIMIT_EXCEEDED`. Passed to the CMM (a caching CMM
   * needs it); leave it out when the length is unknown.
   */
  readonly plaintextLength?: number
}

/** The frame buffer starts at most this large and doubles up to the frame length, so a huge frame length costs nothing until used. */
const INITIAL_BUFFER = 64 * 1024

/** Validates stream options synchronously, so a stream factory can throw misuse at the call site. */
export function checkStreamEncryptOptions(options: StreamEncryptOptions): { frameLength: number; bound: number | undefined } {
  const frameLength = checkFrameLength(options.frameLength)
  if (frameLength === 0) throw new RangeError('a non-framed message (frameLength 0) cannot be streamed: its length precedes its body')
  const bound = options.plaintextLength
  if (bound !== undefined && (typeof bound !== 'number' || !Number.isSafeInteger(bound) || bound < 0)) {
    throw new RangeError('plaintextLength must be a non-negative integer')
  }
  return { frameLength, bound }
}

export class IncrementalEncryptor {
  /** Header body and authentication: emit these bytes before any frame. */
  readonly headerBytes: Uint8Array
  readonly #encryptor: MessageSealer
  readonly #frameLength: number
  readonly #bound: number | undefined
  #buffer: Uint8Array
  #buffered = 0
  #total = 0
  #state: 'open' | 'finishing' | 'done' = 'open'
  #error: unknown

  private constructor(encryptor: MessageSealer, bound: number | undefined) {
    this.#encryptor = encryptor
    this.#frameLength = encryptor.frameLength
    this.#bound = bound
    this.headerBytes = encryptor.headerBytes
    this.#buffer = new Uint8Array(Math.min(encryptor.frameLength, bound ?? INITIAL_BUFFER, INITIAL_BUFFER))
  }

  /** Gets materials from the CMM and writes the header. */
  static async start(cmm: Cmm, settings: EncryptSettings, options: StreamEncryptOptions): Promise<IncrementalEncryptor> {
    const { frameLength, bound } = checkStreamEncryptOptions(options)
    if (bound !== undefined && Math.ceil(bound / frameLength) > MAX_FRAMES) {
      throw new LimitError('frames per message', Math.ceil(bound / frameLength), MAX_FRAMES)
    }
    const encryptor = await MessageSealer.start(cmm, settings, options, bound)
    const hashing = encryptor.signer?.update(encryptor.headerBytes)
    if (hashing) await hashing
    return new IncrementalEncryptor(encryptor, bound)
  }

  get header(): MessageHeader {
    return this.#encryptor.header
  }

  get suite(): AlgorithmSuite {
    return this.#encryptor.suite
  }

  get encryptionContext(): EncryptionContext {
    return this.#encryptor.encryptionContext
  }

  /** Plaintext bytes waiting for their frame to fill (at most one frame length). */
  get bufferedBytes(): number {
    return this.#buffered
  }

  /**
   * Adds plaintext; returns the frames it completed (as one buffer), or nothing.
   * The chunk is read during the call only. The first error is sticky.
   * Signed suites: a promise of the frames while the signer has no room for
   * them (spec/backends.md#signature-backpressure); await it before the next call.
   */
  push(chunk: Uint8Array): Uint8Array[] | Promise<Uint8Array[]> {
    this.#enter('push')
    try {
      const out = this.#push(chunk)
      const hashing = out.length > 0 ? this.#encryptor.signer?.update(out[0]!) : undefined
      if (!hashing) return out
      return hashing.then(
        () => out,
        (e: unknown) => {
          this.#fail(e)
          throw e
        },
      )
    } catch (e) {
      this.#fail(e)
      throw e
    }
  }

  /** Seals the final frame and, for signed suites, the footer. Call once, after the last push. */
  async finish(): Promise<Uint8Array[]> {
    this.#enter('finish')
    this.#state = 'finishing'
    try {
      const plaintext = this.#buffer.subarray(0, this.#buffered)
      const signature = this.#encryptor.suite.signature
      const out = new Uint8Array(plaintext.length + FinalFrame.OVERHEAD + (signature ? maxFooterSize(signature.maxSignatureLength) : 0))
      let o = this.#encryptor.sealFinalFrame(plaintext, out, 0)
      this.#wipe()
      const signer = this.#encryptor.signer
      if (signer) {
        const hashing = signer.update(out.subarray(0, o))
        if (hashing) await hashing
        o = writeFooter(out, o, await signer.sign())
      }
      this.#state = 'done'
      return [o === out.length ? out : out.subarray(0, o)]
    } catch (e) {
      this.#fail(e)
      throw e
    }
  }

  /** Drops buffered plaintext; later calls fail with `reason` (for a stream that was destroyed). */
  abort(reason: unknown): void {
    this.#fail(reason ?? new Error('the encrypt stream was aborted'))
  }

  #push(chunk: Uint8Array): Uint8Array[] {
    const n = chunk.length
    if (n === 0) return []
    const total = this.#total + n
    if (this.#bound !== undefined && total > this.#bound) {
      throw new LimitError('plaintextLength', total, this.#bound, 'bytes of plaintext')
    }
    this.#total = total
    const frameLength = this.#frameLength
    const buffered = this.#buffered
    // Every full frame that has at least one more byte after it is sealed now; the rest waits.
    const frames = Math.floor((buffered + n - 1) / frameLength)
    if (frames === 0) {
      this.#reserve(buffered + n)
      this.#buffer.set(chunk, buffered)
      this.#buffered = buffered + n
      return []
    }
    const out = new Uint8Array(frames * (frameLength + RegularFrame.OVERHEAD))
    let o = 0
    let p = 0
    if (buffered > 0) {
      p = frameLength - buffered
      this.#reserve(frameLength)
      this.#buffer.set(chunk.subarray(0, p), buffered)
      o += this.#encryptor.sealFrame(this.#buffer.subarray(0, frameLength), out, o)
    }
    while (o < out.length) {
      o += this.#encryptor.sealFrame(chunk.subarray(p, p + frameLength), out, o)
      p += frameLength
    }
    const rest = n - p
    this.#buffered = 0
    this.#reserve(rest)
    this.#buffer.set(chunk.subarray(p), 0)
    this.#buffered = rest
    return [out]
  }

  /** Grows the frame buffer (never beyond the frame length) to hold `length` bytes. */
  #reserve(length: number): void {
    if (this.#buffer.length >= length) return
    const grown = new Uint8Array(Math.min(this.#frameLength, Math.max(length, 2 * this.#buffer.length)))
    grown.set(this.#buffer.subarray(0, this.#buffered))
    this.#buffer.fill(0)
    this.#buffer = grown
  }

  #enter(call: 'push' | 'finish'): void {
    if (this.#error !== undefined) throw this.#error
    if (this.#state !== 'open') throw new TypeError(`IncrementalEncryptor: ${call}() after finish()`)
  }

  #fail(e: unknown): void {
    this.#error ??= e
    this.#wipe()
    this.#encryptor.wipeKey()
  }

  #wipe(): void {
    this.#buffer.fill(0)
    this.#buffered = 0
  }
}
