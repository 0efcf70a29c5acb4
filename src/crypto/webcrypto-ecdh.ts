/**
 * ECDH P-256/384/521 on crypto.subtle (spec/ecdh.md#backends). Points are
 * checked and decompressed by ec.ts first: browsers import only uncompressed
 * points, and a checked point keeps engine errors out of the keyrings.
 */
import { ECDH_CURVES, type EcdhCurve } from '../algorithms.js'
import type { EcdhPrivateKey } from './backend.js'
import { toBase64Url } from './der.js'
import { checkScalar, ecPoint, ecPublicOfScalar } from './ec.js'
import { Redacted, type PublicFacts } from './redacted.js'

class WebEcdhKey extends Redacted implements EcdhPrivateKey {
  readonly curve: EcdhCurve
  readonly publicKey: Uint8Array
  readonly #jwk: JsonWebKey | undefined
  #key: Promise<CryptoKey> | undefined

  constructor(curve: EcdhCurve, publicKey: Uint8Array, source: { jwk: JsonWebKey } | { key: CryptoKey }) {
    super()
    this.curve = curve
    this.publicKey = publicKey
    this.#jwk = 'jwk' in source ? source.jwk : undefined
    this.#key = 'key' in source ? Promise.resolve(source.key) : undefined
  }

  /** Imported on first use: importKey is asynchronous, importEcdhPrivateKey is not. */
  cryptoKey(subtle: SubtleCrypto): Promise<CryptoKey> {
    return (this.#key ??= subtle.importKey('jwk', this.#jwk!, { name: 'ECDH', namedCurve: this.curve }, false, ['deriveBits']))
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['EcdhPrivateKey', { curve: this.curve }]
  }
}

function bufferOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}

export function webEcdhParts(subtle: SubtleCrypto) {
  return {
    importEcdhPrivateKey(curve: EcdhCurve, scalar: Uint8Array): EcdhPrivateKey {
      checkScalar(curve, scalar)
      const publicKey = ecPublicOfScalar(curve, scalar)
      const { uncompressed } = ecPoint(curve, publicKey)
      const n = ECDH_CURVES[curve].coordinateLength
      const jwk: JsonWebKey = {
        kty: 'EC',
        crv: curve,
        d: toBase64Url(scalar),
        x: toBase64Url(uncompressed.subarray(1, 1 + n)),
        y: toBase64Url(uncompressed.subarray(1 + n)),
        ext: false,
      }
      return new WebEcdhKey(curve, publicKey, { jwk })
    },

    async generateEcdhPrivateKey(curve: EcdhCurve): Promise<EcdhPrivateKey> {
      const pair = (await subtle.generateKey({ name: 'ECDH', namedCurve: curve }, false, ['deriveBits'])) as CryptoKeyPair
      const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey))
      return new WebEcdhKey(curve, ecPoint(curve, raw).compressed, { key: pair.privateKey })
    },

    async ecdh(key: EcdhPrivateKey, publicPoint: Uint8Array): Promise<Uint8Array> {
      const k = key as WebEcdhKey
      const point = ecPoint(k.curve, publicPoint)
      const peer = await subtle.importKey('raw', bufferOf(point.uncompressed), { name: 'ECDH', namedCurve: k.curve }, false, [])
      const bits = 8 * ECDH_CURVES[k.curve].coordinateLength
      return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peer }, await k.cryptoKey(subtle), bits))
    },
  }
}
