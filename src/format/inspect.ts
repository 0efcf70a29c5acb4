/**
 * inspectMessage: what a message's header says, without a key
 * (spec/rewrap.md#inspect). It runs the header parser decrypt runs, with the
 * same limits and the same typed errors, and authenticates nothing: every field
 * is what the writer (or anyone who altered the bytes) put there.
 */
import { utf8Decode } from '../encoding.js'
import { readUint32 } from './bytes.js'
import { IV_LENGTH, TAG_LENGTH } from './constants.js'
import type { EncryptionContext } from './encryption-context.js'
import { decodeHeader } from './header.js'
import { checkMaxEncryptedDataKeys, checkMaxHeaderSize } from './limits.js'
import type { SuiteName } from './suites.js'

export interface InspectOptions {
  /** As the client option: default 64, `false` for the format's 65,535. */
  readonly maxEncryptedDataKeys?: number | false
  /** As the client option: default 1 MiB. */
  readonly maxHeaderSize?: number
}

/**
 * What a key name in an EDK is, decided from its provider id and the shape of
 * its provider info (nothing checks it against a key):
 * - `kms-key-arn`: provider `aws-kms` or `aws-kms-rsa`; the KMS key ARN the writer recorded;
 * - `branch-key-id`: provider `aws-kms-hierarchy`; the hierarchical keyring's branch key id;
 * - `raw-aes-key-name`: another provider whose info ends in a raw AES keyring's
 *   tag length (128 bits), IV length (12) and IV; the key name before them;
 * - `key-name`: another provider whose info is UTF-8 text, such as a raw RSA keyring's key name.
 */
export type KeyNameKind = 'kms-key-arn' | 'branch-key-id' | 'raw-aes-key-name' | 'key-name'

export interface InspectedDataKey {
  readonly providerId: string
  readonly providerInfo: Uint8Array
  /** Absent when the provider info has no text key name (ECDH keyrings, binary info). */
  readonly keyName?: string
  readonly keyNameKind?: KeyNameKind
  /** Length of the encrypted data key, in bytes. */
  readonly length: number
}

export interface MessageInfo {
  /** The whole header was present and parsed. */
  readonly complete: true
  /** Always false: nothing here is authenticated until a key verifies the header tag. */
  readonly authenticated: false
  readonly version: 1 | 2
  readonly suiteId: number
  readonly suiteName: SuiteName
  readonly messageId: Uint8Array
  /** 1: non-framed, 2: framed. */
  readonly contentType: 1 | 2
  /** 0 for non-framed messages. */
  readonly frameLength: number
  /** Header body plus header authentication: where the body starts. */
  readonly headerLength: number
  readonly signed: boolean
  readonly committing: boolean
  /** The pairs stored in the header (a signed suite's public key among them). */
  readonly encryptionContext: EncryptionContext
  readonly encryptedDataKeys: readonly InspectedDataKey[]
}

/** The bytes end inside the header. */
export interface IncompleteHeader {
  readonly complete: false
  /** A lower bound on the bytes, counted from the start of the message, the header needs: call again with at least this many. */
  readonly needed: number
}

/**
 * Parses the header at the start of `bytes` (a whole message or its first
 * bytes; anything after the header is ignored). Throws the decrypt parser's
 * errors: MalformedMessageError (ERR_MALFORMED_MESSAGE, ERR_BASE64_INPUT) and
 * LimitError (maxEncryptedDataKeys, maxHeaderSize).
 * @example
 * ```ts
 * const info = inspectMessage(ciphertext)
 * if (info.complete) for (const key of info.encryptedDataKeys) console.log(key.providerId, key.keyName)
 * ```
 * @throws {TypeError} bytes that are not a Uint8Array.
 * @throws {MalformedMessageError} a header that does not parse (ERR_MALFORMED_MESSAGE), or Base64 text (ERR_BASE64_INPUT).
 * @throws {LimitError} more encrypted data keys than maxEncryptedDataKeys, or a header larger than maxHeaderSize (ERR_LIMIT_EXCEEDED).
 */
export function inspectMessage(bytes: Uint8Array, options: InspectOptions = {}): MessageInfo | IncompleteHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('inspectMessage needs the message bytes as a Uint8Array')
  const limits = {
    maxEncryptedDataKeys: checkMaxEncryptedDataKeys(options.maxEncryptedDataKeys),
    maxHeaderSize: checkMaxHeaderSize(options.maxHeaderSize),
  }
  const result = decodeHeader(bytes, limits)
  if ('needed' in result) return Object.freeze({ complete: false, needed: result.needed })
  const { header, suite } = result
  return Object.freeze({
    complete: true,
    authenticated: false,
    version: header.version,
    suiteId: suite.id,
    suiteName: suite.name,
    messageId: header.messageId,
    contentType: header.contentType,
    frameLength: header.frameLength,
    headerLength: result.length,
    signed: suite.signature !== undefined,
    committing: suite.committing,
    encryptionContext: header.encryptionContext,
    encryptedDataKeys: Object.freeze(
      header.encryptedDataKeys.map((edk) =>
        Object.freeze({ providerId: edk.providerId, providerInfo: edk.providerInfo, ...keyNameOf(edk.providerId, edk.providerInfo), length: edk.ciphertext.length }),
      ),
    ),
  })
}

/** Raw AES provider info: key name ‖ uint32 tag bits ‖ uint32 IV length ‖ IV (spec/keyrings.md#raw-aes-provider-info). */
const RAW_AES_TRAILER = 8 + IV_LENGTH

function keyNameOf(providerId: string, info: Uint8Array): { keyName?: string; keyNameKind?: KeyNameKind } {
  if (providerId === 'aws-kms' || providerId === 'aws-kms-rsa') return named(info, 'kms-key-arn')
  if (providerId === 'aws-kms-hierarchy') return named(info, 'branch-key-id')
  // Other aws-kms-* and raw-ecdh providers store structured binary info, not a name.
  if (providerId.startsWith('aws-kms') || providerId === 'raw-ecdh') return {}
  const n = info.length - RAW_AES_TRAILER
  if (n >= 0 && readUint32(info, n) === TAG_LENGTH * 8 && readUint32(info, n + 4) === IV_LENGTH) {
    return named(info.subarray(0, n), 'raw-aes-key-name')
  }
  return named(info, 'key-name')
}

function named(bytes: Uint8Array, keyNameKind: KeyNameKind): { keyName?: string; keyNameKind?: KeyNameKind } {
  try {
    return { keyName: utf8Decode(bytes), keyNameKind }
  } catch {
    return {}
  }
}
