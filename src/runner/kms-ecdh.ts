/**
 * `aws-kms-ecdh` key descriptions for the conformance runner (spec/conformance.md#kms): the keys
 * entry names two KMS keys (`sender-material`, `recipient-material`); public keys come from KMS
 * GetPublicKey, not from the manifest (those are AWS's own keys, whose private halves a local KMS
 * does not hold). Static: the sender's KMS key with the recipient's public key on encrypt, the
 * recipient's KMS key with the sender's public key on decrypt; discovery: the recipient's KMS key.
 */
import { KmsEcdhKeyring, type EcdhCurve, type KmsClientProvider } from '../index.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'
import type { KeyEntry } from './keys.js'
import { kmsPublicKeys } from './kms-public-keys.js'

const BITS: Record<string, EcdhCurve> = { '256': 'P-256', '384': 'P-384', '521': 'P-521' }

/** A keyring built on first use, once the public key it needs has been read from KMS. */
class BuiltOnFirstUse implements Keyring {
  readonly #build: () => Promise<Keyring>
  #keyring: Promise<Keyring> | undefined
  constructor(build: () => Promise<Keyring>) {
    this.#build = build
  }
  #get(): Promise<Keyring> {
    return (this.#keyring ??= this.#build())
  }
  async onEncrypt(materials: EncryptionMaterials, services: KeyringServices): Promise<EncryptionMaterials> {
    return (await this.#get()).onEncrypt(materials, services)
  }
  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], services: KeyringServices): Promise<DecryptionMaterials> {
    return (await this.#get()).onDecrypt(materials, edks, services)
  }
}

/** The curve of an ECDH keys entry or `ecc-curve` value: its bits, or the 256/384/521 in its name. */
export function ecdhCurveOf(name: string, bits?: number): EcdhCurve | undefined {
  return BITS[String(bits ?? /(?:^|-)(256|384|521)(?:-|$)/.exec(name)?.[1])]
}

/** Builds the keyrings of `aws-kms-ecdh` descriptions; one per kmsHooks, sharing fetched public keys. */
export function kmsEcdhKeyrings(clientProvider: KmsClientProvider): (description: any, key: KeyEntry | undefined, usage: 'encrypt' | 'decrypt') => Keyring | string {
  const publicKeyOf = kmsPublicKeys(clientProvider)
  return (description, key, usage) => {
    if (!key?.ecdh) return 'an aws-kms-ecdh description needs a recipient key entry with sender-material and recipient-material'
    if (key.type !== 'aws-kms-ecdh') return `key ${key.name} is of type ${JSON.stringify(key.type)}, not aws-kms-ecdh`
    const curve = ecdhCurveOf(String(description['ecc-curve']), key.bits)
    if (!curve) return `cannot tell the curve of ${JSON.stringify(description['ecc-curve'])}`
    const sender = key.ecdh.senderMaterial
    const recipient = key.ecdh.recipientMaterial
    if (!sender || !recipient) return `key ${key.name} lacks sender-material or recipient-material`
    const schema = description.schema
    if (schema === 'discovery') {
      if (usage === 'encrypt') return 'an aws-kms-ecdh discovery keyring cannot encrypt'
      return new KmsEcdhKeyring({ curve, scheme: { kind: 'discovery', recipientKmsKeyId: recipient }, clientProvider })
    }
    if (schema !== 'static') return `aws-kms-ecdh schema ${JSON.stringify(schema)} is not static or discovery`
    const [own, peer] = usage === 'encrypt' ? [sender, recipient] : [recipient, sender]
    // Both public keys from the shared cache: one GetPublicKey per key for the whole run, not per scenario.
    return new BuiltOnFirstUse(async () => {
      const [senderPublicKey, recipientPublicKey] = await Promise.all([publicKeyOf(own), publicKeyOf(peer)])
      return new KmsEcdhKeyring({ curve, scheme: { kind: 'static', senderKmsKeyId: own, senderPublicKey, recipientPublicKey }, clientProvider })
    })
  }
}
