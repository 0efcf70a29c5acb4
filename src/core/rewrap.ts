/**
 * Rewrap (spec/rewrap.md): a message in, the same message out with new
 * encrypted data keys. The body of an unsigned message depends on the data key
 * and the message id only, so it is copied byte for byte; the header gets the
 * new keys and a new header tag from the same data key.
 *
 * The input goes through the ordinary IncrementalDecryptor, which parses and
 * authenticates the header (commitment included) and verifies every frame; its
 * plaintext is wiped as soon as it comes out. Input bytes are released only once
 * the decryptor has consumed them, that is, verified them. Nothing at all is
 * released before the header authenticated and `to` wrapped the data key.
 */
import type { CryptoBackend } from '../crypto/backend.js'
import { KeyringError, LimitError, PolicyError } from '../errors.js'
import { copyBytes } from '../format/bytes.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import { decodeHeader, encodeHeaderBody, headerAuthLength, type DecodedHeader, type MessageHeader } from '../format/header.js'
import { suiteLabel, type AlgorithmSuite } from '../format/suites.js'
import { MultiKeyring } from '../keyrings/multi.js'
import type { Cmm, DecryptionRequest } from '../materials/cmm.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import { createEncryptionMaterials, type DecryptionMaterials, type EncryptionMaterials } from '../materials/materials.js'
import { assertEncryptAllowed } from '../materials/policy.js'
import { ByteQueue } from './byte-queue.js'
import { IncrementalDecryptor, type DecryptSettings } from './decryptor.js'
import { sealHeaderTag, sealingKey, splitRequiredContext } from './message-key.js'

export type RewrapSettings = DecryptSettings

export interface RewrapCoreOptions {
  /** As on decrypt: pairs the message must match; pairs it does not store are required (authenticated-only) pairs, and stay so. */
  readonly encryptionContext?: EncryptionContext
  /** As on decrypt: the largest frame (or non-framed body) accepted. */
  readonly maxBodySize?: number
}

export interface RewrapResult {
  readonly ciphertext: Uint8Array
  /** The new header: the old one with the new encrypted data keys. */
  readonly header: MessageHeader
  /** The full context bound to the message, including pairs not stored in it. */
  readonly encryptionContext: EncryptionContext
}

/** What the `from` CMM returned: a copy of the data key (wiped once used) and the context the header tag covers. */
interface Recovered {
  readonly dataKey: Uint8Array
  readonly encryptionContext: EncryptionContext
  readonly requiredKeys: readonly string[]
}

export class IncrementalRewrapper {
  readonly #decryptor: IncrementalDecryptor
  readonly #to: Keyring
  readonly #settings: RewrapSettings
  /** Streams copy what they release; one-shot rewrap releases views of its own input. */
  readonly #copy: boolean
  /** Input bytes not yet released (the old header until it is replaced). */
  readonly #input = new ByteQueue()
  #received = 0
  /** Input bytes released or dropped (the old header), counted from the start of the message. */
  #released = 0
  #recovered: Recovered | undefined
  /** The new header, before it is released. */
  #newHeader: Uint8Array | undefined
  #header: MessageHeader | undefined

  constructor(from: Cmm, to: Keyring, settings: RewrapSettings, options: RewrapCoreOptions, copy: boolean) {
    this.#to = to
    this.#settings = settings
    this.#copy = copy
    this.#decryptor = new IncrementalDecryptor({ decryptMaterials: (request, services) => this.#recover(from, request, services) }, settings, options)
    this.#decryptor.releaseFramesTo({
      // Verified plaintext is of no use here: it is wiped at once.
      take: (plaintext) => plaintext.fill(0),
      bodyStarts: () => this.#writeHeader(),
    })
  }

  /** The new header, once written (nothing is released before). */
  get header(): MessageHeader | undefined {
    return this.#header
  }

  /** The authenticated context (stored and required pairs), once the header has verified. */
  get encryptionContext(): EncryptionContext | undefined {
    return this.#decryptor.info?.encryptionContext
  }

  /** Input bytes held between calls: the decryptor's unverified part, and the same bytes here until they are released. */
  get bufferedBytes(): number {
    return this.#decryptor.bufferedBytes + this.#input.available
  }

  /** Adds input; returns the output that may now be released (the new header first). Calls must not overlap. */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#input.push(chunk)
    this.#received += chunk.length
    try {
      wipeAll(await this.#decryptor.push(chunk))
    } catch (e) {
      this.abort(e)
      throw e
    }
    return this.#release()
  }

  /** The input is complete; throws ERR_TRUNCATED (and so on) as decrypt does. */
  async end(): Promise<Uint8Array[]> {
    try {
      wipeAll(await this.#decryptor.end())
    } catch (e) {
      this.abort(e)
      throw e
    }
    return this.#release()
  }

  abort(reason: unknown): void {
    this.#decryptor.abort(reason)
    this.#recovered?.dataKey.fill(0)
    this.#recovered = undefined
    this.#newHeader = undefined
  }

  /** The CMM step of the decryptor: refuses what cannot be rewrapped before `from` is asked, and keeps a copy of the data key. */
  async #recover(from: Cmm, request: DecryptionRequest, services: KeyringServices): Promise<DecryptionMaterials> {
    assertRewrapAllowed(this.#settings, request.suite)
    const materials = await from.decryptMaterials(request, services)
    const key = materials.plaintextDataKey
    // A key of the wrong length is refused (and wiped) by the decryptor right after this returns.
    if (key instanceof Uint8Array) {
      this.#recovered = { dataKey: copyBytes(key), encryptionContext: materials.encryptionContext, requiredKeys: materials.requiredEncryptionContextKeys }
    }
    return materials
  }

  /** Called by the decryptor once the header has authenticated with the recovered key, before any frame is read. */
  async #writeHeader(): Promise<void> {
    const recovered = this.#recovered!
    this.#recovered = undefined
    const { dataKey } = recovered
    try {
      // Everything received but still in the decryptor's queue is body: the rest is the old header.
      const headerLength = this.#received - this.#decryptor.bufferedBytes
      const decoded = decodeHeader(this.#input.peek(headerLength)!, this.#settings) as DecodedHeader
      const edks = await wrapDataKey(this.#to, this.#settings, decoded.suite, recovered)
      const { bytes, header } = rewrittenHeader(this.#settings.backend, decoded, edks, dataKey, recovered)
      this.#input.consume(headerLength)
      this.#released = headerLength
      this.#newHeader = bytes
      this.#header = header
    } finally {
      dataKey.fill(0)
    }
  }

  #release(): Uint8Array[] {
    const out: Uint8Array[] = []
    if (this.#newHeader) {
      out.push(this.#newHeader)
      this.#newHeader = undefined
    }
    if (this.#header) {
      // The decryptor consumes a frame only after its tag verified.
      const verified = this.#received - this.#decryptor.bufferedBytes - this.#released
      if (verified > 0) {
        const view = this.#input.peek(verified)!
        out.push(this.#copy ? copyBytes(view) : view)
        this.#input.consume(verified)
        this.#released += verified
      }
    }
    this.#input.compact()
    return out
  }
}

/** One-shot rewrap of a message in memory: nothing is returned unless every frame verified. */
export async function rewrapBytes(from: Cmm, to: Keyring, settings: RewrapSettings, message: Uint8Array, options: RewrapCoreOptions): Promise<RewrapResult> {
  const rewrapper = new IncrementalRewrapper(from, to, settings, options, false)
  const parts = [...(await rewrapper.push(message)), ...(await rewrapper.end())]
  let length = 0
  for (const part of parts) length += part.length
  const ciphertext = new Uint8Array(length)
  let o = 0
  for (const part of parts) {
    ciphertext.set(part, o)
    o += part.length
  }
  return { ciphertext, header: rewrapper.header!, encryptionContext: rewrapper.encryptionContext! }
}

/**
 * Rewrap writes a message in the input's suite: signed suites are refused (the
 * signature covers the header and its key was discarded after encrypt), and
 * the client's commitment policy must allow writing that suite, as it must
 * allow reading it (spec/rewrap.md#policy).
 */
function assertRewrapAllowed(settings: RewrapSettings, suite: AlgorithmSuite): void {
  if (suite.signature) {
    throw new PolicyError(
      'ERR_SIGNED_NOT_ALLOWED',
      `the message uses signed suite ${suiteLabel(suite.id)}, which cannot be rewrapped: its signature covers the header, and the signing key was discarded when the message was written. Decrypt and re-encrypt it instead`,
    )
  }
  try {
    assertEncryptAllowed(settings.commitmentPolicy, suite)
  } catch (e) {
    throw new PolicyError('ERR_COMMITMENT_POLICY', `rewrap writes a message in the input's suite, and ${(e as Error).message}`, { cause: e })
  }
}

/** `to` wraps the recovered data key: it must add encrypted data keys and keep that key (spec/rewrap.md#to-keyring). */
async function wrapDataKey(to: Keyring, settings: RewrapSettings, suite: AlgorithmSuite, recovered: Recovered): Promise<readonly EncryptedDataKey[]> {
  const { backend } = settings
  const given = copyBytes(recovered.dataKey)
  let returned: unknown
  try {
    const initial = createEncryptionMaterials(
      { suite, encryptionContext: recovered.encryptionContext, requiredEncryptionContextKeys: recovered.requiredKeys, encryptedDataKeys: [], signingKey: undefined },
      given,
    )
    const wrapped = await wrapWith(to, initial, { backend })
    returned = wrapped.plaintextDataKey
    if (!(returned instanceof Uint8Array) || !backend.timingSafeEqual(returned, recovered.dataKey)) {
      throw new KeyringError('the `to` keyring replaced the data key instead of wrapping it; rewrap needs a keyring that wraps the key it is given')
    }
    const edks = wrapped.encryptedDataKeys
    if (edks.length === 0) throw new KeyringError('the `to` keyring returned no encrypted data key')
    if (edks.length > settings.maxEncryptedDataKeys) {
      throw new LimitError('maxEncryptedDataKeys', edks.length, settings.maxEncryptedDataKeys, 'encrypted data keys produced by the `to` keyring')
    }
    return edks
  } finally {
    given.fill(0)
    if (returned instanceof Uint8Array) returned.fill(0)
  }
}

/**
 * A MultiKeyring refuses materials that already have a data key when it has a
 * generator (the generator would replace it), so here its generator and
 * children each wrap the given key in turn.
 */
async function wrapWith(keyring: Keyring, materials: EncryptionMaterials, services: KeyringServices): Promise<EncryptionMaterials> {
  if (!(keyring instanceof MultiKeyring)) return keyring.onEncrypt(materials, services)
  let result = materials
  for (const child of keyring.generator ? [keyring.generator, ...keyring.children] : keyring.children) result = await wrapWith(child, result, services)
  return result
}

/** The old header with the new data keys and a new header tag; every other byte is the old one. Zeroes `dataKey`. */
function rewrittenHeader(
  backend: CryptoBackend,
  decoded: DecodedHeader,
  encryptedDataKeys: readonly EncryptedDataKey[],
  dataKey: Uint8Array,
  recovered: Recovered,
): { bytes: Uint8Array; header: MessageHeader } {
  const { header: old, suite } = decoded
  // The same data key and message id give the same message key and commitment, which the decryptor has just checked.
  const { key } = sealingKey(backend, suite, dataKey, old.messageId)
  try {
    const header: MessageHeader = Object.freeze({ ...old, encryptedDataKeys: Object.freeze([...encryptedDataKeys]) })
    const authLength = headerAuthLength(suite)
    const bytes = encodeHeaderBody({ ...header, suite, serializedContext: decoded.serializedContext }, authLength)
    const { authOnly } = splitRequiredContext(recovered.encryptionContext, recovered.requiredKeys)
    sealHeaderTag(backend, key, bytes, authLength, authOnly)
    return { bytes, header }
  } finally {
    key.wipe?.()
  }
}

function wipeAll(parts: readonly Uint8Array[]): void {
  for (const part of parts) part.fill(0)
}
