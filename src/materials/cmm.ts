/**
 * Cryptographic materials managers (spec/materials.md#cmm) and the default CMM.
 */
import { EncryptionContextError, KeyringError, MalformedMessageError, PolicyError, printable } from '../errors.js'
import { fromBase64, toBase64 } from '../encoding.js'
import { PUBLIC_KEY_CONTEXT_KEY } from '../format/constants.js'
import type { EncryptedDataKey } from '../format/edk.js'
import { addPair, checkReproducedContext, type EncryptionContext } from '../format/encryption-context.js'
import { getSuite, suiteLabel, type AlgorithmSuite } from '../format/suites.js'
import { isKeyring, type Keyring, type KeyringServices } from './keyring.js'
import { createDecryptionMaterials, createEncryptionMaterials, type DecryptionMaterials, type EncryptionMaterials } from './materials.js'
import { assertDecryptAllowed, assertEncryptAllowed, defaultSuiteId, type CommitmentPolicy } from './policy.js'

export interface EncryptionRequest {
  readonly encryptionContext: EncryptionContext
  readonly commitmentPolicy: CommitmentPolicy
  readonly suiteId?: number | undefined
  /** Exact plaintext length when known, or an upper bound for streams. */
  readonly maxPlaintextLength?: number | undefined
  readonly requiredEncryptionContextKeys?: readonly string[] | undefined
}

export interface DecryptionRequest {
  readonly suite: AlgorithmSuite
  readonly commitmentPolicy: CommitmentPolicy
  readonly encryptedDataKeys: readonly EncryptedDataKey[]
  /** The pairs stored in the message header. */
  readonly encryptionContext: EncryptionContext
  /** Pairs the caller supplied at decrypt: must agree with stored ones, others are authenticated-only. */
  readonly reproducedEncryptionContext?: EncryptionContext | undefined
}

export interface Cmm {
  /** The suite, the context and a data key (with its encrypted copies) for one message. */
  getEncryptionMaterials(request: EncryptionRequest, context: KeyringServices): Promise<EncryptionMaterials>
  /** The data key of a message, from its encrypted data keys. */
  decryptMaterials(request: DecryptionRequest, context: KeyringServices): Promise<DecryptionMaterials>
}

/**
 * True for an object with the CMM methods (getEncryptionMaterials, decryptMaterials).
 * @example
 * ```ts
 * isCmm(new DefaultCmm(keyring)) // true
 * ```
 * @throws never.
 */
export function isCmm(value: unknown): value is Cmm {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Cmm).getEncryptionMaterials === 'function' &&
    typeof (value as Cmm).decryptMaterials === 'function'
  )
}

/** Wraps a keyring in the default CMM; passes a CMM through. */
export function toCmm(keyringOrCmm: Keyring | Cmm): Cmm {
  if (isCmm(keyringOrCmm)) return keyringOrCmm
  if (isKeyring(keyringOrCmm)) return new DefaultCmm(keyringOrCmm)
  throw new TypeError('expected a keyring (onEncrypt/onDecrypt) or a CMM (getEncryptionMaterials/decryptMaterials)')
}

/**
 * Merges the reproduced context into the stored one (spec/encryption-context.md#reproduced-context):
 * a key in both must have the same value; a key only in the reproduced context is
 * authenticated but was not stored, so it becomes a required key.
 */
export function mergeReproducedContext(
  stored: EncryptionContext,
  reproduced: EncryptionContext | undefined,
): { encryptionContext: EncryptionContext; requiredKeys: string[] } {
  if (!reproduced) return { encryptionContext: stored, requiredKeys: [] }
  checkReproducedContext(reproduced)
  const requiredKeys: string[] = []
  const merged: Record<string, string> = { ...stored }
  for (const [key, value] of Object.entries(reproduced)) {
    if (Object.hasOwn(stored, key)) {
      if (stored[key] !== value) {
        throw new PolicyError('ERR_CONTEXT_MISMATCH', `encryption context key ${printable(JSON.stringify(key))} has a different value in the message`)
      }
    } else {
      addPair(merged, key, value)
      requiredKeys.push(key)
    }
  }
  return { encryptionContext: Object.freeze(merged), requiredKeys }
}

/**
 * The default CMM: picks the suite allowed by the policy, creates the signing
 * key pair for signed suites (its public half goes into the context), and asks
 * the keyring for the data key.
 * @example
 * ```ts
 * await createClient().encrypt(new DefaultCmm(keyring), 'hello')
 * ```
 * @throws {TypeError} something that is not a keyring.
 */
export class DefaultCmm implements Cmm {
  readonly keyring: Keyring

  constructor(keyring: Keyring) {
    if (!isKeyring(keyring)) throw new TypeError('DefaultCmm needs a keyring')
    this.keyring = keyring
  }

  async getEncryptionMaterials(request: EncryptionRequest, context: KeyringServices): Promise<EncryptionMaterials> {
    const suite = getSuite(request.suiteId ?? defaultSuiteId(request.commitmentPolicy))
    assertEncryptAllowed(request.commitmentPolicy, suite)
    let encryptionContext = request.encryptionContext
    let signingKey
    if (suite.signature) {
      if (Object.hasOwn(encryptionContext, PUBLIC_KEY_CONTEXT_KEY)) {
        throw new EncryptionContextError(`the encryption context already has the reserved key ${PUBLIC_KEY_CONTEXT_KEY}`)
      }
      signingKey = await context.backend.generateSigningKey(suite.signature.curve)
      encryptionContext = Object.freeze({ ...encryptionContext, [PUBLIC_KEY_CONTEXT_KEY]: toBase64(signingKey.publicKey) })
    }
    const initial = createEncryptionMaterials({
      suite,
      encryptionContext,
      requiredEncryptionContextKeys: Object.freeze([...(request.requiredEncryptionContextKeys ?? [])]),
      encryptedDataKeys: [],
      signingKey,
    })
    const materials = await this.keyring.onEncrypt(initial, context)
    if (!materials.plaintextDataKey || materials.plaintextDataKey.length !== suite.keyLength) {
      throw new KeyringError('the keyring returned no data key')
    }
    if (materials.encryptedDataKeys.length === 0) throw new KeyringError('the keyring returned no encrypted data key')
    return materials
  }

  async decryptMaterials(request: DecryptionRequest, context: KeyringServices): Promise<DecryptionMaterials> {
    const { suite } = request
    assertDecryptAllowed(request.commitmentPolicy, suite)
    const { encryptionContext, requiredKeys } = mergeReproducedContext(request.encryptionContext, request.reproducedEncryptionContext)
    const encodedKey = encryptionContext[PUBLIC_KEY_CONTEXT_KEY]
    let verificationKey
    if (suite.signature) {
      if (encodedKey === undefined) {
        throw new MalformedMessageError(`signed suite ${suiteLabel(suite.id)} but the context has no ${PUBLIC_KEY_CONTEXT_KEY}`)
      }
      const point = fromBase64(encodedKey)
      if (!point) throw new MalformedMessageError(`${PUBLIC_KEY_CONTEXT_KEY} is not valid base64`)
      verificationKey = context.backend.importVerificationKey(suite.signature.curve, point)
    } else if (encodedKey !== undefined) {
      throw new MalformedMessageError(`unsigned suite ${suiteLabel(suite.id)} but the context carries ${PUBLIC_KEY_CONTEXT_KEY}`)
    }
    const initial = createDecryptionMaterials({
      suite,
      encryptionContext,
      requiredEncryptionContextKeys: Object.freeze(requiredKeys),
      verificationKey,
    })
    const materials = await this.keyring.onDecrypt(initial, request.encryptedDataKeys, context)
    if (!materials.plaintextDataKey || materials.plaintextDataKey.length !== suite.keyLength) {
      throw new KeyringError('the keyring returned no data key')
    }
    return materials
  }
}
