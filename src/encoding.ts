/**
 * Text and base64 encodings, below every layer (crypto/ reads PEM and JWK with
 * them, format/ writes encryption contexts). No Buffer: this runs in browsers too.
 */

const encoder = new TextEncoder()
// ignoreBOM: a leading U+FEFF is part of a context key or value, not a marker to strip.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Below this length ASCII is converted in JS: TextEncoder and TextDecoder
 * cross into native code per call, which costs more than the loop for the
 * short strings of encryption contexts and provider ids.
 */
const SHORT_TEXT = 64

export function utf8Encode(text: string): Uint8Array {
  if (text.length <= SHORT_TEXT && asciiLength(text) >= 0) {
    const out = new Uint8Array(text.length)
    writeAscii(out, 0, text)
    return out
  }
  return encoder.encode(text)
}

/** Decodes UTF-8, throwing a TypeError on invalid sequences (callers turn it into a format error). */
export function utf8Decode(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_TEXT) {
    let text = ''
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!
      if (b >= 0x80) return strictDecoder.decode(bytes)
      text += String.fromCharCode(b)
    }
    return text
  }
  return strictDecoder.decode(bytes)
}

/** `text.length` when every character is ASCII (then it is also the UTF-8 length), otherwise -1. */
export function asciiLength(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return -1
  return text.length
}

/** Writes an all-ASCII string (checked by the caller with asciiLength) at `offset`. */
export function writeAscii(out: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i)
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_LOOKUP = new Int16Array(128).fill(-1)
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charCodeAt(i)] = i

export function toBase64(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + '='
  }
  return out
}

/** Strict standard base64 (padding required). Returns undefined on any invalid character or length. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  let pad = 0
  if (text.endsWith('==')) pad = 2
  else if (text.endsWith('=')) pad = 1
  const out = new Uint8Array((text.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    let n = 0
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j)
      let v: number
      if (c === 61 /* = */ && i + j >= text.length - pad) v = 0
      else v = c < 128 ? B64_LOOKUP[c]! : -1
      if (v < 0) return undefined
      n = (n << 6) | v
    }
    if (o < out.length) out[o++] = (n >>> 16) & 0xff
    if (o < out.length) out[o++] = (n >>> 8) & 0xff
    if (o < out.length) out[o++] = n & 0xff
  }
  return out
}
