/**
 * The client factory: validates and freezes the policy, limits and crypto
 * backend once; every call made through the client uses them (spec/client.md).
 * Each entry point (src/entry/) binds its own default backend, and the Node
 * one its stream adapters, so this module imports neither (spec/backends.md#selection).
 */
import type { CryptoBackend } from './crypto/backend.js'
import { utf8Encode } from './encoding.js'
import type { Cmm } from './materials/cmm.js'
import { toCmm } from './materials/cmm.js'
import { isKeyring, type Keyring } from './materials/keyring.js'
import { checkCommitmentPolicy, DEFAULT_COMMITMENT_POLICY, type CommitmentPolicy } from './materials/policy.js'
import type { DecryptOptions } from './core/decryptor.js'
import { decryptBytes, encryptBytes, type DecryptResult, type EncryptResult } from './core/one-shot.js'
import type { StreamEncryptOptions } from './core/stream-encryptor.js'
import { rewrapBytes, type RewrapCoreOptions, type RewrapResult } from './core/rewrap.js'
import type { EncryptionContext } from './format/encryption-context.js'
import { LimitError } from './errors.js'
import { checkMaxEncryptedDataKeys, checkMaxHeaderSize } from './format/limits.js'
import { decryptCollected, encryptCollected } from './streams/collect.js'
import { isStreamInput, type StreamInput } from './streams/input.js'
// Types only: the Node entry passes the Node stream adapters in (src/entry/node.ts).
import type { decryptStream, encryptStream, MessageDuplex, rewrapStream } from './streams/node.js'
import { decryptWebStream, encryptWebStream, rewrapWebStream, type HeaderTransformStream } from './streams/web.js'

export { DEFAULT_STREAM_MAX_BODY_SIZE } from './streams/engine.js'
export { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_HEADER_SIZE } from './format/limits.js'

export interface ClientOptions {
  /** Default REQUIRE_ENCRYPT_REQUIRE_DECRYPT. */
  readonly commitmentPolicy?: CommitmentPolicy
  /** Most encrypted data keys a message may carry, on encrypt and decrypt (1 to 65535). Default 64; `false`: the format's 65,535. */
  readonly maxEncryptedDataKeys?: number | false
  /** Largest header accepted on decrypt, in bytes. Default 1 MiB. */
  readonly maxHeaderSize?: number
  /** The crypto backend; default node:crypto from the Node entry, WebCrypto with pure-JS fallback from the web entry. */
  readonly backend?: CryptoBackend
  /**
   * Default true: one-shot encrypt and decrypt of an unsigned message with more
   * than 1 MiB of frames of 4 KiB or less may do some frames on a worker thread,
   * when the backend has one (node:crypto on a machine with two or more cores).
   * Unsigned means a suite without ECDSA, such as 0x0478; the default suite,
   * 0x0578, is signed and uses the second core for SHA-384 instead.
   * false keeps every frame on the calling thread (spec/backends.md#parallel-frames).
   */
  readonly parallel?: boolean
}

/** client.rewrap / rewrapStream / rewrapWebStream options (spec/rewrap.md). */
export interface RewrapOptions {
  /** Recovers the data key: a keyring (wrapped in the default CMM) or a CMM, as for decrypt. */
  readonly from: Keyring | Cmm
  /** Wraps the same data key into the new message's encrypted data keys. A keyring, not a CMM: a CMM would pick a new key. */
  readonly to: Keyring
  /** As on decrypt: pairs the message must match; pairs it does not store are required pairs, and stay required in the new message. */
  readonly encryptionContext?: EncryptionContext
  /** As on decrypt: the largest frame (or non-framed body) accepted. Streams default to DEFAULT_STREAM_MAX_BODY_SIZE. */
  readonly maxBodySize?: number
}

/** A client without Node streams: what the web entry (browsers, workers, Deno, edge runtimes) returns. */
export interface WebClient {
  readonly commitmentPolicy: CommitmentPolicy
  readonly maxEncryptedDataKeys: number
  readonly maxHeaderSize: number
  /**
   * Plaintext as bytes or a string; or a Node Readable, a ReadableStream or an async iterable of
   * chunks, read to its end through the streaming core. `plaintextLength` bounds stream input.
   */
  encrypt(keyringOrCmm: Keyring | Cmm, plaintext: Uint8Array | string | StreamInput, options?: StreamEncryptOptions): Promise<EncryptResult>
  /** Nothing is returned until the whole message, signature included, has verified. */
  decrypt(keyringOrCmm: Keyring | Cmm, ciphertext: Uint8Array | StreamInput, options?: DecryptOptions): Promise<DecryptResult>
  /** A WHATWG TransformStream (browsers, workers, Node): plaintext in, message out. */
  encryptWebStream(keyringOrCmm: Keyring | Cmm, options?: StreamEncryptOptions): HeaderTransformStream
  /** A WHATWG TransformStream: message in, verified plaintext out; same rules and defaults as decryptStream. */
  decryptWebStream(keyringOrCmm: Keyring | Cmm, options?: DecryptOptions): HeaderTransformStream
  /**
   * The message's data key under new wrapping keys (spec/rewrap.md): the header is authenticated with the
   * data key `from` recovers, `to` wraps that key, and every verified frame is re-encrypted into a new
   * message (new message id). Signed suites are refused (ERR_SIGNED_NOT_ALLOWED), suites without key
   * derivation too (ERR_UNSUPPORTED). Nothing is returned unless everything verified.
   */
  rewrap(message: Uint8Array, options: RewrapOptions): Promise<RewrapResult>
  /** rewrap as a WHATWG TransformStream: nothing out until the header authenticated, then body bytes as their frames verify. */
  rewrapWebStream(options: RewrapOptions): HeaderTransformStream
}

/** The Node entry's client: the web one plus Node Duplex streams. */
export interface Client extends WebClient {
  /** A Node Duplex for stream.pipeline: plaintext in, message out. */
  encryptStream(keyringOrCmm: Keyring | Cmm, options?: StreamEncryptOptions): MessageDuplex
  /**
   * A Node Duplex: message in, verified plaintext out (spec/decrypt-rules.md#release-rules).
   * `maxBodySize` defaults to DEFAULT_STREAM_MAX_BODY_SIZE (64 MiB) for streams.
   */
  decryptStream(keyringOrCmm: Keyring | Cmm, options?: DecryptOptions): MessageDuplex
  /**
   * rewrap as a Node Duplex (spec/rewrap.md#streams). Output written before an error (a bad
   * frame, a truncated input) is part of an invalid message and must be discarded, as with decryptStream.
   */
  rewrapStream(options: RewrapOptions): MessageDuplex
}

/** What the Node entry hands the factory: src/streams/node.ts's two adapters. */
export interface NodeStreamAdapters {
  readonly encryptStream: typeof encryptStream
  readonly decryptStream: typeof decryptStream
  readonly rewrapStream: typeof rewrapStream
}

const BACKEND_METHODS = ['randomBytes', 'importAesKey', 'gcmSeal', 'gcmOpen', 'hkdf', 'digest', 'timingSafeEqual'] as const

/** The `backend` option: a complete backend (one with gaps goes through withFallback first). */
function checkBackend(value: unknown): CryptoBackend {
  const backend = value as Partial<CryptoBackend> | null
  if (typeof backend !== 'object' || backend === null || BACKEND_METHODS.some((name) => typeof backend[name] !== 'function')) {
    throw new TypeError('backend must be a CryptoBackend (nodeBackend, nobleBackend, createWebCryptoBackend(), ...)')
  }
  if (backend.lacks && backend.lacks.length > 0) {
    throw new TypeError(`the ${backend.name} backend lacks ${backend.lacks.join(', ')}: compose it with withFallback(backend, nobleBackend)`)
  }
  return backend as CryptoBackend
}

function toBytes(input: Uint8Array | string, what: string): Uint8Array {
  if (typeof input === 'string') return utf8Encode(input)
  if (input instanceof Uint8Array) return input
  throw new TypeError(`${what} must be a Uint8Array or a string`)
}

const CLIENT_OPTIONS = ['commitmentPolicy', 'maxEncryptedDataKeys', 'maxHeaderSize', 'backend', 'parallel', 'crypto'] as const
const ENCRYPT_OPTIONS = ['encryptionContext', 'suiteId', 'frameLength', 'plaintextLength'] as const
const DECRYPT_OPTIONS = ['encryptionContext', 'maxBodySize', 'unsignedOnly'] as const
const REWRAP_OPTIONS = ['from', 'to', 'encryptionContext', 'maxBodySize'] as const

/** The rewrap options, split into the two keyrings and what the core takes. */
function checkRewrapOptions(value: RewrapOptions | undefined): { from: Cmm; to: Keyring; options: RewrapCoreOptions } {
  if (value === undefined) throw new TypeError('rewrap needs options { from, to }')
  const { from, to, ...options } = checkOptions(value, 'rewrap options', REWRAP_OPTIONS)
  if (!isKeyring(to)) throw new TypeError('rewrap options.to must be a keyring (onEncrypt/onDecrypt): a CMM would choose a new data key')
  return { from: toCmm(from), to, options }
}

/**
 * An options argument: absent or an object (a default parameter replaces only
 * `undefined`, not `null`) whose keys are all known. A misspelt key would
 * otherwise be ignored in silence, and on decrypt that would skip the context
 * check the caller asked for (spec/client.md#errors).
 */
function checkOptions<T extends object>(value: T | undefined, what: string, known: readonly string[]): T {
  if (value === undefined) return {} as T
  if (typeof value !== 'object' || value === null) throw new TypeError(`${what} must be an object`)
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`unknown ${what} key ${JSON.stringify(key)}: the ${what} are ${known.filter((k) => k !== 'crypto').join(', ')}`)
  }
  return value
}

/**
 * Runs the body of a method that returns a promise, turning a synchronous
 * throw (a bad argument) into a rejection: such a method never throws
 * (spec/client.md#errors). Costs no extra promise on success.
 */
function rejectingThrows<T>(body: () => Promise<T>): Promise<T> {
  try {
    return body()
  } catch (e) {
    return Promise.reject(e)
  }
}

/**
 * A createClient bound to a default backend (asked for on the first call
 * without `backend`, so importing an entry does no work) and, for Node, to the
 * Node stream adapters.
 */
export function createClientFactory(defaultBackend: () => CryptoBackend): (options?: ClientOptions) => WebClient
export function createClientFactory(defaultBackend: () => CryptoBackend, nodeStreams: NodeStreamAdapters): (options?: ClientOptions) => Client
export function createClientFactory(defaultBackend: () => CryptoBackend, nodeStreams?: NodeStreamAdapters): (options?: ClientOptions) => WebClient | Client {
  return (options) => makeClient(checkOptions(options, 'client options', CLIENT_OPTIONS), defaultBackend, nodeStreams)
}

function makeClient(options: ClientOptions, defaultBackend: () => CryptoBackend, nodeStreams: NodeStreamAdapters | undefined): WebClient | Client {
  const commitmentPolicy = checkCommitmentPolicy(options.commitmentPolicy ?? DEFAULT_COMMITMENT_POLICY)
  const maxEncryptedDataKeys = checkMaxEncryptedDataKeys(options.maxEncryptedDataKeys)
  const maxHeaderSize = checkMaxHeaderSize(options.maxHeaderSize)
  // Renamed before 1.0; an old call would otherwise silently get the default backend.
  if ((options as { crypto?: unknown }).crypto !== undefined) throw new TypeError('the crypto option is now called backend: createClient({ backend })')
  const backend = options.backend === undefined ? defaultBackend() : checkBackend(options.backend)
  if (options.parallel !== undefined && typeof options.parallel !== 'boolean') throw new TypeError('parallel must be a boolean')
  const parallel = options.parallel ?? true
  const settings = Object.freeze({ backend, commitmentPolicy, maxEncryptedDataKeys, maxHeaderSize, parallel })

  const client: WebClient = {
    commitmentPolicy,
    maxEncryptedDataKeys,
    maxHeaderSize,
    encrypt(keyringOrCmm: Keyring | Cmm, plaintext: Uint8Array | string | StreamInput, encryptOptions?: StreamEncryptOptions) {
      return rejectingThrows(() => {
        const cmm = toCmm(keyringOrCmm)
        const options = checkOptions(encryptOptions, 'encrypt options', ENCRYPT_OPTIONS)
        if (isStreamInput(plaintext)) return encryptCollected(cmm, settings, plaintext, options)
        const bytes = toBytes(plaintext, 'plaintext')
        const bound = options.plaintextLength
        if (bound !== undefined && bytes.length > bound) throw new LimitError('plaintextLength', bytes.length, bound, 'bytes of plaintext')
        return encryptBytes(cmm, settings, bytes, options)
      })
    },
    decrypt(keyringOrCmm: Keyring | Cmm, ciphertext: Uint8Array | StreamInput, decryptOptions?: DecryptOptions) {
      return rejectingThrows(() => {
        const cmm = toCmm(keyringOrCmm)
        const options = checkOptions(decryptOptions, 'decrypt options', DECRYPT_OPTIONS)
        if (typeof ciphertext === 'string') {
          throw new TypeError('ciphertext must be a Uint8Array; if you have base64 text, decode it to bytes first')
        }
        if (isStreamInput(ciphertext)) return decryptCollected(cmm, settings, ciphertext, options)
        return decryptBytes(cmm, settings, toBytes(ciphertext, 'ciphertext'), options)
      })
    },
    encryptWebStream(keyringOrCmm: Keyring | Cmm, encryptOptions?: StreamEncryptOptions) {
      return encryptWebStream(toCmm(keyringOrCmm), settings, checkOptions(encryptOptions, 'encrypt options', ENCRYPT_OPTIONS))
    },
    decryptWebStream(keyringOrCmm: Keyring | Cmm, decryptOptions?: DecryptOptions) {
      return decryptWebStream(toCmm(keyringOrCmm), settings, checkOptions(decryptOptions, 'decrypt options', DECRYPT_OPTIONS))
    },
    rewrap(message: Uint8Array, rewrapOptions: RewrapOptions) {
      return rejectingThrows(() => {
        const { from, to, options } = checkRewrapOptions(rewrapOptions)
        if (!(message instanceof Uint8Array)) throw new TypeError('the message to rewrap must be a Uint8Array')
        return rewrapBytes(from, to, settings, message, options)
      })
    },
    rewrapWebStream(rewrapOptions: RewrapOptions) {
      const { from, to, options } = checkRewrapOptions(rewrapOptions)
      return rewrapWebStream(from, to, settings, options)
    },
  }
  if (!nodeStreams) return Object.freeze(client)
  const { encryptStream, decryptStream, rewrapStream } = nodeStreams
  return Object.freeze({
    ...client,
    encryptStream(keyringOrCmm: Keyring | Cmm, encryptOptions?: StreamEncryptOptions) {
      return encryptStream(toCmm(keyringOrCmm), settings, checkOptions(encryptOptions, 'encrypt options', ENCRYPT_OPTIONS))
    },
    decryptStream(keyringOrCmm: Keyring | Cmm, decryptOptions?: DecryptOptions) {
      return decryptStream(toCmm(keyringOrCmm), settings, checkOptions(decryptOptions, 'decrypt options', DECRYPT_OPTIONS))
    },
    rewrapStream(rewrapOptions: RewrapOptions) {
      const { from, to, options } = checkRewrapOptions(rewrapOptions)
      return rewrapStream(from, to, settings, options)
    },
  } satisfies Client)
}
