/**
 * ECDSA for signed suites on node:crypto (spec/algorithm-suites.md#signatures).
 * Nothing here runs on the calling thread but bookkeeping: key generation,
 * signing and verifying use the callback forms, which run in libuv's thread
 * pool, and large messages are hashed by a worker thread as they stream past,
 * so the main thread keeps doing AES-GCM and concurrent messages overlap.
 */
import {
  createPublicKey,
  createSign,
  createVerify,
  ECDH,
  generateKeyPair,
  sign as signInPool,
  verify as verifyInPool,
  type KeyObject,
  type Sign,
  type Verify,
} from 'node:crypto'
import { MalformedMessageError } from '../errors.js'
import { CURVES, type CurveName, type HashName } from '../algorithms.js'
import type { SigningKey, Signer, VerificationKey, Verifier } from './backend.js'
import { WorkerDigest, type SignaturePool } from './node-hash-worker.js'

interface NodeSigningKey extends SigningKey {
  readonly privateKey: KeyObject
}
interface NodeVerificationKey extends VerificationKey {
  readonly publicKey: KeyObject
}

const EMPTY = new Uint8Array(0)

function compressPoint(jwk: { x?: string; y?: string }): Uint8Array {
  const x = Buffer.from(jwk.x!, 'base64url')
  const y = Buffer.from(jwk.y!, 'base64url')
  const out = new Uint8Array(1 + x.length)
  out[0] = 0x02 | (y[y.length - 1]! & 1)
  out.set(x, 1)
  return out
}

function generateInPool(curve: CurveName): Promise<SigningKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: CURVES[curve].opensslName }, (error, publicKey, privateKey) => {
      if (error) return reject(error)
      const key: NodeSigningKey = { curve, publicKey: compressPoint(publicKey.export({ format: 'jwk' })), privateKey }
      resolve(key)
    })
  })
}

/**
 * Every signed message still gets its own fresh key pair, but each pair is
 * generated one message ahead: while this message is built and signed, the
 * next one's key is being made in the thread pool, on the other core. Each
 * pair is handed out once; there is at most one spare per curve.
 */
const spares: Partial<Record<CurveName, Promise<SigningKey>>> = {}

export function generateSigningKey(curve: CurveName): Promise<SigningKey> {
  const ready = spares[curve]
  const next = generateInPool(curve)
  // A spare nobody takes must not surface as an unhandled rejection; whoever takes it still sees its error.
  next.catch(() => undefined)
  spares[curve] = next
  return ready ?? generateInPool(curve)
}

export function importVerificationKey(curve: CurveName, compressedPoint: Uint8Array): VerificationKey {
  let uncompressed: Buffer
  try {
    uncompressed = ECDH.convertKey(compressedPoint, CURVES[curve].opensslName, undefined, undefined, 'uncompressed') as Buffer
  } catch (cause) {
    throw new MalformedMessageError(`the signing public key in the encryption context is not a valid ${curve} point`, { cause })
  }
  const n = CURVES[curve].coordinateLength
  if (compressedPoint.length !== n + 1) throw new MalformedMessageError(`the signing public key is not a compressed ${curve} point`)
  const publicKey = createPublicKey({
    key: {
      kty: 'EC',
      crv: curve,
      x: uncompressed.subarray(1, 1 + n).toString('base64url'),
      y: uncompressed.subarray(1 + n).toString('base64url'),
    },
    format: 'jwk',
  })
  const key: NodeVerificationKey = { curve, publicKey }
  return key
}

/**
 * Above this many bytes, a message's signature input streams to the hash
 * worker as it arrives, so SHA-384 runs on another core (node-hash-worker.ts).
 * Below it, the bytes are gathered (copied) into one buffer and signed or
 * verified in libuv's thread pool by the callback forms, so concurrent small
 * messages overlap their ECDSA.
 */
const WORKER_FROM = 1024 * 1024

/** A message's signature input: gathered while small, streamed to the worker once large. */
class SignatureInput {
  readonly #kind: 'sign' | 'verify'
  readonly #hash: HashName
  #gathered = EMPTY
  #length = 0
  #worker: WorkerDigest | undefined
  /** Large, but no worker could start: hashed on this thread. */
  #local: Sign | Verify | undefined
  readonly #pool: SignaturePool | undefined

  /** Without a `pool`, large messages hash on this thread. */
  constructor(kind: 'sign' | 'verify', hash: HashName, pool: SignaturePool | undefined) {
    this.#kind = kind
    this.#hash = hash
    this.#pool = pool
  }

  /** A promise only while the worker's ring is full (see WorkerDigest.update). */
  update(data: Uint8Array): Promise<void> | undefined {
    if (this.#worker) return this.#worker.update(data)
    if (this.#local) return void this.#local.update(data)
    const length = this.#length + data.length
    if (length >= WORKER_FROM) {
      const gathered = this.#gathered.subarray(0, this.#length)
      this.#gathered = EMPTY
      this.#length = 0
      const worker = (this.#worker = WorkerDigest.start(this.#kind, this.#hash, this.#pool?.worker()))
      if (worker) {
        // Other messages may have filled the ring: `data` goes only once the gathered bytes are queued.
        const queued = worker.update(gathered)
        return queued ? queued.then(() => worker.update(data)) : worker.update(data)
      }
      this.#local = this.#kind === 'sign' ? createSign(this.#hash) : createVerify(this.#hash)
      this.#local.update(gathered)
      this.#local.update(data)
      return
    }
    if (length > this.#gathered.length) {
      const grown = new Uint8Array(Math.min(WORKER_FROM, Math.max(length, 2 * this.#gathered.length, 4096)))
      grown.set(this.#gathered.subarray(0, this.#length))
      this.#gathered = grown
    }
    this.#gathered.set(data, this.#length)
    this.#length = length
  }

  sign(key: KeyObject): Promise<Uint8Array> {
    if (this.#worker) return this.#worker.sign(key)
    if (this.#local) return Promise.resolve((this.#local as Sign).sign(key))
    const data = this.#gathered.subarray(0, this.#length)
    return new Promise((resolve, reject) => {
      signInPool(this.#hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature)))
    })
  }

  verify(key: KeyObject, signature: Uint8Array): Promise<boolean> {
    if (this.#worker) return this.#worker.verify(key, signature)
    if (this.#local) {
      try {
        return Promise.resolve((this.#local as Verify).verify(key, signature))
      } catch {
        return Promise.resolve(false)
      }
    }
    const data = this.#gathered.subarray(0, this.#length)
    return new Promise((resolve) => {
      // A malformed DER signature is an error here: it verifies as false, like a wrong one.
      try {
        verifyInPool(this.#hash, data, key, signature, (error, ok) => resolve(!error && ok))
      } catch {
        resolve(false)
      }
    })
  }
}

/** A signer whose large messages hash on `pool`'s worker (on this thread without one). */
export function createSigner(key: SigningKey, hash: HashName, pool: SignaturePool | undefined): Signer {
  const input = new SignatureInput('sign', hash, pool)
  const privateKey = (key as NodeSigningKey).privateKey
  return { update: (data) => input.update(data), sign: () => input.sign(privateKey) }
}

/** A verifier whose large messages hash on `pool`'s worker (on this thread without one). */
export function createVerifier(key: VerificationKey, hash: HashName, pool: SignaturePool | undefined): Verifier {
  const input = new SignatureInput('verify', hash, pool)
  const publicKey = (key as NodeVerificationKey).publicKey
  return { update: (data) => input.update(data), verify: (signature) => input.verify(publicKey, signature) }
}
