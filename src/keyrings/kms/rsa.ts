/**
 * KmsRsaKeyring: wraps data keys with the public half of an AWS KMS RSA key,
 * locally, and unwraps them with KMS Decrypt (spec/keyrings.md#aws-kms-rsa;
 * MPL AwsKmsRsaKeyring). A sender with the public key makes no KMS call; only
 * principals allowed kms:Decrypt on the key can read the message.
 *
 * EDK: provider id `aws-kms-rsa`, provider info the key ARN, ciphertext
 * RSA-OAEP(SHA-384(canonical context) ‖ data key). The digest binds the data
 * key to the context, since KMS takes no encryption context with RSA keys.
 */
import type { CryptoBackend, RsaPadding, RsaPublicKey } from '../../crypto/backend.js'
import { decodeSpkiRsaPublicKey, rsaPublicKeyFromPem, type RsaPublicComponents } from '../../crypto/der.js'
import { toBase64, utf8Decode, utf8Encode } from '../../encoding.js'
import { KeyringError, KmsError, PolicyError } from '../../errors.js'
import { checkOptions } from '../../options.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import { encodeEncryptionContext, type EncryptionContext } from '../../format/encryption-context.js'
import { suiteLabel, Suite, type AlgorithmSuite } from '../../format/suites.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import { withDecryptionDataKey, withEncryptedDataKey, withEncryptionDataKey, type DecryptionMaterials, type EncryptionMaterials } from '../../materials/materials.js'
import { AttemptLog, attemptLimitReason, newDataKey } from '../common.js'
import { checkKeyIdentifier, mrkMatch, parseKeyArn, regionOf } from './arn.js'
import { callContext, KMS_CALL_OPTIONS, type KmsClientOptions } from './calls.js'
import { callKms, type KmsCallContext } from './client.js'

export const KMS_RSA_PROVIDER_ID = 'aws-kms-rsa'

export type KmsRsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'
const PADDING: Record<KmsRsaEncryptionAlgorithm, RsaPadding> = { RSAES_OAEP_SHA_1: 'oaep-sha1', RSAES_OAEP_SHA_256: 'oaep-sha256' }

/** SHA-384 of the canonical encryption context leads the wrapped plaintext. */
const DIGEST_LENGTH = 48
/** AWS KMS RSA keys are 2048 bits or more; a smaller key is not one of them. */
const MIN_MODULUS_BITS = 2048

/** No `recipient`: this keyring sends none (spec/nitro.md#recipient lists those that do), so it refuses one. */
export interface KmsRsaKeyringOptions extends Omit<KmsClientOptions, 'recipient'> {
  /** The KMS key ARN (not an alias: the provider info and KMS's answer are matched against it). */
  readonly keyId: string
  /**
   * The key's public key, as GetPublicKey returns it: DER SubjectPublicKeyInfo bytes, or that as PEM
   * (`-----BEGIN PUBLIC KEY-----`). Needed to encrypt; without it the keyring only decrypts.
   */
  readonly publicKey?: string | Uint8Array
  readonly encryptionAlgorithm: KmsRsaEncryptionAlgorithm
}

/** The public key as PEM text (what every backend imports), after checking it is an RSA SPKI key of 2048 bits or more. */
function publicKeyPem(key: unknown): string {
  const expected = 'publicKey must be an RSA public key as GetPublicKey returns it: DER SubjectPublicKeyInfo bytes, or PEM text "-----BEGIN PUBLIC KEY-----"'
  let components: RsaPublicComponents
  let pem: string
  try {
    if (typeof key === 'string') {
      if (!key.includes('-----BEGIN PUBLIC KEY-----')) throw new TypeError('no PUBLIC KEY block')
      components = rsaPublicKeyFromPem(key)
      pem = key
    } else if (key instanceof Uint8Array) {
      components = decodeSpkiRsaPublicKey(key)
      pem = `-----BEGIN PUBLIC KEY-----\n${toBase64(key).replace(/.{1,64}/g, '$&\n')}-----END PUBLIC KEY-----\n`
    } else {
      throw new TypeError(`got ${key === null ? 'null' : typeof key}`)
    }
  } catch (e) {
    throw new TypeError(`${expected} (${(e as Error).message})`)
  }
  const bits = components.n.toString(2).length
  if (bits < MIN_MODULUS_BITS) throw new TypeError(`publicKey has a ${bits}-bit modulus: KMS RSA keys have ${MIN_MODULUS_BITS} bits or more`)
  return pem
}

/** Signed suites are refused both ways (spec/keyrings.md#aws-kms-rsa): anyone holding the public key could sign. */
function refuseSigned(suite: AlgorithmSuite): void {
  if (!suite.signature) return
  throw new PolicyError(
    'ERR_SIGNED_NOT_ALLOWED',
    `KmsRsaKeyring cannot be used with the signed suite ${suiteLabel(suite.id)} (${suite.name}${suite.id === Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 ? ', the default suite' : ''}): its public key is public, so a signature would prove nothing about the sender. ` +
      `Choose a suite without signing, such as suiteId ${suiteLabel(Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)} (ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)`,
  )
}

/**
 * An AWS KMS RSA key (spec/keyrings.md#aws-kms-rsa): encrypts locally with its public key, so a
 * sender needs no KMS access; decrypts with KMS Decrypt. Signed suites are refused, so choose an
 * unsigned one (e.g. `Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY`).
 * @example
 * ```ts
 * const keyring = new KmsRsaKeyring({
 *   keyId: 'arn:aws:kms:us-west-2:111122223333:key/…',
 *   publicKey, // GetPublicKey's PublicKey (DER), or its PEM; leave it out to only decrypt
 *   encryptionAlgorithm: 'RSAES_OAEP_SHA_256',
 * })
 * const { ciphertext } = await client.encrypt(keyring, 'secret', { suiteId: Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY })
 * ```
 * @throws {TypeError} bad options, a keyId that is not a key ARN, an unknown encryptionAlgorithm, or a publicKey that is not an RSA key of 2048 bits or more.
 */
export class KmsRsaKeyring implements Keyring {
  readonly keyId: string
  readonly encryptionAlgorithm: KmsRsaEncryptionAlgorithm
  readonly #publicKeyPem: string | undefined
  readonly #keyIdBytes: Uint8Array
  readonly #ctx: KmsCallContext
  readonly #imported = new Map<CryptoBackend, RsaPublicKey>()

  constructor(options: KmsRsaKeyringOptions) {
    // publicKey is PEM text or DER bytes: publicKeyPem names both when it is neither.
    const { keyId, publicKey, encryptionAlgorithm } = checkOptions(options, 'KmsRsaKeyring', { ...KMS_CALL_OPTIONS, keyId: 'string', publicKey: 'any', encryptionAlgorithm: 'string' })
    checkKeyIdentifier(keyId, 'keyId')
    if (!parseKeyArn(keyId)) {
      throw new TypeError(`keyId ${JSON.stringify(keyId)} must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias or bare key id: encrypted data keys name it, and decrypt matches KMS's answer against it`)
    }
    if (!Object.hasOwn(PADDING, encryptionAlgorithm as string)) throw new TypeError(`encryptionAlgorithm must be one of ${Object.keys(PADDING).join(', ')}`)
    this.keyId = keyId
    this.encryptionAlgorithm = encryptionAlgorithm
    this.#publicKeyPem = publicKey === undefined ? undefined : publicKeyPem(publicKey)
    this.#keyIdBytes = utf8Encode(keyId)
    this.#ctx = callContext(options)
  }

  #publicKey(backend: CryptoBackend): RsaPublicKey {
    let key = this.#imported.get(backend)
    if (!key) {
      key = backend.importRsaPublicKey(this.#publicKeyPem)
      this.#imported.set(backend, key)
    }
    return key
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    refuseSigned(materials.suite)
    if (this.#publicKeyPem === undefined) {
      throw new KeyringError(`KmsRsaKeyring ${this.keyId} has no publicKey, so it cannot encrypt: pass the key's public key (KMS GetPublicKey)`)
    }
    const publicKey = this.#publicKey(backend)
    let result = materials
    if (!result.plaintextDataKey) result = withEncryptionDataKey(result, newDataKey(backend, result.suite.keyLength))
    const dataKey = result.plaintextDataKey!
    const plaintext = new Uint8Array(DIGEST_LENGTH + dataKey.length)
    plaintext.set(contextDigest(backend, result.encryptionContext))
    plaintext.set(dataKey, DIGEST_LENGTH)
    try {
      const ciphertext = await backend.rsaEncrypt(publicKey, PADDING[this.encryptionAlgorithm], plaintext)
      return withEncryptedDataKey(result, { providerId: KMS_RSA_PROVIDER_ID, providerInfo: this.#keyIdBytes, ciphertext: new Uint8Array(ciphertext) })
    } finally {
      plaintext.fill(0)
    }
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], { backend }: KeyringServices): Promise<DecryptionMaterials> {
    refuseSigned(materials.suite)
    if (materials.plaintextDataKey) throw new KeyringError('KmsRsaKeyring was given decryption materials that already hold a data key')
    const log = new AttemptLog('KmsRsaKeyring')
    const digest = contextDigest(backend, materials.encryptionContext)
    let attempts = 0
    for (const edk of edks) {
      if (log.otherNamespace(edk, KMS_RSA_PROVIDER_ID)) continue
      const arn = edkArn(edk)
      if (arn === undefined) {
        log.record(edk, 'provider info is not a KMS key ARN')
        continue
      }
      if (!mrkMatch(this.keyId, arn)) {
        log.skip(edk, `not key ${this.keyId}`)
        continue
      }
      if (attempts === this.#ctx.maxUnwrapAttempts) {
        log.record(edk, attemptLimitReason(attempts))
        continue
      }
      attempts++
      try {
        return withDecryptionDataKey(materials, await this.#unwrap(backend, edk, materials.suite, digest))
      } catch (e) {
        log.record(edk, e instanceof KmsError ? `${e.kmsErrorName}: ${(e.cause as Error | undefined)?.message ?? e.message}` : (e as Error).message, e)
      }
    }
    throw log.error()
  }

  /** KMS Decrypt with the configured key and algorithm, and no encryption context (KMS takes none for RSA). */
  async #unwrap(backend: CryptoBackend, edk: EncryptedDataKey, suite: AlgorithmSuite, digest: Uint8Array): Promise<Uint8Array> {
    const ctx = this.#ctx
    const response = await callKms<any>(ctx, regionOf(this.keyId), this.keyId, ({ DecryptCommand }) =>
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: edk.ciphertext, EncryptionAlgorithm: this.encryptionAlgorithm, GrantTokens: ctx.grantTokens as string[] | undefined }),
    )
    const plaintext: unknown = response.Plaintext
    try {
      if (response.KeyId !== this.keyId) {
        throw new KmsError(this.keyId, 'KeyIdMismatch', `KMS decrypted with ${JSON.stringify(response.KeyId)}, not the requested key`, false)
      }
      if (!(plaintext instanceof Uint8Array) || plaintext.length !== DIGEST_LENGTH + suite.keyLength) {
        throw new KeyringError(`KMS returned ${plaintext instanceof Uint8Array ? plaintext.length : 0} bytes, not the ${DIGEST_LENGTH}-byte context digest and a ${suite.keyLength}-byte data key`)
      }
      if (!backend.timingSafeEqual(plaintext.subarray(0, DIGEST_LENGTH), digest)) {
        throw new KeyringError('the encryption context differs from the one this data key was wrapped with (SHA-384 digest mismatch)')
      }
      return new Uint8Array(plaintext.subarray(DIGEST_LENGTH))
    } finally {
      // The SDK's copy of the data key is wiped once we hold our own.
      if (plaintext instanceof Uint8Array) plaintext.fill(0)
    }
  }
}

function contextDigest(backend: CryptoBackend, context: EncryptionContext): Uint8Array {
  return backend.digest('sha384', encodeEncryptionContext(context))
}

/** The key ARN an aws-kms-rsa EDK names, or undefined when its provider info is not one. */
function edkArn(edk: EncryptedDataKey): string | undefined {
  try {
    const text = utf8Decode(edk.providerInfo)
    return parseKeyArn(text) ? text : undefined
  } catch {
    return undefined
  }
}
