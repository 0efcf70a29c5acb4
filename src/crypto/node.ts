/**
 * The node:crypto backend: the fast path on Node (spec/backends.md#node).
 * AES-GCM, HMAC and hashing run synchronously through OpenSSL, so the frame
 * loop has no microtask per frame; ECDSA lives in node-ecdsa.ts.
 */
import { checkOptions } from '../options.js'
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createHash,
  hash as cryptoHash,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomFillSync,
  timingSafeEqual,
  type CipherGCM,
  type CipherGCMTypes,
  type DecipherGCM,
} from 'node:crypto'
import type { gcm as nobleGcm } from '@noble/ciphers/aes.js'
import { createRequire } from 'node:module'
import { UnsupportedError } from '../errors.js'
import { HASHES, type HashName } from '../algorithms.js'
import type { AesKey, CryptoBackend, HkdfOutput, RsaPadding, RsaPrivateKey, RsaPublicKey } from './backend.js'
import { nobleAesOn, RawAesKey } from './noble-aes.js'
import { createSigner, createVerifier, generateSigningKey, importVerificationKey } from './node-ecdsa.js'
import { generateNodeEcdhKey, importNodeEcdhKey, nodeEcdh } from './node-ecdh.js'
import { FramePool, type ParallelFramesStatus } from './node-frame-worker.js'
import { SignaturePool, type SignatureWorkerStatus } from './node-hash-worker.js'
import { pkcs1Decode } from './pkcs1.js'
import { Redacted, type PublicFacts } from './redacted.js'

const GCM: Record<number, CipherGCMTypes> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' }
/** One options object for every cipher: nothing is allocated for it per frame. */
const GCM_OPTIONS = Object.freeze({ authTagLength: 16 })

/**
 * The raw key, held in a private field (never printed or serialized). node
 * takes raw bytes per cipher as fast as a KeyObject, and making a KeyObject
 * per message costs about a microsecond plus a native handle for the GC.
 */
class NodeAesKey extends Redacted implements AesKey {
  readonly length: 16 | 24 | 32
  readonly #algorithm: CipherGCMTypes
  readonly #key: Uint8Array
  #keyObject: KeyObject | undefined

  constructor(raw: Uint8Array, algorithm: CipherGCMTypes) {
    super()
    this.length = raw.length as 16 | 24 | 32
    this.#algorithm = algorithm
    this.#key = Uint8Array.prototype.slice.call(raw)
  }

  #wiped = false

  cipher(iv: Uint8Array): CipherGCM {
    return createCipheriv(this.#algorithm, this.#live(), iv, GCM_OPTIONS)
  }

  decipher(iv: Uint8Array): DecipherGCM {
    return createDecipheriv(this.#algorithm, this.#live(), iv, GCM_OPTIONS)
  }

  /** The same key as a KeyObject, which a worker thread can receive without its bytes entering JS there. */
  keyObject(): KeyObject {
    return (this.#keyObject ??= createSecretKey(this.#live()))
  }

  /**
   * Zeroes our copy of the key and drops the KeyObject. A KeyObject cannot be
   * zeroed: its native copy lives until the GC collects it (and until a
   * worker run that received it is over).
   */
  wipe(): void {
    this.#key.fill(0)
    this.#keyObject = undefined
    this.#wiped = true
  }

  #live(): Uint8Array {
    // A wiped key is all zeros: sealing with it must fail, not succeed under a known key.
    if (this.#wiped) throw new TypeError('this AES key was wiped when its message ended')
    return this.#key
  }

  get algorithm(): CipherGCMTypes {
    return this.#algorithm
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['AesKey', { length: this.length }]
  }
}

interface NodeRsaPublicKey extends RsaPublicKey {
  readonly keyObject: KeyObject
}
interface NodeRsaPrivateKey extends RsaPrivateKey {
  readonly keyObject: KeyObject
}

const EMPTY = new Uint8Array(0)
/** HKDF with an empty salt uses HashLen zero bytes (RFC 5869 section 2.2). */
const ZERO_SALT = Object.fromEntries(Object.entries(HASHES).map(([name, { length }]) => [name, new Uint8Array(length)])) as Record<HashName, Uint8Array>
const COUNTER = Uint8Array.from({ length: 256 }, (_, i) => i)

/**
 * Random bytes that are not keys (message ids, IVs, random fill for a failed
 * PKCS#1 v1.5 unwrap) come from a pool filled 4 KiB at a time: one OpenSSL call
 * serves many messages, where a call per request costs about 5 µs, a sixth of a
 * small message's encryption (spec/backends.md#random). Bytes handed out are
 * copied and wiped from the pool, so none is ever used twice. Keys never come
 * from here: see randomKeyBytes.
 */
const POOL_SIZE = 4096
const POOL_MAX_REQUEST = 256
const pool = new Uint8Array(POOL_SIZE)
let poolOffset = POOL_SIZE

function pooledRandom(length: number): Uint8Array {
  if (length > POOL_MAX_REQUEST) return randomFillSync(new Uint8Array(length))
  if (POOL_SIZE - poolOffset < length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const out = pool.slice(poolOffset, poolOffset + length)
  pool.fill(0, poolOffset, poolOffset + length)
  poolOffset += length
  return out
}

/**
 * RFC 5869 extract-then-expand. node's hkdfSync builds a key object and an
 * ArrayBuffer per call and costs about four plain HMACs, and it would repeat
 * the extract for every output: a committing suite's two keys cost three HMACs
 * this way (spec/backends.md#node).
 */
function hkdf(hash: HashName, ikm: Uint8Array, salt: Uint8Array, outputs: readonly HkdfOutput[]): Uint8Array[] {
  const n = HASHES[hash].length
  for (const { length } of outputs) {
    if (!Number.isInteger(length) || length < 0 || length > 255 * n) throw new RangeError(`HKDF output must be 0 to ${255 * n} bytes`)
  }
  const prk = hmac(hash, salt.length === 0 ? ZERO_SALT[hash] : salt, ikm, EMPTY, 0)
  const keys = outputs.map(({ info, length }) => expand(hash, n, prk, info, length))
  prk.fill(0)
  return keys
}

function expand(hash: HashName, n: number, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let block: Uint8Array = EMPTY
  for (let i = 1, o = 0; o < length; i++, o += n) {
    const next = hmac(hash, prk, block, info, i)
    block.fill(0)
    block = next
    out.set(o + n <= length ? block : block.subarray(0, length - o), o)
  }
  block.fill(0)
  return out
}

/** Longest HMAC message the scratch buffers take; HKDF's are a key or a digest plus a short info and a counter. */
const MAX_SCRATCH_MESSAGE = 256

/**
 * Per block length: (key ⊕ ipad) ‖ message, and (key ⊕ opad) ‖ inner digest.
 * Outside a call they hold nothing but the pad bytes and zeros.
 */
const MAX_DIGEST = Math.max(...Object.values(HASHES).map((h) => h.length))
const SCRATCH: Record<number, { inner: Uint8Array; outer: Uint8Array }> = Object.fromEntries(
  [...new Set(Object.values(HASHES).map((h) => h.blockLength))].map((block) => {
    const inner = new Uint8Array(block + MAX_SCRATCH_MESSAGE).fill(0x36, 0, block)
    const outer = new Uint8Array(block + MAX_DIGEST).fill(0x5c, 0, block)
    return [block, { inner, outer }]
  }),
)

/**
 * HMAC(key, a ‖ b ‖ [counter]) (RFC 2104), a counter of 0 meaning none.
 * Two one-shot crypto.hash calls: a createHmac object per call costs more
 * than the hashing itself for these few bytes.
 */
function hmac(hash: HashName, key: Uint8Array, a: Uint8Array, b: Uint8Array, counter: number): Buffer {
  const block = HASHES[hash].blockLength
  const messageLength = a.length + b.length + (counter > 0 ? 1 : 0)
  if (key.length > block || messageLength > MAX_SCRATCH_MESSAGE) {
    const mac = createHmac(hash, key).update(a).update(b)
    if (counter > 0) mac.update(COUNTER.subarray(counter, counter + 1))
    return mac.digest()
  }
  const { inner, outer } = SCRATCH[block]!
  for (let i = 0; i < key.length; i++) {
    inner[i] = key[i]! ^ 0x36
    outer[i] = key[i]! ^ 0x5c
  }
  inner.set(a, block)
  inner.set(b, block + a.length)
  if (counter > 0) inner[block + a.length + b.length] = counter
  const innerDigest = cryptoHash(hash, inner.subarray(0, block + messageLength), 'buffer')
  outer.set(innerDigest, block)
  const mac = cryptoHash(hash, outer.subarray(0, block + innerDigest.length), 'buffer')
  innerDigest.fill(0)
  inner.fill(0x36, 0, key.length)
  inner.fill(0, block, block + messageLength)
  outer.fill(0x5c, 0, key.length)
  outer.fill(0, block)
  return mac
}

function rsaOptions(padding: RsaPadding): { padding: number; oaepHash?: string } {
  if (padding === 'pkcs1') return { padding: constants.RSA_PKCS1_PADDING }
  return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.slice('oaep-'.length) }
}

function asKeyObject(key: unknown, kind: 'public' | 'private'): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== kind) throw new TypeError(`expected an RSA ${kind} key, got a ${key.type} key`)
    if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`expected an RSA key, got ${key.asymmetricKeyType}`)
    return key
  }
  if (typeof key === 'string' || key instanceof Uint8Array) {
    const text = typeof key === 'string' ? key : Buffer.from(key).toString('utf8')
    // A private PEM given as the public key would silently derive one; the spec forbids that.
    if (kind === 'public' && text.includes('PRIVATE KEY')) throw new TypeError('publicKey must be a public key, not a private key')
    const object = kind === 'public' ? createPublicKey(text) : createPrivateKey(text)
    if (object.asymmetricKeyType !== 'rsa') throw new TypeError(`expected an RSA key, got ${object.asymmetricKeyType}`)
    return object
  }
  throw new TypeError(`an RSA ${kind} key must be PEM text or a KeyObject`)
}

/** node:crypto's primitives; createNodeBackend adds the frame worker. */
const primitives: CryptoBackend = {
  name: 'node',

  randomBytes(length) {
    return pooledRandom(length)
  },

  randomKeyBytes(length) {
    // Unpooled: the pool holds later output in the JS heap, and keys must not sit there before their time.
    return randomFillSync(new Uint8Array(length))
  },

  importAesKey(raw) {
    const cipher = GCM[raw.length]
    if (!cipher) throw new RangeError(`AES keys are 16, 24 or 32 bytes, not ${raw.length}`)
    return new NodeAesKey(raw, cipher)
  },

  gcmSeal(key, iv, aad, plaintext, out, offset) {
    // node:crypto has no "update into this buffer": the one copy per frame is out.set.
    const cipher = (key as NodeAesKey).cipher(iv)
    cipher.setAAD(aad)
    let written = 0
    if (plaintext.length > 0) {
      const body = cipher.update(plaintext)
      out.set(body, offset)
      written = body.length
    }
    const rest = cipher.final()
    if (rest.length > 0) out.set(rest, offset + written)
    out.set(cipher.getAuthTag(), offset + plaintext.length)
  },

  gcmOpen(key, iv, aad, ciphertext, tag) {
    const decipher = (key as NodeAesKey).decipher(iv)
    decipher.setAuthTag(tag)
    decipher.setAAD(aad)
    const plaintext = ciphertext.length > 0 ? decipher.update(ciphertext) : new Uint8Array(0)
    try {
      decipher.final()
    } catch {
      plaintext.fill(0)
      return undefined
    }
    return plaintext
  },

  hkdf,

  timingSafeEqual(a, b) {
    return a.length === b.length && timingSafeEqual(a, b)
  },

  digest(hash, data) {
    return createHash(hash).update(data).digest()
  },

  hmac(hash, key, data) {
    return createHmac(hash, key).update(data).digest()
  },

  generateSigningKey,
  importVerificationKey,
  // Without a pool here; createNodeBackend gives every backend its signature pool.
  createSigner: (key, hash) => createSigner(key, hash, undefined),
  createVerifier: (key, hash) => createVerifier(key, hash, undefined),

  importEcdhPrivateKey: importNodeEcdhKey,
  generateEcdhPrivateKey: generateNodeEcdhKey,
  ecdh: nodeEcdh,

  importRsaPublicKey(key) {
    const k: NodeRsaPublicKey = { kind: 'rsa-public', keyObject: asKeyObject(key, 'public') }
    return k
  },

  importRsaPrivateKey(key) {
    const k: NodeRsaPrivateKey = { kind: 'rsa-private', keyObject: asKeyObject(key, 'private') }
    return k
  },

  rsaEncrypt(key, padding, plaintext) {
    return publicEncrypt({ key: (key as NodeRsaPublicKey).keyObject, ...rsaOptions(padding) }, plaintext)
  },

  aesCbcDecrypt(key, iv, ciphertext) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError(`AES keys are 16, 24 or 32 bytes, not ${key.length}`)
    try {
      const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, iv)
      const head = decipher.update(ciphertext)
      const tail = decipher.final()
      const out = new Uint8Array(head.length + tail.length)
      out.set(head)
      out.set(tail, head.length)
      head.fill(0)
      tail.fill(0)
      return out
    } catch {
      // One fixed error: which padding byte was wrong is nobody's business.
      throw new Error('AES-CBC decryption failed')
    }
  },

  rsaDecrypt(key, padding, ciphertext, expectedLength) {
    const keyObject = (key as NodeRsaPrivateKey).keyObject
    if (padding === 'pkcs1') return pkcs1Decrypt(keyObject, ciphertext, expectedLength)
    try {
      return privateDecrypt({ key: keyObject, ...rsaOptions(padding) }, ciphertext)
    } catch {
      // One fixed error: OpenSSL's text would say which check failed (spec/keyrings.md#raw-rsa).
      throw new Error('RSA decryption failed')
    }
  },
}

/** Whether this Node.js refuses PKCS#1 v1.5 private decryption (CVE-2023-46809); asked once per process. */
let pkcs1Refused: boolean | undefined

function checkPkcs1Allowed(key: KeyObject): void {
  if (pkcs1Refused === undefined) {
    try {
      // Node refuses the padding before OpenSSL sees the input, so an empty input answers without a private-key operation.
      privateDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, EMPTY)
      pkcs1Refused = false
    } catch (e) {
      pkcs1Refused = String((e as Error).message).includes('CVE-2023-46809')
    }
  }
  if (pkcs1Refused) {
    throw new UnsupportedError(
      'this Node.js refuses RSA PKCS#1 v1.5 decryption (CVE-2023-46809, the Marvin attack). ' +
        'Re-wrap the data key with OAEP, decrypt with createClient({ backend: nobleBackend }) from envelope-sdk/crypto, ' +
        'or run node with --security-revert=CVE-2023-46809 to read legacy messages',
    )
  }
}

/**
 * RSAES-PKCS1-v1_5 decryption with no padding oracle: OpenSSL does the raw
 * RSA operation only (RSA_NO_PADDING, blinded), and rsa.ts unpads without a
 * branch on the block. With `expectedLength`, every failure, whether of the
 * block, of its length or of the ciphertext, yields random bytes of that
 * length instead of an error (spec/backends.md#pkcs1-v15-without-a-padding-oracle).
 * Node's gate stays: without the revert flag (or an OpenSSL with implicit
 * rejection) PKCS#1 v1.5 decryption is refused, as Node refuses it.
 */
function pkcs1Decrypt(key: KeyObject, ciphertext: Uint8Array, expectedLength: number | undefined): Uint8Array {
  checkPkcs1Allowed(key)
  const k = Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8)
  let em: Buffer | undefined
  // Length and range are public facts about the ciphertext: OpenSSL refuses one not below n, and would take a short one as a number.
  if (ciphertext.length === k) {
    try {
      em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext)
    } catch {
      em = undefined
    }
  }
  if (em?.length !== k) {
    em?.fill(0)
    if (expectedLength !== undefined) return pooledRandom(expectedLength)
    throw new Error('RSA decryption failed')
  }
  const message = pkcs1Decode(em, expectedLength, pooledRandom)
  em.fill(0)
  if (!message) throw new Error('RSA decryption failed')
  return message
}

/** The node:crypto backend, and whether its workers can run (spec/backends.md#parallel-frames). */
export interface NodeBackend extends CryptoBackend {
  readonly parallelFrames: ParallelFramesStatus
  /** The signature hash worker (large signed messages): whether it can run, and if not, why. */
  readonly signatureWorker: SignatureWorkerStatus
}

export interface NodeBackendOptions {
  /** Where one-shot frame runs go: a FramePool of your own, or false for none. By default the process's pool. */
  readonly frameWorker?: FramePool | false
  /** Where large signed messages are hashed: a SignaturePool of your own, or false to hash on the calling thread. By default the process's pool. */
  readonly signatureWorker?: SignaturePool | false
}

/** The process's pools, made when the first backend that uses them is (neither starts a worker before a message needs it). */
let processFrames: FramePool | undefined
let processSignatures: SignaturePool | undefined

const FRAMES_OFF: ParallelFramesStatus = { available: false, reason: 'turned off: createNodeBackend({ frameWorker: false })', runs: 0 }
const SIGNATURES_OFF: SignatureWorkerStatus = { available: false, reason: 'turned off: createNodeBackend({ signatureWorker: false })' }

/**
 * Whether this runtime's node:crypto has aes-192-gcm. Node's OpenSSL does; Deno's node:crypto
 * does not (ERR_CRYPTO_UNKNOWN_CIPHER), and Deno resolves the "node" condition to this build.
 * Probed once per process (the first createNodeBackend) with a throwaway all-zero key.
 */
function hasAes192Gcm(): boolean {
  try {
    createCipheriv('aes-192-gcm', new Uint8Array(24), new Uint8Array(12), GCM_OPTIONS).final()
    return true
  } catch {
    return false
  }
}

/**
 * node:crypto's AES-GCM with AES-192 keys in pure JS, for a node:crypto without aes-192-gcm. noble's
 * AES loads here, synchronously, and only then: it is ESM, which require() loads from Node 20.19
 * (the engines floor) and in Deno; the CommonJS build has require, the ESM build makes one.
 */
function aes192InJs(): Pick<CryptoBackend, 'importAesKey' | 'gcmSeal' | 'gcmOpen'> {
  const { gcm } = createRequire(import.meta.url)('@noble/ciphers/aes.js') as { gcm: typeof nobleGcm }
  const js = nobleAesOn(gcm)
  return {
    importAesKey: (raw) => (raw.length === 24 ? js.importAesKey(raw) : primitives.importAesKey(raw)),
    gcmSeal: (key, iv, aad, plaintext, out, offset) => (key instanceof RawAesKey ? js : primitives).gcmSeal(key, iv, aad, plaintext, out, offset),
    gcmOpen: (key, iv, aad, ciphertext, tag) => (key instanceof RawAesKey ? js : primitives).gcmOpen(key, iv, aad, ciphertext, tag),
  }
}

/** primitives, or primitives with AES-192 in pure JS: decided by the first createNodeBackend. */
let symmetric: CryptoBackend | undefined

/**
 * A node:crypto backend whose one-shot frame runs go to `frameWorker` and
 * whose large signed messages hash on `signatureWorker` (by default the
 * process's pools). Where node:crypto lacks aes-192-gcm (Deno), AES-192 keys
 * are sealed and opened in pure JS instead, decided here once
 * (spec/backends.md#node); their frames stay on this thread, since the pool
 * runs node:crypto too.
 * @example
 * ```ts
 * const backend = createNodeBackend({ frameWorker: false })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key, a frameWorker that is not a FramePool or false, or a signatureWorker that is not a SignaturePool or false.
 */
export function createNodeBackend(options: NodeBackendOptions = {}): NodeBackend {
  const { frameWorker, signatureWorker } = checkOptions(options, 'createNodeBackend', { frameWorker: 'any', signatureWorker: 'any' })
  if (frameWorker !== undefined && frameWorker !== false && !(frameWorker instanceof FramePool)) {
    throw new TypeError('frameWorker must be a FramePool or false')
  }
  if (signatureWorker !== undefined && signatureWorker !== false && !(signatureWorker instanceof SignaturePool)) {
    throw new TypeError('signatureWorker must be a SignaturePool or false')
  }
  symmetric ??= hasAes192Gcm() ? primitives : { ...primitives, ...aes192InJs() }
  const signatures = signatureWorker === false ? undefined : (signatureWorker ?? (processSignatures ??= new SignaturePool()))
  const backend: CryptoBackend = {
    ...symmetric,
    createSigner: (key, hash) => createSigner(key, hash, signatures),
    createVerifier: (key, hash) => createVerifier(key, hash, signatures),
  }
  const signatureStatus = (): SignatureWorkerStatus => signatures?.status ?? SIGNATURES_OFF
  if (frameWorker === false) return withStatus(backend, () => FRAMES_OFF, signatureStatus)
  const pool = frameWorker ?? (processFrames ??= new FramePool())
  backend.sealFramesInParallel = (key, aadPrefix, firstSequence, frameLength, plaintext) => {
    if (!(key instanceof NodeAesKey)) return undefined
    return pool.seal({ algorithm: key.algorithm, key: key.keyObject(), aadPrefix, firstSequence, frameLength, input: plaintext })
  }
  backend.openFramesInParallel = (key, aadPrefix, firstSequence, frameLength, frames) => {
    if (!(key instanceof NodeAesKey)) return undefined
    return pool.open({ algorithm: key.algorithm, key: key.keyObject(), aadPrefix, firstSequence, frameLength, input: frames })
  }
  return withStatus(backend, () => pool.status, signatureStatus)
}

function withStatus(backend: CryptoBackend, frames: () => ParallelFramesStatus, signatures: () => SignatureWorkerStatus): NodeBackend {
  return Object.defineProperties(backend, {
    parallelFrames: { get: frames, enumerable: true },
    signatureWorker: { get: signatures, enumerable: true },
  }) as NodeBackend
}

/**
 * The default node:crypto backend, on the process's frame pool.
 * @example
 * ```ts
 * const client = createClient({ backend: nodeBackend })
 * ```
 */
export const nodeBackend: NodeBackend = createNodeBackend()

/** The SPKI PEM of an RSA private key's public half: for tools (the vector runner), never for keyrings. */
export function rsaPublicPemOf(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString()
}
