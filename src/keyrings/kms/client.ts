/**
 * KMS clients. `@aws-sdk/client-kms` is an optional peer dependency, imported
 * the first time a KMS keyring makes a call: importing envelope-sdk never
 * loads it. The default provider keeps one KMSClient per region.
 */
import { KmsError, printable, UnsupportedError } from '../../errors.js'

/** The part of a KMSClient the keyrings use. */
export interface KmsClientLike {
  /** Sends one KMS command, as `KMSClient.send` does. */
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<any>
}

/** Returns the client for a region (undefined: the client's own default region). */
export type KmsClientProvider = (region: string | undefined) => KmsClientLike | Promise<KmsClientLike>

type KmsModule = typeof import('@aws-sdk/client-kms')
let sdk: Promise<KmsModule> | undefined

/** The lazily loaded SDK module (for its command classes). */
export function loadKmsSdk(): Promise<KmsModule> {
  sdk ??= import('@aws-sdk/client-kms').catch((cause) => {
    sdk = undefined
    throw new UnsupportedError('KMS keyrings need the optional peer dependency @aws-sdk/client-kms: npm install @aws-sdk/client-kms', { cause })
  })
  return sdk
}

/**
 * A provider that creates one client per region with `config` (endpoint,
 * credentials, retries...) and reuses it: create it once, outside a Lambda handler.
 * @example
 * ```ts
 * const keyring = new KmsKeyring({ generatorKeyId, clientProvider: defaultClientProvider({ endpoint: 'http://127.0.0.1:4599' }) })
 * ```
 * @throws never (a missing @aws-sdk/client-kms is reported at the first KMS call, ERR_KMS).
 */
export function defaultClientProvider(config: Record<string, unknown> = {}): KmsClientProvider {
  const clients = new Map<string, Promise<KmsClientLike>>()
  return (region) => {
    const name = region ?? ''
    let client = clients.get(name)
    if (!client) {
      client = loadKmsSdk().then(({ KMSClient }) => new KMSClient({ ...config, ...(region ? { region } : {}) }))
      clients.set(name, client)
    }
    return client
  }
}

const RETRYABLE = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'TimeoutError', 'RequestTimeout', 'ServiceUnavailableException'])
/** Node socket and DNS errors of a reachable-but-failing network (not ENOTFOUND: a wrong endpoint stays wrong). */
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/** Wraps an SDK failure in a KmsError naming the key; never includes request payloads. */
export function kmsError(keyId: string, cause: unknown): KmsError {
  if (cause instanceof KmsError) return cause
  const e = cause as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown }
  const name = e?.name ?? 'Error'
  const status = e?.$metadata?.httpStatusCode
  // spec/errors.md#retryable: throttling, 5xx, network failure or timeout; never the caller's own abort.
  const retryable =
    name !== 'AbortError' &&
    (RETRYABLE.has(name) || e?.$retryable !== undefined || status === 429 || (status !== undefined && status >= 500) || RETRYABLE_NETWORK.has(e?.code ?? ''))
  // A slim cause: the SDK error drags its whole HTTP response along, which logs should not carry.
  const slim = Object.assign(new Error(printable(String(e?.message ?? cause))), { name: printable(name), httpStatusCode: status })
  return new KmsError(keyId, name, slim.message, retryable, { cause: slim })
}

export interface KmsCallContext {
  readonly provider: KmsClientProvider
  readonly grantTokens: readonly string[] | undefined
  readonly abortSignal: AbortSignal | undefined
  /** Most EDKs one decrypt sends to KMS (spec/keyrings.md#unwrap-attempts). */
  readonly maxUnwrapAttempts: number
  /** Set: requests carry the enclave's attestation document (spec/nitro.md#recipient). */
  readonly recipient?: import('./recipient.js').Recipient
}

/** Sends one KMS command built from the lazily loaded SDK. */
export async function callKms<T>(
  ctx: KmsCallContext,
  region: string | undefined,
  keyId: string,
  build: (sdk: KmsModule) => unknown,
): Promise<T> {
  try {
    const [module, client] = await Promise.all([loadKmsSdk(), ctx.provider(region)])
    return (await client.send(build(module), ctx.abortSignal ? { abortSignal: ctx.abortSignal } : undefined)) as T
  } catch (cause) {
    if (cause instanceof UnsupportedError) throw cause
    throw kmsError(keyId, cause)
  }
}
