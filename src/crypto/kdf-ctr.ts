/**
 * NIST SP 800-108r1 KDF in counter mode with HMAC: block i (from 1) is
 *   HMAC(key, uint32 i ‖ label ‖ 00 ‖ context ‖ uint32 L), L the output length in bits.
 * The hierarchical keyring (HMAC-SHA256, spec/hierarchy.md#wrapping) and the
 * ECDH keyrings (HMAC-SHA384, spec/ecdh.md#key-derivation) derive their
 * wrapping keys with it.
 */
import type { HashName } from '../algorithms.js'
import type { CryptoBackend } from './backend.js'

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
    const k = backend.hmac(hash, key, block)
    out.set(k.subarray(0, Math.min(k.length, length - o)), o)
    o += k.length
    k.fill(0)
  }
  return out
}
