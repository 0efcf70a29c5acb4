/** Small byte helpers shared by the format layer. No Buffer: this runs in browsers too. */

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Bytewise comparison: the order the format requires for encryption context keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function writeUint16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 8
  out[offset + 1] = value & 0xff
}

export function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24
  out[offset + 1] = (value >>> 16) & 0xff
  out[offset + 2] = (value >>> 8) & 0xff
  out[offset + 3] = value & 0xff
}

/** Writes a non-negative integer below 2^53 as a big-endian uint64. */
export function writeUint64(out: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / 0x100000000)
  writeUint32(out, offset, high)
  writeUint32(out, offset + 4, value >>> 0)
}

export function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0
}

/** Reads a big-endian uint64; returns a number when below 2^53, otherwise a bigint. */
export function readUint64(bytes: Uint8Array, offset: number): number | bigint {
  const high = readUint32(bytes, offset)
  const low = readUint32(bytes, offset + 4)
  if (high < 0x200000) return high * 0x100000000 + low
  return (BigInt(high) << 32n) | BigInt(low)
}

/**
 * A copy of bytes[start, end). Never `bytes.slice()`: on a Node Buffer, slice
 * returns a view, and zeroing or mutating that view would reach the original.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end)
}

/**
 * `bytes` as a plain Uint8Array, not a subclass such as Node's Buffer: what decrypt returns is one
 * type on every runtime, backend and size (spec/client.md#decrypt-result). A view when `bytes` spans
 * its whole ArrayBuffer (no copy), else a copy, so the result never shares a pooled allocation.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  if (Object.getPrototypeOf(bytes) === Uint8Array.prototype) return bytes
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return new Uint8Array(bytes.buffer, 0, bytes.length)
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return copy
}
