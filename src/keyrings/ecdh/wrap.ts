/**
 * Key derivation and data key wrapping shared by the ECDH keyrings
 * (spec/ecdh.md#key-derivation; MPL EcdhEdkWrapping):
 *
 *   FixedInfo = "ecdh-key-derivation" 00 curve 00 "HMAC_SHA384" 00 S R 00 01 00 context
 *   okm(64)   = SP 800-108 counter-mode KDF, HMAC-SHA384, key Z, label FixedInfo, context salt
 *   commitment key = okm[0..32], wrapping key = okm[32..64]
 *   AES-256-GCM(wrapping key, IV 12 zero bytes, AAD FixedInfo)
 */
import { ECDH_CURVES, type EcdhCurve } from '../../algorithms.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { kdfCtrHmac } from '../../crypto/kdf-ctr.js'
import { utf8Encode } from '../../encoding.js'
import { concatBytes } from '../../format/bytes.js'
import type { EncryptionContext } from '../../format/encryption-context.js'
import { encodeEncryptionContext } from '../../format/encryption-context.js'
import { ciphertextLength, COMMITMENT_KEY_LENGTH, ECDH_KEYRING_VERSION, SALT_LENGTH } from './wire.js'

/** Lowercase, as the MPL and every vector have it (the spec's pseudo-code says upper case). */
const LABEL = utf8Encode('ecdh-key-derivation')
const PRF_NAME = utf8Encode('HMAC_SHA384')
const OKM_LENGTH = 64
const IV = new Uint8Array(12)

/** The derivation's FixedInfo, also the wrap's AAD. Throws when the context cannot be serialized. */
export function fixedInfo(curve: EcdhCurve, sender: Uint8Array, recipient: Uint8Array, context: EncryptionContext): Uint8Array {
  const sep = Uint8Array.of(0)
  return concatBytes([
    LABEL, sep, utf8Encode(ECDH_CURVES[curve].kdfName), sep, PRF_NAME, sep,
    sender, recipient, sep, Uint8Array.of(ECDH_KEYRING_VERSION), sep, encodeEncryptionContext(context),
  ])
}

function deriveKeys(backend: CryptoBackend, z: Uint8Array, info: Uint8Array, salt: Uint8Array): Uint8Array {
  return kdfCtrHmac(backend, 'sha384', z, info, salt, OKM_LENGTH)
}

/** salt ‖ commitment key ‖ AES-GCM(data key) ‖ tag, under keys derived from the shared secret `z`. */
export function wrapDataKey(backend: CryptoBackend, z: Uint8Array, info: Uint8Array, dataKey: Uint8Array): Uint8Array {
  const salt = backend.randomBytes(SALT_LENGTH)
  const okm = deriveKeys(backend, z, info, salt)
  const out = new Uint8Array(ciphertextLength(dataKey.length))
  out.set(salt, 0)
  out.set(okm.subarray(0, COMMITMENT_KEY_LENGTH), SALT_LENGTH)
  const key = backend.importAesKey(okm.subarray(COMMITMENT_KEY_LENGTH))
  okm.fill(0)
  try {
    backend.gcmSeal(key, IV, info, dataKey, out, SALT_LENGTH + COMMITMENT_KEY_LENGTH)
  } finally {
    key.wipe?.()
  }
  return out
}

/** The data key, or why the ciphertext does not unwrap under `z`. The commitment key is compared in constant time. */
export function unwrapDataKey(backend: CryptoBackend, z: Uint8Array, info: Uint8Array, ciphertext: Uint8Array, keyLength: number): Uint8Array | { reason: string } {
  if (ciphertext.length !== ciphertextLength(keyLength)) {
    return { reason: `ciphertext is ${ciphertext.length} bytes, not the ${ciphertextLength(keyLength)} of an ECDH-wrapped ${keyLength}-byte key` }
  }
  const okm = deriveKeys(backend, z, info, ciphertext.subarray(0, SALT_LENGTH))
  const commitment = ciphertext.subarray(SALT_LENGTH, SALT_LENGTH + COMMITMENT_KEY_LENGTH)
  const committed = backend.timingSafeEqual(okm.subarray(0, COMMITMENT_KEY_LENGTH), commitment)
  if (!committed) {
    okm.fill(0)
    return { reason: 'commitment key does not match: another shared secret, provider info or encryption context' }
  }
  const key = backend.importAesKey(okm.subarray(COMMITMENT_KEY_LENGTH))
  okm.fill(0)
  const start = SALT_LENGTH + COMMITMENT_KEY_LENGTH
  try {
    const dataKey = backend.gcmOpen(key, IV, info, ciphertext.subarray(start, start + keyLength), ciphertext.subarray(start + keyLength))
    if (!dataKey) return { reason: 'data key did not authenticate (AES-GCM tag)' }
    if (dataKey.length !== keyLength) {
      dataKey.fill(0)
      return { reason: 'unwrapped data key has the wrong length' }
    }
    return dataKey
  } finally {
    key.wipe?.()
  }
}

