/**
 * The body codec: framed and non-framed body layouts, IVs and body AAD
 * (spec/message-format.md#body). The only place that knows where each field of
 * a frame sits. Writers put a frame's fields into a buffer the caller owns, at
 * an offset, and return the offset of its content; nothing here allocates per
 * frame. AAD and IV buffers are allocated once per message and rewritten per frame.
 */
import { readUint32, readUint64, writeUint32, writeUint64 } from './bytes.js'
import { utf8Encode } from '../encoding.js'
import { CONTENT_FINAL_FRAME, CONTENT_FRAME, CONTENT_SINGLE_BLOCK, FINAL_FRAME_MARKER, IV_LENGTH, TAG_LENGTH } from './constants.js'

/** Regular frame: uint32 sequence number ‖ IV ‖ content (frame length bytes) ‖ tag. */
export const RegularFrame = Object.freeze({
  SEQUENCE: 0,
  IV: 4,
  CONTENT: 4 + IV_LENGTH,
  /** Bytes besides the content: sequence number, IV and tag. */
  OVERHEAD: 4 + IV_LENGTH + TAG_LENGTH,
})

/** Final frame: uint32 marker ‖ uint32 sequence number ‖ IV ‖ uint32 content length ‖ content ‖ tag. */
export const FinalFrame = Object.freeze({
  MARKER: 0,
  SEQUENCE: 4,
  IV: 8,
  CONTENT_LENGTH: 8 + IV_LENGTH,
  CONTENT: 12 + IV_LENGTH,
  /** Bytes besides the content: marker, sequence number, IV, content length and tag. */
  OVERHEAD: 12 + IV_LENGTH + TAG_LENGTH,
})

/** Non-framed body: IV ‖ uint64 content length ‖ content ‖ tag. */
export const NonFramedBody = Object.freeze({
  IV: 0,
  CONTENT_LENGTH: IV_LENGTH,
  CONTENT: IV_LENGTH + 8,
  OVERHEAD: IV_LENGTH + 8 + TAG_LENGTH,
})

/** Size of the body for `plaintextLength` bytes (`frameLength` 0: non-framed); the final frame is full when the length is a multiple (spec/message-format.md#final-frame). */
export function bodySize(plaintextLength: number, frameLength: number): number {
  if (frameLength === 0) return NonFramedBody.OVERHEAD + plaintextLength
  const regular = plaintextLength === 0 ? 0 : Math.ceil(plaintextLength / frameLength) - 1
  return regular * (frameLength + RegularFrame.OVERHEAD) + (plaintextLength - regular * frameLength) + FinalFrame.OVERHEAD
}

/** Writes a regular frame's sequence number and IV at `offset`; returns the offset of its content (the tag follows the content). */
export function writeRegularFrameHeader(out: Uint8Array, offset: number, sequenceNumber: number, iv: Uint8Array): number {
  writeUint32(out, offset + RegularFrame.SEQUENCE, sequenceNumber)
  out.set(iv, offset + RegularFrame.IV)
  return offset + RegularFrame.CONTENT
}

/** Writes a final frame's marker, sequence number, IV and content length at `offset`; returns the offset of its content. */
export function writeFinalFrameHeader(out: Uint8Array, offset: number, sequenceNumber: number, iv: Uint8Array, contentLength: number): number {
  writeUint32(out, offset + FinalFrame.MARKER, FINAL_FRAME_MARKER)
  writeUint32(out, offset + FinalFrame.SEQUENCE, sequenceNumber)
  out.set(iv, offset + FinalFrame.IV)
  writeUint32(out, offset + FinalFrame.CONTENT_LENGTH, contentLength)
  return offset + FinalFrame.CONTENT
}

/** Writes a non-framed body's IV and content length at `offset`; returns the offset of its content. */
export function writeNonFramedHeader(out: Uint8Array, offset: number, iv: Uint8Array, contentLength: number): number {
  out.set(iv, offset + NonFramedBody.IV)
  writeUint64(out, offset + NonFramedBody.CONTENT_LENGTH, contentLength)
  return offset + NonFramedBody.CONTENT
}

/** Whether the frame starting at `offset` (4 bytes needed) is the final frame. */
export function isFinalFrame(bytes: Uint8Array, offset = 0): boolean {
  return readUint32(bytes, offset + FinalFrame.MARKER) === FINAL_FRAME_MARKER
}

/** The sequence number of the regular frame at `offset`. */
export function regularFrameSequence(bytes: Uint8Array, offset = 0): number {
  return readUint32(bytes, offset + RegularFrame.SEQUENCE)
}

/** The sequence number of the final frame at `offset` (its first FinalFrame.CONTENT bytes needed). */
export function finalFrameSequence(bytes: Uint8Array, offset = 0): number {
  return readUint32(bytes, offset + FinalFrame.SEQUENCE)
}

/** The content length of the final frame at `offset` (its first FinalFrame.CONTENT bytes needed). */
export function finalFrameContentLength(bytes: Uint8Array, offset = 0): number {
  return readUint32(bytes, offset + FinalFrame.CONTENT_LENGTH)
}

/** The content length of the non-framed body at `offset` (its first NonFramedBody.CONTENT bytes needed); a bigint past 2^53. */
export function nonFramedContentLength(bytes: Uint8Array, offset = 0): number | bigint {
  return readUint64(bytes, offset + NonFramedBody.CONTENT_LENGTH)
}

/** Bytes a body AAD has after its messageId ‖ content string: uint32 seq ‖ uint64 length. */
export const BODY_AAD_TAIL = 12

/** Writes a frame's sequence number and content length over the last BODY_AAD_TAIL bytes of its body AAD. */
export function writeBodyAadTail(aad: Uint8Array, sequenceNumber: number, length: number): void {
  const o = aad.length - BODY_AAD_TAIL
  writeUint32(aad, o, sequenceNumber)
  writeUint64(aad, o + 4, length)
}

const FRAME = utf8Encode(CONTENT_FRAME)
const FINAL_FRAME = utf8Encode(CONTENT_FINAL_FRAME)
const SINGLE_BLOCK = utf8Encode(CONTENT_SINGLE_BLOCK)

export type BodyKind = 'frame' | 'final' | 'single'

/**
 * messageId ‖ content string ‖ uint32 seq ‖ uint64 length (spec/message-format.md#body-aad).
 * One buffer per kind, made on first use (a one-frame message needs only the
 * final one) and rewritten in place for every frame.
 */
export class BodyAad {
  readonly #messageId: Uint8Array
  #frame: Uint8Array | undefined
  #final: Uint8Array | undefined
  #single: Uint8Array | undefined

  constructor(messageId: Uint8Array) {
    this.#messageId = messageId
  }

  #make(content: Uint8Array): Uint8Array {
    const id = this.#messageId
    const out = new Uint8Array(id.length + content.length + BODY_AAD_TAIL)
    out.set(id, 0)
    out.set(content, id.length)
    return out
  }

  /** messageId ‖ content string of a regular frame: the AAD without its sequence number and length. */
  framePrefix(): Uint8Array {
    const aad = (this.#frame ??= this.#make(FRAME))
    return aad.subarray(0, aad.length - BODY_AAD_TAIL)
  }

  /** The AAD for one frame. The returned view is overwritten by the next call. */
  get(kind: BodyKind, sequenceNumber: number, length: number): Uint8Array {
    const out =
      kind === 'frame'
        ? (this.#frame ??= this.#make(FRAME))
        : kind === 'final'
          ? (this.#final ??= this.#make(FINAL_FRAME))
          : (this.#single ??= this.#make(SINGLE_BLOCK))
    writeBodyAadTail(out, sequenceNumber, length)
    return out
  }
}

/** The IV of frame `sequenceNumber`: eight zero bytes ‖ uint32 seq (spec/message-format.md#frame-iv). */
export class FrameIv {
  readonly bytes = new Uint8Array(IV_LENGTH)
  set(sequenceNumber: number): Uint8Array {
    writeUint32(this.bytes, 8, sequenceNumber)
    return this.bytes
  }
}
