/**
 * CachingCmm: reuses data keys within limits of age, messages and bytes
 * (spec/materials.md#caching).
 *
 * - Usage is counted before an entry is handed out, so no entry ever serves
 *   more messages or bytes than configured, however many calls race.
 * - Concurrent misses for one identifier share one call to the underlying CMM
 *   (single flight): a burst of N encrypts on a cold cache costs one KMS call.
 * - Identity-KDF suites and encryptions of unknown length bypass the cache.
 * - Callers get copies of the cached data key: the client wipes what it gets.
 */
import type { KeyringContext, Keyring } from '../materials/keyring.js'
import { toCmm, type Cmm, type DecryptionRequest, type EncryptionRequest } from '../materials/cmm.js'
import {
  createDecryptionMaterials,
  createEncryptionMaterials,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../materials/materials.js'
import { defaultSuiteId } from '../materials/policy.js'
import { copyBytes } from '../format/bytes.js'
import { getSuite } from '../format/suites.js'
import { LocalCache, type CacheEntry, type MaterialsCache } from './cache.js'
import { decryptCacheId, encryptCacheId } from './cache-id.js'

export interface CachingCmmOptions {
  readonly keyring?: Keyring
  readonly cmm?: Cmm
  /** Where entries live; default a LocalCache of `capacity` entries. */
  readonly cache?: MaterialsCache
  /** Entries of the default LocalCache (default 1000). */
  readonly capacity?: number
  /** Longest an entry is used, in milliseconds. Required. */
  readonly maxAge: number
  /** Messages one data key may encrypt (1 to 2^32; default 2^32). */
  readonly maxMessagesEncrypted?: number
  /** Plaintext bytes one data key may encrypt (default 2^53 - 1). */
  readonly maxBytesEncrypted?: number
  /** Separates CMMs that share a cache; default unique per instance. */
  readonly partition?: string
  /** Milliseconds now; injectable for tests. */
  readonly clock?: () => number
  readonly onEvent?: (event: CacheEvent) => void
}

export interface CacheEvent {
  readonly type: 'hit' | 'miss' | 'eviction' | 'bypass' | 'underlying-call'
  readonly operation: 'encrypt' | 'decrypt'
  /** Why an entry was evicted or a request bypassed the cache. */
  readonly reason?: string
}

export interface CacheStats {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
  readonly bypasses: number
  readonly underlyingCalls: number
}

const MAX_MESSAGES = 2 ** 32

function checkLimit(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`)
  }
  return value
}

export class CachingCmm implements Cmm {
  readonly partition: string
  readonly maxAge: number
  readonly maxMessagesEncrypted: number
  readonly maxBytesEncrypted: number
  readonly #underlying: Cmm
  readonly #cache: MaterialsCache
  readonly #clock: () => number
  readonly #onEvent: ((event: CacheEvent) => void) | undefined
  readonly #inflight = new Map<string, Promise<CacheEntry>>()
  readonly #stats = { hits: 0, misses: 0, evictions: 0, bypasses: 0, underlyingCalls: 0 }

  constructor(options: CachingCmmOptions) {
    const { keyring, cmm } = options ?? ({} as CachingCmmOptions)
    if ((keyring === undefined) === (cmm === undefined)) throw new TypeError('give exactly one of keyring or cmm')
    if (typeof options.maxAge !== 'number' || !(options.maxAge > 0) || !Number.isFinite(options.maxAge)) {
      throw new RangeError('maxAge must be a positive number of milliseconds')
    }
    if (options.cache !== undefined && options.capacity !== undefined) throw new TypeError('give cache or capacity, not both')
    this.#underlying = toCmm((keyring ?? cmm)!)
    this.#cache = options.cache ?? new LocalCache({ capacity: options.capacity ?? 1000 })
    this.maxAge = options.maxAge
    this.maxMessagesEncrypted = checkLimit(options.maxMessagesEncrypted, 'maxMessagesEncrypted', 1, MAX_MESSAGES, MAX_MESSAGES)
    this.maxBytesEncrypted = checkLimit(options.maxBytesEncrypted, 'maxBytesEncrypted', 0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    if (options.partition !== undefined && typeof options.partition !== 'string') throw new TypeError('partition must be a string')
    this.partition = options.partition ?? globalThis.crypto.randomUUID()
    this.#clock = options.clock ?? Date.now
    this.#onEvent = options.onEvent
  }

  /** Counters since construction: read them to see how well the cache works (e.g. per Lambda container). */
  stats(): CacheStats {
    return { ...this.#stats }
  }

  async getEncryptionMaterials(request: EncryptionRequest, context: KeyringContext): Promise<EncryptionMaterials> {
    const length = request.maxPlaintextLength
    const suite = getSuite(request.suiteId ?? defaultSuiteId(request.commitmentPolicy))
    const bypass = length === undefined ? 'unknown plaintext length' : !suite.cacheSafe ? 'identity-KDF suite' : length > this.maxBytesEncrypted ? 'message larger than maxBytesEncrypted' : undefined
    if (bypass) {
      this.#event({ type: 'bypass', operation: 'encrypt', reason: bypass })
      this.#event({ type: 'underlying-call', operation: 'encrypt' })
      return this.#underlying.getEncryptionMaterials(request, context)
    }
    const id = encryptCacheId(context.crypto, this.partition, request.suiteId, request.encryptionContext, request.requiredEncryptionContextKeys, request.commitmentPolicy)
    for (;;) {
      const entry = this.#fresh(id, 'encrypt')
      const hit = entry && this.#take(id, entry, length!)
      if (hit) {
        this.#event({ type: 'hit', operation: 'encrypt' })
        return hit
      }
      this.#event({ type: 'miss', operation: 'encrypt' })
      // The underlying CMM sees no length: the entry will serve many messages.
      const created = await this.#flight(id, 'encrypt', () => this.#underlying.getEncryptionMaterials({ ...request, maxPlaintextLength: undefined }, context))
      const taken = this.#take(id, created, length!)
      if (taken) return taken
      // Other waiters on the same flight used the entry up first: go round for a new one.
    }
  }

  async decryptMaterials(request: DecryptionRequest, context: KeyringContext): Promise<DecryptionMaterials> {
    if (!request.suite.cacheSafe) {
      this.#event({ type: 'bypass', operation: 'decrypt', reason: 'identity-KDF suite' })
      this.#event({ type: 'underlying-call', operation: 'decrypt' })
      return this.#underlying.decryptMaterials(request, context)
    }
    const id = decryptCacheId(context.crypto, this.partition, request.suite.id, request.encryptedDataKeys, request.encryptionContext, request.reproducedEncryptionContext)
    for (;;) {
      const entry = this.#fresh(id, 'decrypt')
      if (entry && !entry.wiped) {
        this.#event({ type: 'hit', operation: 'decrypt' })
        return copyDecryption(entry.materials as DecryptionMaterials)
      }
      this.#event({ type: 'miss', operation: 'decrypt' })
      const created = await this.#flight(id, 'decrypt', () => this.#underlying.decryptMaterials(request, context))
      // A store that evicted the entry before we got here has wiped its key: fetch again.
      if (!created.wiped) return copyDecryption(created.materials as DecryptionMaterials)
    }
  }

  /** The entry for `id` if it exists and has not aged out. */
  #fresh(id: string, operation: 'encrypt' | 'decrypt'): CacheEntry | undefined {
    const entry = this.#cache.get(id)
    if (entry && this.#clock() - entry.createdAt >= this.maxAge) {
      this.#evict(id, operation, 'maxAge')
      return undefined
    }
    return entry
  }

  /**
   * Counts one message of `length` bytes against the entry and returns a copy of
   * its materials, or evicts the entry when that message would pass a limit.
   * The copy is taken before a used-up entry is evicted (eviction wipes its key).
   */
  #take(id: string, entry: CacheEntry, length: number): EncryptionMaterials | undefined {
    if (entry.wiped) return undefined
    if (this.#clock() - entry.createdAt >= this.maxAge) {
      this.#evict(id, 'encrypt', 'maxAge')
      return undefined
    }
    if (entry.messages + 1 > this.maxMessagesEncrypted || entry.bytes + length > this.maxBytesEncrypted) {
      this.#evict(id, 'encrypt', entry.messages + 1 > this.maxMessagesEncrypted ? 'maxMessagesEncrypted' : 'maxBytesEncrypted')
      return undefined
    }
    entry.messages += 1
    entry.bytes += length
    const copy = copyEncryption(entry.materials as EncryptionMaterials)
    // Used up: remove it now so the next request does not have to find out.
    if (entry.messages === this.maxMessagesEncrypted || entry.bytes === this.maxBytesEncrypted) this.#evict(id, 'encrypt', 'limit reached')
    return copy
  }

  #evict(id: string, operation: 'encrypt' | 'decrypt', reason: string): void {
    if (this.#cache.get(id) === undefined) return
    this.#cache.delete(id)
    this.#event({ type: 'eviction', operation, reason })
  }

  /** One underlying call per identifier at a time; every concurrent miss awaits the same one. */
  #flight(id: string, operation: 'encrypt' | 'decrypt', call: () => Promise<EncryptionMaterials | DecryptionMaterials>): Promise<CacheEntry> {
    let pending = this.#inflight.get(id)
    if (!pending) {
      this.#event({ type: 'underlying-call', operation })
      pending = call()
        .then((materials) => {
          const entry: CacheEntry = { materials, createdAt: this.#clock(), messages: 0, bytes: 0 }
          this.#cache.put(id, entry)
          return entry
        })
        .finally(() => this.#inflight.delete(id))
      this.#inflight.set(id, pending)
    }
    return pending
  }

  #event(event: CacheEvent): void {
    if (event.type === 'hit') this.#stats.hits++
    else if (event.type === 'miss') this.#stats.misses++
    else if (event.type === 'eviction') this.#stats.evictions++
    else if (event.type === 'bypass') this.#stats.bypasses++
    else this.#stats.underlyingCalls++
    this.#onEvent?.(event)
  }
}

function copyEncryption(materials: EncryptionMaterials): EncryptionMaterials {
  return createEncryptionMaterials(materials, materials.plaintextDataKey && copyBytes(materials.plaintextDataKey))
}

function copyDecryption(materials: DecryptionMaterials): DecryptionMaterials {
  return createDecryptionMaterials(materials, materials.plaintextDataKey && copyBytes(materials.plaintextDataKey))
}
