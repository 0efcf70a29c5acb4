import type { CryptoBackend } from '../crypto/backend.js'
import { KmsError, NoMatchingKeyError, type KeyAttempt } from '../errors.js'
import { printableProviderInfo, type EncryptedDataKey } from '../format/edk.js'
/** Checks and presentation shared by the raw keyrings. */

/**
 * Default of the raw keyrings' `maxUnwrapAttempts`: the encrypted data keys one
 * keyring tries to unwrap per message (spec/keyrings.md#unwrap-attempts). A
 * message made by this SDK or the AWS ESDK holds one per wrapping key; the
 * rest is room for unusual producers. Past it, a message naming the keyring in
 * thousands of forged keys costs no more than this many unwrap operations.
 */
export const DEFAULT_MAX_UNWRAP_ATTEMPTS = 4

export function checkMaxUnwrapAttempts(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_UNWRAP_ATTEMPTS
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new TypeError('maxUnwrapAttempts must be a positive integer')
  return value
}

/** The reason recorded for a key left untried because the keyring reached its maxUnwrapAttempts. */
export function attemptLimitReason(limit: number): string {
  return `not tried: this keyring already made ${limit} unwrap attempts for this message (maxUnwrapAttempts)`
}

/** A fresh data key, from the backend's unpooled source where it has one (spec/backends.md#random). */
export function newDataKey(backend: CryptoBackend, length: number): Uint8Array {
  return backend.randomKeyBytes ? backend.randomKeyBytes(length) : backend.randomBytes(length)
}

/** Resolves after a macrotask, so timers and I/O run in between (a resolved promise would not let them). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))
}

export function checkKeyNamespace(keyNamespace: unknown): asserts keyNamespace is string {
  if (typeof keyNamespace !== 'string' || keyNamespace.length === 0) throw new TypeError('keyNamespace must be a non-empty string')
  // "aws-kms*" provider ids belong to the KMS keyrings (spec/keyrings.md#provider-ids).
  if (keyNamespace.startsWith('aws-kms')) throw new TypeError('keyNamespace must not start with "aws-kms": that prefix is reserved for AWS KMS keyrings')
}

/** Collects why each encrypted data key was not usable, for one NoMatchingKeyError (spec/keyrings.md#contract). */
export class AttemptLog {
  readonly #keyring: string
  readonly #nameOf: (providerInfo: Uint8Array) => string
  readonly #attempts: KeyAttempt[] = []

  constructor(keyring: string, nameOf: (providerInfo: Uint8Array) => string = printableProviderInfo) {
    this.#keyring = keyring
    this.#nameOf = nameOf
  }

  /** A key addressed to this keyring that it could not use; `cause` is the error behind it, if any. */
  record(edk: EncryptedDataKey, reason: string, cause?: unknown): void {
    const retryable = cause instanceof KmsError && cause.retryable
    this.#attempts.push({ keyring: this.#keyring, providerId: edk.providerId, keyName: this.#nameOf(edk.providerInfo), reason, retryable, cause })
  }

  /** A key this keyring may not use, so it did not try it (spec/errors.md#retryable). */
  skip(edk: EncryptedDataKey, reason: string): void {
    this.#attempts.push({ keyring: this.#keyring, providerId: edk.providerId, keyName: this.#nameOf(edk.providerInfo), reason, skipped: true })
  }

  /** Records and returns true when the key belongs to another namespace. */
  otherNamespace(edk: EncryptedDataKey, keyNamespace: string): boolean {
    if (edk.providerId === keyNamespace) return false
    this.skip(edk, `not this keyring's namespace (${JSON.stringify(keyNamespace)})`)
    return true
  }

  error(): NoMatchingKeyError {
    return new NoMatchingKeyError(this.#attempts)
  }
}
