/**
 * ECDSA P-256/P-384 on @noble/curves for signed suites
 * (spec/algorithm-suites.md#signatures): keys, SEC1 point compression and DER
 * signatures over a hash computed incrementally with @noble/hashes. Used by
 * the pure-JS backend, and by the WebCrypto one for messages too large to
 * gather for crypto.subtle (which cannot sign a precomputed hash).
 */
import { p256, p384 } from '@noble/curves/nist.js'
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import { MalformedMessageError } from '../errors.js'
import { CURVES, type CurveName, type HashName } from '../algorithms.js'
import type { SigningKey, Signer, VerificationKey, Verifier } from './backend.js'
import { Redacted, type PublicFacts } from './redacted.js'

const CURVE = { 'P-256': p256, 'P-384': p384 } as const
export const HASH = { sha256, sha384, sha512 } as const

/** A signing key whose secret scalar lives in a private field. */
export class ScalarSigningKey extends Redacted implements SigningKey {
  readonly curve: CurveName
  readonly publicKey: Uint8Array
  readonly #secret: Uint8Array

  constructor(curve: CurveName, secret: Uint8Array, compressedPublicKey: Uint8Array) {
    super()
    this.curve = curve
    this.#secret = secret
    this.publicKey = compressedPublicKey
  }

  static secret(key: ScalarSigningKey): Uint8Array {
    return key.#secret
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['SigningKey', { curve: this.curve }]
  }
}

/** A verification key: the point, uncompressed (0x04 ‖ x ‖ y), already checked to be on the curve. */
export class PointVerificationKey implements VerificationKey {
  readonly curve: CurveName
  readonly point: Uint8Array

  constructor(curve: CurveName, point: Uint8Array) {
    this.curve = curve
    this.point = point
  }
}

export function generateScalarSigningKey(curve: CurveName): ScalarSigningKey {
  const secret = CURVE[curve].utils.randomSecretKey()
  return new ScalarSigningKey(curve, secret, CURVE[curve].getPublicKey(secret, true))
}

/** SEC1 compressed point -> a checked verification key; a bad point is a malformed message. */
export function importPointVerificationKey(curve: CurveName, compressedPoint: Uint8Array): PointVerificationKey {
  const n = CURVES[curve].coordinateLength
  if (compressedPoint.length !== n + 1 || (compressedPoint[0] !== 2 && compressedPoint[0] !== 3)) {
    throw new MalformedMessageError(`the signing public key is not a compressed ${curve} point`)
  }
  try {
    return new PointVerificationKey(curve, CURVE[curve].Point.fromBytes(compressedPoint).toBytes(false))
  } catch (cause) {
    throw new MalformedMessageError(`the signing public key in the encryption context is not a valid ${curve} point`, { cause })
  }
}

/** DER signature over a precomputed digest (RFC 6979 nonces, hedged with fresh randomness). */
export function signDigest(curve: CurveName, secret: Uint8Array, digest: Uint8Array): Uint8Array {
  return CURVE[curve].sign(digest, secret, { prehash: false, format: 'der', extraEntropy: true })
}

/** High-S signatures are valid ECDSA (OpenSSL writes them): only noble's Bitcoin-style check is turned off. */
export function verifyDigest(curve: CurveName, point: Uint8Array, digest: Uint8Array, derSignature: Uint8Array): boolean {
  try {
    return CURVE[curve].verify(derSignature, digest, point, { prehash: false, format: 'der', lowS: false })
  } catch {
    return false
  }
}

export function createScalarSigner(key: SigningKey, hash: HashName): Signer {
  const state = HASH[hash].create()
  const signing = key as ScalarSigningKey
  return {
    update: (data) => void state.update(data),
    sign: () => signDigest(signing.curve, ScalarSigningKey.secret(signing), state.digest()),
  }
}

export function createPointVerifier(key: VerificationKey, hash: HashName): Verifier {
  const state = HASH[hash].create()
  const verifying = key as PointVerificationKey
  return {
    update: (data) => void state.update(data),
    verify: (signature) => verifyDigest(verifying.curve, verifying.point, state.digest(), signature),
  }
}
