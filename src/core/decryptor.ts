/**
 * The incremental decryptor: push ciphertext in, get verified plaintext out
 * (spec/decrypt-rules.md). One-shot decrypt pushes the whole message once;
 * streams push chunks as they arrive. Rules it enforces:
 * - nothing is released before the header authenticates;
 * - a frame's plaintext is released only after its tag verifies;
 * - for signed suites the final frame (or a non-framed body) is held until the
 *   signature verifies;
 * - a truncated message fails at end(); bytes after the message fail at once;
 * - the first error is sticky: every later call throws it again.
 * Memory: between calls it keeps less than one frame of ciphertext (plus, for
 * signed suites, the held final frame); see `bufferedBytes` (spec/streaming.md#decryptor).
 */
import type { AesKey, CryptoBackend, Verifier } from '../crypto/backend.js'
import { AuthenticationError, LimitError, MalformedMessageError, NoMatchingKeyError, PolicyError, printable } from '../errors.js'
import { CONTENT_TYPE_FRAMED, CONTENT_TYPE_NON_FRAMED, IV_LENGTH, MAX_NON_FRAMED_LENGTH, TAG_LENGTH } from '../format/constants.js'
import { checkReproducedContext, type EncryptionContext } from '../format/encryption-context.js'
import { footerSignature, footerSize, SIGNATURE_LENGTH_BYTES } from '../format/footer.js'
import {
  BodyAad,
  FinalFrame,
  finalFrameContentLength,
  finalFrameSequence,
  isFinalFrame,
  NonFramedBody,
  nonFramedContentLength,
  RegularFrame,
  regularFrameSequence,
} from '../format/frame.js'
import { decodeHeader, type MessageHeader } from '../format/header.js'
import { suiteLabel, type AlgorithmSuite } from '../format/suites.js'
import type { Cmm } from '../materials/cmm.js'
import { checkedDataKey, type DecryptionMaterials } from '../materials/materials.js'
import { assertDecryptAllowed, type CommitmentPolicy } from '../materials/policy.js'
import { ByteQueue } from './byte-queue.js'
import { openHeaderTag, openingKey, splitRequiredContext } from './message-key.js'
import { framesToOffload, worthOffloading } from './offload.js'

export interface DecryptSettings {
  readonly backend: CryptoBackend
  readonly commitmentPolicy: CommitmentPolicy
  readonly maxEncryptedDataKeys: number
  readonly maxHeaderSize: number
  /** false: one-shot decrypt never uses the backend's other thread (spec/backends.md#parallel-frames). */
  readonly parallel?: boolean
}

export interface DecryptOptions {
  /** Pairs that must match the message; pairs it does not store are authenticated as required context. */
  readonly encryptionContext?: EncryptionContext
  /** Largest frame (or non-framed body) accepted, in bytes. Checked before anything of that size is read. */
  readonly maxBodySize?: number
  /** Fail as soon as the header shows a signed suite. */
  readonly unsignedOnly?: boolean
}

export interface DecryptedMessageInfo {
  readonly header: MessageHeader
  /** Stored pairs plus pairs supplied at decrypt (including `aws-crypto-public-key` for signed suites). */
  readonly encryptionContext: EncryptionContext
}

type State = 'header' | 'materials' | 'body' | 'footer' | 'done'

/**
 * Header parsing restarts from the first byte on every attempt, so past this
 * size it is retried only when the buffered bytes have doubled (or at end()):
 * a large header trickled in byte by byte costs linear, not quadratic, time.
 */
const EAGER_HEADER_BYTES = 4096

export class IncrementalDecryptor {
  readonly #cmm: Cmm
  readonly #settings: DecryptSettings
  readonly #options: DecryptOptions
  readonly #queue = new ByteQueue()
  #state: State = 'header'
  #error: unknown
  /** Header: bytes the parser needs before it can make progress. */
  #needed = 1
  /** Header: bytes available at the last unsuccessful attempt. */
  #attempted = 0
  /** The verified header; the parse result itself is dropped, as it holds views of the input. */
  #header: MessageHeader | undefined
  /** A push or end is running; the decryptor is not reentrant. */
  #busy = false
  #info: DecryptedMessageInfo | undefined
  #suite: AlgorithmSuite | undefined
  #key: AesKey | undefined
  #aad: BodyAad | undefined
  #verifier: Verifier | undefined
  /** Set while the verifier has no room (spec/backends.md#signature-backpressure): reading stops until it settles. */
  #hashing: Promise<void> | undefined
  #sequenceNumber = 1
  /** Signed suites: the final frame's plaintext, held until the signature verifies. */
  #held: Uint8Array | undefined
  /** One-shot decrypt: regular frames are copied here as they verify (see collectFramesInto). */
  #sink: Uint8Array | undefined
  #sinkLength = 0
  /** Whether #openInParallel has looked at this message (it does once, when the body starts). */
  #offloadTried = false

  constructor(cmm: Cmm, settings: DecryptSettings, options: DecryptOptions = {}) {
    this.#cmm = cmm
    this.#settings = settings
    this.#options = options
    const { maxBodySize } = options
    if (maxBodySize !== undefined && (!Number.isSafeInteger(maxBodySize) || maxBodySize < 0)) {
      throw new RangeError('maxBodySize must be a non-negative integer')
    }
    if (options.encryptionContext !== undefined) checkReproducedContext(options.encryptionContext)
  }

  /** The authenticated header and context; undefined until the header has verified. */
  get info(): DecryptedMessageInfo | undefined {
    return this.#info
  }

  /**
   * Bytes held between calls: ciphertext received but not yet consumed (less
   * than one whole frame, or the part of the header seen so far) plus a held
   * final frame. During a call the current chunk adds to it.
   */
  get bufferedBytes(): number {
    return this.#queue.available + (this.#held?.length ?? 0)
  }

  /**
   * One-shot decrypt: from now on each regular frame's plaintext is copied into
   * `buffer` (from offset 0) as soon as its tag verifies, rather than returned
   * by push(), so the result needs no second pass and no frame stays alive.
   * The final frame (held until the signature verifies) is still returned.
   * `buffer` must have room for the message's plaintext: its ciphertext
   * length is enough. The caller releases it only after end() succeeded.
   */
  collectFramesInto(buffer: Uint8Array): void {
    this.#sink = buffer
    this.#sinkLength = 0
  }

  /** Bytes written by collectFramesInto so far. */
  get collectedBytes(): number {
    return this.#sinkLength
  }

  /**
   * Adds ciphertext; returns plaintext that is now authenticated and may be released.
   * The chunk is not copied unless part of it must wait for more bytes: do not modify it afterwards.
   * Calls must not overlap: await each push before the next.
   */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#enter()
    try {
      if (this.#state === 'done') {
        if (chunk.length > 0) throw trailingBytes()
        return []
      }
      this.#queue.push(chunk)
      const out = await this.#process(false)
      // Aborted while this call was awaiting the CMM or a signature check.
      this.#throwIfFailed()
      this.#queue.compact()
      return out
    } catch (e) {
      this.#fail(e)
      throw e
    } finally {
      this.#busy = false
    }
  }

  /** Declares the input complete; returns any plaintext still due. Throws when the message was cut short. */
  async end(): Promise<Uint8Array[]> {
    this.#enter()
    try {
      // A header whose last attempt was deferred (see EAGER_HEADER_BYTES) gets its final try now.
      const out = this.#state === 'header' && this.#queue.available > this.#attempted ? await this.#process(true) : []
      if (this.#state !== 'done') {
        throw new MalformedMessageError(`the message ended early (while reading the ${this.#state === 'materials' ? 'header' : this.#state})`, {
          code: 'ERR_TRUNCATED',
        })
      }
      return out
    } catch (e) {
      this.#fail(e)
      throw e
    } finally {
      this.#busy = false
    }
  }

  /** Drops buffered and held plaintext; every later call throws `reason` (for a stream that was destroyed). */
  abort(reason: unknown): void {
    this.#fail(reason ?? new Error('the decryption was aborted'))
  }

  #enter(): void {
    if (this.#busy) throw new TypeError('IncrementalDecryptor: push() or end() called before the previous call settled')
    this.#throwIfFailed()
    this.#busy = true
  }

  async #process(force: boolean): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    if (this.#state === 'header') await this.#readHeader(force)
    if (this.#state === 'body' && this.#sink && !this.#offloadTried) await this.#openInParallel()
    for (;;) {
      // The bytes the verifier reads stay in the queue, unchanged, until this push returns.
      if (this.#hashing) await this.#waitForVerifier()
      if (this.#state !== 'body') break
      this.#readBody(out)
      if (!this.#hashing) break
    }
    if (this.#state === 'footer') await this.#readFooter(out)
    if ((this.#state as State) === 'done' && this.#queue.available > 0) throw trailingBytes()
    return out
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error
  }

  #fail(e: unknown): void {
    this.#error ??= e
    this.#held?.fill(0)
    this.#held = undefined
    this.#key?.wipe?.()
  }

  async #readHeader(force: boolean): Promise<void> {
    const queue = this.#queue
    const available = queue.available
    const limit = this.#settings.maxHeaderSize + 1
    if (available < this.#needed) return
    if (!force && this.#attempted > EAGER_HEADER_BYTES && available < Math.min(2 * this.#attempted, limit)) return
    const view = queue.peek(Math.min(available, limit))!
    const result = decodeHeader(view, this.#settings)
    if ('needed' in result) {
      this.#needed = result.needed
      this.#attempted = available
      return
    }
    this.#state = 'materials'
    const { header, suite } = result
    this.#header = header
    this.#suite = suite
    // Policy checks come before the CMM is asked for anything (spec/decrypt-rules.md#order-of-checks).
    assertDecryptAllowed(this.#settings.commitmentPolicy, suite)
    if (this.#options.unsignedOnly && suite.signature) {
      throw new PolicyError('ERR_SIGNED_NOT_ALLOWED', `the message uses signed suite ${suiteLabel(suite.id)}, and unsignedOnly is set`)
    }
    const { maxBodySize } = this.#options
    if (maxBodySize !== undefined && header.contentType !== CONTENT_TYPE_NON_FRAMED && header.frameLength > maxBodySize) {
      throw new LimitError('maxBodySize', header.frameLength, maxBodySize, 'frame length')
    }

    const { backend, commitmentPolicy } = this.#settings
    const reproduced = this.#options.encryptionContext
    let materials: DecryptionMaterials
    try {
      materials = await this.#cmm.decryptMaterials(
        {
          suite,
          commitmentPolicy,
          encryptedDataKeys: header.encryptedDataKeys,
          encryptionContext: header.encryptionContext,
          reproducedEncryptionContext: reproduced,
        },
        { backend },
      )
    } catch (e) {
      throw unstoredPairsFailed(e, reproduced, header.encryptionContext)
    }
    if (materials.suite.id !== suite.id) throw new PolicyError('ERR_COMMITMENT_POLICY', 'the CMM returned materials for another suite')
    assertDecryptAllowed(commitmentPolicy, materials.suite)

    const dataKey = checkedDataKey(suite, materials.plaintextDataKey)
    const key = openingKey(backend, suite, dataKey, header.messageId, header.commitKey)
    // Held from here, so a failure below wipes it too (#fail).
    this.#key = key

    const headerBytes = view.subarray(0, result.length)
    const body = headerBytes.subarray(0, result.headerBodyLength)
    const { authOnly } = splitRequiredContext(materials.encryptionContext, materials.requiredEncryptionContextKeys)
    if (!openHeaderTag(backend, key, body, result.headerIv, result.headerTag, authOnly)) {
      throw unstoredPairsFailed(new AuthenticationError('header'), reproduced, header.encryptionContext)
    }

    if (suite.signature) {
      this.#verifier = backend.createVerifier(materials.verificationKey!, suite.signature.hash)
      this.#hash(headerBytes)
    }
    queue.consume(result.length)
    this.#aad = new BodyAad(header.messageId)
    this.#info = Object.freeze({ header, encryptionContext: materials.encryptionContext })
    this.#state = 'body'
  }

  /**
   * One-shot decrypt of an unsigned framed message whose bytes are all here:
   * the later 45 % of its regular frames are opened on the backend's other
   * thread while this one opens the rest into the sink (spec/backends.md#parallel-frames).
   * Leaves the final frame, and anything it does not hand off, to #readBody.
   */
  async #openInParallel(): Promise<void> {
    this.#offloadTried = true
    const header = this.#header!
    const { backend, parallel } = this.#settings
    if (parallel === false || this.#verifier || header.contentType !== CONTENT_TYPE_FRAMED || !backend.openFramesInParallel) return
    const frameLength = header.frameLength
    const total = frameLength + RegularFrame.OVERHEAD
    const queue = this.#queue
    const present = Math.floor(queue.available / total)
    if (!worthOffloading(present, frameLength)) return
    // Regular frames in order from here; the first other frame (final, or out of order) ends the run.
    const view = queue.peek(present * total)!
    const first = this.#sequenceNumber
    let frames = 0
    while (frames < present && regularFrameSequence(view, frames * total) === first + frames) frames++
    const away = framesToOffload(frames)
    if (!worthOffloading(frames, frameLength) || away === 0) return
    const local = frames - away
    const pending = backend.openFramesInParallel(this.#key!, this.#aad!.framePrefix(), first + local, frameLength, view.subarray(local * total, frames * total))
    if (!pending) return
    try {
      this.#readBody([], local)
    } catch (e) {
      // The other thread's plaintext is not wanted now; it is wiped when it comes.
      void pending.then((opened) => typeof opened !== 'number' && opened.fill(0))
      throw e
    }
    const opened = await pending
    if (typeof opened === 'number') throw new AuthenticationError('frame', opened)
    if (opened.length !== away * frameLength) {
      opened.fill(0)
      throw new TypeError(`the ${backend.name} backend opened the wrong number of frames`)
    }
    this.#sink!.set(opened, this.#sinkLength)
    this.#sinkLength += opened.length
    queue.consume(away * total)
    this.#sequenceNumber += away
  }

  /** Reads frames until the data runs out, the body ends or (for #openInParallel) `maxFrames` regular frames are read. */
  #readBody(out: Uint8Array[], maxFrames = Infinity): void {
    const header = this.#header!
    if (header.contentType === CONTENT_TYPE_NON_FRAMED) return this.#readNonFramed(out)
    const queue = this.#queue
    const frameLength = header.frameLength
    const signed = this.#verifier !== undefined
    const sink = this.#sink
    for (let read = 0; read < maxFrames; read++) {
      const start = queue.peek(4)
      if (!start) return
      const seq = this.#sequenceNumber
      if (!isFinalFrame(start)) {
        const total = frameLength + RegularFrame.OVERHEAD
        const frame = queue.peek(total)
        if (!frame) return
        if (regularFrameSequence(frame) !== seq) throw outOfOrder(regularFrameSequence(frame), seq)
        const plaintext = this.#open('frame', seq, frameLength, frame, RegularFrame.IV, RegularFrame.CONTENT)
        if (signed) this.#hash(frame)
        queue.consume(total)
        this.#sequenceNumber = seq + 1
        if (sink === undefined) {
          out.push(plaintext)
        } else {
          sink.set(plaintext, this.#sinkLength)
          this.#sinkLength += plaintext.length
        }
        if (this.#hashing) return
        continue
      }
      const prefix = queue.peek(FinalFrame.CONTENT)
      if (!prefix) return
      if (finalFrameSequence(prefix) !== seq) throw outOfOrder(finalFrameSequence(prefix), seq)
      const contentLength = finalFrameContentLength(prefix)
      if (contentLength > frameLength) {
        throw new MalformedMessageError(`final frame content length ${contentLength} exceeds the frame length ${frameLength}`)
      }
      const total = contentLength + FinalFrame.OVERHEAD
      const frame = queue.peek(total)
      if (!frame) return
      const plaintext = this.#open('final', seq, contentLength, frame, FinalFrame.IV, FinalFrame.CONTENT)
      if (signed) this.#hash(frame)
      queue.consume(total)
      this.#finishBody(plaintext, out, signed)
      return
    }
  }

  #readNonFramed(out: Uint8Array[]): void {
    const queue = this.#queue
    const prefix = queue.peek(NonFramedBody.CONTENT)
    if (!prefix) return
    const length = nonFramedContentLength(prefix)
    if (typeof length === 'bigint' || length > MAX_NON_FRAMED_LENGTH) {
      throw new MalformedMessageError(`non-framed body length ${length} exceeds the AES-GCM limit of 2^36 - 32 bytes`)
    }
    const { maxBodySize } = this.#options
    if (maxBodySize !== undefined && length > maxBodySize) throw new LimitError('maxBodySize', length, maxBodySize, 'non-framed body length')
    const total = length + NonFramedBody.OVERHEAD
    const body = queue.peek(total)
    if (!body) return
    const plaintext = this.#open('single', 1, length, body, NonFramedBody.IV, NonFramedBody.CONTENT)
    if (this.#verifier) this.#hash(body)
    queue.consume(total)
    this.#finishBody(plaintext, out, this.#verifier !== undefined)
  }

  #finishBody(last: Uint8Array, out: Uint8Array[], signed: boolean): void {
    // The last ciphertext is open: the message key has no more use (spec/backends.md#message-keys).
    this.#key!.wipe?.()
    if (signed) {
      this.#held = last
      this.#state = 'footer'
    } else {
      out.push(last)
      this.#state = 'done'
    }
  }

  /** Opens the whole frame (or non-framed body) `frame`, whose IV and content start at the given offsets. */
  #open(kind: 'frame' | 'final' | 'single', seq: number, length: number, frame: Uint8Array, ivAt: number, contentAt: number): Uint8Array {
    const tagAt = contentAt + length
    const iv = frame.subarray(ivAt, ivAt + IV_LENGTH)
    const plaintext = this.#settings.backend.gcmOpen(this.#key!, iv, this.#aad!.get(kind, seq, length), frame.subarray(contentAt, tagAt), frame.subarray(tagAt, tagAt + TAG_LENGTH))
    if (!plaintext) throw new AuthenticationError(kind === 'single' ? 'body' : 'frame', kind === 'single' ? undefined : seq)
    return plaintext
  }

  /** Passes `bytes` to the verifier; when it has no room, #process waits before reading on. */
  #hash(bytes: Uint8Array): void {
    const hashing = this.#verifier!.update(bytes)
    if (hashing) this.#hashing = hashing
  }

  async #waitForVerifier(): Promise<void> {
    const hashing = this.#hashing
    this.#hashing = undefined
    await hashing
    // Aborted while waiting: read no further.
    this.#throwIfFailed()
  }

  async #readFooter(out: Uint8Array[]): Promise<void> {
    const queue = this.#queue
    const lengthBytes = queue.peek(SIGNATURE_LENGTH_BYTES)
    if (!lengthBytes) return
    const size = footerSize(lengthBytes, this.#suite!.signature!.maxSignatureLength)
    const footer = queue.peek(size)
    if (!footer) return
    const signature = footerSignature(footer)
    queue.consume(size)
    this.#state = 'done'
    if (!(await this.#verifier!.verify(signature))) throw new AuthenticationError('signature')
    out.push(this.#held!)
    this.#held = undefined
  }
}

/**
 * Pairs given at decrypt that the message does not store are authenticated as
 * required pairs (spec/encryption-context.md#reproduced-context). When with
 * them no keyring decrypts a data key, or the header tag fails, the failure is
 * reported as the context error, ERR_CONTEXT_MISMATCH, naming those keys, with
 * the original error (its attempts, its stage) as `cause`: it cannot be told
 * apart from a wrong key or an altered header, which the message says.
 */
function unstoredPairsFailed(error: unknown, reproduced: EncryptionContext | undefined, stored: EncryptionContext): unknown {
  if (reproduced === undefined || !(error instanceof NoMatchingKeyError || error instanceof AuthenticationError)) return error
  // A transient KMS failure says nothing about the context: keep "retry later" visible (spec/errors.md#retryable).
  if (error instanceof NoMatchingKeyError && error.retryable) return error
  const unstored = Object.keys(reproduced).filter((k) => !Object.hasOwn(stored, k))
  if (unstored.length === 0) return error
  const named = unstored.slice(0, 5).map((k) => printable(JSON.stringify(k.length > 100 ? `${k.slice(0, 100)}…` : k)))
  const keys = `${named.join(', ')}${unstored.length > named.length ? ` and ${unstored.length - named.length} more` : ''}`
  const what = error instanceof NoMatchingKeyError ? 'no keyring could decrypt a data key' : 'the header did not authenticate'
  return new PolicyError(
    'ERR_CONTEXT_MISMATCH',
    `the message does not store the encryption context key${unstored.length > 1 ? 's' : ''} ${keys} given at decrypt, and with ${unstored.length > 1 ? 'them' : 'it'} as required pairs ${what}: the message was not written with these pairs (or the key or the message is wrong; see cause)`,
    { cause: error },
  )
}

function outOfOrder(found: number, expected: number): MalformedMessageError {
  return new MalformedMessageError(`frame sequence number ${found} where ${expected} was expected`)
}

function trailingBytes(): MalformedMessageError {
  return new MalformedMessageError('bytes follow the end of the message', { code: 'ERR_TRAILING_BYTES' })
}
