/**
 * RequiredEncryptionContextCmm (spec/materials.md#required-encryption-context-cmm):
 * the listed keys must be present on encrypt; their pairs are authenticated but
 * not stored, so decrypt must supply them again as a reproduced context.
 */
import { checkOptions } from '../options.js'
import { EncryptionContextError, PolicyError, printable } from '../errors.js'
import type { KeyringServices, Keyring } from './keyring.js'
import { toCmm, type Cmm, type DecryptionRequest, type EncryptionRequest } from './cmm.js'
import type { DecryptionMaterials, EncryptionMaterials } from './materials.js'

export interface RequiredEncryptionContextCmmOptions {
  readonly requiredEncryptionContextKeys: readonly string[]
  readonly keyring?: Keyring
  readonly cmm?: Cmm
}

/**
 * Requires the named context keys: encrypt stores them in the message's authentication only (not in
 * the header), and decrypt fails unless the caller supplies them (spec/materials.md).
 * @example
 * ```ts
 * const cmm = new RequiredEncryptionContextCmm({ keyring, requiredEncryptionContextKeys: ['tenant'] })
 * ```
 * @throws {TypeError} bad options, or not exactly one of keyring and cmm.
 */
export class RequiredEncryptionContextCmm implements Cmm {
  readonly requiredEncryptionContextKeys: readonly string[]
  private readonly underlying: Cmm

  constructor(options: RequiredEncryptionContextCmmOptions) {
    const { requiredEncryptionContextKeys: keys, keyring, cmm } = checkOptions(options, 'RequiredEncryptionContextCmm', { requiredEncryptionContextKeys: 'array', keyring: 'object', cmm: 'object' })
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
      throw new TypeError('requiredEncryptionContextKeys must be an array of strings')
    }
    if ((keyring === undefined) === (cmm === undefined)) throw new TypeError('give exactly one of keyring or cmm')
    this.requiredEncryptionContextKeys = Object.freeze([...new Set(keys)])
    this.underlying = toCmm((keyring ?? cmm)!)
  }

  async getEncryptionMaterials(request: EncryptionRequest, context: KeyringServices): Promise<EncryptionMaterials> {
    const missing = this.requiredEncryptionContextKeys.filter((k) => !Object.hasOwn(request.encryptionContext, k))
    if (missing.length > 0) throw new EncryptionContextError(`the encryption context lacks required keys: ${printable(missing.map((k) => JSON.stringify(k)).join(', '))}`)
    const required = new Set([...(request.requiredEncryptionContextKeys ?? []), ...this.requiredEncryptionContextKeys])
    const materials = await this.underlying.getEncryptionMaterials({ ...request, requiredEncryptionContextKeys: [...required] }, context)
    const listed = new Set(materials.requiredEncryptionContextKeys)
    if (this.requiredEncryptionContextKeys.some((k) => !listed.has(k))) {
      throw new PolicyError('ERR_CONTEXT_MISMATCH', 'the underlying CMM dropped required encryption context keys')
    }
    return materials
  }

  async decryptMaterials(request: DecryptionRequest, context: KeyringServices): Promise<DecryptionMaterials> {
    const reproduced = request.reproducedEncryptionContext ?? {}
    const missing = this.requiredEncryptionContextKeys.filter((k) => !Object.hasOwn(reproduced, k))
    if (missing.length > 0) {
      throw new PolicyError('ERR_CONTEXT_MISMATCH', `decrypt must be given the required encryption context keys: ${printable(missing.map((k) => JSON.stringify(k)).join(', '))}`)
    }
    const materials = await this.underlying.decryptMaterials(request, context)
    const missingAfter = this.requiredEncryptionContextKeys.filter((k) => !Object.hasOwn(materials.encryptionContext, k))
    if (missingAfter.length > 0) throw new PolicyError('ERR_CONTEXT_MISMATCH', 'the underlying CMM dropped required encryption context keys')
    return materials
  }
}
