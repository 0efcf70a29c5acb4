/**
 * RSA encryption in pure JS on BigInt (spec/backends.md#rsa-in-pure-js):
 * RSAES-OAEP with MGF1 on the same hash (SHA-1/256/384/512, empty label) and
 * RSAES-PKCS1-v1_5, both from RFC 8017 section 7. noble has no RSA; WebCrypto
 * has no PKCS#1 v1.5 encryption. Private operations use CRT and blinding.
 *
 * BigInt arithmetic is not constant-time, so this code narrows timing side
 * channels but cannot close them (the Marvin caveat in spec/backends.md).
 * Unpadding never branches on secret bytes, and a PKCS#1 v1.5 failure returns
 * a random key of the expected length rather than an error.
 */
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import type { RsaPadding, RsaPrivateKey, RsaPublicKey } from './backend.js'
import {
  bigIntToBytes,
  bytesToBigInt,
  fromBase64Url,
  rsaPrivateKeyFromPem,
  rsaPublicKeyFromPem,
  type RsaPrivateComponents,
  type RsaPublicComponents,
} from './der.js'
import { isZero, pkcs1Decode, select, type RandomSource } from './pkcs1.js'
import { Redacted, type PublicFacts } from './redacted.js'

interface HashState {
  update(data: Uint8Array): HashState
  digest(): Uint8Array
}
interface OaepHash {
  (data: Uint8Array): Uint8Array
  readonly outputLen: number
  create(): HashState
}
const OAEP_HASH: Record<Exclude<RsaPadding, 'pkcs1'>, OaepHash> = {
  'oaep-sha1': sha1,
  'oaep-sha256': sha256,
  'oaep-sha384': sha384,
  'oaep-sha512': sha512,
}
/** Hash of the empty label, once per hash. */
const LABEL_HASH = new Map<OaepHash, Uint8Array>()

export type { RandomSource } from './pkcs1.js'

const decoder = new TextDecoder()

/** An imported RSA public key: modulus and exponent. */
export class RsaPublicMaterial implements RsaPublicKey {
  readonly kind = 'rsa-public' as const
  readonly n: bigint
  readonly e: bigint
  /** Modulus length in bytes (k in RFC 8017). */
  readonly size: number

  constructor(components: RsaPublicComponents) {
    this.n = components.n
    this.e = components.e
    this.size = Math.ceil(components.n.toString(16).length / 2)
  }
}

/** An imported RSA private key. The components stay in a private field: nothing prints them. */
export class RsaPrivateMaterial extends Redacted implements RsaPrivateKey {
  readonly kind = 'rsa-private' as const
  readonly size: number
  readonly #components: RsaPrivateComponents

  constructor(components: RsaPrivateComponents) {
    super()
    this.#components = components
    this.size = Math.ceil(components.n.toString(16).length / 2)
  }

  /** For backends in src/crypto only (WebCrypto imports the key as a JWK). */
  static components(key: RsaPrivateMaterial): RsaPrivateComponents {
    return key.#components
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['RsaPrivateKey', { bits: this.size * 8 }]
  }
}

function jwkInteger(jwk: Record<string, unknown>, name: string): bigint {
  const value = jwk[name]
  const bytes = typeof value === 'string' ? fromBase64Url(value) : undefined
  if (!bytes || bytes.length === 0) throw new TypeError(`RSA JWK member "${name}" is missing or not base64url`)
  return bytesToBigInt(bytes)
}

function isJwk(key: unknown): key is Record<string, unknown> {
  return typeof key === 'object' && key !== null && !(key instanceof Uint8Array) && (key as { kty?: unknown }).kty === 'RSA'
}

function pemText(key: unknown, what: string): string {
  if (typeof key === 'string') return key
  if (key instanceof Uint8Array) return decoder.decode(key)
  throw new TypeError(`${what} must be PEM text or an RSA JWK`)
}

function checkPublic(c: RsaPublicComponents): void {
  // 512 bits is far below anything safe; it is the floor below which the paddings cannot work at all.
  if (c.n < 1n << 511n || (c.n & 1n) === 0n || c.e < 3n || (c.e & 1n) === 0n || c.e >= c.n) throw new TypeError('not a usable RSA public key')
}

/** PEM (SPKI or PKCS#1), its UTF-8 bytes, or a public JWK. */
export function importRsaPublicMaterial(key: unknown): RsaPublicMaterial {
  let components: RsaPublicComponents
  if (isJwk(key)) {
    if (key.d !== undefined) throw new TypeError('publicKey must be a public key, not a private key')
    components = { n: jwkInteger(key, 'n'), e: jwkInteger(key, 'e') }
  } else {
    components = rsaPublicKeyFromPem(pemText(key, 'an RSA public key'))
  }
  checkPublic(components)
  return new RsaPublicMaterial(components)
}

/** PEM (PKCS#8 or PKCS#1), its UTF-8 bytes, or a private JWK with CRT members. */
export function importRsaPrivateMaterial(key: unknown): RsaPrivateMaterial {
  let c: RsaPrivateComponents
  if (isJwk(key)) {
    const [n, e, d, p, q, dp, dq, qi] = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => jwkInteger(key, m)) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]
    c = { n, e, d, p, q, dp, dq, qi }
  } else {
    c = rsaPrivateKeyFromPem(pemText(key, 'an RSA private key'))
  }
  checkPublic(c)
  if (c.p * c.q !== c.n || (c.q * c.qi) % c.p !== 1n) throw new TypeError('RSA private key components are inconsistent')
  return new RsaPrivateMaterial(c)
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  // Fixed 4-bit windows over the exponent's hex digits: four squarings and one multiply per digit.
  const table: bigint[] = [1n, base % modulus]
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * table[1]!) % modulus)
  let result = 1n
  for (const digit of exponent.toString(16)) {
    result = (result * result) % modulus
    result = (result * result) % modulus
    result = (result * result) % modulus
    result = (result * result) % modulus
    result = (result * table[parseInt(digit, 16)]!) % modulus
  }
  return result
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [a % m, m]
  let [s0, s1] = [1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }
  if (r0 !== 1n) throw new RangeError('not invertible')
  return ((s0 % m) + m) % m
}

/** RSADP with CRT, blinded by a random r (c' = c r^e, m = m' r^-1) so the exponentiations never see c itself. */
function privateOp(key: RsaPrivateMaterial, c: bigint, random: RandomSource): bigint {
  const { n, e, p, q, dp, dq, qi } = RsaPrivateMaterial.components(key)
  let r = 0n
  while (r < 2n || r >= n) r = bytesToBigInt(random(key.size)) % n
  const blinded = (c * modPow(r, e, n)) % n
  const m1 = modPow(blinded % p, dp, p)
  const m2 = modPow(blinded % q, dq, q)
  const h = (qi * (((m1 - m2) % p) + p)) % p
  const unblinded = ((m2 + h * q) * modInverse(r, n)) % n
  // A faulty CRT result would leak a factor of n: check it with the public exponent first.
  if (modPow(unblinded, e, n) !== c) throw new Error('RSA private operation failed its check')
  return unblinded
}

function mgf1(hash: OaepHash, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  const counter = new Uint8Array(4)
  for (let i = 0, o = 0; o < length; i++, o += hash.outputLen) {
    new DataView(counter.buffer).setUint32(0, i)
    const block = hash.create().update(seed).update(counter).digest()
    out.set(block.subarray(0, Math.min(block.length, length - o)), o)
  }
  return out
}

function labelHash(hash: OaepHash): Uint8Array {
  let h = LABEL_HASH.get(hash)
  if (!h) LABEL_HASH.set(hash, (h = hash(new Uint8Array(0))))
  return h
}

function oaepEncode(hash: OaepHash, message: Uint8Array, k: number, random: RandomSource): Uint8Array {
  const hLen = hash.outputLen
  if (message.length > k - 2 * hLen - 2) throw new RangeError(`a ${k * 8}-bit RSA key cannot OAEP-wrap ${message.length} bytes with this hash`)
  const db = new Uint8Array(k - hLen - 1)
  db.set(labelHash(hash), 0)
  db[db.length - message.length - 1] = 1
  db.set(message, db.length - message.length)
  const seed = random(hLen)
  const dbMask = mgf1(hash, seed, db.length)
  for (let i = 0; i < db.length; i++) db[i]! ^= dbMask[i]!
  const seedMask = mgf1(hash, db, hLen)
  for (let i = 0; i < hLen; i++) seed[i]! ^= seedMask[i]!
  const em = new Uint8Array(k)
  em.set(seed, 1)
  em.set(db, 1 + hLen)
  return em
}

/** RFC 8017 7.1.2 step 3, every check folded into one flag before the single exit. */
function oaepDecode(hash: OaepHash, em: Uint8Array): Uint8Array | undefined {
  const hLen = hash.outputLen
  const k = em.length
  if (k < 2 * hLen + 2) return undefined
  const maskedDb = em.subarray(1 + hLen)
  const seed = mgf1(hash, maskedDb, hLen)
  for (let i = 0; i < hLen; i++) seed[i]! ^= em[1 + i]!
  const db = mgf1(hash, seed, k - hLen - 1)
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!
  const lHash = labelHash(hash)
  let good = isZero(em[0]!)
  let diff = 0
  for (let i = 0; i < hLen; i++) diff |= db[i]! ^ lHash[i]!
  good &= isZero(diff)
  let looking = 1
  let index = 0
  let invalid = 0
  for (let i = hLen; i < db.length; i++) {
    const zero = isZero(db[i]!)
    const one = isZero(db[i]! ^ 1)
    index = select(looking & one, i, index)
    invalid |= looking & (zero ^ 1) & (one ^ 1)
    looking &= one ^ 1
  }
  good &= (looking ^ 1) & (invalid ^ 1)
  const message = good ? db.slice(index + 1) : undefined
  db.fill(0)
  return message
}

function pkcs1Encode(message: Uint8Array, k: number, random: RandomSource): Uint8Array {
  if (message.length > k - 11) throw new RangeError(`a ${k * 8}-bit RSA key cannot PKCS#1-wrap ${message.length} bytes`)
  const em = new Uint8Array(k)
  em[1] = 2
  const padding = em.subarray(2, k - message.length - 1)
  // PS is nonzero random bytes (RFC 8017 7.2.1 step 2b).
  for (let filled = 0; filled < padding.length; ) {
    for (const b of random(padding.length)) if (b !== 0 && filled < padding.length) padding[filled++] = b
  }
  em.set(message, k - message.length)
  return em
}

export function rsaEncrypt(key: RsaPublicMaterial, padding: RsaPadding, plaintext: Uint8Array, random: RandomSource): Uint8Array {
  const em = padding === 'pkcs1' ? pkcs1Encode(plaintext, key.size, random) : oaepEncode(OAEP_HASH[padding], plaintext, key.size, random)
  const c = modPow(bytesToBigInt(em), key.e, key.n)
  em.fill(0)
  return bigIntToBytes(c, key.size)
}

/**
 * Decrypts or throws one fixed error. For PKCS#1 v1.5 with `expectedLength`,
 * never throws on a bad ciphertext: see pkcs1Decode.
 */
export function rsaDecrypt(
  key: RsaPrivateMaterial,
  padding: RsaPadding,
  ciphertext: Uint8Array,
  random: RandomSource,
  expectedLength?: number,
): Uint8Array {
  const k = key.size
  const c = bytesToBigInt(ciphertext)
  // Length and range are public facts about the ciphertext, not about the key: checking them first leaks nothing.
  const inRange = ciphertext.length === k && c < RsaPrivateMaterial.components(key).n
  if (!inRange) {
    if (padding === 'pkcs1' && expectedLength !== undefined) return random(expectedLength)
    throw new Error('RSA decryption failed')
  }
  const em = bigIntToBytes(privateOp(key, c, random), k)
  const message = padding === 'pkcs1' ? pkcs1Decode(em, expectedLength, random) : oaepDecode(OAEP_HASH[padding], em)
  em.fill(0)
  if (!message) throw new Error('RSA decryption failed')
  return message
}
