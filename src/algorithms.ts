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

/** Curves the ECDH keyrings agree keys on (spec/ecdh.md); a superset of the signing curves. */
export type EcdhCurve = 'P-256' | 'P-384' | 'P-521'

export interface EcdhCurveFacts {
  /** Bytes per coordinate: the length of the shared secret Z and of a private scalar. */
  readonly coordinateLength: number
  /** SEC1 compressed point: 0x02 or 0x03, then x. */
  readonly compressedPointLength: number
  /** The curve's name in the ECDH key derivation's FixedInfo (MPL EcdhEdkWrapping). */
  readonly kdfName: string
  /** The namedCurve OID (RFC 5480), as DER content bytes. */
  readonly oid: readonly number[]
  /** The name OpenSSL gives it. */
  readonly opensslName: string
  /** The KMS KeySpec of a key on this curve. */
  readonly kmsKeySpec: string
}

export const ECDH_CURVES: Readonly<Record<EcdhCurve, EcdhCurveFacts>> = {
  'P-256': { coordinateLength: 32, compressedPointLength: 33, kdfName: 'p256', oid: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], opensslName: 'prime256v1', kmsKeySpec: 'ECC_NIST_P256' },
  'P-384': { coordinateLength: 48, compressedPointLength: 49, kdfName: 'p384', oid: [0x2b, 0x81, 0x04, 0x00, 0x22], opensslName: 'secp384r1', kmsKeySpec: 'ECC_NIST_P384' },
  'P-521': { coordinateLength: 66, compressedPointLength: 67, kdfName: 'p521', oid: [0x2b, 0x81, 0x04, 0x00, 0x23], opensslName: 'secp521r1', kmsKeySpec: 'ECC_NIST_P521' },
}

export const ECDH_CURVE_NAMES = Object.keys(ECDH_CURVES) as readonly EcdhCurve[]
