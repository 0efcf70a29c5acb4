/**
 * NIST SP 800-108 KDF in counter mode with HMAC (spec/hierarchy.md#wrapping), as the
 * hierarchical keyring derives its per-message wrapping key:
 *   K(i) = HMAC(key, uint32 i ‖ label ‖ 00 ‖ context ‖ uint32 L), i = 1, 2, ...
 * HMAC (RFC 2104) is built on the backend's digest, so every backend has it
 * without a new backend operation.
 */
import { HASHES, type HashName } from '../algorithms.js'
import type { CryptoBackend } from './backend.js'

const IPAD = 0x36
const OPAD = 0x5c

export function hmacWithDigest(backend: CryptoBackend, hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  const { blockLength } = HASHES[hash]
  // A key longer than a block is hashed first (RFC 2104 section 2).
  const k = key.length > blockLength ? backend.digest(hash, key) : key
  const inner = new Uint8Array(blockLength + data.length)
  for (let i = 0; i < blockLength; i++) inner[i] = (k[i] ?? 0) ^ IPAD
  inner.set(data, blockLength)
  const innerDigest = backend.digest(hash, inner)
  const outer = new Uint8Array(blockLength + innerDigest.length)
  for (let i = 0; i < blockLength; i++) outer[i] = (k[i] ?? 0) ^ OPAD
  outer.set(innerDigest, blockLength)
  const mac = backend.digest(hash, outer)
  // The padded blocks are the key in another form.
  inner.fill(0)
  outer.fill(0)
  if (k !== key) k.fill(0)
  return mac
}

/** `length` bytes (a whole number of bytes, at most 2^29 - 1 so L fits in 32 bits). */
export function kdfCtrHmac(backend: CryptoBackend, hash: HashName, key: Uint8Array, label: Uint8Array, context: Uint8Array, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 1 || length * 8 > 0xffffffff) throw new RangeError('KDF output length out of range')
  const block = new Uint8Array(4 + label.length + 1 + context.length + 4)
  const view = new DataView(block.buffer)
  block.set(label, 4)
  block.set(context, 4 + label.length + 1)
  view.setUint32(block.length - 4, length * 8)
  const out = new Uint8Array(length)
  for (let i = 1, o = 0; o < length; i++) {
    view.setUint32(0, i)
    const k = hmacWithDigest(backend, hash, key, block)
    out.set(k.subarray(0, Math.min(k.length, length - o)), o)
    o += k.length
    k.fill(0)
  }
  return out
}
