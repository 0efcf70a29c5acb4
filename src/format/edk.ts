/** Encrypted data key entries (spec/message-format.md#encrypted-data-keys). */
import { printable } from '../errors.js'
import { utf8Decode } from '../encoding.js'

export interface EncryptedDataKey {
  /** Key provider id (the keyring's namespace, or "aws-kms"). */
  readonly providerId: string
  /** Provider-specific bytes: a key name, an ARN, or a raw AES key name followed by IV data. */
  readonly providerInfo: Uint8Array
  readonly ciphertext: Uint8Array
}

/** A printable form of provider info for error reports; undecodable bytes are shown as hex. */
export function printableProviderInfo(info: Uint8Array): string {
  try {
    return printable(utf8Decode(info))
  } catch {
    let hex = ''
    for (const b of info.subarray(0, 64)) hex += b.toString(16).padStart(2, '0')
    return `0x${hex}${info.length > 64 ? '…' : ''}`
  }
}
