/**
 * The pure-JS backend (spec/backends.md#noble): every suite, synchronous, on
 * @noble/ciphers (AES-GCM 128/192/256), @noble/hashes (HKDF, SHA-2),
 * @noble/curves (ECDSA) and BigInt RSA (rsa.ts). It needs nothing from the
 * runtime but `crypto.getRandomValues`, so it runs where WebCrypto's `subtle`
 * is missing (insecure contexts, some embedded engines) and serves as the
 * fallback for what WebCrypto lacks.
 */
import { gcm } from '@noble/ciphers/aes.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { UnsupportedError } from '../errors.js'
import type { HashName } from '../algorithms.js'
import type { AesKey, CryptoBackend, HkdfOutput } from './backend.js'
import { createPointVerifier, createScalarSigner, generateScalarSigningKey, HASH, importPointVerificationKey } from './noble-ecdsa.js'
import { importRsaPrivateMaterial, importRsaPublicMaterial, rsaDecrypt, rsaEncrypt, type RsaPrivateMaterial, type RsaPublicMaterial } from './rsa.js'
import { Redacted, type PublicFacts } from './redacted.js'

const TAG_LENGTH = 16
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

/** The raw key in a private field. noble expands it per call: a cipher object is bound to one nonce. */
export class RawAesKey extends Redacted implements AesKey {
  readonly length: 16 | 24 | 32
  readonly #key: Uint8Array

  constructor(raw: Uint8Array) {
    super()
    if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) throw new RangeError(`AES keys are 16, 24 or 32 bytes, not ${raw.length}`)
    this.length = raw.length
    this.#key = Uint8Array.prototype.slice.call(raw)
  }

  #wiped = false

  static bytes(key: RawAesKey): Uint8Array {
    // A wiped key is all zeros: sealing with it must fail, not succeed under a known key.
    if (key.#wiped) throw new TypeError('this AES key was wiped when its message ended')
    return key.#key
  }

  wipe(): void {
    this.#key.fill(0)
    this.#wiped = true
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['AesKey', { length: this.length }]
  }
}

/** ciphertext ‖ tag as one array: a view when the two already sit side by side (they do in a message). */
function joinTag(ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  if (ciphertext.buffer === tag.buffer && ciphertext.byteOffset + ciphertext.length === tag.byteOffset) {
    return new Uint8Array(ciphertext.buffer, ciphertext.byteOffset, ciphertext.length + tag.length)
  }
  const joined = new Uint8Array(ciphertext.length + tag.length)
  joined.set(ciphertext, 0)
  joined.set(tag, ciphertext.length)
  return joined
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
  importAesKey(raw: Uint8Array): AesKey {
    return new RawAesKey(raw)
  },

  gcmSeal(key: AesKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const sealed = gcm(RawAesKey.bytes(key as RawAesKey), iv, aad).encrypt(plaintext)
    out.set(sealed, offset)
  },

  gcmOpen(key: AesKey, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | undefined {
    if (tag.length !== TAG_LENGTH) return undefined
    const raw = RawAesKey.bytes(key as RawAesKey)
    try {
      // noble checks the tag before it decrypts anything.
      return gcm(raw, iv, aad).decrypt(joinTag(ciphertext, tag))
    } catch {
      return undefined
    }
  },

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

  timingSafeEqual,
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

  importRsaPublicKey: importRsaPublicMaterial,
  importRsaPrivateKey: importRsaPrivateMaterial,
  rsaEncrypt(key, padding, plaintext) {
    return rsaEncrypt(key as RsaPublicMaterial, padding, plaintext, randomBytes)
  },
  rsaDecrypt(key, padding, ciphertext, expectedLength) {
    return rsaDecrypt(key as RsaPrivateMaterial, padding, ciphertext, randomBytes, expectedLength)
  },
} satisfies CryptoBackend)
