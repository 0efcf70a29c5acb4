/**
 * Framed and non-framed body layouts, IVs and body AAD (spec/message-format.md#body).
 * AAD and IV buffers are allocated once per message and rewritten per frame.
 */
import { writeUint32, writeUint64 } from './bytes.js'
import { utf8Encode } from '../encoding.js'
import { CONTENT_FINAL_FRAME, CONTENT_FRAME, CONTENT_SINGLE_BLOCK, IV_LENGTH } from './constants.js'

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
    const out = new Uint8Array(id.length + content.length + 12)
    out.set(id, 0)
    out.set(content, id.length)
    return out
  }

  /** messageId ‖ content string of a regular frame: the AAD without its sequence number and length. */
  framePrefix(): Uint8Array {
    const aad = (this.#frame ??= this.#make(FRAME))
    return aad.subarray(0, aad.length - 12)
  }

  /** The AAD for one frame. The returned view is overwritten by the next call. */
  get(kind: BodyKind, sequenceNumber: number, length: number): Uint8Array {
    const out =
      kind === 'frame'
        ? (this.#frame ??= this.#make(FRAME))
        : kind === 'final'
          ? (this.#final ??= this.#make(FINAL_FRAME))
          : (this.#single ??= this.#make(SINGLE_BLOCK))
    const o = out.length - 12
    writeUint32(out, o, sequenceNumber)
    writeUint64(out, o + 4, length)
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
