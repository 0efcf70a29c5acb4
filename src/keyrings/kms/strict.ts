/**
 * KmsKeyring: the ESDK's KMS keyring (spec/keyrings.md#aws-kms). A generator
 * key makes the data key with GenerateDataKey; every other key wraps it with
 * Encrypt. Decrypt tries only EDKs whose ARN is one of the configured keys.
 */
import { checkOptions } from '../../options.js'
import { KeyringError } from '../../errors.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { Keyring, KeyringServices } from '../../materials/keyring.js'
import { withEncryptedDataKey, withEncryptionDataKey, type DecryptionMaterials, type EncryptionMaterials } from '../../materials/materials.js'
import { checkKeyIdentifier, regionOf } from './arn.js'
import { callContext, decryptWithFirstKey, encryptDataKey, generateDataKey, KMS_CLIENT_OPTIONS, type KmsClientOptions } from './calls.js'
import type { KmsCallContext } from './client.js'

export interface KmsKeyringOptions extends KmsClientOptions {
  /** Key that generates the data key (ARN, alias or key id). */
  readonly generatorKeyId?: string
  /** Further keys that each wrap the data key. */
  readonly keyIds?: readonly string[]
}

/**
 * AWS KMS keys named up front: the generator key makes the data key (GenerateDataKey), the others
 * encrypt it; decrypt calls only these keys. `@aws-sdk/client-kms` is loaded on first use.
 * @example
 * ```ts
 * const keyring = new KmsKeyring({ generatorKeyId: 'arn:aws:kms:us-west-2:111122223333:key/…' })
 * ```
 * @throws {TypeError} bad options, a malformed key id, or no key at all.
 */
export class KmsKeyring implements Keyring {
  readonly generatorKeyId: string | undefined
  readonly keyIds: readonly string[]
  readonly #ctx: KmsCallContext

  constructor(options: KmsKeyringOptions) {
    const { generatorKeyId, keyIds = [] } = checkOptions(options, 'KmsKeyring', { ...KMS_CLIENT_OPTIONS, generatorKeyId: 'string', keyIds: 'array' })
    if (generatorKeyId !== undefined) checkKeyIdentifier(generatorKeyId, 'generatorKeyId')
    if (!Array.isArray(keyIds)) throw new TypeError('keyIds must be an array')
    keyIds.forEach((k) => checkKeyIdentifier(k, 'keyIds entry'))
    if (generatorKeyId === undefined && keyIds.length === 0) throw new TypeError('a KmsKeyring needs a generatorKeyId or keyIds (use KmsDiscoveryKeyring to decrypt with any key)')
    this.generatorKeyId = generatorKeyId
    this.keyIds = Object.freeze([...keyIds])
    this.#ctx = callContext(options)
  }

  async onEncrypt(materials: EncryptionMaterials, services?: KeyringServices): Promise<EncryptionMaterials> {
    let result = materials
    const ec = materials.encryptionContext
    let wrapWith = [...this.keyIds]
    if (!result.plaintextDataKey) {
      if (!this.generatorKeyId) throw new KeyringError('this KmsKeyring has no generatorKeyId, so it cannot create a data key')
      const { dataKey, edk } = await generateDataKey(this.#ctx, regionOf(this.generatorKeyId), this.generatorKeyId, result.suite, ec, services?.backend)
      result = withEncryptedDataKey(withEncryptionDataKey(result, dataKey), edk)
    } else if (this.generatorKeyId) {
      wrapWith = [this.generatorKeyId, ...wrapWith]
    }
    for (const keyId of wrapWith) {
      result = withEncryptedDataKey(result, await encryptDataKey(this.#ctx, regionOf(keyId), keyId, result.plaintextDataKey!, ec))
    }
    return result
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], services?: KeyringServices): Promise<DecryptionMaterials> {
    const configured = new Set([...(this.generatorKeyId ? [this.generatorKeyId] : []), ...this.keyIds])
    return decryptWithFirstKey('KmsKeyring', this.#ctx, materials, edks, (arn) =>
      configured.has(arn) ? { region: regionOf(arn), keyId: arn } : { skip: 'not one of the configured keys' },
      services?.backend,
    )
  }
}
