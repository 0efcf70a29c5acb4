/**
 * Builds a message: asks the CMM for materials, writes the header, then seals
 * frames. Used by one-shot encrypt (one buffer, sized up front) and by the
 * streaming encryptor alike (spec/message-format.md, spec/streaming.md).
 */
import type { AesKey, CryptoBackend, FramesDone, Signer } from '../crypto/backend.js'
import { sealHeaderTag, sealingKey, splitRequiredContext } from './message-key.js'
import { EncryptionContextError, KeyringError, LimitError, PolicyError, printable } from '../errors.js'
import {
  CONTENT_TYPE_FRAMED,
  CONTENT_TYPE_NON_FRAMED,
  DEFAULT_FRAME_LENGTH,
  MAX_FRAMES,
  MAX_FRAME_LENGTH,
  MAX_NON_FRAMED_LENGTH,
  MESSAGE_ID_LENGTH_V1,
  MESSAGE_ID_LENGTH_V2,
  RESERVED_CONTEXT_PREFIX,
} from '../format/constants.js'
import { copyEncryptionContext, encodeEncryptionContext, type EncryptionContext } from '../format/encryption-context.js'
import { BodyAad, FinalFrame, FrameIv, NonFramedBody, RegularFrame, writeFinalFrameHeader, writeNonFramedHeader, writeRegularFrameHeader } from '../format/frame.js'
import { encodeHeaderBody, headerAuthLength, type MessageHeader } from '../format/header.js'
import { findSuite, getSuite, suiteLabel, type AlgorithmSuite } from '../format/suites.js'
import type { Cmm } from '../materials/cmm.js'
import { checkedDataKey } from '../materials/materials.js'
import { assertEncryptAllowed, type CommitmentPolicy } from '../materials/policy.js'

export interface EncryptSettings {
  readonly backend: CryptoBackend
  readonly commitmentPolicy: CommitmentPolicy
  readonly maxEncryptedDataKeys: number
  /** false: one-shot encrypt never uses the backend's other thread (spec/backends.md#parallel-frames). */
  readonly parallel?: boolean
}

export interface EncryptOptions {
  readonly encryptionContext?: EncryptionContext
  /** Defaults to the policy's suite: 0x0578 under the default policy. */
  readonly suiteId?: number
  /** Bytes of plaintext per frame, 1 to 2^32 - 1; default 4096. 0 writes a legacy non-framed message (conformance only). */
  readonly frameLength?: number
}

export function checkFrameLength(frameLength: unknown): number {
  if (frameLength === undefined) return DEFAULT_FRAME_LENGTH
  if (typeof frameLength !== 'number' || !Number.isInteger(frameLength) || frameLength < 0 || frameLength > MAX_FRAME_LENGTH) {
    throw new RangeError('frameLength must be an integer from 1 to 2^32 - 1 (or 0 for a legacy non-framed message)')
  }
  return frameLength
}

export class MessageSealer {
  readonly header: MessageHeader
  readonly suite: AlgorithmSuite
  /** Header body ‖ header authentication. */
  readonly headerBytes: Uint8Array
  readonly frameLength: number
  /** Present for signed suites; the caller feeds it every byte before the footer. */
  readonly signer: Signer | undefined
  /** The full encryption context the materials carried (incl. signing key and required pairs). */
  readonly encryptionContext: EncryptionContext
  readonly #backend: CryptoBackend
  readonly #key: AesKey
  readonly #aad: BodyAad
  readonly #iv = new FrameIv()
  #sequenceNumber = 1

  private constructor(fields: {
    header: MessageHeader
    suite: AlgorithmSuite
    headerBytes: Uint8Array
    signer: Signer | undefined
    encryptionContext: EncryptionContext
    backend: CryptoBackend
    key: AesKey
  }) {
    this.header = fields.header
    this.suite = fields.suite
    this.headerBytes = fields.headerBytes
    this.frameLength = fields.header.frameLength
    this.signer = fields.signer
    this.encryptionContext = fields.encryptionContext
    this.#backend = fields.backend
    this.#key = fields.key
    this.#aad = new BodyAad(fields.header.messageId)
  }

  /** Gets materials and writes the header. `plaintextLength` is the exact length, or a bound for streams. */
  static async start(
    cmm: Cmm,
    settings: EncryptSettings,
    options: EncryptOptions,
    plaintextLength: number | undefined,
  ): Promise<MessageSealer> {
    const { backend, commitmentPolicy } = settings
    const frameLength = checkFrameLength(options.frameLength)
    const context = copyEncryptionContext(options.encryptionContext)
    for (const key of Object.keys(context)) {
      if (key.startsWith(RESERVED_CONTEXT_PREFIX)) {
        throw new EncryptionContextError(`encryption context keys starting with "${RESERVED_CONTEXT_PREFIX}" are reserved (got ${printable(JSON.stringify(key))})`)
      }
    }
    if (options.suiteId !== undefined) assertEncryptAllowed(commitmentPolicy, getSuite(options.suiteId))

    const materials = await cmm.getEncryptionMaterials(
      { encryptionContext: context, commitmentPolicy, suiteId: options.suiteId, maxPlaintextLength: plaintextLength },
      { backend },
    )
    // The suite's fields are taken from the table, not from the object the CMM handed back.
    const suite = materials.suite && findSuite(materials.suite.id)
    if (suite === undefined) throw new KeyringError('the CMM returned materials for an unknown algorithm suite')
    assertEncryptAllowed(commitmentPolicy, suite)
    if (options.suiteId !== undefined && suite.id !== options.suiteId) {
      throw new PolicyError('ERR_COMMITMENT_POLICY', `the CMM returned suite ${suiteLabel(suite.id)}, not the requested ${suiteLabel(options.suiteId)}`)
    }
    if (materials.encryptedDataKeys.length > settings.maxEncryptedDataKeys) {
      throw new LimitError('maxEncryptedDataKeys', materials.encryptedDataKeys.length, settings.maxEncryptedDataKeys, 'encrypted data keys produced by the keyrings')
    }
    if (suite.signature && !materials.signingKey) throw new PolicyError('ERR_COMMITMENT_POLICY', 'signed suite without a signing key')

    const messageId = backend.randomBytes(suite.messageFormat === 1 ? MESSAGE_ID_LENGTH_V1 : MESSAGE_ID_LENGTH_V2)
    const dataKey = checkedDataKey(suite, materials.plaintextDataKey)
    const { key, commitKey } = sealingKey(backend, suite, dataKey, messageId)

    const { stored, authOnly } = splitRequiredContext(materials.encryptionContext, materials.requiredEncryptionContextKeys)
    const storedContext = Object.freeze(stored)
    const header: MessageHeader = Object.freeze({
      version: suite.messageFormat,
      suiteId: suite.id,
      messageId,
      encryptionContext: storedContext,
      encryptedDataKeys: materials.encryptedDataKeys,
      contentType: frameLength === 0 ? CONTENT_TYPE_NON_FRAMED : CONTENT_TYPE_FRAMED,
      frameLength,
      commitKey,
    })
    const authLength = headerAuthLength(suite)
    const headerBytes = encodeHeaderBody({ ...header, suite, serializedContext: encodeEncryptionContext(storedContext) }, authLength)
    sealHeaderTag(backend, key, headerBytes, authLength, authOnly)

    const signer = suite.signature ? backend.createSigner(materials.signingKey!, suite.signature.hash) : undefined
    return new MessageSealer({ header, suite, headerBytes, signer, encryptionContext: materials.encryptionContext, backend, key })
  }

  /** Writes one regular frame of exactly frameLength plaintext bytes; returns the bytes written. */
  sealFrame(plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    const seq = this.#nextSequence(false)
    const iv = this.#iv.set(seq)
    const content = writeRegularFrameHeader(out, offset, seq, iv)
    this.#backend.gcmSeal(this.#key, iv, this.#aad.get('frame', seq, plaintext.length), plaintext, out, content)
    return plaintext.length + RegularFrame.OVERHEAD
  }

  /**
   * Offers `plaintext` (a whole number of regular frames) to the backend's
   * other thread, numbered as if `framesBefore` regular frames are sealed
   * here first (spec/backends.md#parallel-frames). Returns the sealed frames
   * to come, or undefined if the backend has no thread free. The bytes are
   * read before this returns. After sealing the frames before, call
   * takeOffloadedFrames so the final frame gets the next number.
   */
  offloadFrames(plaintext: Uint8Array, framesBefore: number): Promise<FramesDone> | undefined {
    const count = plaintext.length / this.frameLength
    const first = this.#sequenceNumber + framesBefore
    if (count < 1 || !Number.isInteger(count) || first + count - 1 > MAX_FRAMES - 1) return undefined
    return this.#backend.sealFramesInParallel?.(this.#key, this.#aad.framePrefix(), first, this.frameLength, plaintext)
  }

  /** Claims the sequence numbers of `count` frames sealed through offloadFrames. */
  takeOffloadedFrames(count: number): void {
    for (let i = 0; i < count; i++) this.#nextSequence(false)
  }

  /** Writes the final frame (0 to frameLength bytes); returns the bytes written. */
  sealFinalFrame(plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    const seq = this.#nextSequence(true)
    const iv = this.#iv.set(seq)
    const content = writeFinalFrameHeader(out, offset, seq, iv, plaintext.length)
    this.#backend.gcmSeal(this.#key, iv, this.#aad.get('final', seq, plaintext.length), plaintext, out, content)
    this.wipeKey()
    return plaintext.length + FinalFrame.OVERHEAD
  }

  /** Legacy non-framed body (IV of sequence number 1); returns the bytes written. */
  sealNonFramed(plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    if (plaintext.length > MAX_NON_FRAMED_LENGTH) throw new LimitError('non-framed body length', plaintext.length, MAX_NON_FRAMED_LENGTH, 'bytes')
    const iv = this.#iv.set(1)
    const content = writeNonFramedHeader(out, offset, iv, plaintext.length)
    this.#backend.gcmSeal(this.#key, iv, this.#aad.get('single', 1, plaintext.length), plaintext, out, content)
    this.wipeKey()
    return plaintext.length + NonFramedBody.OVERHEAD
  }

  /**
   * The message is sealed or given up: wipes the message key (spec/backends.md#message-keys).
   * Frames already handed to offloadFrames are unaffected: the other thread holds its own copy.
   */
  wipeKey(): void {
    this.#key.wipe?.()
  }

  /** A regular frame can never carry 0xFFFFFFFF (it marks a final frame); the final frame may. */
  #nextSequence(final: boolean): number {
    const seq = this.#sequenceNumber
    const max = final ? MAX_FRAMES : MAX_FRAMES - 1
    if (seq > max) throw new LimitError('frames per message', seq, max)
    this.#sequenceNumber = seq + 1
    return seq
  }
}
