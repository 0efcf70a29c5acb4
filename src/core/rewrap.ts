/**
 * Rewrap (spec/rewrap.md): a message in, a message out with the same data key
 * wrapped by other keys, and no plaintext handed to the caller.
 *
 * The new message has a NEW message id, so a new message key, and its body is
 * re-encrypted frame by frame. Keeping the message id (and copying the body)
 * would tag two different headers under one key and the fixed header IV: GCM
 * nonce reuse, from which anyone holding both messages recovers the
 * authentication key and forges frames (spec/rewrap.md#why-a-new-message-id).
 * For the same reason suites without key derivation are refused: their message
 * key is the data key itself, whatever the message id.
 *
 * The input goes through the ordinary IncrementalDecryptor, which parses and
 * authenticates the header (commitment included) and verifies every frame; each
 * verified plaintext is sealed into the new message at once and wiped. Nothing
 * is released before the header authenticated and `to` wrapped the data key.
 */
import { KeyringError, LimitError, PolicyError, UnsupportedError } from '../errors.js'
import { concatBytes, copyBytes } from '../format/bytes.js'
import { DEFAULT_FRAME_LENGTH } from '../format/constants.js'
import type { EncryptedDataKey } from '../format/edk.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import type { MessageHeader } from '../format/header.js'
import { suiteLabel, type AlgorithmSuite } from '../format/suites.js'
import { MultiKeyring } from '../keyrings/multi.js'
import type { Cmm, DecryptionRequest } from '../materials/cmm.js'
import type { Keyring, KeyringServices } from '../materials/keyring.js'
import { createEncryptionMaterials, type DecryptionMaterials, type EncryptionMaterials } from '../materials/materials.js'
import { assertEncryptAllowed } from '../materials/policy.js'
import { IncrementalDecryptor, type BodyAccess, type DecryptSettings } from './decryptor.js'
import { splitRequiredContext } from './message-key.js'
import { IncrementalEncryptor } from './stream-encryptor.js'

export type RewrapSettings = DecryptSettings

export interface RewrapCoreOptions {
  /** As on decrypt: pairs the message must match; pairs it does not store are required (authenticated-only) pairs, and stay so. */
  readonly encryptionContext?: EncryptionContext
  /** As on decrypt: the largest frame (or non-framed body) accepted. */
  readonly maxBodySize?: number
}

export interface RewrapResult {
  readonly ciphertext: Uint8Array
  /** The new header: a new message id and the new encrypted data keys; suite, context and frame length as the input's. */
  readonly header: MessageHeader
  /** The full context bound to the message, including pairs not stored in it. */
  readonly encryptionContext: EncryptionContext
}

/** What the `from` CMM returned: a copy of the data key (wiped once used) and the context the header tag covers. */
interface Recovered {
  readonly suite: AlgorithmSuite
  readonly dataKey: Uint8Array
  readonly encryptionContext: EncryptionContext
  readonly requiredKeys: readonly string[]
}

export class IncrementalRewrapper {
  readonly #decryptor: IncrementalDecryptor
  readonly #to: Keyring
  readonly #settings: RewrapSettings
  #recovered: Recovered | undefined
  /** The new message, once the input's header authenticated. */
  #encryptor: IncrementalEncryptor | undefined
  /** New message bytes not yet released (the new header first). */
  #output: Uint8Array[] = []

  constructor(from: Cmm, to: Keyring, settings: RewrapSettings, options: RewrapCoreOptions) {
    this.#to = to
    this.#settings = settings
    this.#decryptor = new IncrementalDecryptor({ decryptMaterials: (request, services) => this.#recover(from, request, services) }, settings, options)
    this.#decryptor.releaseFramesTo({
      take: (plaintext) => this.#reseal(plaintext),
      bodyStarts: (body) => this.#startMessage(body),
    })
  }

  /** The new header, once written (nothing is released before). */
  get header(): MessageHeader | undefined {
    return this.#encryptor?.header
  }

  /** The authenticated context (stored and required pairs), once the header has verified. */
  get encryptionContext(): EncryptionContext | undefined {
    return this.#decryptor.info?.encryptionContext
  }

  /** Bytes held between calls: the decryptor's unverified input and the plaintext waiting for its new frame to fill. */
  get bufferedBytes(): number {
    return this.#decryptor.bufferedBytes + (this.#encryptor?.bufferedBytes ?? 0)
  }

  /** Adds input; returns the output that may now be released (the new header first). Calls must not overlap. */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    try {
      for (const plaintext of await this.#decryptor.push(chunk)) this.#reseal(plaintext)
    } catch (e) {
      this.abort(e)
      throw e
    }
    return this.#release()
  }

  /** The input is complete; throws ERR_TRUNCATED (and so on) as decrypt does, else seals the new final frame. */
  async end(): Promise<Uint8Array[]> {
    try {
      for (const plaintext of await this.#decryptor.end()) this.#reseal(plaintext)
      if (!this.#encryptor) throw new KeyringError('rewrap ended before the message body started')
      this.#output.push(...(await this.#encryptor.finish()))
    } catch (e) {
      this.abort(e)
      throw e
    }
    return this.#release()
  }

  abort(reason: unknown): void {
    this.#decryptor.abort(reason)
    this.#encryptor?.abort(reason)
    this.#recovered?.dataKey.fill(0)
    this.#recovered = undefined
    this.#output = []
  }

  /** The CMM step of the decryptor: refuses what cannot be rewrapped before `from` is asked, and keeps a copy of the data key. */
  async #recover(from: Cmm, request: DecryptionRequest, services: KeyringServices): Promise<DecryptionMaterials> {
    assertRewrapAllowed(this.#settings, request.suite)
    const materials = await from.decryptMaterials(request, services)
    const key = materials.plaintextDataKey
    // A key of the wrong length is refused (and wiped) by the decryptor right after this returns.
    if (key instanceof Uint8Array) {
      // The new message carries what the header tag authenticates, nothing more: the header's stored pairs, and the
      // required (authenticated-only) pairs not stored, which stay required. Other pairs a CMM may return are dropped.
      const stored = request.encryptionContext
      const requiredKeys = materials.requiredEncryptionContextKeys.filter((k) => !Object.hasOwn(stored, k))
      const { authOnly } = splitRequiredContext(materials.encryptionContext, requiredKeys)
      this.#recovered = { suite: request.suite, dataKey: copyBytes(key), encryptionContext: { ...stored, ...authOnly }, requiredKeys }
    }
    return materials
  }

  /**
   * Called by the decryptor once the input's header has authenticated with the recovered key, before any
   * frame is read: `to` wraps the data key and the new message (new message id) writes its header.
   */
  async #startMessage(body: BodyAccess): Promise<void> {
    const recovered = this.#recovered
    this.#recovered = undefined
    if (!recovered) throw new KeyringError('rewrap: the data key was not recovered')
    try {
      const edks = await wrapDataKey(this.#to, this.#settings, recovered.suite, recovered)
      // The new message gets the recovered key, the input's suite and context, and `to`'s encrypted data keys; nothing else is asked of a keyring.
      const cmm: Cmm = {
        getEncryptionMaterials: async () =>
          createEncryptionMaterials(
            { suite: recovered.suite, encryptionContext: recovered.encryptionContext, requiredEncryptionContextKeys: recovered.requiredKeys, encryptedDataKeys: edks, signingKey: undefined },
            copyBytes(recovered.dataKey),
          ),
        decryptMaterials: async () => {
          throw new KeyringError('rewrap: decryptMaterials is not used')
        },
      }
      const { backend, commitmentPolicy, maxEncryptedDataKeys } = this.#settings
      // A non-framed input becomes a framed message: the new message is written as a stream, frame by frame.
      const frameLength = body.framed ? body.frameLength : DEFAULT_FRAME_LENGTH
      this.#encryptor = await IncrementalEncryptor.start(cmm, { backend, commitmentPolicy, maxEncryptedDataKeys, parallel: false }, { suiteId: recovered.suite.id, frameLength })
      this.#output.push(this.#encryptor.headerBytes)
    } finally {
      recovered.dataKey.fill(0)
    }
  }

  /** Seals verified plaintext into the new message, then wipes it. */
  #reseal(plaintext: Uint8Array): void {
    try {
      if (plaintext.length === 0) return
      if (!this.#encryptor) throw new KeyringError('rewrap: body before the header')
      const sealed = this.#encryptor.push(plaintext)
      // Unsigned suites only (signed ones are refused), so sealing never waits on a signer.
      if (!Array.isArray(sealed)) throw new KeyringError('rewrap: unexpected asynchronous seal')
      this.#output.push(...sealed)
    } finally {
      plaintext.fill(0)
    }
  }

  #release(): Uint8Array[] {
    const out = this.#output
    this.#output = []
    return out
  }
}

/** One-shot rewrap of a message in memory: nothing is returned unless every frame verified. */
export async function rewrapBytes(from: Cmm, to: Keyring, settings: RewrapSettings, message: Uint8Array, options: RewrapCoreOptions): Promise<RewrapResult> {
  const rewrapper = new IncrementalRewrapper(from, to, settings, options)
  const ciphertext = concatBytes([...(await rewrapper.push(message)), ...(await rewrapper.end())])
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
      `the message uses signed suite ${suiteLabel(suite.id)}, which cannot be rewrapped: its signature names the writer, whose signing key was discarded when the message was written, and a new one would make it another writer's message. Decrypt and re-encrypt it instead`,
    )
  }
  if (suite.kdf === 'identity') {
    throw new UnsupportedError(
      `the message uses suite ${suiteLabel(suite.id)}, which derives no message key: a rewrapped copy would encrypt under the same key and IVs as the input. Decrypt and re-encrypt it instead`,
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
