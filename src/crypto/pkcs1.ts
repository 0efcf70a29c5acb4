/**
 * Branch-free RSAES-PKCS1-v1_5 unpadding (RFC 8017 7.2.2 step 3), shared by
 * the pure-JS RSA (rsa.ts) and the node backend, which runs only the raw RSA
 * operation in OpenSSL. No imports, so the node entry loads no pure-JS crypto.
 */

export type RandomSource = (length: number) => Uint8Array

/** 1 when b is 0, else 0, for 0 <= b < 2^31, without a branch. */
export function isZero(b: number): number {
  return ((b | -b) >>> 31) ^ 1
}

/** a when bit is 1, b when bit is 0. */
export function select(bit: number, a: number, b: number): number {
  return b ^ ((a ^ b) & -bit)
}

/**
 * RFC 8017 7.2.2 step 3 without a branch on the message. With `expectedLength`
 * (the data key length), a bad block, or a good one whose message has another
 * length, yields random bytes of that length, so a wrong padding and a wrong
 * key both fail later at header authentication and look the same to an
 * attacker (as jose does for RSA1_5). The node backend unpads here too, after
 * a raw RSA operation in OpenSSL.
 */
export function pkcs1Decode(em: Uint8Array, expectedLength: number | undefined, random: RandomSource): Uint8Array | undefined {
  const k = em.length
  let good = isZero(em[0]!) & isZero(em[1]! ^ 2)
  let looking = 1
  let index = 0
  for (let i = 2; i < k; i++) {
    const zero = isZero(em[i]!)
    index = select(looking & zero, i, index)
    looking &= zero ^ 1
  }
  // At least 8 bytes of PS: the separator sits at index 10 or later.
  good &= (looking ^ 1) & ((9 - index) >>> 31)
  // A copy even when em is a Buffer (whose slice is a view): the caller wipes em.
  if (expectedLength === undefined) return good ? Uint8Array.prototype.slice.call(em, index + 1) : undefined
  good &= isZero((k - index - 1) ^ expectedLength)
  const out = random(expectedLength)
  for (let i = 0; i < expectedLength; i++) out[i] = select(good, em[k - expectedLength + i]!, out[i]!)
  return out
}
