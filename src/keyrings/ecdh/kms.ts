/**
 * KmsEcdhKeyring: the ECDH keyring whose own private key lives in AWS KMS
 * (spec/ecdh.md#kms; MPL AwsKmsEcdhKeyring). KMS DeriveSharedSecret gives Z;
 * the KDF and the wrap are the raw keyring's, so the two read each other's
 * encrypted data keys. Schemes:
 * - static: the sender's KMS key and the recipient's public key; encrypts, and
 *   decrypts what either party wrote to the other;
 * - discovery: the recipient's KMS key; decrypts from any sender, never encrypts.
 * A public key not given is read once with GetPublicKey, which must report
 * KeyUsage KEY_AGREEMENT and the configured curve.
 */
import { ECDH_CURVES, type EcdhCurve } from '../../algorithms.js'
import { ecPoint, ecSpki, importEcPublicKey, type EcPoint } from '../../crypto/ec.js'
import { Redacted, type PublicFacts } from '../../crypto/redacted.js'
import { KmsError, printable } from '../../errors.js'
import { checkOptions } from '../../options.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import type { DecryptionMaterials, EncryptionMaterials } from '../../materials/materials.js'
import { checkKeyIdentifier, regionOf } from '../kms/arn.js'
import { callContext, KMS_CALL_OPTIONS, type KmsClientOptions } from '../kms/calls.js'
import { callKms, type KmsCallContext } from '../kms/client.js'
import { cannot, checkCurve, checkScheme, discoveryMatch, ecdhDecrypt, ecdhEncrypt, staticMatch } from './common.js'
import type { EcKeyInput } from './raw.js'
import { KMS_ECDH_PROVIDER_ID } from './wire.js'

export type KmsEcdhScheme =
  | { readonly kind: 'static'; readonly senderKmsKeyId: string; readonly senderPublicKey?: EcKeyInput; readonly recipientPublicKey: EcKeyInput }
  | { readonly kind: 'discovery'; readonly recipientKmsKeyId: string; readonly recipientPublicKey?: EcKeyInput }

/** No `recipient`: this keyring sends none (spec/nitro.md#recipient lists those that do), so it refuses one. */
export interface KmsEcdhKeyringOptions extends Omit<KmsClientOptions, 'recipient'> {
  readonly curve: EcdhCurve
  readonly scheme: KmsEcdhScheme
}

const SCHEMES = {
  static: ['senderKmsKeyId', 'senderPublicKey', 'recipientPublicKey'],
  discovery: ['recipientKmsKeyId', 'recipientPublicKey'],
} as const

/**
 * ECDH whose own private key is an AWS KMS key agreement key (spec/ecdh.md#kms): KMS
 * DeriveSharedSecret gives the shared secret; what it writes the raw ECDH keyring reads, and the
 * other way round. `static` encrypts and decrypts, `discovery` only decrypts.
 * @example
 * ```ts
 * const keyring = new KmsEcdhKeyring({
 *   curve: 'P-256',
 *   scheme: { kind: 'discovery', recipientKmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/…' },
 * })
 * ```
 * @throws {TypeError} bad options: not an object, an unknown key or scheme field, a wrong type, an unknown curve or scheme kind, a malformed key id.
 * @throws {InvalidKeyError} a given public key that does not parse or is on another curve.
 */
export class KmsEcdhKeyring extends Redacted implements Keyring {
  readonly curve: EcdhCurve
  readonly kind: KmsEcdhScheme['kind']
  /** The KMS key holding this keyring's private key (static: the sender's; discovery: the recipient's). */
  readonly kmsKeyId: string
  /** The other party's public key (static only), compressed. */
  readonly recipientPublicKey: Uint8Array | undefined
  readonly #ctx: KmsCallContext
  #ownPublicKey: Promise<EcPoint> | undefined

  constructor(options: KmsEcdhKeyringOptions) {
    super()
    checkOptions(options, 'KmsEcdhKeyring', { ...KMS_CALL_OPTIONS, curve: 'string', scheme: 'object' })
    this.curve = checkCurve(options.curve)
    const { kind, fields } = checkScheme('KmsEcdhKeyring', options.scheme, SCHEMES)
    this.kind = kind
    this.kmsKeyId = checkKeyIdentifier(kind === 'static' ? fields.senderKmsKeyId : fields.recipientKmsKeyId, kind === 'static' ? 'senderKmsKeyId' : 'recipientKmsKeyId')
    this.#ctx = callContext(options)
    if (kind === 'static') this.recipientPublicKey = importEcPublicKey(this.curve, fields.recipientPublicKey, 'recipientPublicKey').compressed
    const own = kind === 'static' ? fields.senderPublicKey : fields.recipientPublicKey
    if (own !== undefined) this.#ownPublicKey = Promise.resolve(importEcPublicKey(this.curve, own, kind === 'static' ? 'senderPublicKey' : 'recipientPublicKey'))
  }

  /** This keyring's own public key: as given, or from GetPublicKey (once; a failed call is tried again next time). */
  #publicKey(): Promise<EcPoint> {
    this.#ownPublicKey ??= this.#getPublicKey().catch((e) => {
      this.#ownPublicKey = undefined
      throw e
    })
    return this.#ownPublicKey
  }

  async #getPublicKey(): Promise<EcPoint> {
    const keyId = this.kmsKeyId
    const response = await callKms<any>(this.#ctx, regionOf(keyId), keyId, ({ GetPublicKeyCommand }) =>
      new GetPublicKeyCommand({ KeyId: keyId, GrantTokens: this.#ctx.grantTokens as string[] | undefined }),
    )
    if (response.KeyUsage !== 'KEY_AGREEMENT') {
      throw new KmsError(keyId, 'InvalidKeyUsage', `the key's KeyUsage is ${printable(String(response.KeyUsage))}, not KEY_AGREEMENT`, false)
    }
    const spec = ECDH_CURVES[this.curve].kmsKeySpec
    const actual = response.KeySpec ?? response.CustomerMasterKeySpec
    if (actual !== spec) throw new KmsError(keyId, 'InvalidKeySpec', `the key is ${printable(String(actual))}, not ${spec} (${this.curve})`, false)
    if (!(response.PublicKey instanceof Uint8Array)) throw new KmsError(keyId, 'InvalidPublicKey', 'GetPublicKey returned no public key', false)
    return importEcPublicKey(this.curve, new Uint8Array(response.PublicKey), `the public key of ${keyId}`)
  }

  /** Z from KMS DeriveSharedSecret: this keyring's KMS key with `other` (a compressed point). */
  async #deriveSharedSecret(other: Uint8Array): Promise<Uint8Array> {
    const keyId = this.kmsKeyId
    const publicKey = ecSpki(ecPoint(this.curve, other))
    const response = await callKms<any>(this.#ctx, regionOf(keyId), keyId, ({ DeriveSharedSecretCommand }) =>
      new DeriveSharedSecretCommand({ KeyId: keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: publicKey, GrantTokens: this.#ctx.grantTokens as string[] | undefined }),
    )
    const secret: unknown = response.SharedSecret
    try {
      if (!(secret instanceof Uint8Array) || secret.length !== ECDH_CURVES[this.curve].coordinateLength) {
        throw new KmsError(keyId, 'InvalidSharedSecret', `DeriveSharedSecret returned no ${this.curve} shared secret`, false)
      }
      return new Uint8Array(secret)
    } finally {
      // The SDK's copy (often a slice of Node's shared Buffer pool) is wiped once we hold our own.
      if (secret instanceof Uint8Array) secret.fill(0)
    }
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    if (this.kind === 'discovery') throw cannot('KmsEcdhKeyring', this.kind, 'encrypt')
    const sender = (await this.#publicKey()).compressed
    const recipient = this.recipientPublicKey!
    const z = await this.#deriveSharedSecret(recipient)
    return ecdhEncrypt(materials, backend, KMS_ECDH_PROVIDER_ID, this.curve, sender, recipient, z)
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], { backend }: KeyringServices): Promise<DecryptionMaterials> {
    const mine = (await this.#publicKey()).compressed
    const match = this.kind === 'static' ? staticMatch(mine, this.recipientPublicKey!) : discoveryMatch(mine)
    return ecdhDecrypt('KmsEcdhKeyring', materials, edks, backend, this.curve, this.#ctx.maxUnwrapAttempts, match, (other) => this.#deriveSharedSecret(other))
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['KmsEcdhKeyring', { curve: this.curve, kind: this.kind, kmsKeyId: this.kmsKeyId }]
  }
}

