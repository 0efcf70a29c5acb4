/**
 * The message key and the header it authenticates, the same for both
 * directions: data key -> message key (spec/algorithm-suites.md#key-derivation),
 * the key commitment check, and the header tag over the header body and the
 * authenticated-only required pairs (spec/message-format.md#header-authentication,
 * spec/encryption-context.md#required-keys).
 *
 * Wipe order: the data key is zeroed as soon as the message key is derived,
 * and the derived bytes as soon as they are imported (or refused), whatever
 * happens; the imported key is the caller's to wipe (spec/backends.md#message-keys).
 */
import type { AesKey, CryptoBackend } from '../crypto/backend.js'
import { AuthenticationError } from '../errors.js'
import { concatBytes } from '../format/bytes.js'
import { IV_LENGTH, TAG_LENGTH } from '../format/constants.js'
import { addPair, encodeEncryptionContext, type EncryptionContext } from '../format/encryption-context.js'
import type { AlgorithmSuite } from '../format/suites.js'
import { deriveMessageKeys } from './key-schedule.js'

const EMPTY = new Uint8Array(0)
/** The header IV is all zeros (read-only: backends never write to an IV). */
const ZERO_IV = new Uint8Array(IV_LENGTH)

export interface SealingKey {
  readonly key: AesKey
  /** Committing suites: the value the header stores. */
  readonly commitKey: Uint8Array | undefined
}

/** Encrypt: the message key for a new message, and its commitment. Zeroes `dataKey`. */
export function sealingKey(backend: CryptoBackend, suite: AlgorithmSuite, dataKey: Uint8Array, messageId: Uint8Array): SealingKey {
  return messageKey(backend, suite, dataKey, messageId, undefined)
}

/**
 * Decrypt: the message key, after its commitment is checked, in constant time,
 * against the one the header stores; before the key touches any ciphertext.
 * Zeroes `dataKey`. Throws AuthenticationError('commitment').
 */
export function openingKey(
  backend: CryptoBackend,
  suite: AlgorithmSuite,
  dataKey: Uint8Array,
  messageId: Uint8Array,
  storedCommitKey: Uint8Array | undefined,
): AesKey {
  return messageKey(backend, suite, dataKey, messageId, { stored: storedCommitKey }).key
}

function messageKey(
  backend: CryptoBackend,
  suite: AlgorithmSuite,
  dataKey: Uint8Array,
  messageId: Uint8Array,
  check: { stored: Uint8Array | undefined } | undefined,
): SealingKey {
  let keys
  try {
    keys = deriveMessageKeys(backend, suite, dataKey, messageId)
  } finally {
    dataKey.fill(0)
  }
  try {
    if (check && suite.committing) {
      const { commitKey } = keys
      if (commitKey === undefined || check.stored === undefined || !backend.timingSafeEqual(commitKey, check.stored)) {
        throw new AuthenticationError('commitment')
      }
    }
    return { key: backend.importAesKey(keys.encryptionKey), commitKey: keys.commitKey }
  } finally {
    keys.encryptionKey.fill(0)
  }
}

/** Splits the materials' context: required pairs are authenticated but not stored (spec/encryption-context.md#required-keys). */
export function splitRequiredContext(
  context: EncryptionContext,
  requiredKeys: readonly string[],
): { stored: Record<string, string>; authOnly: Record<string, string> } {
  const required = new Set(requiredKeys)
  const stored: Record<string, string> = {}
  const authOnly: Record<string, string> = {}
  for (const [k, v] of Object.entries(context)) addPair(required.has(k) ? authOnly : stored, k, v)
  return { stored, authOnly }
}

/** The header AAD: header body ‖ serialized authenticated-only pairs (nothing when there are none). */
function headerAad(headerBody: Uint8Array, authOnly: EncryptionContext): Uint8Array {
  const authOnlyBytes = encodeEncryptionContext(authOnly)
  return authOnlyBytes.length === 0 ? headerBody : concatBytes([headerBody, authOnlyBytes])
}

/**
 * Writes the header tag into the last TAG_LENGTH bytes of `headerBytes` (header
 * body ‖ `authLength` bytes of room). The IV is all zeros: v1 writes it out
 * (the room is already zero), v2 leaves it implicit.
 */
export function sealHeaderTag(backend: CryptoBackend, key: AesKey, headerBytes: Uint8Array, authLength: number, authOnly: EncryptionContext): void {
  const headerBody = headerBytes.subarray(0, headerBytes.length - authLength)
  backend.gcmSeal(key, ZERO_IV, headerAad(headerBody, authOnly), EMPTY, headerBytes, headerBytes.length - TAG_LENGTH)
}

/** Whether the header tag verifies; `headerIv` is undefined for v2 (all zeros). */
export function openHeaderTag(
  backend: CryptoBackend,
  key: AesKey,
  headerBody: Uint8Array,
  headerIv: Uint8Array | undefined,
  headerTag: Uint8Array,
  authOnly: EncryptionContext,
): boolean {
  return backend.gcmOpen(key, headerIv ?? ZERO_IV, headerAad(headerBody, authOnly), EMPTY, headerTag) !== undefined
}
