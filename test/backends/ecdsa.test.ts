/**
 * ECDSA on the pure-JS and WebCrypto backends against node:crypto (OpenSSL):
 * DER <-> P1363 conversion, high-S signatures (valid ECDSA that noble's
 * Bitcoin-style default would refuse), SEC1 point checks, both curves.
 */
import { createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MalformedMessageError, type CryptoBackend } from '../../src/index.js'
import { ecdsaDerToP1363, ecdsaP1363ToDer } from '../../src/crypto/der.js'
import { bytesToHex } from '../support/helpers.js'
import { OTHER_BACKENDS } from '../support/backends.js'

const CURVES = [
  ['P-256', 'sha256', 32, 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n],
  ['P-384', 'sha384', 48, 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n],
] as const

function compressed(publicKey: KeyObject): Uint8Array {
  const { x, y } = publicKey.export({ format: 'jwk' })
  const xb = Buffer.from(x!, 'base64url')
  const yb = Buffer.from(y!, 'base64url')
  return Uint8Array.from([2 | (yb[yb.length - 1]! & 1), ...xb])
}

const toBig = (b: Uint8Array) => BigInt('0x' + bytesToHex(b))
const fromBig = (v: bigint, size: number) => Uint8Array.from(Buffer.from(v.toString(16).padStart(2 * size, '0'), 'hex'))

describe('DER <-> P1363', () => {
  it('round-trips OpenSSL signatures and matches their halves', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    for (let i = 0; i < 20; i++) {
      const der = new Uint8Array(createSign('sha384').update(`m${i}`).sign(privateKey))
      const raw = ecdsaDerToP1363(der, 48)!
      expect(raw.length).toBe(96)
      expect(bytesToHex(ecdsaP1363ToDer(raw))).toBe(bytesToHex(der))
      // OpenSSL's own P1363 signature, converted by us, verifies as DER in OpenSSL.
      const p1363 = new Uint8Array(createSign('sha384').update(`m${i}`).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' }))
      expect(createVerify('sha384').update(`m${i}`).verify(publicKey, ecdsaP1363ToDer(p1363))).toBe(true)
    }
  })

  it('refuses non-minimal, negative, oversized and trailing encodings', () => {
    const ok = Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02])
    expect(ecdsaDerToP1363(ok, 32)).toBeDefined()
    const cases = {
      'leading zero without need': [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02],
      negative: [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02],
      'trailing byte': [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00],
      'three integers': [0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03],
      'empty integer': [0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02],
      'wrong outer tag': [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],
      truncated: [0x30, 0x06, 0x02, 0x01, 0x01, 0x02],
    }
    for (const [name, bytes] of Object.entries(cases)) expect(ecdsaDerToP1363(Uint8Array.from(bytes), 32), name).toBeUndefined()
    expect(ecdsaDerToP1363(ecdsaP1363ToDer(new Uint8Array(66).fill(0x7f)), 32)).toBeUndefined()
  })
})

describe.each(OTHER_BACKENDS)('%s backend ECDSA', (_name, backend: CryptoBackend) => {
  it.each(CURVES)('%s: OpenSSL signatures verify, low-S and high-S alike; a changed message does not', async (curve, hash, size, order) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
    const key = backend.importVerificationKey(curve, compressed(publicKey))
    const data = new TextEncoder().encode('signed message')
    const der = new Uint8Array(createSign(hash).update(data).sign(privateKey))
    const raw = ecdsaDerToP1363(der, size)!
    const s = toBig(raw.subarray(size))
    const flipped = new Uint8Array(raw)
    flipped.set(fromBig(order - s, size), size)
    const other = ecdsaP1363ToDer(flipped)
    // OpenSSL accepts both (n - s is as valid as s): so must we.
    expect(createVerify(hash).update(data).verify(publicKey, Buffer.from(other))).toBe(true)
    for (const signature of [der, other]) {
      const verifier = backend.createVerifier(key, hash)
      verifier.update(data.subarray(0, 5))
      verifier.update(data.subarray(5))
      expect(await verifier.verify(signature)).toBe(true)
    }
    const wrong = backend.createVerifier(key, hash)
    wrong.update(new TextEncoder().encode('signed messagE'))
    expect(await wrong.verify(der)).toBe(false)
    const garbage = backend.createVerifier(key, hash)
    garbage.update(data)
    expect(await garbage.verify(new Uint8Array([0x30, 0x00]))).toBe(false)
  })

  it.each(CURVES)('%s: our signatures and compressed public keys are what OpenSSL expects', async (curve, hash) => {
    const signingKey = await backend.generateSigningKey(curve)
    expect(signingKey.publicKey.length).toBe(curve === 'P-256' ? 33 : 49)
    const signer = backend.createSigner(signingKey, hash)
    signer.update(new TextEncoder().encode('abc'))
    const signature = await signer.sign()
    const { createPublicKey, ECDH } = await import('node:crypto')
    const point = ECDH.convertKey(signingKey.publicKey, curve === 'P-256' ? 'prime256v1' : 'secp384r1', undefined, undefined, 'uncompressed') as Buffer
    const n = (point.length - 1) / 2
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: curve, x: point.subarray(1, 1 + n).toString('base64url'), y: point.subarray(1 + n).toString('base64url') }, format: 'jwk' })
    expect(createVerify(hash).update('abc').verify(publicKey, Buffer.from(signature))).toBe(true)
  })

  it.each(CURVES)('%s: a point off the curve or of the wrong shape is a malformed message', (curve, _hash, size) => {
    const offCurve = new Uint8Array(size + 1).fill(0xff)
    offCurve[0] = 2
    expect(() => backend.importVerificationKey(curve, offCurve)).toThrow(MalformedMessageError)
    const uncompressedPrefix = new Uint8Array(size + 1)
    uncompressedPrefix[0] = 4
    expect(() => backend.importVerificationKey(curve, uncompressedPrefix)).toThrow(MalformedMessageError)
    expect(() => backend.importVerificationKey(curve, new Uint8Array(size))).toThrow(MalformedMessageError)
  })
})
