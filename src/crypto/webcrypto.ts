/**
 * The WebCrypto backend (spec/backends.md#webcrypto): `crypto.subtle` for what
 * it does well and asynchronously (ECDSA P-256/P-384, ECDH P-256/384/521,
 * RSA-OAEP with SHA-1/256/384/512, key generation) and `crypto.getRandomValues`. It declares what it
 * lacks, and withFallback (fallback.ts) fills that in from the pure-JS backend
 * once, when the backend is made:
 * - synchronous AES-GCM, HKDF and digests, which the frame loop needs
 *   (spec/backends.md#why-symmetric-stays-synchronous); this covers AES-192
 *   and zero-length GCM too;
 * - RSAES-PKCS1-v1_5, which WebCrypto never had.
 */
import { UnsupportedError } from '../errors.js'
import { CURVES, HASHES, type CurveName, type HashName } from '../algorithms.js'
import type { BackendParts, CryptoBackend, RsaPadding, RsaPrivateKey, RsaPublicKey, SigningKey, Signer, VerificationKey, Verifier } from './backend.js'
import { bigIntToBytes, ecdsaDerToP1363, ecdsaP1363ToDer, fromBase64Url, toBase64Url } from './der.js'
import { withFallback } from './fallback.js'
import { webEcdhParts } from './webcrypto-ecdh.js'
import { HASH, importPointVerificationKey, PointVerificationKey, signDigest, verifyDigest } from './noble-ecdsa.js'
import { nobleBackend, randomBytes } from './noble.js'
import { importRsaPrivateMaterial, importRsaPublicMaterial, RsaPrivateMaterial } from './rsa.js'
import { Redacted, type PublicFacts } from './redacted.js'

const SUBTLE_HASH = (hash: HashName | 'sha1'): string => (hash === 'sha1' ? 'SHA-1' : HASHES[hash].webCryptoName)
/**
 * Signature input up to this size is gathered and signed or verified by
 * crypto.subtle in one call (it cannot take a precomputed hash). Past it, the
 * input is hashed as it passes and the signature is made or checked in pure
 * JS, so a streamed message never has to sit in memory whole.
 */
export const GATHER_LIMIT = 4 * 1024 * 1024

function asBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  // crypto.subtle's types want an ArrayBuffer-backed view; a SharedArrayBuffer one is copied.
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}

class WebSigningKey extends Redacted implements SigningKey {
  readonly curve: CurveName
  readonly publicKey: Uint8Array
  readonly #privateKey: CryptoKey
  /** The scalar, for signatures over inputs past GATHER_LIMIT. */
  readonly #secret: Uint8Array

  constructor(curve: CurveName, publicKey: Uint8Array, privateKey: CryptoKey, secret: Uint8Array) {
    super()
    this.curve = curve
    this.publicKey = publicKey
    this.#privateKey = privateKey
    this.#secret = secret
  }

  static privateKey(key: WebSigningKey): CryptoKey {
    return key.#privateKey
  }

  static secret(key: WebSigningKey): Uint8Array {
    return key.#secret
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['SigningKey', { curve: this.curve }]
  }
}

/** A checked point, imported into crypto.subtle on first use. */
class WebVerificationKey extends PointVerificationKey {
  #imported: Promise<CryptoKey> | undefined

  cryptoKey(subtle: SubtleCrypto): Promise<CryptoKey> {
    return (this.#imported ??= subtle.importKey('raw', asBuffer(this.point), { name: 'ECDSA', namedCurve: this.curve }, false, ['verify']))
  }
}

/** A message's signature input: gathered while small, hashed incrementally once large. */
class SignatureInput {
  readonly #hash: HashName
  #gathered = new Uint8Array(0)
  #length = 0
  #state: ReturnType<(typeof HASH)[HashName]['create']> | undefined

  constructor(hash: HashName) {
    this.#hash = hash
  }

  update(data: Uint8Array): void {
    if (this.#state) return void this.#state.update(data)
    const length = this.#length + data.length
    if (length > GATHER_LIMIT) {
      this.#state = HASH[this.#hash].create().update(this.#gathered.subarray(0, this.#length)).update(data)
      this.#gathered = new Uint8Array(0)
      return
    }
    if (length > this.#gathered.length) {
      const grown = new Uint8Array(Math.min(GATHER_LIMIT, Math.max(length, 2 * this.#gathered.length, 4096)))
      grown.set(this.#gathered.subarray(0, this.#length))
      this.#gathered = grown
    }
    this.#gathered.set(data, this.#length)
    this.#length = length
  }

  /** The digest once hashing moved to JS, else the gathered bytes. */
  result(): { digest: Uint8Array } | { data: Uint8Array<ArrayBuffer> } {
    if (this.#state) return { digest: this.#state.digest() }
    return { data: this.#gathered.subarray(0, this.#length) as Uint8Array<ArrayBuffer> }
  }
}

type OaepHashName = 'sha1' | HashName

/** An RSA key for crypto.subtle: imported once per OAEP hash (WebCrypto binds the hash to the key). */
class WebRsaKey<K extends 'rsa-public' | 'rsa-private' = 'rsa-public' | 'rsa-private'> extends Redacted {
  readonly kind: K
  readonly #jwk: JsonWebKey | undefined
  readonly #given: CryptoKey | undefined
  readonly #imported = new Map<OaepHashName, Promise<CryptoKey>>()

  constructor(kind: K, source: { jwk: JsonWebKey } | { cryptoKey: CryptoKey }) {
    super()
    this.kind = kind
    this.#jwk = 'jwk' in source ? source.jwk : undefined
    this.#given = 'cryptoKey' in source ? source.cryptoKey : undefined
  }

  cryptoKey(subtle: SubtleCrypto, hash: OaepHashName): Promise<CryptoKey> {
    if (this.#given) {
      const bound = (this.#given.algorithm as RsaHashedKeyAlgorithm).hash.name
      if (bound !== SUBTLE_HASH(hash)) return Promise.reject(new UnsupportedError(`this CryptoKey is bound to RSA-OAEP with ${bound}, not ${SUBTLE_HASH(hash)}`))
      return Promise.resolve(this.#given)
    }
    let key = this.#imported.get(hash)
    if (!key) {
      const usage: KeyUsage = this.kind === 'rsa-public' ? 'encrypt' : 'decrypt'
      key = subtle.importKey('jwk', this.#jwk!, { name: 'RSA-OAEP', hash: SUBTLE_HASH(hash) }, false, [usage])
      this.#imported.set(hash, key)
    }
    return key
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return [this.kind === 'rsa-public' ? 'RsaPublicKey' : 'RsaPrivateKey', {}]
  }
}

const b64u = (value: bigint) => toBase64Url(bigIntToBytes(value))

function givenCryptoKey(key: unknown, type: KeyType): CryptoKey | undefined {
  if (typeof CryptoKey === 'undefined' || !(key instanceof CryptoKey)) return undefined
  if (key.type !== type || key.algorithm.name !== 'RSA-OAEP') throw new TypeError(`expected an RSA-OAEP ${type} CryptoKey, got ${key.algorithm.name} ${key.type}`)
  return key
}

function oaepHash(padding: RsaPadding): OaepHashName {
  if (padding === 'pkcs1') throw new UnsupportedError('WebCrypto has no RSAES-PKCS1-v1_5; use the WebCrypto backend made by createWebCryptoBackend(), which routes it to pure JS')
  return padding.slice('oaep-'.length) as OaepHashName
}

/**
 * The operations crypto.subtle does, with what it lacks declared for withFallback.
 * @example
 * ```ts
 * const backend = withFallback(webCryptoParts(), nobleBackend)
 * ```
 * @throws {TypeError} no crypto.subtle in this runtime and none given.
 */
export function webCryptoParts(subtle: SubtleCrypto = globalThis.crypto?.subtle): BackendParts {
  if (!subtle || typeof subtle.importKey !== 'function') {
    throw new UnsupportedError('crypto.subtle is not available here (WebCrypto needs a secure context); use nobleBackend')
  }
  return {
    name: 'webcrypto',
    lacks: ['sync-symmetric', 'aes-192', 'rsa-pkcs1'],
    randomBytes,

    async generateSigningKey(curve: CurveName): Promise<SigningKey> {
      // Extractable so the scalar can sign inputs too large to gather (SignatureInput).
      const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'])) as CryptoKeyPair
      const jwk = await subtle.exportKey('jwk', pair.privateKey)
      const x = fromBase64Url(jwk.x ?? '')
      const y = fromBase64Url(jwk.y ?? '')
      const d = fromBase64Url(jwk.d ?? '')
      const n = CURVES[curve].coordinateLength
      if (x?.length !== n || y?.length !== n || d?.length !== n) throw new Error('crypto.subtle exported an unexpected EC key')
      const compressed = new Uint8Array(1 + n)
      compressed[0] = 2 | (y[n - 1]! & 1)
      compressed.set(x, 1)
      return new WebSigningKey(curve, compressed, pair.privateKey, d)
    },

    importVerificationKey(curve: CurveName, compressedPoint: Uint8Array): VerificationKey {
      // Decompressed and checked here, synchronously: several browsers cannot import compressed points.
      const checked = importPointVerificationKey(curve, compressedPoint)
      return new WebVerificationKey(curve, checked.point)
    },

    createSigner(key: SigningKey, hash: HashName): Signer {
      const input = new SignatureInput(hash)
      const signing = key as WebSigningKey
      return {
        update: (data) => input.update(data),
        async sign() {
          const result = input.result()
          if ('digest' in result) return signDigest(signing.curve, WebSigningKey.secret(signing), result.digest)
          const raw = await subtle.sign({ name: 'ECDSA', hash: SUBTLE_HASH(hash) }, WebSigningKey.privateKey(signing), result.data)
          return ecdsaP1363ToDer(new Uint8Array(raw))
        },
      }
    },

    createVerifier(key: VerificationKey, hash: HashName): Verifier {
      const input = new SignatureInput(hash)
      const verifying = key as WebVerificationKey
      return {
        update: (data) => input.update(data),
        async verify(signature) {
          const result = input.result()
          if ('digest' in result) return verifyDigest(verifying.curve, verifying.point, result.digest, signature)
          const raw = ecdsaDerToP1363(signature, CURVES[verifying.curve].coordinateLength)
          if (!raw) return false
          return subtle.verify({ name: 'ECDSA', hash: SUBTLE_HASH(hash) }, await verifying.cryptoKey(subtle), asBuffer(raw), result.data)
        },
      }
    },

    ...webEcdhParts(subtle),

    importRsaPublicKey(key: unknown): RsaPublicKey {
      const cryptoKey = givenCryptoKey(key, 'public')
      if (cryptoKey) return new WebRsaKey('rsa-public' as const, { cryptoKey })
      const { n, e } = importRsaPublicMaterial(key)
      return new WebRsaKey('rsa-public' as const, { jwk: { kty: 'RSA', n: b64u(n), e: b64u(e), ext: false } })
    },

    importRsaPrivateKey(key: unknown): RsaPrivateKey {
      const cryptoKey = givenCryptoKey(key, 'private')
      if (cryptoKey) return new WebRsaKey('rsa-private' as const, { cryptoKey })
      const c = RsaPrivateMaterial.components(importRsaPrivateMaterial(key))
      const jwk: JsonWebKey = { kty: 'RSA', n: b64u(c.n), e: b64u(c.e), d: b64u(c.d), p: b64u(c.p), q: b64u(c.q), dp: b64u(c.dp), dq: b64u(c.dq), qi: b64u(c.qi), ext: false }
      return new WebRsaKey('rsa-private' as const, { jwk })
    },

    async rsaEncrypt(key: RsaPublicKey, padding: RsaPadding, plaintext: Uint8Array): Promise<Uint8Array> {
      const cryptoKey = await (key as WebRsaKey).cryptoKey(subtle, oaepHash(padding))
      return new Uint8Array(await subtle.encrypt({ name: 'RSA-OAEP' }, cryptoKey, asBuffer(plaintext)))
    },

    async rsaDecrypt(key: RsaPrivateKey, padding: RsaPadding, ciphertext: Uint8Array): Promise<Uint8Array> {
      const cryptoKey = await (key as WebRsaKey).cryptoKey(subtle, oaepHash(padding))
      try {
        return new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, cryptoKey, asBuffer(ciphertext)))
      } catch {
        // One fixed error whatever the engine said (spec/keyrings.md#raw-rsa).
        throw new Error('RSA decryption failed')
      }
    },
  }
}

/**
 * WebCrypto with pure JS for what it lacks: the web entry's default where crypto.subtle exists.
 * @example
 * ```ts
 * const client = createClient({ backend: createWebCryptoBackend() })
 * ```
 * @throws {TypeError} no crypto.subtle in this runtime and none given.
 */
export function createWebCryptoBackend(subtle?: SubtleCrypto): CryptoBackend {
  return withFallback(webCryptoParts(subtle), nobleBackend)
}
