/**
 * The crypto backend boundary (spec/backends.md). Only src/crypto/ imports a
 * crypto implementation; the format, materials and core layers see this interface.
 *
 * Symmetric operations (AES-GCM, HKDF, hashing) are synchronous so the frame
 * loop runs with no microtask per frame. Asymmetric operations may return a
 * promise, so a backend can move them off the main thread.
 */
import type { CurveName, EcdhCurve, HashName } from '../algorithms.js'

export type MaybePromise<T> = T | Promise<T>

/**
 * Frames another thread sealed or opened, and the milliseconds it worked on
 * them: the caller splits the next message by how fast each thread was
 * (spec/backends.md#parallel-frames).
 */
export interface FramesDone {
  readonly bytes: Uint8Array
  readonly ms: number
}

/** An AES key imported once (per message or per keyring) and reused for every seal/open. */
export interface AesKey {
  readonly length: 16 | 24 | 32
  /**
   * Optional: the message is done with this key. Wipes the key bytes the
   * backend holds and drops its references to runtime key objects; seal and
   * open with it throw from then on (spec/backends.md#message-keys).
   */
  wipe?(): void
}

export type RsaPadding = 'pkcs1' | 'oaep-sha1' | 'oaep-sha256' | 'oaep-sha384' | 'oaep-sha512'

/** Opaque handles for imported asymmetric keys. */
export interface RsaPublicKey {
  readonly kind: 'rsa-public'
}
export interface RsaPrivateKey {
  readonly kind: 'rsa-private'
}
export interface SigningKey {
  readonly curve: CurveName
  /** SEC1 compressed public point. */
  readonly publicKey: Uint8Array
}
export interface VerificationKey {
  readonly curve: CurveName
}

/**
 * An ECDH private key imported or generated in a backend (spec/ecdh.md). The
 * scalar never leaves the backend's handle; `publicKey` is the SEC1 compressed point.
 */
export interface EcdhPrivateKey {
  readonly curve: EcdhCurve
  readonly publicKey: Uint8Array
}

export interface Signer {
  /**
   * Returns a promise only when the bytes could not all be queued within the
   * backend's bound (spec/backends.md#signature-backpressure): `data` is then
   * read until it settles, so the caller awaits it before changing those bytes
   * or calling again. Undefined otherwise: no await on the common path.
   */
  update(data: Uint8Array): void | Promise<void>
  /** DER-encoded ECDSA-Sig-Value over everything passed to update. */
  sign(): MaybePromise<Uint8Array>
}

export interface Verifier {
  /** As Signer.update: a promise only while the backend has no room; await it. */
  update(data: Uint8Array): void | Promise<void>
  verify(derSignature: Uint8Array): MaybePromise<boolean>
}

/** One HKDF expand: `length` bytes for `info`. */
export interface HkdfOutput {
  readonly info: Uint8Array
  readonly length: number
}

export interface CryptoBackend {
  readonly name: string
  /** `length` bytes from a cryptographically secure source. */
  randomBytes(length: number): Uint8Array
  /**
   * Optional: random bytes for key material, drawn for this call alone, never
   * from a pool that also holds later output (spec/backends.md#random). Absent:
   * randomBytes serves keys too, so it must not pool.
   */
  randomKeyBytes?(length: number): Uint8Array

  /** An AES key handle for gcmSeal/gcmOpen from 16, 24 or 32 raw bytes. */
  importAesKey(raw: Uint8Array): AesKey
  /** AES-GCM encrypt; writes ciphertext ‖ tag (plaintext.length + 16 bytes) into out at offset. */
  gcmSeal(key: AesKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void
  /**
   * AES-GCM decrypt. Returns the plaintext, or undefined when the tag does not
   * verify. Nothing is returned before the tag is checked.
   */
  gcmOpen(key: AesKey, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | undefined

  /**
   * Optional: seals `plaintext` (a whole number of frames) as regular frames
   * firstSequence, firstSequence + 1, ... on another thread, and resolves with
   * them as laid out in the message and the time that thread took; each
   * frame's AAD is aadPrefix ‖ uint32 seq ‖ uint64 frameLength
   * (spec/backends.md#parallel-frames). Reads `plaintext` before it returns.
   * Returns undefined when no thread is free; then the caller seals the
   * frames itself.
   */
  sealFramesInParallel?(key: AesKey, aadPrefix: Uint8Array, firstSequence: number, frameLength: number, plaintext: Uint8Array): Promise<FramesDone> | undefined
  /**
   * Optional, the reverse: opens `frames` (regular frames as laid out in the
   * message, each carrying its sequence number, checked by the caller, and its
   * IV) on another thread. Resolves with their plaintext, or with the sequence
   * number of the first frame whose tag does not verify (then no plaintext is
   * given out). Reads `frames` before it returns; undefined when no thread is free.
   */
  openFramesInParallel?(key: AesKey, aadPrefix: Uint8Array, firstSequence: number, frameLength: number, frames: Uint8Array): Promise<FramesDone | number> | undefined

  /**
   * RFC 5869: one extract, then one expand per output (a committing suite
   * derives two keys from one pseudorandom key). An empty salt means HashLen
   * zero bytes.
   */
  hkdf(hash: HashName, ikm: Uint8Array, salt: Uint8Array, outputs: readonly HkdfOutput[]): Uint8Array[]
  /** Constant-time equality of two equal-length byte strings. */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
  /** The hash of `data`. */
  digest(hash: HashName, data: Uint8Array): Uint8Array
  /** HMAC (RFC 2104) of `data` under `key`; the ECDH keyrings' SP 800-108 KDF runs on it. */
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array

  /** A fresh ECDSA key pair on `curve`, for a signed message. */
  generateSigningKey(curve: CurveName): MaybePromise<SigningKey>
  /** The ECDSA public key of a message, from its compressed point. */
  importVerificationKey(curve: CurveName, compressedPoint: Uint8Array): VerificationKey
  /** An incremental signer over the message bytes. */
  createSigner(key: SigningKey, hash: HashName): Signer
  /** An incremental verifier over the message bytes. */
  createVerifier(key: VerificationKey, hash: HashName): Verifier

  /** PEM (SPKI or PKCS#1) text or a runtime key object. */
  importRsaPublicKey(key: unknown): RsaPublicKey
  /** PEM (PKCS#8 or PKCS#1) text or a runtime key object. */
  importRsaPrivateKey(key: unknown): RsaPrivateKey
  /** Wraps `plaintext` (a data key) under an RSA public key. */
  rsaEncrypt(key: RsaPublicKey, padding: RsaPadding, plaintext: Uint8Array): MaybePromise<Uint8Array>
  /**
   * `expectedLength` is the data key length the caller will accept. A backend
   * that cannot unpad PKCS#1 v1.5 without an oracle returns random bytes of
   * that length on a bad block instead of failing (spec/backends.md#pkcs1-v15-without-a-padding-oracle).
   */
  rsaDecrypt(key: RsaPrivateKey, padding: RsaPadding, ciphertext: Uint8Array, expectedLength?: number): MaybePromise<Uint8Array>

  /**
   * An ECDH private key from its scalar (coordinate-length big-endian bytes,
   * 1..n-1). Throws InvalidKeyError for a scalar out of range.
   */
  importEcdhPrivateKey(curve: EcdhCurve, scalar: Uint8Array): EcdhPrivateKey
  /** A fresh ECDH key pair (the ephemeral sender key of the raw ECDH keyring). */
  generateEcdhPrivateKey(curve: EcdhCurve): MaybePromise<EcdhPrivateKey>
  /**
   * ECDH: the x coordinate of key × point (coordinate-length bytes, 66 on
   * P-521). `publicPoint` is SEC1, compressed or uncompressed; a point of
   * another length, off the curve or the identity throws InvalidKeyError.
   */
  ecdh(key: EcdhPrivateKey, publicPoint: Uint8Array): MaybePromise<Uint8Array>

  /**
   * Optional: AES-CBC decryption with PKCS#7 unpadding, for the one place CBC
   * appears, the content of KMS's CiphertextForRecipient (spec/nitro.md#recipient).
   * Throws a fixed error on bad padding. Absent: that path is unsupported.
   */
  aesCbcDecrypt?(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array

  /**
   * What this backend lacks (spec/backends.md#capabilities); absent means
   * nothing. crypto/fallback.ts routes each missing capability elsewhere.
   */
  readonly lacks?: readonly Capability[]
}

/**
 * Capabilities a backend may lack:
 * - `sync-symmetric`: synchronous AES-GCM, HKDF, digests (WebCrypto has only promises)
 * - `aes-192`: 24-byte AES keys (absent from Chromium's WebCrypto)
 * - `gcm-empty`: AES-GCM over zero bytes of plaintext (some WebCrypto implementations fail it)
 * - `rsa-pkcs1`: RSAES-PKCS1-v1_5 (absent from WebCrypto)
 * - `rsa-oaep`, `ecdsa`, `ecdh`: the asymmetric families as a whole
 */
export type Capability = 'sync-symmetric' | 'aes-192' | 'gcm-empty' | 'rsa-pkcs1' | 'rsa-oaep' | 'ecdsa' | 'ecdh'

/**
 * Part of a backend, with what it lacks declared: the input of withFallback
 * (crypto/fallback.ts), which fills in the rest from a complete backend.
 */
export type BackendParts = Partial<Omit<CryptoBackend, 'name' | 'lacks'>> & {
  readonly name: string
  readonly lacks: readonly Capability[]
}
