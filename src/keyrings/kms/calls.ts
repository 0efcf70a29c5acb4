/**
 * The three KMS calls every KMS keyring makes, with the response checks the
 * spec asks for (spec/keyrings.md#aws-kms): the returned KeyId is a key ARN,
 * the data key has the suite's length, the context goes with every call.
 */
import type { OptionKind } from '../../options.js'
import { KeyringError, KmsError, printable } from '../../errors.js'
import { utf8Decode, utf8Encode } from '../../encoding.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import type { EncryptionContext } from '../../format/encryption-context.js'
import type { AlgorithmSuite } from '../../format/suites.js'
import { withDecryptionDataKey, type DecryptionMaterials } from '../../materials/materials.js'
import { parseKeyArn, type KmsArn } from './arn.js'
import { AttemptLog, attemptLimitReason, checkMaxUnwrapAttempts } from '../common.js'
import { callKms, defaultClientProvider, type KmsCallContext, type KmsClientLike, type KmsClientProvider } from './client.js'
import { Recipient, type KmsRecipient } from './recipient.js'
import type { CryptoBackend } from '../../crypto/backend.js'

export const KMS_PROVIDER_ID = 'aws-kms'

export interface KmsClientOptions {
  /** A client for every region, or a function returning the client for a region. Default: one KMSClient per region. */
  readonly client?: KmsClientLike
  readonly clientProvider?: KmsClientProvider
  readonly grantTokens?: readonly string[]
  /** Aborts in-flight KMS calls. */
  readonly abortSignal?: AbortSignal
  /**
   * Most encrypted data keys one decrypt sends to KMS, each a network call and KMS quota: key ARNs
   * are public, so a forged header can name this keyring's keys many times (spec/keyrings.md#unwrap-attempts). Default 4.
   */
  readonly maxUnwrapAttempts?: number
  /**
   * Inside a Nitro enclave: send this attestation document with Decrypt and GenerateDataKey and
   * take the data key only as CiphertextForRecipient, opened with the enclave key (spec/nitro.md#recipient).
   */
  readonly recipient?: KmsRecipient
}

/** The option kinds every KMS keyring shares, for checkOptions. */
export const KMS_CALL_OPTIONS = { client: 'object', clientProvider: 'function', grantTokens: 'array', abortSignal: 'object', maxUnwrapAttempts: 'number' } as const satisfies Record<string, OptionKind>
/** Those of the keyrings that call GenerateDataKey and Decrypt, which also take a recipient (spec/nitro.md#recipient). */
export const KMS_CLIENT_OPTIONS = { ...KMS_CALL_OPTIONS, recipient: 'object' } as const satisfies Record<string, OptionKind>

export function callContext(options: KmsClientOptions): KmsCallContext {
  const { client, clientProvider, grantTokens, abortSignal, maxUnwrapAttempts, recipient } = options
  if (client !== undefined && clientProvider !== undefined) throw new TypeError('give client or clientProvider, not both')
  if (grantTokens !== undefined && (!Array.isArray(grantTokens) || grantTokens.some((t) => typeof t !== 'string'))) {
    throw new TypeError('grantTokens must be an array of strings')
  }
  const provider: KmsClientProvider = client ? () => client : clientProvider ?? defaultClientProvider()
  return { provider, grantTokens: grantTokens ? [...grantTokens] : undefined, abortSignal, maxUnwrapAttempts: checkMaxUnwrapAttempts(maxUnwrapAttempts), recipient: recipient === undefined ? undefined : new Recipient(recipient) }
}

function responseKeyArn(keyId: string, returned: unknown): string {
  if (typeof returned !== 'string' || !parseKeyArn(returned)) {
    throw new KeyringError(`KMS returned ${printable(JSON.stringify(returned) ?? 'nothing')} for ${printable(keyId)}, which is not a key ARN`)
  }
  return returned
}

function toEdk(keyArn: string, ciphertext: Uint8Array | undefined, keyId: string): EncryptedDataKey {
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length === 0) throw new KeyringError(`KMS returned no ciphertext for ${keyId}`)
  return { providerId: KMS_PROVIDER_ID, providerInfo: utf8Encode(keyArn), ciphertext: new Uint8Array(ciphertext) }
}

export async function generateDataKey(
  ctx: KmsCallContext,
  region: string | undefined,
  keyId: string,
  suite: AlgorithmSuite,
  encryptionContext: EncryptionContext,
  backend?: CryptoBackend,
): Promise<{ dataKey: Uint8Array; edk: EncryptedDataKey }> {
  const recipient = await ctx.recipient?.request()
  const response = await callKms<any>(ctx, region, keyId, ({ GenerateDataKeyCommand }) =>
    new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: suite.keyLength, EncryptionContext: { ...encryptionContext }, GrantTokens: ctx.grantTokens as string[] | undefined, Recipient: recipient }),
  )
  const plaintext: unknown = ctx.recipient ? await ctx.recipient.open(recipientBackend(backend), response) : response.Plaintext
  try {
    const keyArn = responseKeyArn(keyId, response.KeyId)
    if (!(plaintext instanceof Uint8Array) || plaintext.length !== suite.keyLength) {
      throw new KeyringError(`KMS returned a data key of the wrong length for ${keyId}`)
    }
    return { dataKey: new Uint8Array(plaintext), edk: toEdk(keyArn, response.CiphertextBlob, keyId) }
  } finally {
    wipe(plaintext)
  }
}

function recipientBackend(backend: CryptoBackend | undefined): CryptoBackend {
  if (!backend) throw new TypeError('a KMS keyring with a recipient needs the crypto backend the client lends it')
  return backend
}

/** The SDK's copy of a data key (often a slice of Node's shared Buffer pool) is wiped once we hold our own. */
function wipe(plaintext: unknown): void {
  if (plaintext instanceof Uint8Array) plaintext.fill(0)
}

export async function encryptDataKey(
  ctx: KmsCallContext,
  region: string | undefined,
  keyId: string,
  dataKey: Uint8Array,
  encryptionContext: EncryptionContext,
): Promise<EncryptedDataKey> {
  const response = await callKms<any>(ctx, region, keyId, ({ EncryptCommand }) =>
    new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: { ...encryptionContext }, GrantTokens: ctx.grantTokens as string[] | undefined }),
  )
  return toEdk(responseKeyArn(keyId, response.KeyId), response.CiphertextBlob, keyId)
}

/** Decrypt with KeyId = `keyId`; the response must name exactly that key. */
export async function decryptDataKey(
  ctx: KmsCallContext,
  region: string | undefined,
  keyId: string,
  edk: EncryptedDataKey,
  suite: AlgorithmSuite,
  encryptionContext: EncryptionContext,
  backend?: CryptoBackend,
): Promise<Uint8Array> {
  const recipient = await ctx.recipient?.request()
  const response = await callKms<any>(ctx, region, keyId, ({ DecryptCommand }) =>
    new DecryptCommand({ KeyId: keyId, CiphertextBlob: edk.ciphertext, EncryptionContext: { ...encryptionContext }, GrantTokens: ctx.grantTokens as string[] | undefined, Recipient: recipient }),
  )
  // The KeyId check comes first: a recipient answer is opened only when it names the key asked for.
  if (ctx.recipient && response.KeyId !== keyId) wipe(response.Plaintext)
  const plaintext: unknown = ctx.recipient && response.KeyId === keyId ? await ctx.recipient.open(recipientBackend(backend), response) : response.Plaintext
  try {
    if (response.KeyId !== keyId) {
      throw new KmsError(keyId, 'KeyIdMismatch', `KMS decrypted with ${JSON.stringify(response.KeyId)}, not the requested key`, false)
    }
    if (!(plaintext instanceof Uint8Array) || plaintext.length !== suite.keyLength) {
      throw new KmsError(keyId, 'InvalidPlaintext', 'KMS returned a data key of the wrong length', false)
    }
    return new Uint8Array(plaintext)
  } finally {
    wipe(plaintext)
  }
}

/** The ARN an aws-kms EDK names, or undefined when its provider info is not a key ARN. */
function edkKeyArn(edk: EncryptedDataKey): string | undefined {
  try {
    const text = utf8Decode(edk.providerInfo)
    return parseKeyArn(text) ? text : undefined
  } catch {
    return undefined
  }
}

/**
 * The key ARN of an EDK a KMS keyring may consider: provider id `aws-kms` and
 * provider info a well-formed key ARN. Anything else is recorded in the log.
 */
function kmsEdkArn(log: AttemptLog, edk: EncryptedDataKey): { text: string; arn: KmsArn } | undefined {
  if (log.otherNamespace(edk, KMS_PROVIDER_ID)) return undefined
  const text = edkKeyArn(edk)
  const arn = text === undefined ? undefined : parseKeyArn(text)
  if (text === undefined || arn === undefined) {
    log.record(edk, 'provider info is not a KMS key ARN')
    return undefined
  }
  return { text, arn }
}

function reasonOf(e: unknown): string {
  if (e instanceof KmsError) return `${e.kmsErrorName}: ${(e.cause as Error | undefined)?.message ?? e.message}`
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
}

/** What a KMS keyring does with one EDK naming `text`: call KMS with this key in this region, or skip it and say why. */
export type KmsDecryptDecision = { readonly region: string | undefined; readonly keyId: string } | { readonly skip: string }

/**
 * The decrypt loop of every KMS keyring (spec/keyrings.md#aws-kms): each
 * aws-kms EDK with a key ARN goes to the keyring's `decide`, the first one KMS
 * decrypts wins, and every other one is recorded for the NoMatchingKeyError.
 */
export async function decryptWithFirstKey(
  keyring: string,
  ctx: KmsCallContext,
  materials: DecryptionMaterials,
  edks: readonly EncryptedDataKey[],
  decide: (text: string, arn: KmsArn) => KmsDecryptDecision,
  backend?: CryptoBackend,
): Promise<DecryptionMaterials> {
  const log = new AttemptLog(keyring)
  let attempts = 0
  for (const edk of edks) {
    const own = kmsEdkArn(log, edk)
    if (!own) continue
    const decision = decide(own.text, own.arn)
    if ('skip' in decision) {
      log.skip(edk, decision.skip)
      continue
    }
    if (attempts === ctx.maxUnwrapAttempts) {
      log.record(edk, attemptLimitReason(attempts))
      continue
    }
    attempts++
    try {
      return withDecryptionDataKey(materials, await decryptDataKey(ctx, decision.region, decision.keyId, edk, materials.suite, materials.encryptionContext, backend))
    } catch (e) {
      log.record(edk, reasonOf(e), e)
    }
  }
  throw log.error()
}
