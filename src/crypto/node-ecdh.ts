/**
 * ECDH P-256/384/521 on node:crypto (spec/ecdh.md#backends). OpenSSL takes
 * compressed and uncompressed points and checks that they are on the curve;
 * its failures become InvalidKeyError.
 */
import { createECDH, type ECDH } from 'node:crypto'
import { InvalidKeyError } from '../errors.js'
import { ECDH_CURVES, type EcdhCurve } from '../algorithms.js'
import type { EcdhPrivateKey } from './backend.js'
import { checkScalar } from './ec.js'
import { Redacted, type PublicFacts } from './redacted.js'

class NodeEcdhKey extends Redacted implements EcdhPrivateKey {
  readonly curve: EcdhCurve
  readonly publicKey: Uint8Array
  readonly #ecdh: ECDH

  constructor(curve: EcdhCurve, ecdh: ECDH) {
    super()
    this.curve = curve
    this.#ecdh = ecdh
    this.publicKey = new Uint8Array(ecdh.getPublicKey(null, 'compressed'))
  }

  static ecdh(key: NodeEcdhKey): ECDH {
    return key.#ecdh
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['EcdhPrivateKey', { curve: this.curve }]
  }
}

export function importNodeEcdhKey(curve: EcdhCurve, scalar: Uint8Array): EcdhPrivateKey {
  checkScalar(curve, scalar)
  const ecdh = createECDH(ECDH_CURVES[curve].opensslName)
  ecdh.setPrivateKey(scalar)
  return new NodeEcdhKey(curve, ecdh)
}

export function generateNodeEcdhKey(curve: EcdhCurve): EcdhPrivateKey {
  const ecdh = createECDH(ECDH_CURVES[curve].opensslName)
  ecdh.generateKeys()
  return new NodeEcdhKey(curve, ecdh)
}

export function nodeEcdh(key: EcdhPrivateKey, publicPoint: Uint8Array): Uint8Array {
  const k = key as NodeEcdhKey
  const n = ECDH_CURVES[k.curve].coordinateLength
  // 0x00 (the identity) and hybrid forms are refused by length and prefix; OpenSSL checks the rest.
  const prefix = publicPoint[0]
  const ok = (publicPoint.length === n + 1 && (prefix === 2 || prefix === 3)) || (publicPoint.length === 2 * n + 1 && prefix === 4)
  if (!ok) throw new InvalidKeyError(`the public key is not a SEC1 point on ${k.curve} (${publicPoint.length} bytes)`)
  try {
    return new Uint8Array(NodeEcdhKey.ecdh(k).computeSecret(publicPoint))
  } catch (cause) {
    throw new InvalidKeyError(`the public key is not a valid point on ${k.curve}`, { cause })
  }
}
