/**
 * Curve and hash facts, in one table: the backends and the suite table
 * (format/suites.ts) read them here instead of restating them.
 */

export type HashName = 'sha256' | 'sha384' | 'sha512'
export type CurveName = 'P-256' | 'P-384'

export interface HashFacts {
  /** Digest length in bytes (HKDF's zero salt has this length, RFC 5869 section 2.2). */
  readonly length: number
  /** Block length in bytes (HMAC pads its key to it). */
  readonly blockLength: number
  /** The name WebCrypto gives it. */
  readonly webCryptoName: string
}

export const HASHES: Readonly<Record<HashName, HashFacts>> = {
  sha256: { length: 32, blockLength: 64, webCryptoName: 'SHA-256' },
  sha384: { length: 48, blockLength: 128, webCryptoName: 'SHA-384' },
  sha512: { length: 64, blockLength: 128, webCryptoName: 'SHA-512' },
}

export interface CurveFacts {
  /** Bytes per coordinate, and per half of a P1363 (r ‖ s) signature. */
  readonly coordinateLength: number
  /** SEC1 compressed point: 0x02 or 0x03, then x. */
  readonly compressedPointLength: number
  /** Upper bound of a DER `ECDSA-Sig-Value`: two INTEGERs of up to coordinateLength + 1 bytes in a SEQUENCE. */
  readonly maxDerSignatureLength: number
  /** The name OpenSSL gives it. */
  readonly opensslName: string
}

export const CURVES: Readonly<Record<CurveName, CurveFacts>> = {
  'P-256': { coordinateLength: 32, compressedPointLength: 33, maxDerSignatureLength: 72, opensslName: 'prime256v1' },
  'P-384': { coordinateLength: 48, compressedPointLength: 49, maxDerSignatureLength: 104, opensslName: 'secp384r1' },
}
