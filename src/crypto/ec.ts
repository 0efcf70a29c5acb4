/**
 * EC keys for ECDH (spec/ecdh.md#keys), the same on every backend: PEM or DER
 * parsing (SPKI public, PKCS#8 private), and SEC1 point checks, compression and
 * decompression on @noble/curves. Public keys are not secret, so pure JS
 * serves every backend here; browsers cannot import compressed points anyway.
 */
import { p256, p384, p521 } from '@noble/curves/nist.js'
import { InvalidKeyError } from '../errors.js'
import { ECDH_CURVES, type EcdhCurve } from '../algorithms.js'
import { decodePem, decodePkcs8EcPrivateKey, decodeSpkiEcPublicKey, DerError, encodeSpkiEcPublicKey } from './der.js'

export const EC_CURVE = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const

/** A checked point on `curve`: on the curve, not the identity, in both SEC1 forms. */
export interface EcPoint {
  readonly curve: EcdhCurve
  readonly compressed: Uint8Array
  readonly uncompressed: Uint8Array
}

/**
 * Decodes and checks a SEC1 point (compressed or uncompressed) on `curve`.
 * Throws InvalidKeyError for a point of another length, off the curve, or the identity.
 */
export function ecPoint(curve: EcdhCurve, bytes: Uint8Array, what = 'public key'): EcPoint {
  const n = ECDH_CURVES[curve].coordinateLength
  if (!(bytes instanceof Uint8Array) || (bytes.length !== n + 1 && bytes.length !== 2 * n + 1)) {
    throw new InvalidKeyError(`the ${what} is not a SEC1 point on ${curve} (${bytes?.length} bytes; expected ${n + 1} compressed or ${2 * n + 1} uncompressed)`)
  }
  let point
  try {
    // fromBytes checks the encoding, that the point is on the curve and that it is not the identity.
    point = EC_CURVE[curve].Point.fromBytes(bytes)
    point.assertValidity()
  } catch (cause) {
    throw new InvalidKeyError(`the ${what} is not a valid point on ${curve}`, { cause })
  }
  return { curve, compressed: point.toBytes(true), uncompressed: point.toBytes(false) }
}

function derOf(key: unknown, label: string, what: string, expected: string): Uint8Array {
  if (typeof key === 'string') {
    let pem
    try {
      pem = decodePem(key)
    } catch (cause) {
      throw new InvalidKeyError(`${what} must be ${expected}: ${(cause as Error).message}`, { cause })
    }
    if (pem.label !== label) throw new InvalidKeyError(`${what} must be ${expected}, not a PEM "${pem.label}"`)
    return pem.der
  }
  if (key instanceof Uint8Array) return key
  throw new TypeError(`${what} must be ${expected}`)
}

const PUBLIC_FORM = 'a PEM "PUBLIC KEY" string or DER SubjectPublicKeyInfo bytes'
const PRIVATE_FORM = 'a PEM "PRIVATE KEY" (PKCS#8) string or DER PKCS#8 bytes'

/** An EC public key (PEM SPKI or DER SPKI) on `curve`, checked. */
export function importEcPublicKey(curve: EcdhCurve, key: unknown, what = 'publicKey'): EcPoint {
  const der = derOf(key, 'PUBLIC KEY', what, PUBLIC_FORM)
  let decoded
  try {
    decoded = decodeSpkiEcPublicKey(der)
  } catch (cause) {
    if (!(cause instanceof DerError)) throw cause
    throw new InvalidKeyError(`${what} must be ${PUBLIC_FORM} of an EC key: ${cause.message}`, { cause })
  }
  if (decoded.curve !== curve) throw new InvalidKeyError(`${what} is a ${decoded.curve} key, not ${curve}`)
  return ecPoint(curve, decoded.point, what)
}

/** The scalar of an EC private key (PEM or DER PKCS#8) on `curve`, checked to be in [1, n-1]. */
export function importEcPrivateScalar(curve: EcdhCurve, key: unknown, what = 'privateKey'): Uint8Array {
  const der = derOf(key, 'PRIVATE KEY', what, PRIVATE_FORM)
  let decoded
  try {
    decoded = decodePkcs8EcPrivateKey(der)
  } catch (cause) {
    if (!(cause instanceof DerError)) throw cause
    throw new InvalidKeyError(`${what} must be ${PRIVATE_FORM} of an EC key: ${cause.message}`, { cause })
  }
  if (decoded.curve !== curve) throw new InvalidKeyError(`${what} is a ${decoded.curve} key, not ${curve}`)
  checkScalar(curve, decoded.scalar, what)
  return decoded.scalar
}

/** Throws InvalidKeyError unless `scalar` is coordinateLength bytes holding 1..n-1. */
export function checkScalar(curve: EcdhCurve, scalar: Uint8Array, what = 'private key'): void {
  if (scalar.length !== ECDH_CURVES[curve].coordinateLength || !EC_CURVE[curve].utils.isValidSecretKey(scalar)) {
    throw new InvalidKeyError(`the ${what} is not a valid ${curve} private scalar`)
  }
}

/** The compressed public point of a checked scalar. */
export function ecPublicOfScalar(curve: EcdhCurve, scalar: Uint8Array): Uint8Array {
  return EC_CURVE[curve].getPublicKey(scalar, true)
}

/** DER SPKI of a checked point (what KMS DeriveSharedSecret takes). */
export function ecSpki(point: EcPoint): Uint8Array {
  return encodeSpkiEcPublicKey(point.curve, point.uncompressed)
}
