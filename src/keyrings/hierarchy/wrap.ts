/**
 * The hierarchical keyring's encrypted data key (spec/hierarchy.md#hierarchical-keyring):
 *   provider id   "aws-kms-hierarchy"
 *   provider info UTF-8 branch key id
 *   ciphertext    salt(16) ‖ iv(12) ‖ version(16) ‖ AES-256-GCM(wrapping key, iv, AAD, data key) ‖ tag(16)
 *   wrapping key  KDF_CTR_HMAC_SHA256(branch key, "aws-kms-hierarchy", salt, 32 bytes)
 *   AAD           "aws-kms-hierarchy" ‖ UTF-8 branch key id ‖ version(16) ‖ serialized encryption context
 * The wrapping does not depend on the message's suite.
 */
import type { CryptoBackend } from '../../crypto/backend.js'
import { kdfCtrHmac } from '../../crypto/kdf-ctr.js'
import { utf8Encode } from '../../encoding.js'
import { concatBytes } from '../../format/bytes.js'
import { IV_LENGTH, TAG_LENGTH } from '../../format/constants.js'

export const HIERARCHY_PROVIDER_ID = 'aws-kms-hierarchy'
const LABEL = utf8Encode(HIERARCHY_PROVIDER_ID)
export const SALT_LENGTH = 16
export const VERSION_LENGTH = 16
const VERSION_OFFSET = SALT_LENGTH + IV_LENGTH
const HEADER_LENGTH = VERSION_OFFSET + VERSION_LENGTH
export const BRANCH_KEY_LENGTH = 32

/** The EDK ciphertext length for a data key of `keyLength` bytes (76, 84 or 92). */
export function wrappedLength(keyLength: number): number {
  return HEADER_LENGTH + keyLength + TAG_LENGTH
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The 16 bytes of a version UUID, or undefined when the text is not one. */
export function versionBytes(version: string): Uint8Array | undefined {
  if (typeof version !== 'string' || !UUID.test(version)) return undefined
  const hex = version.replaceAll('-', '')
  const out = new Uint8Array(VERSION_LENGTH)
  for (let i = 0; i < VERSION_LENGTH; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** The lowercase 8-4-4-4-12 form the key store is asked for. */
export function versionString(bytes: Uint8Array): string {
  let hex = ''
  for (const b of bytes) hex += b.toString(16).padStart(2, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The version bytes of an EDK ciphertext already checked to have the right length. */
export function versionOf(ciphertext: Uint8Array): Uint8Array {
  return ciphertext.subarray(VERSION_OFFSET, HEADER_LENGTH)
}

function wrappingAad(branchKeyId: Uint8Array, version: Uint8Array, context: Uint8Array): Uint8Array {
  return concatBytes([LABEL, branchKeyId, version, context])
}

function deriveWrappingKey(backend: CryptoBackend, branchKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return kdfCtrHmac(backend, 'sha256', branchKey, LABEL, salt, 32)
}

function withWrappingKey<T>(backend: CryptoBackend, branchKey: Uint8Array, salt: Uint8Array, use: (key: ReturnType<CryptoBackend['importAesKey']>) => T): T {
  const raw = deriveWrappingKey(backend, branchKey, salt)
  const key = backend.importAesKey(raw)
  raw.fill(0)
  try {
    return use(key)
  } finally {
    key.wipe?.()
  }
}

export function wrapDataKey(
  backend: CryptoBackend,
  branchKey: Uint8Array,
  branchKeyId: Uint8Array,
  version: Uint8Array,
  context: Uint8Array,
  dataKey: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(wrappedLength(dataKey.length))
  const salt = backend.randomBytes(SALT_LENGTH)
  const iv = backend.randomBytes(IV_LENGTH)
  out.set(salt, 0)
  out.set(iv, SALT_LENGTH)
  out.set(version, VERSION_OFFSET)
  withWrappingKey(backend, branchKey, salt, (key) => backend.gcmSeal(key, iv, wrappingAad(branchKeyId, version, context), dataKey, out, HEADER_LENGTH))
  return out
}

/**
 * The data key, or undefined when no AAD in `contexts` verifies (wrong branch
 * key, altered EDK or a different context). `contexts` are serializations of
 * the same context in the orders to try (keyrings/context-order.ts).
 */
export function unwrapDataKey(
  backend: CryptoBackend,
  branchKey: Uint8Array,
  branchKeyId: Uint8Array,
  ciphertext: Uint8Array,
  contexts: Iterable<Uint8Array>,
): Uint8Array | undefined {
  const salt = ciphertext.subarray(0, SALT_LENGTH)
  const iv = ciphertext.subarray(SALT_LENGTH, VERSION_OFFSET)
  const version = versionOf(ciphertext)
  const sealed = ciphertext.subarray(HEADER_LENGTH, ciphertext.length - TAG_LENGTH)
  const tag = ciphertext.subarray(ciphertext.length - TAG_LENGTH)
  return withWrappingKey(backend, branchKey, salt, (key) => {
    for (const context of contexts) {
      const dataKey = backend.gcmOpen(key, iv, wrappingAad(branchKeyId, version, context), sealed, tag)
      if (dataKey) return dataKey
    }
    return undefined
  })
}
