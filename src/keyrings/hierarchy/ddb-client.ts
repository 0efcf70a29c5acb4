/**
 * DynamoDB for the branch key store. `@aws-sdk/client-dynamodb` is an optional
 * peer dependency, imported the first time a store talks to its table:
 * importing envelope-sdk, or using any other keyring, never loads it.
 */
import { KeyStoreError, printable, UnsupportedError } from '../../errors.js'

/** The part of a DynamoDBClient the store uses. */
export interface DdbClientLike {
  /** Sends a `@aws-sdk/client-dynamodb` command, as DynamoDBClient.send does. */
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<any>
}

export type DdbModule = typeof import('@aws-sdk/client-dynamodb')
let sdk: Promise<DdbModule> | undefined

/** The lazily loaded SDK module (for its command classes). */
export function loadDdbSdk(): Promise<DdbModule> {
  sdk ??= import('@aws-sdk/client-dynamodb').catch((cause) => {
    sdk = undefined
    throw new UnsupportedError('the branch key store needs the optional peer dependency @aws-sdk/client-dynamodb: npm install @aws-sdk/client-dynamodb', { cause })
  })
  return sdk
}

const THROTTLED = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'])
const RETRYABLE = new Set(['InternalServerError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout'])
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/** The SDK error's name, and whether the table or the network may accept a later try. */
export function describeSdkError(cause: unknown): { name: string; message: string; throttled: boolean; retryable: boolean } {
  const e = cause as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } }
  const name = printable(String(e?.name ?? 'Error'))
  const status = e?.$metadata?.httpStatusCode
  const throttled = THROTTLED.has(name) || status === 429 || e?.$retryable?.throttling === true
  const retryable = name !== 'AbortError' && (throttled || RETRYABLE.has(name) || (status !== undefined && status >= 500) || RETRYABLE_NETWORK.has(e?.code ?? ''))
  return { name, message: printable(String(e?.message ?? cause)), throttled, retryable }
}

/**
 * A DynamoDB failure as a KeyStoreError. `what` names the operation and the
 * branch key; the cause is slimmed to name and text (the SDK error carries the
 * whole HTTP response, items included).
 */
export function ddbError(what: string, cause: unknown, ids: { branchKeyId?: string; branchKeyVersion?: string } = {}): KeyStoreError | UnsupportedError {
  if (cause instanceof KeyStoreError || cause instanceof UnsupportedError) return cause
  const { name, message, throttled, retryable } = describeSdkError(cause)
  const slim = Object.assign(new Error(message), { name })
  const conflict = name === 'ConditionalCheckFailedException' || (name === 'TransactionCanceledException' && cancelledByCondition(cause))
  const code = conflict ? 'ERR_KEY_STORE_CONFLICT' : throttled ? 'ERR_KEY_STORE_THROTTLED' : 'ERR_KEY_STORE'
  return new KeyStoreError(code, `DynamoDB ${name} for ${what}: ${message}`, { ...ids, retryable, cause: slim })
}

/** A cancelled transaction whose reasons include a failed condition (the rest are `None`). */
function cancelledByCondition(cause: unknown): boolean {
  const reasons = (cause as { CancellationReasons?: { Code?: string }[] })?.CancellationReasons
  if (Array.isArray(reasons)) return reasons.some((r) => r?.Code === 'ConditionalCheckFailed')
  return /ConditionalCheckFailed/.test(String((cause as Error)?.message))
}
