/**
 * ECDH P-256/384/521 on @noble/curves (spec/ecdh.md#backends): the pure-JS
 * backend's, and what the WebCrypto backend generates keys with.
 */
import type { EcdhCurve } from '../algorithms.js'
import type { EcdhPrivateKey } from './backend.js'
import { checkScalar, EC_CURVE, ecPoint, ecPublicOfScalar } from './ec.js'
import { Redacted, type PublicFacts } from './redacted.js'

/** The scalar in a private field: nothing prints or serializes it. */
export class ScalarEcdhKey extends Redacted implements EcdhPrivateKey {
  readonly curve: EcdhCurve
  readonly publicKey: Uint8Array
  readonly #scalar: Uint8Array

  constructor(curve: EcdhCurve, scalar: Uint8Array) {
    super()
    checkScalar(curve, scalar)
    this.curve = curve
    this.#scalar = Uint8Array.prototype.slice.call(scalar)
    this.publicKey = ecPublicOfScalar(curve, this.#scalar)
  }

  static scalar(key: ScalarEcdhKey): Uint8Array {
    return key.#scalar
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['EcdhPrivateKey', { curve: this.curve }]
  }
}

export function importScalarEcdhKey(curve: EcdhCurve, scalar: Uint8Array): ScalarEcdhKey {
  return new ScalarEcdhKey(curve, scalar)
}

export function generateScalarEcdhKey(curve: EcdhCurve): ScalarEcdhKey {
  return new ScalarEcdhKey(curve, EC_CURVE[curve].utils.randomSecretKey())
}

export function scalarEcdh(key: EcdhPrivateKey, publicPoint: Uint8Array): Uint8Array {
  const k = key as ScalarEcdhKey
  const point = ecPoint(k.curve, publicPoint)
  // getSharedSecret returns the compressed shared point; Z is its x coordinate.
  return EC_CURVE[k.curve].getSharedSecret(ScalarEcdhKey.scalar(k), point.compressed, true).slice(1)
}
