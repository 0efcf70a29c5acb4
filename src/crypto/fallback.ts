/**
 * Composes a primary backend with a complete one for what the primary lacks
 * (spec/backends.md#fallback). Every route is decided here, once, from the
 * primary's declared `lacks`: no operation tries one backend and catches its
 * failure to try another, and the frame loop calls the chosen function directly.
 */
import type { AesKey, BackendParts, Capability, CryptoBackend, RsaPadding, RsaPrivateKey, RsaPublicKey } from './backend.js'
import { Redacted, type PublicFacts } from './redacted.js'

const SYMMETRIC = ['importAesKey', 'gcmSeal', 'gcmOpen', 'hkdf', 'digest', 'timingSafeEqual'] as const
const ECDSA = ['generateSigningKey', 'importVerificationKey', 'createSigner', 'createVerifier'] as const
const RSA = ['importRsaPublicKey', 'importRsaPrivateKey', 'rsaEncrypt', 'rsaDecrypt'] as const
/** Keys made by one backend go to its own ecdh: the three always come from the same backend. */
const ECDH = ['importEcdhPrivateKey', 'generateEcdhPrivateKey', 'ecdh'] as const
const HMAC = ['hmac'] as const

type Operation = (typeof SYMMETRIC)[number] | (typeof ECDSA)[number] | (typeof RSA)[number] | (typeof ECDH)[number] | (typeof HMAC)[number]

function pick<K extends Operation>(from: Partial<CryptoBackend>, names: readonly K[]): Pick<CryptoBackend, K> {
  const out = {} as Pick<CryptoBackend, K>
  for (const name of names) out[name] = (from[name] as (...args: unknown[]) => unknown).bind(from) as CryptoBackend[K]
  return out
}

function complete(parts: Partial<CryptoBackend>, names: readonly Operation[]): boolean {
  return names.every((name) => typeof parts[name] === 'function')
}

/** An AES key imported into the backend that owns its length, plus the other one for empty inputs when needed. */
class RoutedAesKey extends Redacted implements AesKey {
  readonly length: 16 | 24 | 32
  readonly owner: CryptoBackend | Pick<CryptoBackend, 'gcmSeal' | 'gcmOpen'>
  readonly key: AesKey
  readonly empty: { readonly backend: CryptoBackend; readonly key: AesKey } | undefined

  constructor(owner: RoutedAesKey['owner'], key: AesKey, empty: RoutedAesKey['empty']) {
    super()
    this.length = key.length
    this.owner = owner
    this.key = key
    this.empty = empty
  }

  wipe(): void {
    this.key.wipe?.()
    this.empty?.key.wipe?.()
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['AesKey', { length: this.length }]
  }
}

function routedSymmetric(primary: Pick<CryptoBackend, (typeof SYMMETRIC)[number]>, secondary: CryptoBackend, lacks: ReadonlySet<Capability>) {
  const noAes192 = lacks.has('aes-192')
  const noEmpty = lacks.has('gcm-empty')
  return {
    ...primary,
    importAesKey(raw: Uint8Array): AesKey {
      if (noAes192 && raw.length === 24) return new RoutedAesKey(secondary, secondary.importAesKey(raw), undefined)
      const empty = noEmpty ? { backend: secondary, key: secondary.importAesKey(raw) } : undefined
      return new RoutedAesKey(primary, primary.importAesKey(raw), empty)
    },
    gcmSeal(key: AesKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
      const k = key as RoutedAesKey
      if (k.empty && plaintext.length === 0) return k.empty.backend.gcmSeal(k.empty.key, iv, aad, plaintext, out, offset)
      k.owner.gcmSeal(k.key, iv, aad, plaintext, out, offset)
    },
    gcmOpen(key: AesKey, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | undefined {
      const k = key as RoutedAesKey
      if (k.empty && ciphertext.length === 0) return k.empty.backend.gcmOpen(k.empty.key, iv, aad, ciphertext, tag)
      return k.owner.gcmOpen(k.key, iv, aad, ciphertext, tag)
    },
  }
}

/** An RSA key imported into the primary, and into the secondary on first use of a padding the primary lacks. */
class RoutedRsaKey<K extends RsaPublicKey | RsaPrivateKey> extends Redacted {
  readonly kind: K['kind']
  readonly primary: K
  readonly #importSecondary: () => K
  #secondary: K | undefined

  constructor(primary: K, importSecondary: () => K) {
    super()
    this.kind = primary.kind
    this.primary = primary
    this.#importSecondary = importSecondary
  }

  secondary(): K {
    return (this.#secondary ??= this.#importSecondary())
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return [this.kind === 'rsa-public' ? 'RsaPublicKey' : 'RsaPrivateKey', {}]
  }
}

function routedRsa(primary: Pick<CryptoBackend, (typeof RSA)[number]>, secondary: CryptoBackend, lacks: ReadonlySet<Capability>) {
  const elsewhere = (padding: RsaPadding) => (padding === 'pkcs1' ? lacks.has('rsa-pkcs1') : lacks.has('rsa-oaep'))
  return {
    importRsaPublicKey: (key: unknown): RsaPublicKey => new RoutedRsaKey(primary.importRsaPublicKey(key), () => secondary.importRsaPublicKey(key)),
    importRsaPrivateKey: (key: unknown): RsaPrivateKey => new RoutedRsaKey(primary.importRsaPrivateKey(key), () => secondary.importRsaPrivateKey(key)),
    rsaEncrypt(key: RsaPublicKey, padding: RsaPadding, plaintext: Uint8Array) {
      const k = key as RoutedRsaKey<RsaPublicKey>
      return elsewhere(padding) ? secondary.rsaEncrypt(k.secondary(), padding, plaintext) : primary.rsaEncrypt(k.primary, padding, plaintext)
    },
    rsaDecrypt(key: RsaPrivateKey, padding: RsaPadding, ciphertext: Uint8Array, expectedLength?: number) {
      const k = key as RoutedRsaKey<RsaPrivateKey>
      return elsewhere(padding)
        ? secondary.rsaDecrypt(k.secondary(), padding, ciphertext, expectedLength)
        : primary.rsaDecrypt(k.primary, padding, ciphertext, expectedLength)
    },
  }
}

/**
 * `primary` with `secondary` (a complete backend) behind it. Named
 * "primary+secondary"; declares nothing lacking, since the secondary has it all.
 * @example
 * ```ts
 * const backend = withFallback(webCryptoParts(), nobleBackend)
 * ```
 * @throws {TypeError} a secondary backend that itself lacks a capability.
 */
export function withFallback(primary: BackendParts | CryptoBackend, secondary: CryptoBackend): CryptoBackend {
  if (secondary.lacks && secondary.lacks.length > 0) throw new TypeError(`the fallback backend ${secondary.name} must lack nothing`)
  const lacks = new Set<Capability>(primary.lacks ?? [])

  let symmetric: Pick<CryptoBackend, (typeof SYMMETRIC)[number]>
  if (lacks.has('sync-symmetric') || !complete(primary, SYMMETRIC)) symmetric = pick(secondary, SYMMETRIC)
  else if (lacks.has('aes-192') || lacks.has('gcm-empty')) symmetric = routedSymmetric(pick(primary, SYMMETRIC), secondary, lacks)
  else symmetric = pick(primary, SYMMETRIC)

  // HMAC goes with the rest of the synchronous symmetric family.
  const hmacFromPrimary = !lacks.has('sync-symmetric') && complete(primary, SYMMETRIC) && complete(primary, HMAC)
  const hmac = hmacFromPrimary ? pick(primary, HMAC) : pick(secondary, HMAC)

  const ecdsa = lacks.has('ecdsa') || !complete(primary, ECDSA) ? pick(secondary, ECDSA) : pick(primary, ECDSA)
  const ecdh = lacks.has('ecdh') || !complete(primary, ECDH) ? pick(secondary, ECDH) : pick(primary, ECDH)

  let rsa: Pick<CryptoBackend, (typeof RSA)[number]>
  if ((lacks.has('rsa-pkcs1') && lacks.has('rsa-oaep')) || !complete(primary, RSA)) rsa = pick(secondary, RSA)
  else if (lacks.has('rsa-pkcs1') || lacks.has('rsa-oaep')) rsa = routedRsa(pick(primary, RSA), secondary, lacks)
  else rsa = pick(primary, RSA)

  const random = typeof primary.randomBytes === 'function' ? primary : secondary
  const randomBytes = random.randomBytes!.bind(random)
  // Key material comes from the same backend as other random bytes, unpooled where it says how.
  const keys = typeof random.randomKeyBytes === 'function' ? { randomKeyBytes: random.randomKeyBytes.bind(random) } : {}
  // CBC serves only the KMS recipient path: the primary's when it has one, else the complete backend's.
  const cbcFrom = typeof primary.aesCbcDecrypt === 'function' ? primary : secondary
  const cbc = typeof cbcFrom.aesCbcDecrypt === 'function' ? { aesCbcDecrypt: cbcFrom.aesCbcDecrypt.bind(cbcFrom) } : {}
  return Object.freeze({ name: `${primary.name}+${secondary.name}`, randomBytes, ...keys, ...symmetric, ...hmac, ...ecdsa, ...ecdh, ...rsa, ...cbc })
}
