/**
 * The ESDK key schedule: message key derivation and key commitment
 * (spec/algorithm-suites.md#key-derivation), over the backend's HKDF.
 */
import { copyBytes, writeUint16 } from '../format/bytes.js'
import { utf8Encode } from '../encoding.js'
import { COMMIT_KEY_LENGTH } from '../format/constants.js'
import { ALL_SUITES, type AlgorithmSuite } from '../format/suites.js'
import type { CryptoBackend } from '../crypto/backend.js'

const COMMIT_KEY_LABEL = utf8Encode('COMMITKEY')
const DERIVE_KEY_LABEL = utf8Encode('DERIVEKEY')
const EMPTY = new Uint8Array(0)

/** uint16 suite id ‖ "DERIVEKEY" for each committing suite, built once (read-only: backends never write to info). */
const DERIVE_INFO: Record<number, Uint8Array> = Object.fromEntries(
  ALL_SUITES.filter((s) => s.committing).map((s) => {
    const info = new Uint8Array(2 + DERIVE_KEY_LABEL.length)
    writeUint16(info, 0, s.id)
    info.set(DERIVE_KEY_LABEL, 2)
    return [s.id, info]
  }),
)

export interface MessageKeys {
  /** The AES-GCM key for header authentication and body frames. Zero it when done. */
  readonly encryptionKey: Uint8Array
  /** Committing suites only: the value stored in (or checked against) the v2 header. */
  readonly commitKey: Uint8Array | undefined
}

/**
 * identity: key = data key.
 * HKDF (v1): extract with a zero salt, expand with info = uint16 suite id ‖ message id.
 * committing (v2): salt = message id; commit key = expand("COMMITKEY"), key = expand(uint16 suite id ‖ "DERIVEKEY").
 */
export function deriveMessageKeys(
  backend: CryptoBackend,
  suite: AlgorithmSuite,
  dataKey: Uint8Array,
  messageId: Uint8Array,
): MessageKeys {
  if (suite.kdf === 'identity') return { encryptionKey: copyBytes(dataKey), commitKey: undefined }
  const hash = suite.kdfHash!
  if (!suite.committing) {
    const info = new Uint8Array(2 + messageId.length)
    writeUint16(info, 0, suite.id)
    info.set(messageId, 2)
    return { encryptionKey: backend.hkdf(hash, dataKey, EMPTY, [{ info, length: suite.keyLength }])[0]!, commitKey: undefined }
  }
  const [encryptionKey, commitKey] = backend.hkdf(hash, dataKey, messageId, [
    { info: DERIVE_INFO[suite.id]!, length: suite.keyLength },
    { info: COMMIT_KEY_LABEL, length: COMMIT_KEY_LENGTH },
  ])
  return { encryptionKey: encryptionKey!, commitKey }
}
