/**
 * Cache entry identifiers, the formulas the ESDKs for JavaScript, Python, Java
 * and C share (spec/materials.md#caching):
 *   encrypt, no suite:  SHA512( SHA512(partition) ‖ 00 ‖ SHA512(context) )
 *   encrypt, suite:     SHA512( SHA512(partition) ‖ 01 ‖ uint16 suite ‖ SHA512(context) )
 *   decrypt:            SHA512( SHA512(partition) ‖ uint16 suite ‖ sorted SHA512(edk)… ‖ 64 zero bytes ‖ SHA512(context) )
 * Inputs those formulas leave out are folded in only when present, so ordinary
 * ids are unchanged: required context keys (encrypt), a reproduced context
 * (decrypt), and, for an encrypt with no suite under FORBID_ENCRYPT_ALLOW_DECRYPT,
 * that policy: its default suite is not committing, so its materials must not
 * serve a client that requires commitment through a shared CMM, nor the reverse.
 */
import type { CryptoBackend } from '../crypto/backend.js'
import { compareBytes, concatBytes, writeUint16 } from '../format/bytes.js'
import { utf8Encode } from '../encoding.js'
import type { EncryptedDataKey } from '../format/edk.js'
import { encodeEncryptionContext, type EncryptionContext } from '../format/encryption-context.js'
import type { CommitmentPolicy } from '../materials/policy.js'

function uint16(value: number): Uint8Array {
  const out = new Uint8Array(2)
  writeUint16(out, 0, value)
  return out
}

function serializeEdk(edk: EncryptedDataKey): Uint8Array {
  const id = utf8Encode(edk.providerId)
  return concatBytes([uint16(id.length), id, uint16(edk.providerInfo.length), edk.providerInfo, uint16(edk.ciphertext.length), edk.ciphertext])
}

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

export function encryptCacheId(
  backend: CryptoBackend,
  partition: string,
  suiteId: number | undefined,
  context: EncryptionContext,
  requiredKeys: readonly string[] | undefined,
  commitmentPolicy: CommitmentPolicy,
): string {
  const sha = (b: Uint8Array) => backend.digest('sha512', b)
  const parts = [sha(utf8Encode(partition)), suiteId === undefined ? new Uint8Array([0]) : concatBytes([new Uint8Array([1]), uint16(suiteId)]), sha(encodeEncryptionContext(context))]
  if (requiredKeys && requiredKeys.length > 0) parts.push(sha(utf8Encode(JSON.stringify([...requiredKeys].sort()))))
  if (suiteId === undefined && commitmentPolicy === 'FORBID_ENCRYPT_ALLOW_DECRYPT') parts.push(sha(utf8Encode(commitmentPolicy)))
  return hex(sha(concatBytes(parts)))
}

export function decryptCacheId(
  backend: CryptoBackend,
  partition: string,
  suiteId: number,
  edks: readonly EncryptedDataKey[],
  context: EncryptionContext,
  reproduced: EncryptionContext | undefined,
): string {
  const sha = (b: Uint8Array) => backend.digest('sha512', b)
  const edkDigests = edks.map((edk) => sha(serializeEdk(edk))).sort(compareBytes)
  const parts = [sha(utf8Encode(partition)), uint16(suiteId), ...edkDigests, new Uint8Array(64), sha(encodeEncryptionContext(context))]
  if (reproduced && Object.keys(reproduced).length > 0) parts.push(sha(encodeEncryptionContext(reproduced)))
  return hex(sha(concatBytes(parts)))
}
