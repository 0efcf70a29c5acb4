/**
 * Every error envelope-sdk raises for bad data or a failing environment is an
 * `EnvelopeError` with a stable `code`. Programmer mistakes (an option of the
 * wrong type or out of range) raise `TypeError` / `RangeError` instead.
 *
 * Messages name fields, offsets, key names and limits; they never contain
 * plaintext, data keys or wrapping keys. The table of codes, with what a caller
 * can do about each, is in spec/errors.md.
 */

export type ErrorCode =
  | 'ERR_MALFORMED_MESSAGE'
  | 'ERR_TRUNCATED'
  | 'ERR_TRAILING_BYTES'
  | 'ERR_BASE64_INPUT'
  | 'ERR_AUTHENTICATION_FAILED'
  | 'ERR_NO_MATCHING_KEY'
  | 'ERR_KEYRING'
  | 'ERR_COMMITMENT_POLICY'
  | 'ERR_SIGNED_NOT_ALLOWED'
  | 'ERR_CONTEXT_MISMATCH'
  | 'ERR_INVALID_CONTEXT'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ERR_UNSUPPORTED'
  | 'ERR_KMS'
  | KeyStoreErrorCode
  | 'ERR_WORKER'
  | 'ERR_INVALID_KEY'
  | 'ERR_ATTESTATION'
  | 'ERR_RECIPIENT'

/**
 * All codes, in the order spec/errors.md documents them.
 * @example
 * ```ts
 * ERROR_CODES.includes(e.code)
 * ```
 */
export const ERROR_CODES: readonly ErrorCode[] = [
  'ERR_MALFORMED_MESSAGE',
  'ERR_TRUNCATED',
  'ERR_TRAILING_BYTES',
  'ERR_BASE64_INPUT',
  'ERR_AUTHENTICATION_FAILED',
  'ERR_NO_MATCHING_KEY',
  'ERR_KEYRING',
  'ERR_COMMITMENT_POLICY',
  'ERR_SIGNED_NOT_ALLOWED',
  'ERR_CONTEXT_MISMATCH',
  'ERR_INVALID_CONTEXT',
  'ERR_LIMIT_EXCEEDED',
  'ERR_UNSUPPORTED',
  'ERR_KMS',
  'ERR_BRANCH_KEY_NOT_FOUND',
  'ERR_BRANCH_KEY_VERSION_NOT_FOUND',
  'ERR_BRANCH_KEY_INVALID',
  'ERR_KEY_STORE_KMS_KEY',
  'ERR_KEY_STORE_CONFLICT',
  'ERR_KEY_STORE_THROTTLED',
  'ERR_KEY_STORE',
  'ERR_WORKER',
  'ERR_INVALID_KEY',
  'ERR_ATTESTATION',
  'ERR_RECIPIENT',
]

/**
 * Marks every EnvelopeError, whichever copy of the package made it: the ESM and
 * CommonJS builds (or two installed versions) have distinct classes, so
 * `instanceof` fails across them; a registry symbol does not.
 */
const BRAND = Symbol.for('envelope-sdk.error')

/**
 * Every error this library throws for data or keys (not for programming mistakes, which are
 * TypeError/RangeError): `code` is stable (spec/errors.md). Subclasses narrow the code.
 * @example
 * ```ts
 * try { await client.decrypt(keyring, bytes) } catch (e) { if (isEnvelopeError(e) && e.code === 'ERR_NO_MATCHING_KEY') … }
 * ```
 * @throws never itself: it is what the library throws.
 */
export class EnvelopeError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/**
 * The bytes are not a well-formed message. `offset` is where the problem was found.
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_TRUNCATED') retryDownload()
 * ```
 */
export class MalformedMessageError extends EnvelopeError {
  readonly offset: number | undefined
  constructor(
    message: string,
    options?: { offset?: number; code?: 'ERR_MALFORMED_MESSAGE' | 'ERR_TRUNCATED' | 'ERR_TRAILING_BYTES' | 'ERR_BASE64_INPUT'; cause?: unknown },
  ) {
    super(options?.code ?? 'ERR_MALFORMED_MESSAGE', options?.offset === undefined ? message : `${message} (at byte ${options.offset})`, options)
    this.offset = options?.offset
  }
}

export type AuthenticationStage = 'header' | 'commitment' | 'frame' | 'body' | 'signature'

/**
 * A tag, the key commitment or the signature did not verify: the message was
 * altered, or it was not written under this data key. The message is fixed so
 * the error cannot be used as an oracle; `stage` and `frame` only say where.
 * @example
 * ```ts
 * if (e instanceof AuthenticationError) console.error(e.stage)
 * ```
 */
export class AuthenticationError extends EnvelopeError {
  readonly stage: AuthenticationStage
  readonly frame: number | undefined
  constructor(stage: AuthenticationStage, frame?: number) {
    super('ERR_AUTHENTICATION_FAILED', `message authentication failed (${stage}${frame === undefined ? '' : ` ${frame}`})`)
    this.stage = stage
    this.frame = frame
  }
}

/**
 * Characters a terminal or log viewer acts on: C0 controls (ESC, BEL, CR, LF...),
 * DEL, C1 controls, the line and paragraph separators U+2028/U+2029 and the
 * Unicode bidi controls (U+061C, U+200E-200F, U+202A-202E, U+2066-2069).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g')

/**
 * `text` with every control, separator and bidi character written as `\xNN` or
 * `\uNNNN`, so a string from a message can neither move the cursor, forge a
 * line nor reorder what a terminal shows (spec/errors.md#printable-text).
 * Idempotent: a backslash is left as it is, so applying it twice changes nothing.
 */
export function printable(text: string): string {
  // Test first: replace() with a callback is ~10x slower even when nothing matches, and a hostile header lists 65,535 names.
  if (!UNPRINTABLE.test(text)) return text
  return text.replace(UNPRINTABLE_ALL, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** One encrypted data key a keyring looked at, and why it could not use it. */
export interface KeyAttempt {
  readonly keyring: string
  readonly providerId: string
  /** The key name or ARN as recorded in the message (printable form). */
  readonly keyName: string
  readonly reason: string
  /** The key is not one this keyring may use (another namespace, an unconfigured key, outside a filter): it was not tried. */
  readonly skipped?: boolean
  /** The keyring tried the key and the key service failed transiently (KmsError.retryable): a later try may succeed. */
  readonly retryable?: boolean
  /** The error behind a failed try (a KmsError for KMS calls); it carries no key material and no request payload. */
  readonly cause?: unknown
}

/**
 * The message lists at most this many attempts, each field clipped: a hostile
 * header can carry 65,535 keys with 64 KiB names, and the message ends up in logs.
 * `attempts` keeps every entry in full.
 */
const LISTED_ATTEMPTS = 20
const LISTED_FIELD_CHARS = 300

function clip(text: string): string {
  return text.length > LISTED_FIELD_CHARS ? `${text.slice(0, LISTED_FIELD_CHARS)}…` : text
}

/**
 * No keyring could decrypt any of the message's encrypted data keys.
 * `retryable` is true when at least one key was tried and every key tried
 * failed transiently (spec/errors.md#retryable): trying later may succeed.
 * Every string in `attempts` is in printable form.
 * @example
 * ```ts
 * if (e instanceof NoMatchingKeyError) for (const a of e.attempts) console.error(a.keyring, a.reason)
 * ```
 */
export class NoMatchingKeyError extends EnvelopeError {
  readonly attempts: readonly KeyAttempt[]
  readonly retryable: boolean
  constructor(attempts: readonly KeyAttempt[], summary = 'no keyring could decrypt any encrypted data key') {
    const listed = attempts.map((a): KeyAttempt => ({
      keyring: printable(String(a.keyring)),
      providerId: printable(String(a.providerId)),
      keyName: printable(String(a.keyName)),
      reason: printable(String(a.reason)),
      skipped: a.skipped === true,
      retryable: a.retryable === true,
      ...(a.cause === undefined ? {} : { cause: a.cause }),
    }))
    const lines = listed
      .slice(0, LISTED_ATTEMPTS)
      .map((a) => `  - ${a.keyring}: ${clip(a.providerId)} "${clip(a.keyName)}": ${clip(a.reason)}`)
    if (listed.length > LISTED_ATTEMPTS) lines.push(`  … and ${listed.length - LISTED_ATTEMPTS} more (see .attempts)`)
    super('ERR_NO_MATCHING_KEY', lines.length === 0 ? printable(summary) : `${printable(summary)}:\n${lines.join('\n')}`)
    this.attempts = listed
    this.retryable = listed.some((a) => a.retryable) && listed.every((a) => a.retryable || a.skipped)
  }
}

/**
 * A keyring could not do what it was asked on encrypt, or its output broke the contract.
 * @example
 * ```ts
 * throw new KeyringError('my keyring cannot reach its key store', { cause })
 * ```
 */
export class KeyringError extends EnvelopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_KEYRING', message, options)
  }
}

/**
 * The message or the requested suite is not allowed by the client's policies, or contexts disagree.
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_CONTEXT_MISMATCH') …
 * ```
 */
export class PolicyError extends EnvelopeError {
  constructor(code: 'ERR_COMMITMENT_POLICY' | 'ERR_SIGNED_NOT_ALLOWED' | 'ERR_CONTEXT_MISMATCH', message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/**
 * The encryption context given by the caller cannot be used (reserved key, too large, bad string).
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_INVALID_CONTEXT') …
 * ```
 */
export class EncryptionContextError extends EnvelopeError {
  constructor(message: string) {
    super('ERR_INVALID_CONTEXT', message)
  }
}

/**
 * A configured or format limit was exceeded. Raised before anything of that size is allocated.
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_LIMIT_EXCEEDED') …
 * ```
 */
export class LimitError extends EnvelopeError {
  readonly limit: string
  readonly value: number | bigint
  readonly max: number | bigint
  constructor(limit: string, value: number | bigint, max: number | bigint, detail?: string) {
    super('ERR_LIMIT_EXCEEDED', `${limit} exceeded: ${value} > ${max}${detail ? ` (${detail})` : ''}`)
    this.limit = limit
    this.value = value
    this.max = max
  }
}

/**
 * The runtime or the chosen crypto backend cannot do this operation. The message names the remedy.
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_UNSUPPORTED') …
 * ```
 */
export class UnsupportedError extends EnvelopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_UNSUPPORTED', message, options)
  }
}

/**
 * AWS KMS refused or failed a call. `cause` is the SDK's error; `retryable` says whether trying later may help.
 * @example
 * ```ts
 * if (e instanceof KmsError && e.retryable) await retryLater()
 * ```
 */
export class KmsError extends EnvelopeError {
  readonly keyId: string
  readonly kmsErrorName: string
  readonly retryable: boolean
  constructor(keyId: string, kmsErrorName: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    // The key id may come from a message, the name and text from the endpoint: both printable.
    super('ERR_KMS', printable(`KMS ${kmsErrorName} for ${keyId}: ${message}`), options)
    this.keyId = printable(keyId)
    this.kmsErrorName = printable(kmsErrorName)
    this.retryable = retryable
  }
}

export type KeyStoreErrorCode =
  | 'ERR_BRANCH_KEY_NOT_FOUND'
  | 'ERR_BRANCH_KEY_VERSION_NOT_FOUND'
  | 'ERR_BRANCH_KEY_INVALID'
  | 'ERR_KEY_STORE_KMS_KEY'
  | 'ERR_KEY_STORE_CONFLICT'
  | 'ERR_KEY_STORE_THROTTLED'
  | 'ERR_KEY_STORE'

/**
 * The branch key store (spec/hierarchy.md#branch-key-store) could not read,
 * write or authenticate a branch key. `branchKeyId` and `branchKeyVersion` name
 * what was asked for (printable form); `retryable` says whether trying later may
 * help. Never carries key bytes or item ciphertexts.
 * @example
 * ```ts
 * if (e instanceof KeyStoreError && e.code === 'ERR_BRANCH_KEY_NOT_FOUND') await keyStore.createKey({ branchKeyId, encryptionContext })
 * ```
 */
export class KeyStoreError extends EnvelopeError {
  readonly branchKeyId: string | undefined
  readonly branchKeyVersion: string | undefined
  readonly retryable: boolean
  constructor(
    code: KeyStoreErrorCode,
    message: string,
    options?: { branchKeyId?: string; branchKeyVersion?: string; retryable?: boolean; cause?: unknown },
  ) {
    super(code, printable(message), options)
    this.branchKeyId = options?.branchKeyId === undefined ? undefined : printable(options.branchKeyId)
    this.branchKeyVersion = options?.branchKeyVersion === undefined ? undefined : printable(options.branchKeyVersion)
    this.retryable = options?.retryable === true
  }
}

/**
 * A worker thread of the node backend failed while it held work this thread
 * cannot redo (spec/backends.md#worker-failures). Nothing of the message was
 * released; trying again does the work again.
 * @example
 * ```ts
 * if (isEnvelopeError(e) && e.code === 'ERR_WORKER') …
 * ```
 */
export class WorkerError extends EnvelopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WORKER', message, options)
  }
}

/**
 * A public or private key cannot be used: it does not parse in the expected
 * form (the message names it), it is on another curve, or its point is not on
 * the curve or is the identity (spec/ecdh.md#keys). Never carries key bytes.
 * @example
 * ```ts
 * if (e instanceof InvalidKeyError) console.error(`check the key file: ${e.message}`)
 * ```
 */
export class InvalidKeyError extends EnvelopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_KEY', message, options)
  }
}

/**
 * Which check a Nitro attestation document failed (spec/nitro.md#verification):
 * - `malformed`: not COSE_Sign1 ES384 over a well-formed payload (strict CBOR, field rules, size bounds)
 * - `untrusted-root`: its bundle does not start with the trusted root
 * - `certificate`: a certificate is unreadable, outside its validity at `now`, or lacks the CA / key usage its place needs
 * - `chain`: a certificate is not signed by the next one up
 * - `signature`: the COSE signature does not verify with the leaf certificate
 * - `stale`: older than `maxAge` (or dated in the future)
 * - `pcr-mismatch`, `nonce-mismatch`: the document is genuine but not the one expected
 */
export type AttestationCheck = 'malformed' | 'untrusted-root' | 'certificate' | 'chain' | 'signature' | 'stale' | 'pcr-mismatch' | 'nonce-mismatch'

/**
 * A Nitro Enclaves attestation document failed verification; `check` says which check, stably.
 * @example
 * ```ts
 * if (e instanceof AttestationError && e.check === 'pcr-mismatch') console.error('not the enclave image we expect')
 * ```
 */
export class AttestationError extends EnvelopeError {
  readonly check: AttestationCheck
  constructor(check: AttestationCheck, message: string, options?: { cause?: unknown }) {
    super('ERR_ATTESTATION', `attestation document: ${check}: ${message}`, options)
    this.check = check
  }
}

/**
 * What went wrong on a KMS keyring's recipient (Nitro Enclaves) path (spec/nitro.md#recipient):
 * - `plaintext-returned`: KMS answered a recipient request with a plaintext key (refused: it crossed the parent)
 * - `missing-ciphertext`: no CiphertextForRecipient in the answer
 * - `malformed-cms`: CiphertextForRecipient is not the CMS EnvelopedData KMS sends
 * - `unwrap-failed`: the enclave key or the content decryption failed
 * - `document`: the attestation document supplier failed or gave no bytes
 */
export type RecipientFailure = 'plaintext-returned' | 'missing-ciphertext' | 'malformed-cms' | 'unwrap-failed' | 'document'

/**
 * A KMS keyring with a `recipient` could not get the data key (spec/nitro.md#recipient); `failure` says why, stably.
 * @example
 * ```ts
 * if (e instanceof RecipientError && e.failure === 'document') console.error('the NSM device gave no attestation document')
 * ```
 */
export class RecipientError extends EnvelopeError {
  readonly failure: RecipientFailure
  constructor(failure: RecipientFailure, message: string, options?: { cause?: unknown }) {
    super('ERR_RECIPIENT', `KMS recipient: ${failure}: ${printable(message)}`, options)
    this.failure = failure
  }
}

export type AnyEnvelopeError =
  | MalformedMessageError
  | AuthenticationError
  | NoMatchingKeyError
  | KeyringError
  | PolicyError
  | EncryptionContextError
  | LimitError
  | UnsupportedError
  | KmsError
  | KeyStoreError
  | WorkerError
  | InvalidKeyError
  | AttestationError
  | RecipientError

/**
 * True for this library's errors, from its ESM or its CommonJS copy alike (a brand, not instanceof).
 * @example
 * ```ts
 * if (isEnvelopeError(error)) console.error(error.code)
 * ```
 * @throws never.
 */
export function isEnvelopeError(value: unknown): value is AnyEnvelopeError {
  return (
    value instanceof EnvelopeError ||
    (value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true && ERROR_CODES.includes((value as { code?: ErrorCode }).code!))
  )
}
