/**
 * The ECDH keyrings' encrypted data key layout (spec/ecdh.md#wire-format),
 * the same for the raw and the KMS keyring:
 * - provider info: 0x01 ‖ uint32 len(R) ‖ R ‖ uint32 len(S) ‖ S, R the
 *   recipient's and S the sender's SEC1 compressed public key;
 * - ciphertext: salt(32) ‖ commitment key(32) ‖ wrapped data key ‖ tag(16).
 */
import { ECDH_CURVES, type EcdhCurve } from '../../algorithms.js'
import { readUint32, writeUint32 } from '../../format/bytes.js'

/**
 * The provider id of encrypted data keys that RawEcdhKeyring writes.
 * @example
 * ```ts
 * const ecdhKeys = info.encryptedDataKeys.filter((k) => k.providerId === RAW_ECDH_PROVIDER_ID)
 * ```
 */
export const RAW_ECDH_PROVIDER_ID = 'raw-ecdh'
/**
 * The provider id of encrypted data keys that KmsEcdhKeyring writes.
 * @example
 * ```ts
 * const kmsEcdhKeys = info.encryptedDataKeys.filter((k) => k.providerId === KMS_ECDH_PROVIDER_ID)
 * ```
 */
export const KMS_ECDH_PROVIDER_ID = 'aws-kms-ecdh'
/** Both keyrings decrypt either kind (MPL RawECDHKeyring and AwsKmsEcdhKeyring). */
export const ECDH_PROVIDER_IDS: readonly string[] = [RAW_ECDH_PROVIDER_ID, KMS_ECDH_PROVIDER_ID]

/** The keyring version byte, in the provider info and in the KDF's FixedInfo. */
export const ECDH_KEYRING_VERSION = 0x01
export const SALT_LENGTH = 32
export const COMMITMENT_KEY_LENGTH = 32
export const TAG_LENGTH = 16

export function encodeProviderInfo(recipient: Uint8Array, sender: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + 4 + recipient.length + 4 + sender.length)
  out[0] = ECDH_KEYRING_VERSION
  writeUint32(out, 1, recipient.length)
  out.set(recipient, 5)
  writeUint32(out, 5 + recipient.length, sender.length)
  out.set(sender, 9 + recipient.length)
  return out
}

/** The two compressed points, or why the provider info is not one for `curve`. */
export function decodeProviderInfo(info: Uint8Array, curve: EcdhCurve): { recipient: Uint8Array; sender: Uint8Array } | { reason: string } {
  const c = ECDH_CURVES[curve].compressedPointLength
  if (info.length !== 9 + 2 * c) return { reason: `provider info is ${info.length} bytes, not the ${9 + 2 * c} of a ${curve} ECDH key` }
  if (info[0] !== ECDH_KEYRING_VERSION) return { reason: `provider info version is ${info[0]}, not ${ECDH_KEYRING_VERSION}` }
  if (readUint32(info, 1) !== c || readUint32(info, 5 + c) !== c) return { reason: `provider info key lengths are not ${c} (compressed ${curve} points)` }
  return { recipient: info.subarray(5, 5 + c), sender: info.subarray(9 + c) }
}

export function ciphertextLength(keyLength: number): number {
  return SALT_LENGTH + COMMITMENT_KEY_LENGTH + keyLength + TAG_LENGTH
}
