/**
 * Message header encode/decode, v1 and v2 (spec/message-format.md#header).
 * The decoder is resumable: given too few bytes it reports how many it needs
 * at least, so a stream can wait without re-parsing on every byte.
 */
import { LimitError, MalformedMessageError } from '../errors.js'
import { copyBytes, readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js'
import { utf8Decode, utf8Encode } from '../encoding.js'
import {
  COMMIT_KEY_LENGTH,
  CONTENT_TYPE_FRAMED,
  CONTENT_TYPE_NON_FRAMED,
  IV_LENGTH,
  MAX_UINT16,
  MESSAGE_ID_LENGTH_V1,
  MESSAGE_ID_LENGTH_V2,
  TAG_LENGTH,
  TYPE_CUSTOMER_AED,
  VERSION_1,
  VERSION_2,
} from './constants.js'
import type { EncryptedDataKey } from './edk.js'
import { decodeEncryptionContext, type EncryptionContext } from './encryption-context.js'
import { findSuite, suiteLabel, type AlgorithmSuite } from './suites.js'

export interface MessageHeader {
  readonly version: 1 | 2
  readonly suiteId: number
  readonly messageId: Uint8Array
  /** The pairs stored in the message (not the ones supplied only at decrypt). */
  readonly encryptionContext: EncryptionContext
  readonly encryptedDataKeys: readonly EncryptedDataKey[]
  readonly contentType: 1 | 2
  /** Frame length for framed bodies; 0 for non-framed. */
  readonly frameLength: number
  /** v2 only: the key commitment (suite data). */
  readonly commitKey: Uint8Array | undefined
}

export interface DecodedHeader {
  readonly header: MessageHeader
  readonly suite: AlgorithmSuite
  /** Length of the header body (what the header tag authenticates). */
  readonly headerBodyLength: number
  /** Header body + authentication: where the message body starts. */
  readonly length: number
  /** v1: the IV stored in the header authentication (must be zeros). */
  readonly headerIv: Uint8Array | undefined
  readonly headerTag: Uint8Array
}

export interface HeaderLimits {
  readonly maxEncryptedDataKeys: number
  readonly maxHeaderSize: number
}

export type HeaderDecodeResult = DecodedHeader | { readonly needed: number }

class NeedMore {
  readonly needed: number
  constructor(needed: number) {
    this.needed = needed
  }
}

/** Throws `LimitError` when the header cannot fit, `NeedMore` when bytes are missing. */
function need(bytes: Uint8Array, end: number, limits: HeaderLimits): void {
  if (end > limits.maxHeaderSize) throw new LimitError('maxHeaderSize', end, limits.maxHeaderSize, 'bytes of header')
  if (end > bytes.length) throw new NeedMore(end)
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/]{4}/

/** Raw messages start 01 80 or 02 04/05; base64 of those starts "AY" / "AgR" / "AgV" (spec/message-format.md#base64-input). */
function looksLikeBase64Message(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false
  const head = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  if (!BASE64_ALPHABET.test(head)) return false
  return head.startsWith('AY') || head.startsWith('AgR') || head.startsWith('AgV')
}

export function decodeHeader(bytes: Uint8Array, limits: HeaderLimits): HeaderDecodeResult {
  try {
    return decode(bytes, limits)
  } catch (e) {
    if (e instanceof NeedMore) return { needed: e.needed }
    throw e
  }
}

function decode(bytes: Uint8Array, limits: HeaderLimits): DecodedHeader {
  need(bytes, 1, limits)
  const version = bytes[0]!
  if (version !== VERSION_1 && version !== VERSION_2) {
    if (looksLikeBase64Message(bytes)) {
      throw new MalformedMessageError('the ciphertext looks base64-encoded; decode it to bytes first (or use the CLI --decode flag)', {
        code: 'ERR_BASE64_INPUT',
      })
    }
    throw new MalformedMessageError(`unsupported message format version 0x${version.toString(16).padStart(2, '0')}`, { offset: 0 })
  }
  let o = 1
  if (version === VERSION_1) {
    need(bytes, 2, limits)
    if (bytes[1] !== TYPE_CUSTOMER_AED) throw new MalformedMessageError(`unknown message type 0x${bytes[1]!.toString(16)}`, { offset: 1 })
    o = 2
  }
  need(bytes, o + 2, limits)
  const suiteId = readUint16(bytes, o)
  const suite = findSuite(suiteId)
  if (!suite) throw new MalformedMessageError(`unknown algorithm suite ${suiteLabel(suiteId)}`, { offset: o })
  if (suite.messageFormat !== version) {
    throw new MalformedMessageError(`suite ${suiteLabel(suiteId)} cannot appear in a version ${version} message`, { offset: o })
  }
  o += 2
  const idLength = version === VERSION_1 ? MESSAGE_ID_LENGTH_V1 : MESSAGE_ID_LENGTH_V2
  need(bytes, o + idLength + 2, limits)
  const messageId = copyBytes(bytes, o, o + idLength)
  o += idLength
  const aadLength = readUint16(bytes, o)
  o += 2
  need(bytes, o + aadLength + 2, limits)
  const encryptionContext = decodeEncryptionContext(bytes.subarray(o, o + aadLength), o)
  o += aadLength

  const edkCount = readUint16(bytes, o)
  if (edkCount === 0) throw new MalformedMessageError('message has no encrypted data keys', { offset: o })
  // Checked as soon as the count is read, before any key is parsed (spec/decrypt-rules.md#max-encrypted-data-keys).
  if (edkCount > limits.maxEncryptedDataKeys) {
    throw new LimitError('maxEncryptedDataKeys', edkCount, limits.maxEncryptedDataKeys, 'encrypted data keys in the message')
  }
  o += 2
  const edks: EncryptedDataKey[] = []
  for (let i = 0; i < edkCount; i++) {
    const fieldStart = o
    const fields: Uint8Array[] = []
    for (let f = 0; f < 3; f++) {
      need(bytes, o + 2, limits)
      const len = readUint16(bytes, o)
      need(bytes, o + 2 + len, limits)
      fields.push(copyBytes(bytes, o + 2, o + 2 + len))
      o += 2 + len
    }
    let providerId: string
    try {
      providerId = utf8Decode(fields[0]!)
    } catch {
      throw new MalformedMessageError('encrypted data key provider id is not valid UTF-8', { offset: fieldStart })
    }
    edks.push(Object.freeze({ providerId, providerInfo: fields[1]!, ciphertext: fields[2]! }))
  }

  need(bytes, o + 1, limits)
  const contentType = bytes[o]!
  if (contentType !== CONTENT_TYPE_FRAMED && contentType !== CONTENT_TYPE_NON_FRAMED) {
    throw new MalformedMessageError(`unknown content type 0x${contentType.toString(16)}`, { offset: o })
  }
  o += 1
  let frameLength: number
  let commitKey: Uint8Array | undefined
  if (version === VERSION_1) {
    need(bytes, o + 9, limits)
    if (readUint32(bytes, o) !== 0) throw new MalformedMessageError('reserved header bytes are not zero', { offset: o })
    if (bytes[o + 4] !== IV_LENGTH) throw new MalformedMessageError(`header IV length ${bytes[o + 4]} is not ${IV_LENGTH}`, { offset: o + 4 })
    frameLength = readUint32(bytes, o + 5)
    o += 9
  } else {
    need(bytes, o + 4 + COMMIT_KEY_LENGTH, limits)
    frameLength = readUint32(bytes, o)
    commitKey = copyBytes(bytes, o + 4, o + 4 + COMMIT_KEY_LENGTH)
    o += 4 + COMMIT_KEY_LENGTH
  }
  if (contentType === CONTENT_TYPE_FRAMED && frameLength === 0) {
    throw new MalformedMessageError('framed message declares a frame length of 0', { offset: o - 4 })
  }
  if (contentType === CONTENT_TYPE_NON_FRAMED && frameLength !== 0) {
    throw new MalformedMessageError('non-framed message declares a non-zero frame length', { offset: o - 4 })
  }
  const headerBodyLength = o
  let headerIv: Uint8Array | undefined
  if (version === VERSION_1) {
    need(bytes, o + IV_LENGTH + TAG_LENGTH, limits)
    headerIv = bytes.subarray(o, o + IV_LENGTH)
    o += IV_LENGTH
  } else {
    need(bytes, o + TAG_LENGTH, limits)
  }
  const headerTag = bytes.subarray(o, o + TAG_LENGTH)
  o += TAG_LENGTH

  const header: MessageHeader = Object.freeze({
    version: version as 1 | 2,
    suiteId,
    messageId,
    encryptionContext,
    encryptedDataKeys: Object.freeze(edks),
    contentType: contentType as 1 | 2,
    frameLength,
    commitKey,
  })
  return { header, suite, headerBodyLength, length: o, headerIv, headerTag }
}

export interface HeaderFields {
  readonly suite: AlgorithmSuite
  readonly messageId: Uint8Array
  /** Bare serialization of the stored encryption context. */
  readonly serializedContext: Uint8Array
  readonly encryptedDataKeys: readonly EncryptedDataKey[]
  readonly contentType: 1 | 2
  readonly frameLength: number
  readonly commitKey: Uint8Array | undefined
}

/** Serializes the header body (without its authentication). */
/** The header body, in a buffer with `room` more bytes after it (for the header authentication). */
export function encodeHeaderBody(fields: HeaderFields, room = 0): Uint8Array {
  const { suite, messageId, serializedContext, encryptedDataKeys } = fields
  if (serializedContext.length > MAX_UINT16) throw new LimitError('encryption context size', serializedContext.length, MAX_UINT16, 'bytes')
  if (encryptedDataKeys.length === 0 || encryptedDataKeys.length > MAX_UINT16) {
    throw new RangeError(`a message holds 1 to 65535 encrypted data keys, not ${encryptedDataKeys.length}`)
  }
  const providerIds = encryptedDataKeys.map((edk) => utf8Encode(edk.providerId))
  let length = (suite.messageFormat === 1 ? 2 : 1) + 2 + messageId.length + 2 + serializedContext.length + 2
  for (let i = 0; i < encryptedDataKeys.length; i++) {
    const edk = encryptedDataKeys[i]!
    for (const field of [providerIds[i]!, edk.providerInfo, edk.ciphertext]) {
      if (field.length > MAX_UINT16) throw new LimitError('encrypted data key field', field.length, MAX_UINT16, 'bytes')
      length += 2 + field.length
    }
  }
  length += suite.messageFormat === 1 ? 1 + 4 + 1 + 4 : 1 + 4 + COMMIT_KEY_LENGTH
  const out = new Uint8Array(length + room)
  let o = 0
  if (suite.messageFormat === 1) {
    out[o++] = VERSION_1
    out[o++] = TYPE_CUSTOMER_AED
  } else {
    out[o++] = VERSION_2
  }
  writeUint16(out, o, suite.id)
  o += 2
  out.set(messageId, o)
  o += messageId.length
  writeUint16(out, o, serializedContext.length)
  out.set(serializedContext, o + 2)
  o += 2 + serializedContext.length
  writeUint16(out, o, encryptedDataKeys.length)
  o += 2
  for (let i = 0; i < encryptedDataKeys.length; i++) {
    const edk = encryptedDataKeys[i]!
    for (const field of [providerIds[i]!, edk.providerInfo, edk.ciphertext]) {
      writeUint16(out, o, field.length)
      out.set(field, o + 2)
      o += 2 + field.length
    }
  }
  out[o++] = fields.contentType
  if (suite.messageFormat === 1) {
    writeUint32(out, o, 0)
    out[o + 4] = IV_LENGTH
    writeUint32(out, o + 5, fields.frameLength)
    o += 9
  } else {
    writeUint32(out, o, fields.frameLength)
    out.set(fields.commitKey!, o + 4)
    o += 4 + COMMIT_KEY_LENGTH
  }
  return out
}

/** Bytes of header authentication that follow the header body. */
export function headerAuthLength(suite: AlgorithmSuite): number {
  return suite.messageFormat === 1 ? IV_LENGTH + TAG_LENGTH : TAG_LENGTH
}
