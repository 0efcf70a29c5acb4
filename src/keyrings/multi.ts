/**
 * MultiKeyring: a generator keyring plus children (spec/keyrings.md#multi).
 * Encrypt: the generator makes the data key, every child wraps it too; any
 * failure fails the encrypt. Decrypt: the first keyring that succeeds wins;
 * otherwise every attempt of every keyring is reported.
 */
import { checkOptions } from '../options.js'
import { KeyringError, KmsError, NoMatchingKeyError, UnsupportedError, type KeyAttempt } from '../errors.js'
import type { EncryptedDataKey } from '../format/edk.js'
import { isKeyring, type Keyring, type KeyringServices } from '../materials/keyring.js'
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'

export interface MultiKeyringOptions {
  readonly generator?: Keyring
  readonly children?: readonly Keyring[]
}

/**
 * Combines keyrings: the generator makes the data key, every child wraps it too; on decrypt the
 * first keyring that unwraps a key wins, and the failures of the others are listed.
 * @example
 * ```ts
 * const keyring = new MultiKeyring({ generator: kmsKeyring, children: [backupAesKeyring] })
 * ```
 * @throws {TypeError} bad options, or neither a generator nor a child.
 */
export class MultiKeyring implements Keyring {
  readonly generator: Keyring | undefined
  readonly children: readonly Keyring[]

  constructor(options: MultiKeyringOptions) {
    const { generator, children = [] } = checkOptions(options, 'MultiKeyring', { generator: 'object', children: 'array' })
    if (generator !== undefined && !isKeyring(generator)) throw new TypeError('generator must be a keyring')
    if (!Array.isArray(children) || !children.every(isKeyring)) throw new TypeError('children must be an array of keyrings')
    if (generator === undefined && children.length === 0) throw new TypeError('a MultiKeyring needs a generator or at least one child')
    this.generator = generator
    this.children = Object.freeze([...children])
  }

  async onEncrypt(materials: EncryptionMaterials, context: KeyringServices): Promise<EncryptionMaterials> {
    let result = materials
    if (this.generator) {
      if (result.plaintextDataKey) throw new KeyringError('the materials already have a data key; a generator would replace it')
      result = await this.generator.onEncrypt(result, context)
      if (!result.plaintextDataKey) throw new KeyringError('the generator keyring returned no data key')
    } else if (!result.plaintextDataKey) {
      throw new KeyringError('a MultiKeyring without a generator needs materials that already have a data key')
    }
    for (const child of this.children) result = await child.onEncrypt(result, context)
    return result
  }

  async onDecrypt(materials: DecryptionMaterials, edks: readonly EncryptedDataKey[], context: KeyringServices): Promise<DecryptionMaterials> {
    if (materials.plaintextDataKey) throw new KeyringError('the decryption materials already have a data key')
    const attempts: KeyAttempt[] = []
    let unsupported: UnsupportedError | undefined
    const keyrings = this.generator ? [this.generator, ...this.children] : this.children
    for (const keyring of keyrings) {
      try {
        return await keyring.onDecrypt(materials, edks, context)
      } catch (e) {
        if (e instanceof NoMatchingKeyError) attempts.push(...e.attempts)
        else {
          if (e instanceof UnsupportedError) unsupported ??= e
          const retryable = e instanceof KmsError && e.retryable
          attempts.push({ keyring: keyring.constructor?.name ?? 'keyring', providerId: '-', keyName: '-', reason: errorReason(e), retryable, cause: e })
        }
      }
    }
    if (unsupported) throw unsupported
    throw new NoMatchingKeyError(attempts)
  }
}

function errorReason(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`
  return String(e)
}
