/**
 * The pure-JS backend (spec/backends.md#noble): every suite, synchronous, on
 * @noble/ciphers (AES-GCM 128/192/256), @noble/hashes (HKDF, SHA-2),
 * @noble/curves (ECDSA, ECDH) and BigInt RSA (rsa.ts). It needs nothing from the
 * runtime but `crypto.getRandomValues`, so it runs where WebCrypto's `subtle`
 * is missing (insecure contexts, some embedded engines) and serves as the
 * fallback for what WebCrypto lacks.
 */
import { cbc, gcm } from '@noble/ciphers/aes.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { UnsupportedError } from '../errors.js'
import type { HashName } from '../algorithms.js'
import type { CryptoBackend, HkdfOutput } from './backend.js'
import { nobleAesOn } from './noble-aes.js'
import { createPointVerifier, createScalarSigner, generateScalarSigningKey, HASH, importPointVerificationKey } from './noble-ecdsa.js'
import { generateScalarEcdhKey, importScalarEcdhKey, scalarEcdh } from './noble-ecdh.js'
import { importRsaPrivateMaterial, importRsaPublicMaterial, rsaDecrypt, rsaEncrypt, type RsaPrivateMaterial, type RsaPublicMaterial } from './rsa.js'

/** getRandomValues fills at most 65536 bytes per call. */
const RANDOM_CHUNK = 65536

/** The runtime's CSPRNG; the one thing this backend takes from its environment. */
export function randomBytes(length: number): Uint8Array {
  const source = globalThis.crypto
  if (typeof source?.getRandomValues !== 'function') throw new UnsupportedError('this runtime has no crypto.getRandomValues, so no backend can make keys or IVs here')
  const out = new Uint8Array(length)
  for (let o = 0; o < length; o += RANDOM_CHUNK) source.getRandomValues(out.subarray(o, Math.min(length, o + RANDOM_CHUNK)))
  return out
}

/** Constant-time equality: the loop runs over every byte whatever differs. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** The synchronous symmetric half, shared with the WebCrypto backend (spec/backends.md#why-symmetric-stays-synchronous). */
export const nobleSymmetric = {
  ...nobleAesOn(gcm),

  hkdf(hash: HashName, ikm: Uint8Array, salt: Uint8Array, outputs: readonly HkdfOutput[]): Uint8Array[] {
    // The same bound and error as the node backend (RFC 5869: at most 255 HashLen bytes per expand).
    const most = 255 * HASH[hash].outputLen
    for (const { length } of outputs) if (!Number.isInteger(length) || length < 0 || length > most) throw new RangeError(`HKDF output must be 0 to ${most} bytes`)
    // An empty salt keys HMAC with zero bytes, which is what RFC 5869 asks for (HashLen zeros pad the same way).
    const prk = extract(HASH[hash], ikm, salt)
    const keys = outputs.map(({ info, length }) => expand(HASH[hash], prk, info, length))
    prk.fill(0)
    return keys
  },

  digest(hash: HashName, data: Uint8Array): Uint8Array {
    return HASH[hash](data)
  },

  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(HASH[hash], key, data)
  },

  timingSafeEqual,

  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    try {
      // noble's cbc checks and strips PKCS#7 padding by default.
      return cbc(key, iv).decrypt(ciphertext)
    } catch {
      throw new Error('AES-CBC decryption failed')
    }
  },
}

/**
 * The pure-JS backend (@noble/*): every suite on every runtime, synchronous; the fallback for what
 * WebCrypto lacks.
 * @example
 * ```ts
 * const client = createClient({ backend: nobleBackend })
 * ```
 */
export const nobleBackend: CryptoBackend = Object.freeze({
  name: 'noble',
  randomBytes,
  ...nobleSymmetric,

  generateSigningKey: generateScalarSigningKey,
  importVerificationKey: importPointVerificationKey,
  createSigner: createScalarSigner,
  createVerifier: createPointVerifier,

  importEcdhPrivateKey: importScalarEcdhKey,
  generateEcdhPrivateKey: generateScalarEcdhKey,
  ecdh: scalarEcdh,

  importRsaPublicKey: importRsaPublicMaterial,
  importRsaPrivateKey: importRsaPrivateMaterial,
  rsaEncrypt(key, padding, plaintext) {
    return rsaEncrypt(key as RsaPublicMaterial, padding, plaintext, randomBytes)
  },
  rsaDecrypt(key, padding, ciphertext, expectedLength) {
    return rsaDecrypt(key as RsaPrivateMaterial, padding, ciphertext, randomBytes, expectedLength)
  },
} satisfies CryptoBackend)
