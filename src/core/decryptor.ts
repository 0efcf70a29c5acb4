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
import { CONTENT_TYPE_NON_FRAMED, IV_LENGTH, MAX_NON_FRAMED_LENGTH, TAG_LENGTH } from '../format/constants.js'
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
import { suiteLabel } from '../format/suites.js'
import type { Cmm } from '../materials/cmm.js'
import { checkedDataKey, type DecryptionMaterials } from '../materials/materials.js'
import { assertDecryptAllowed, type CommitmentPolicy } from '../materials/policy.js'
import { ByteQueue } from './byte-queue.js'
import { openHeaderTag, openingKey, splitRequiredContext } from './message-key.js'

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

/** Reading the header: parse attempts, until it parses and authenticates. */
interface HeaderState {
  readonly kind: 'header'
  /** Bytes the parser needs before it can make progress. */
  needed: number
  /** Bytes available at the last unsuccessful attempt. */
  attempted: number
}

/** Reading frames (or the non-framed body) with the message key. */
interface BodyState {
  readonly kind: 'body'
  readonly framed: boolean
  readonly frameLength: number
  readonly key: AesKey
  readonly aad: BodyAad
  /** Signed suites: the verifier every byte before the footer goes to. */
  readonly signature: Signature | undefined
  /** The sequence number the next frame must carry. */
  sequenceNumber: number
}

/** Signed suites: the body is read, the last plaintext waits for the signature. */
interface FooterState extends Signature {
  readonly kind: 'footer'
  /** The final frame's (or non-framed body's) plaintext, held until the signature verifies. */
  readonly held: Uint8Array
}

interface Signature {
  readonly verifier: Verifier
  readonly maxSignatureLength: number
}

type State = HeaderState | BodyState | FooterState | { readonly kind: 'done' }

/**
 * One-shot decrypt's hooks (core/one-shot.ts): where verified regular frames
 * go, and a chance to open part of the body elsewhere. Streams use none.
 */
export interface FrameSink {
  /** Takes each regular frame's plaintext as soon as its tag verifies, instead of push() returning it. */
  take(plaintext: Uint8Array): void
  /** Called once, when the header has verified and before any frame is read. */
  bodyStarts(body: BodyAccess): Promise<void> | undefined
}

/** The body as a FrameSink sees it when it starts. */
export interface BodyAccess {
  readonly framed: boolean
  readonly signed: boolean
  readonly frameLength: number
  readonly key: AesKey
  /** messageId ‖ content string of a regular frame (BodyAad.framePrefix). */
  readonly framePrefix: Uint8Array
  /** The sequence number the next frame must carry. */
  readonly sequenceNumber: number
  /** Ciphertext bytes queued. */
  readonly available: number
  /** A view of the next `length` queued bytes; undefined when fewer are queued. */
  peek(length: number): Uint8Array | undefined
  /** Reads up to `count` regular frames here, into the sink. */
  readFrames(count: number): void
  /** `count` regular frames at the head of the queue were opened elsewhere: drops their bytes and numbers. */
  skipFrames(count: number): void
}

/**
 * Header parsing restarts from the first byte on every attempt, so past this
 * size it is retried only when the buffered bytes have doubled (or at end()):
 * a large header trickled in byte by byte costs linear, not quadratic, time.
 */
const EAGER_HEADER_BYTES = 4096

export class IncrementalDecryptor {
  readonly #cmm: Pick<Cmm, 'decryptMaterials'>
  readonly #settings: DecryptSettings
  readonly #options: DecryptOptions
  readonly #queue = new ByteQueue()
  #state: State = { kind: 'header', needed: 1, attempted: 0 }
  #error: unknown
  /** A push or end is running; the decryptor is not reentrant. */
  #busy = false
  /** The verified header and context; the parse result itself is dropped, as it holds views of the input. */
  #info: DecryptedMessageInfo | undefined
  /** Set while the verifier has no room (spec/backends.md#signature-backpressure): reading stops until it settles. */
  #hashing: Promise<void> | undefined
  /** One-shot decrypt: see releaseFramesTo. */
  #sink: FrameSink | undefined

  constructor(cmm: Pick<Cmm, 'decryptMaterials'>, settings: DecryptSettings, options: DecryptOptions = {}) {
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
    return this.#queue.available + (this.#state.kind === 'footer' ? this.#state.held.length : 0)
  }

  /**
   * One-shot decrypt, before the first push: each regular frame's plaintext
   * goes to `sink` as soon as its tag verifies, rather than being returned by
   * push(). The final frame (held until the signature verifies) is still returned.
   */
  releaseFramesTo(sink: FrameSink): void {
    this.#sink = sink
  }

  /**
   * Adds ciphertext; returns plaintext that is now authenticated and may be released.
   * The chunk is not copied unless part of it must wait for more bytes: do not modify it afterwards.
   * Calls must not overlap: await each push before the next.
   */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#enter()
    try {
      if (this.#state.kind === 'done') {
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
      const state = this.#state
      const out = state.kind === 'header' && this.#queue.available > state.attempted ? await this.#process(true) : []
      const { kind } = this.#state
      if (kind !== 'done') throw new MalformedMessageError(`the message ended early (while reading the ${kind})`, { code: 'ERR_TRUNCATED' })
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
    const first = this.#state
    if (first.kind === 'header') await this.#readHeader(first, force)
    for (;;) {
      // The bytes the verifier reads stay in the queue, unchanged, until this push returns.
      if (this.#hashing) await this.#waitForVerifier()
      const state = this.#state
      if (state.kind !== 'body') break
      this.#readBody(state, out)
      if (!this.#hashing) break
    }
    const footer = this.#state
    if (footer.kind === 'footer') await this.#readFooter(footer, out)
    if (this.#state.kind === 'done' && this.#queue.available > 0) throw trailingBytes()
    return out
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error
  }

  #fail(e: unknown): void {
    this.#error ??= e
    const state = this.#state
    if (state.kind === 'body') state.key.wipe?.()
    if (state.kind === 'footer') state.held.fill(0)
    this.#state = { kind: 'done' }
  }

  async #readHeader(state: HeaderState, force: boolean): Promise<void> {
    const queue = this.#queue
    const available = queue.available
    const limit = this.#settings.maxHeaderSize + 1
    if (available < state.needed) return
    if (!force && state.attempted > EAGER_HEADER_BYTES && available < Math.min(2 * state.attempted, limit)) return
    const view = queue.peek(Math.min(available, limit))
    if (!view) return
    const result = decodeHeader(view, this.#settings)
    if ('needed' in result) {
      state.needed = result.needed
      state.attempted = available
      return
    }
    const { header, suite } = result
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
    const headerBytes = view.subarray(0, result.length)
    let signature: Signature | undefined
    try {
      const body = headerBytes.subarray(0, result.headerBodyLength)
      const { authOnly } = splitRequiredContext(materials.encryptionContext, materials.requiredEncryptionContextKeys)
      if (!openHeaderTag(backend, key, body, result.headerIv, result.headerTag, authOnly)) {
        throw unstoredPairsFailed(new AuthenticationError('header'), reproduced, header.encryptionContext)
      }
      if (suite.signature) {
        const { verificationKey } = materials
        if (!verificationKey) throw new PolicyError('ERR_COMMITMENT_POLICY', 'signed suite without a verification key')
        signature = { verifier: backend.createVerifier(verificationKey, suite.signature.hash), maxSignatureLength: suite.signature.maxSignatureLength }
        this.#hash(signature.verifier, headerBytes)
      }
    } catch (e) {
      // The key is not in a state yet, so #fail cannot reach it.
      key.wipe?.()
      throw e
    }
    queue.consume(result.length)
    this.#info = Object.freeze({ header, encryptionContext: materials.encryptionContext })
    this.#state = {
      kind: 'body',
      framed: header.contentType !== CONTENT_TYPE_NON_FRAMED,
      frameLength: header.frameLength,
      key,
      aad: new BodyAad(header.messageId),
      signature,
      sequenceNumber: 1,
    }
    const started = this.#sink?.bodyStarts(this.#access(this.#state))
    if (started) await started
  }

  #access(state: BodyState): BodyAccess {
    const queue = this.#queue
    return {
      framed: state.framed,
      signed: state.signature !== undefined,
      frameLength: state.frameLength,
      key: state.key,
      framePrefix: state.aad.framePrefix(),
      get sequenceNumber() {
        return state.sequenceNumber
      },
      get available() {
        return queue.available
      },
      peek: (length) => queue.peek(length),
      readFrames: (count) => this.#readBody(state, [], count),
      skipFrames(count) {
        queue.consume(count * (state.frameLength + RegularFrame.OVERHEAD))
        state.sequenceNumber += count
      },
    }
  }

  /** Reads frames until the data runs out, the body ends or (for a FrameSink) `maxFrames` regular frames are read. */
  #readBody(state: BodyState, out: Uint8Array[], maxFrames = Infinity): void {
    if (!state.framed) return this.#readNonFramed(state, out)
    const queue = this.#queue
    const { frameLength, signature } = state
    const sink = this.#sink
    for (let read = 0; read < maxFrames; read++) {
      const start = queue.peek(4)
      if (!start) return
      const seq = state.sequenceNumber
      if (!isFinalFrame(start)) {
        const total = frameLength + RegularFrame.OVERHEAD
        const frame = queue.peek(total)
        if (!frame) return
        if (regularFrameSequence(frame) !== seq) throw outOfOrder(regularFrameSequence(frame), seq)
        const plaintext = this.#open(state, 'frame', seq, frameLength, frame, RegularFrame.IV, RegularFrame.CONTENT)
        if (signature) this.#hash(signature.verifier, frame)
        queue.consume(total)
        state.sequenceNumber = seq + 1
        if (sink === undefined) out.push(plaintext)
        else sink.take(plaintext)
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
      const plaintext = this.#open(state, 'final', seq, contentLength, frame, FinalFrame.IV, FinalFrame.CONTENT)
      if (signature) this.#hash(signature.verifier, frame)
      queue.consume(total)
      this.#finishBody(state, plaintext, out)
      return
    }
  }

  #readNonFramed(state: BodyState, out: Uint8Array[]): void {
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
    const plaintext = this.#open(state, 'single', 1, length, body, NonFramedBody.IV, NonFramedBody.CONTENT)
    if (state.signature) this.#hash(state.signature.verifier, body)
    queue.consume(total)
    this.#finishBody(state, plaintext, out)
  }

  #finishBody(state: BodyState, last: Uint8Array, out: Uint8Array[]): void {
    // The last ciphertext is open: the message key has no more use (spec/backends.md#message-keys).
    state.key.wipe?.()
    const { signature } = state
    if (signature) {
      this.#state = { kind: 'footer', verifier: signature.verifier, maxSignatureLength: signature.maxSignatureLength, held: last }
    } else {
      out.push(last)
      this.#state = { kind: 'done' }
    }
  }

  /** Opens the whole frame (or non-framed body) `frame` with sequence number `seq`, whose IV and content start at the given offsets. */
  #open(state: BodyState, kind: 'frame' | 'final' | 'single', seq: number, length: number, frame: Uint8Array, ivAt: number, contentAt: number): Uint8Array {
    const tagAt = contentAt + length
    const iv = frame.subarray(ivAt, ivAt + IV_LENGTH)
    const plaintext = this.#settings.backend.gcmOpen(state.key, iv, state.aad.get(kind, seq, length), frame.subarray(contentAt, tagAt), frame.subarray(tagAt, tagAt + TAG_LENGTH))
    if (!plaintext) throw new AuthenticationError(kind === 'single' ? 'body' : 'frame', kind === 'single' ? undefined : seq)
    return plaintext
  }

  /** Passes `bytes` to the verifier; when it has no room, #process waits before reading on. */
  #hash(verifier: Verifier, bytes: Uint8Array): void {
    const hashing = verifier.update(bytes)
    if (hashing) this.#hashing = hashing
  }

  async #waitForVerifier(): Promise<void> {
    const hashing = this.#hashing
    this.#hashing = undefined
    await hashing
    // Aborted while waiting: read no further.
    this.#throwIfFailed()
  }

  /** The held plaintext stays in the footer state until the signature verifies, so a failure meanwhile wipes it (#fail). */
  async #readFooter(state: FooterState, out: Uint8Array[]): Promise<void> {
    const queue = this.#queue
    const lengthBytes = queue.peek(SIGNATURE_LENGTH_BYTES)
    if (!lengthBytes) return
    const size = footerSize(lengthBytes, state.maxSignatureLength)
    const footer = queue.peek(size)
    if (!footer) return
    const signature = footerSignature(footer)
    queue.consume(size)
    if (!(await state.verifier.verify(signature))) throw new AuthenticationError('signature')
    this.#throwIfFailed()
    this.#state = { kind: 'done' }
    out.push(state.held)
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
