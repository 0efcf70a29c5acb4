/**
 * `aws-kms-rsa` key descriptions for the conformance runner (spec/conformance.md#kms): the
 * sender's KmsRsaKeyring takes the public key KMS answers to GetPublicKey, read once per key
 * ARN, not the manifest's `material` (the public key of AWS's own key, whose private half a
 * local KMS does not hold).
 */
import { KmsRsaKeyring, type KmsClientProvider, type KmsRsaEncryptionAlgorithm } from '../index.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { KeyEntry } from './keys.js'
import { kmsPublicKeys } from './kms-public-keys.js'

const ALGORITHMS: readonly string[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']

/** A KmsRsaKeyring whose public key is fetched from KMS on first use. */
class PublicKeyFromKms implements Keyring {
  readonly #build: () => Promise<KmsRsaKeyring>
  #keyring: Promise<KmsRsaKeyring> | undefined
  constructor(build: () => Promise<KmsRsaKeyring>) {
    this.#build = build
  }
  async onEncrypt(materials: EncryptionMaterials, services: KeyringServices): Promise<EncryptionMaterials> {
    this.#keyring ??= this.#build()
    return (await this.#keyring).onEncrypt(materials, services)
  }
  onDecrypt(_materials: DecryptionMaterials, _edks: readonly EncryptedDataKey[]): Promise<DecryptionMaterials> {
    throw new Error('the runner builds decrypting KMS RSA keyrings without this wrapper')
  }
}

/** Builds the keyrings of `aws-kms-rsa` descriptions; one per kmsHooks, sharing fetched public keys. */
export function kmsRsaKeyrings(clientProvider: KmsClientProvider): (description: any, key: KeyEntry | undefined, usage: 'encrypt' | 'decrypt') => Keyring | string {
  const publicKeyOf = kmsPublicKeys(clientProvider)
  return (description, key, usage) => {
    if (!key) return 'an aws-kms-rsa description needs a key'
    if (key.type !== 'aws-kms-rsa') return `key ${key.name} is of type ${JSON.stringify(key.type)}, not aws-kms-rsa`
    const algorithm = description['encryption-algorithm']
    if (!ALGORITHMS.includes(algorithm)) return `aws-kms-rsa encryption-algorithm ${JSON.stringify(algorithm)} is not ${ALGORITHMS.join(' or ')}`
    const options = { keyId: key.keyId, encryptionAlgorithm: algorithm as KmsRsaEncryptionAlgorithm, clientProvider }
    if (usage === 'decrypt') return new KmsRsaKeyring(options)
    return new PublicKeyFromKms(async () => new KmsRsaKeyring({ ...options, publicKey: await publicKeyOf(key.keyId) }))
  }
}
