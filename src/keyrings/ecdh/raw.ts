/**
 * RawEcdhKeyring: wraps data keys under a key agreed by ECDH between a
 * sender's and a recipient's key pair on P-256, P-384 or P-521 (spec/ecdh.md;
 * MPL RawECDHKeyring), byte-compatible with the other ESDKs. Schemes:
 * - static: the sender's private key and the recipient's public key; encrypts,
 *   and decrypts what either party wrote to the other;
 * - ephemeral: a fresh sender key per message to the recipient's public key; encrypt only;
 * - discovery: the recipient's private key; decrypts from any sender, never encrypts.
 */
import type { EcdhCurve } from '../../algorithms.js'
import type { CryptoBackend, EcdhPrivateKey } from '../../crypto/backend.js'
import { ecPublicOfScalar, importEcPrivateScalar, importEcPublicKey, type EcPoint } from '../../crypto/ec.js'
import { Redacted, type PublicFacts } from '../../crypto/redacted.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import type { DecryptionMaterials, EncryptionMaterials } from '../../materials/materials.js'
import { checkOptions } from '../../options.js'
import { checkMaxUnwrapAttempts } from '../common.js'
import { cannot, checkCurve, checkScheme, discoveryMatch, ecdhDecrypt, ecdhEncrypt, staticMatch } from './common.js'
import { RAW_ECDH_PROVIDER_ID } from './wire.js'

/** A PEM string or DER bytes: SPKI for public keys, PKCS#8 for private keys. */
export type EcKeyInput = string | Uint8Array

export type RawEcdhScheme =
  | { readonly kind: 'static'; readonly senderPrivateKey: EcKeyInput; readonly recipientPublicKey: EcKeyInput }
  | { readonly kind: 'ephemeral'; readonly recipientPublicKey: EcKeyInput }
  | { readonly kind: 'discovery'; readonly recipientPrivateKey: EcKeyInput }

export interface RawEcdhKeyringOptions {
  readonly curve: EcdhCurve
  readonly scheme: RawEcdhScheme
  /** Most encrypted data keys this keyring tries per message, each a scalar multiplication (spec/keyrings.md#unwrap-attempts). Default 4. */
  readonly maxUnwrapAttempts?: number
}

const SCHEMES = {
  static: ['senderPrivateKey', 'recipientPublicKey'],
  ephemeral: ['recipientPublicKey'],
  discovery: ['recipientPrivateKey'],
} as const

/**
 * ECDH on P-256, P-384 or P-521 between a sender's and a recipient's key pair, with keys held by the
 * caller (spec/ecdh.md). The scheme says which keys it holds and so what it can do: `static`
 * encrypts and decrypts, `ephemeral` only encrypts, `discovery` only decrypts.
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto'
 * const alice = generateKeyPairSync('ec', { namedCurve: 'P-256' })
 * const bob = generateKeyPairSync('ec', { namedCurve: 'P-256' })
 * const keyring = new RawEcdhKeyring({
 *   curve: 'P-256',
 *   scheme: {
 *     kind: 'static',
 *     senderPrivateKey: alice.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
 *     recipientPublicKey: bob.publicKey.export({ type: 'spki', format: 'pem' }) as string,
 *   },
 * })
 * ```
 * @throws {TypeError} bad options: not an object, an unknown key or scheme field, a wrong type, an unknown curve or scheme kind.
 * @throws {InvalidKeyError} a key that does not parse in the expected form, is on another curve, or is not a valid point or scalar.
 */
export class RawEcdhKeyring extends Redacted implements Keyring {
  readonly curve: EcdhCurve
  readonly kind: RawEcdhScheme['kind']
  readonly maxUnwrapAttempts: number
  /** The compressed public key of this keyring's own private key (static: sender; discovery: recipient). */
  readonly publicKey: Uint8Array | undefined
  /** The compressed public key of the other party (static, ephemeral). */
  readonly recipientPublicKey: Uint8Array | undefined
  readonly #scalar: Uint8Array | undefined
  readonly #imported = new Map<CryptoBackend, EcdhPrivateKey>()

  constructor(options: RawEcdhKeyringOptions) {
    super()
    checkOptions(options, 'RawEcdhKeyring', { curve: 'string', scheme: 'object', maxUnwrapAttempts: 'number' })
    const curve = checkCurve(options.curve)
    const { kind, fields } = checkScheme('RawEcdhKeyring', options.scheme, SCHEMES)
    this.curve = curve
    this.kind = kind
    this.maxUnwrapAttempts = checkMaxUnwrapAttempts(options.maxUnwrapAttempts)
    let recipient: EcPoint | undefined
    if (kind !== 'discovery') recipient = importEcPublicKey(curve, fields.recipientPublicKey, 'recipientPublicKey')
    if (kind === 'static') this.#scalar = importEcPrivateScalar(curve, fields.senderPrivateKey, 'senderPrivateKey')
    if (kind === 'discovery') this.#scalar = importEcPrivateScalar(curve, fields.recipientPrivateKey, 'recipientPrivateKey')
    this.publicKey = this.#scalar ? ecPublicOfScalar(curve, this.#scalar) : undefined
    this.recipientPublicKey = recipient?.compressed
  }

  #key(backend: CryptoBackend): EcdhPrivateKey {
    let key = this.#imported.get(backend)
    if (!key) {
      key = backend.importEcdhPrivateKey(this.curve, this.#scalar!)
      this.#imported.set(backend, key)
    }
    return key
  }

  async onEncrypt(materials: EncryptionMaterials, { backend }: KeyringServices): Promise<EncryptionMaterials> {
    if (this.kind === 'discovery') throw cannot('RawEcdhKeyring', this.kind, 'encrypt')
    const recipient = this.recipientPublicKey!
    // Ephemeral: a key pair per message, dropped once the data key is wrapped.
    const sender = this.kind === 'ephemeral' ? await backend.generateEcdhPrivateKey(this.curve) : this.#key(backend)
    const z = await backend.ecdh(sender, recipient)
    return ecdhEncrypt(materials, backend, RAW_ECDH_PROVIDER_ID, this.curve, sender.publicKey, recipient, z)
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], { backend }: KeyringServices): Promise<DecryptionMaterials> {
    // The ephemeral sender's private key is gone with its message: nothing here can decrypt.
    if (this.kind === 'ephemeral') throw cannot('RawEcdhKeyring', this.kind, 'decrypt')
    const key = this.#key(backend)
    const match = this.kind === 'static' ? staticMatch(this.publicKey!, this.recipientPublicKey!) : discoveryMatch(this.publicKey!)
    return ecdhDecrypt('RawEcdhKeyring', materials, edks, backend, this.curve, this.maxUnwrapAttempts, match, async (other) => backend.ecdh(key, other))
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['RawEcdhKeyring', { curve: this.curve, kind: this.kind }]
  }
}
