/**
 * Shared pieces of the hostile-input tests: an independent walker over the
 * message layout (written from the format description, not from src/format),
 * and a streaming driver over IncrementalDecryptor that records what it released.
 */
import { IncrementalDecryptor, type DecryptOptions, type DecryptSettings } from '../../src/core/decryptor.js'
import { nodeBackend } from '../../src/crypto/node.js'
import type { Cmm } from '../../src/materials/cmm.js'
import { concat } from '../support/helpers.js'

export const SIGNED_SUITES = new Set([0x0214, 0x0346, 0x0378, 0x0578])

export const settings: DecryptSettings = Object.freeze({
  backend: nodeBackend,
  commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT',
  maxEncryptedDataKeys: 65535,
  maxHeaderSize: 1 << 20,
})

export interface FrameSpan {
  /** Sequence number (1-based). */
  readonly seq: number
  readonly final: boolean
  /** Byte range of the whole frame in the message. */
  readonly start: number
  readonly end: number
  /** Plaintext bytes the frame carries. */
  readonly contentLength: number
}

export interface Layout {
  readonly suiteId: number
  readonly version: 1 | 2
  readonly headerLength: number
  readonly edkCount: number
  readonly frameLength: number
  readonly framed: boolean
  readonly frames: readonly FrameSpan[]
  /** Where the footer starts (= message length for unsigned suites). */
  readonly footerStart: number
}

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!
const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0

/** Walks a well-formed message: header fields, frames, footer (spec/message-format.md). */
export function layoutOf(m: Uint8Array): Layout {
  const version = m[0] as 1 | 2
  let o = version === 1 ? 2 : 1
  const suiteId = u16(m, o)
  o += 2 + (version === 1 ? 16 : 32)
  o += 2 + u16(m, o)
  const edkCount = u16(m, o)
  o += 2
  for (let i = 0; i < edkCount * 3; i++) o += 2 + u16(m, o)
  const framed = m[o] === 2
  o += 1
  let frameLength: number
  if (version === 1) {
    frameLength = u32(m, o + 5)
    o += 9 + 12 + 16
  } else {
    frameLength = u32(m, o)
    o += 4 + 32 + 16
  }
  const headerLength = o
  const frames: FrameSpan[] = []
  if (!framed) {
    const length = Number((BigInt(u32(m, o + 12)) << 32n) | BigInt(u32(m, o + 16)))
    const end = o + 12 + 8 + length + 16
    frames.push({ seq: 1, final: true, start: o, end, contentLength: length })
    o = end
  } else {
    for (let seq = 1; ; seq++) {
      if (u32(m, o) === 0xffffffff) {
        const length = u32(m, o + 20)
        const end = o + 24 + length + 16
        frames.push({ seq, final: true, start: o, end, contentLength: length })
        o = end
        break
      }
      const end = o + 16 + frameLength + 16
      frames.push({ seq, final: false, start: o, end, contentLength: frameLength })
      o = end
    }
  }
  return { suiteId, version, headerLength, edkCount, frameLength, framed, frames, footerStart: o }
}

export interface StreamOutcome {
  readonly released: Uint8Array
  readonly error: unknown
  /** Largest `bufferedBytes` seen after a push that did not throw. */
  readonly maxBuffered: number
}

/** Feeds `message` to an IncrementalDecryptor in chunks of `chunkSize`, stopping at the first error. */
export async function streamDecrypt(
  cmm: Cmm,
  message: Uint8Array,
  chunkSize: number,
  options: DecryptOptions = {},
  decryptSettings: DecryptSettings = settings,
): Promise<StreamOutcome> {
  const decryptor = new IncrementalDecryptor(cmm, decryptSettings, options)
  const parts: Uint8Array[] = []
  let maxBuffered = 0
  let error: unknown
  try {
    for (let o = 0; o < message.length; o += chunkSize) {
      parts.push(...(await decryptor.push(message.subarray(o, o + chunkSize))))
      maxBuffered = Math.max(maxBuffered, decryptor.bufferedBytes)
    }
    parts.push(...(await decryptor.end()))
  } catch (e) {
    error = e
  }
  return { released: concat(parts), error, maxBuffered }
}
