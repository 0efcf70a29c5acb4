/** Wire constants and format limits (spec/message-format.md). */

export const VERSION_1 = 0x01
export const VERSION_2 = 0x02
/** v1 "Type" field: customer authenticated encrypted data, the only legal value. */
export const TYPE_CUSTOMER_AED = 0x80

export const CONTENT_TYPE_NON_FRAMED = 0x01
export const CONTENT_TYPE_FRAMED = 0x02

export const MESSAGE_ID_LENGTH_V1 = 16
export const MESSAGE_ID_LENGTH_V2 = 32
export const COMMIT_KEY_LENGTH = 32

export const IV_LENGTH = 12
export const TAG_LENGTH = 16

/** A final frame starts with this sequence-number marker (spec/message-format.md#final-frame). */
export const FINAL_FRAME_MARKER = 0xffffffff

export const DEFAULT_FRAME_LENGTH = 4096
export const MAX_FRAME_LENGTH = 0xffffffff
export const MAX_FRAMES = 0xffffffff
/** AES-GCM can encrypt at most 2^36 - 32 bytes under one IV (non-framed bodies). */
export const MAX_NON_FRAMED_LENGTH = 2 ** 36 - 32

export const MAX_UINT16 = 0xffff

/** Body AAD content strings (spec/message-format.md#body-aad). */
export const CONTENT_FRAME = 'AWSKMSEncryptionClient Frame'
export const CONTENT_FINAL_FRAME = 'AWSKMSEncryptionClient Final Frame'
export const CONTENT_SINGLE_BLOCK = 'AWSKMSEncryptionClient Single Block'

/** Reserved encryption context prefix and the key the default CMM writes (spec/encryption-context.md). */
export const RESERVED_CONTEXT_PREFIX = 'aws-crypto-'
export const PUBLIC_KEY_CONTEXT_KEY = 'aws-crypto-public-key'

