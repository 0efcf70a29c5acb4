/**
 * CachingCmm: reuses data keys within limits of age, messages and bytes
 * (spec/materials.md#caching).
 *
 * - Usage is counted before an entry is handed out, so no entry ever serves
 *   more messages or bytes than configured, however many calls race.
 * - Concurrent misses for one identifier share one call to the underlying CMM
 *   (single flight): a burst of N encrypts on a cold cache costs one KMS call.
 * - Identity-KDF suites and encryptions of unknown length bypass the cache,
 *   and materials are cached only when the suite they carry has a KDF: the
 *   underlying CMM may pick the suite itself (spec/materials.md#which-materials-may-be-cached).
 * - Callers get copies of the cached data key: the client wipes what it gets.
 * - Expired entries are wiped by an unref'd timer (spec/materials.md#expiry).
 */
import { checkOptions } from '../options.js'
import type { KeyringServices, Keyring } from '../materials/keyring.js'
import { toCmm, type Cmm, type DecryptionRequest, type EncryptionRequest } from '../materials/cmm.js'
import {
  createDecryptionMaterials,
  createEncryptionMaterials,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../materials/materials.js'
import { defaultSuiteId } from '../materials/policy.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { copyBytes } from '../format/bytes.js'
import { toBase64 } from '../encoding.js'
import { findSuite, getSuite, type AlgorithmSuite } from '../format/suites.js'
import { LocalCache, wipeEntry, type CacheEntry, type MaterialsCache } from './cache.js'
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
  /** Separates CMMs that share a cache; default unique per instance (16 random bytes from the client's backend, drawn on first use). */
  readonly partition?: string
  /** Milliseconds now; injectable for tests. */
  readonly clock?: () => number
  /** Called for each hit, miss, eviction, bypass and underlying call (for metrics). */
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

/**
 * Fewest milliseconds between two sweeps of expired entries, so a steady
 * stream of new entries costs at most one pass over the store per second: an
 * expired key is wiped at most this long after its entry expires.
 */
const SWEEP_GAP = 1000

/** What one underlying call gave: a cache entry, or materials that must serve their caller only. */
type Flight = { readonly entry: CacheEntry } | { readonly uncached: EncryptionMaterials | DecryptionMaterials }

const UNCACHEABLE = 'the underlying CMM returned a suite that must not be cached'

/** Materials may be cached only for a KDF suite, and only the suite the request named (spec/materials.md#which-materials-may-be-cached). */
function cacheable(suite: AlgorithmSuite, requested: number | undefined): boolean {
  // The suite table decides, not the object a CMM returned: a copy claiming cacheSafe is not believed.
  return findSuite(suite.id)?.cacheSafe === true && (requested === undefined || suite.id === requested)
}

function checkLimit(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`)
  }
  return value
}

/**
 * Reuses data keys across messages within the limits given (age, messages, bytes), with one call to
 * the keyring per burst of misses (docs/caching.md).
 * @example
 * ```ts
 * const cmm = new CachingCmm({ keyring, capacity: 100, maxAge: 60_000, maxMessagesEncrypted: 1000 })
 * await createClient().encrypt(cmm, 'hello')
 * ```
 * @throws {TypeError} bad options, or not exactly one of keyring and cmm.
 * @throws {RangeError} a limit out of range (maxAge must be positive).
 */
export class CachingCmm implements Cmm {
  readonly maxAge: number
  readonly maxMessagesEncrypted: number
  readonly maxBytesEncrypted: number
  readonly #underlying: Cmm
  readonly #cache: MaterialsCache
  readonly #clock: () => number
  readonly #onEvent: ((event: CacheEvent) => void) | undefined
  readonly #inflight = new Map<string, Promise<Flight>>()
  readonly #stats = { hits: 0, misses: 0, evictions: 0, bypasses: 0, underlyingCalls: 0 }
  #partition: string | undefined
  #sweepTimer: ReturnType<typeof setTimeout> | undefined

  constructor(options: CachingCmmOptions) {
    const { keyring, cmm } = checkOptions(options, 'CachingCmm', {
      keyring: 'object',
      cmm: 'object',
      cache: 'object',
      capacity: 'number',
      maxAge: 'number',
      maxMessagesEncrypted: 'number',
      maxBytesEncrypted: 'number',
      partition: 'string',
      clock: 'function',
      onEvent: 'function',
    })
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
    this.#partition = options.partition
    this.#clock = options.clock ?? Date.now
    this.#onEvent = options.onEvent
  }

  /** The partition given, or the one drawn on first use; undefined before then. */
  get partition(): string | undefined {
    return this.#partition
  }

  /**
   * Drawn from the backend the client lends (spec/materials.md#default-partition): backend.randomUUID is
   * missing in insecure browser contexts, where the pure-JS backend runs.
   */
  #partitionFor(backend: CryptoBackend): string {
    return (this.#partition ??= toBase64(backend.randomBytes(16)))
  }

  /** Counters since construction: read them to see how well the cache works (e.g. per Lambda container). */
  stats(): CacheStats {
    return { ...this.#stats }
  }

  async getEncryptionMaterials(request: EncryptionRequest, context: KeyringServices): Promise<EncryptionMaterials> {
    const length = request.maxPlaintextLength
    const suite = getSuite(request.suiteId ?? defaultSuiteId(request.commitmentPolicy))
    const bypass = length === undefined ? 'unknown plaintext length' : !suite.cacheSafe ? 'identity-KDF suite' : length > this.maxBytesEncrypted ? 'message larger than maxBytesEncrypted' : undefined
    if (bypass) return this.#bypass('encrypt', bypass, () => this.#underlying.getEncryptionMaterials(request, context))
    const id = encryptCacheId(context.backend, this.#partitionFor(context.backend), request.suiteId, request.encryptionContext, request.requiredEncryptionContextKeys, request.commitmentPolicy)
    for (;;) {
      const entry = this.#fresh(id, 'encrypt')
      const hit = entry && this.#take(id, entry, length!)
      if (hit) {
        this.#event({ type: 'hit', operation: 'encrypt' })
        return hit
      }
      this.#event({ type: 'miss', operation: 'encrypt' })
      // The underlying CMM sees no length: the entry will serve many messages.
      const flight = this.#flight(
        id,
        'encrypt',
        () => this.#underlying.getEncryptionMaterials({ ...request, maxPlaintextLength: undefined }, context),
        (m) => cacheable(m.suite, request.suiteId),
      )
      const created = await flight.result
      if ('uncached' in created) {
        // Its data key may serve one message only: the caller that made the call gets it, the others make their own.
        if (flight.started) {
          this.#event({ type: 'bypass', operation: 'encrypt', reason: UNCACHEABLE })
          return created.uncached as EncryptionMaterials
        }
        return this.#bypass('encrypt', UNCACHEABLE, () => this.#underlying.getEncryptionMaterials(request, context))
      }
      const taken = this.#take(id, created.entry, length!)
      if (taken) return taken
      // Other waiters on the same flight used the entry up first: go round for a new one.
    }
  }

  async decryptMaterials(request: DecryptionRequest, context: KeyringServices): Promise<DecryptionMaterials> {
    if (!request.suite.cacheSafe) return this.#bypass('decrypt', 'identity-KDF suite', () => this.#underlying.decryptMaterials(request, context))
    const id = decryptCacheId(context.backend, this.#partitionFor(context.backend), request.suite.id, request.encryptedDataKeys, request.encryptionContext, request.reproducedEncryptionContext)
    for (;;) {
      const entry = this.#fresh(id, 'decrypt')
      if (entry && !entry.wiped) {
        this.#event({ type: 'hit', operation: 'decrypt' })
        return copyDecryption(entry.materials as DecryptionMaterials)
      }
      this.#event({ type: 'miss', operation: 'decrypt' })
      const flight = this.#flight(
        id,
        'decrypt',
        () => this.#underlying.decryptMaterials(request, context),
        (m) => cacheable(m.suite, request.suite.id),
      )
      const created = await flight.result
      if ('uncached' in created) {
        if (flight.started) {
          this.#event({ type: 'bypass', operation: 'decrypt', reason: UNCACHEABLE })
          return created.uncached as DecryptionMaterials
        }
        return this.#bypass('decrypt', UNCACHEABLE, () => this.#underlying.decryptMaterials(request, context))
      }
      // A store that evicted the entry before we got here has wiped its key: fetch again.
      if (!created.entry.wiped) return copyDecryption(created.entry.materials as DecryptionMaterials)
    }
  }

  /** The entry for `id` if it exists and has not aged out. */
  #fresh(id: string, operation: 'encrypt' | 'decrypt'): CacheEntry | undefined {
    const entry = this.#cache.get(id)
    if (entry && this.#clock() - entry.createdAt >= this.maxAge) {
      this.#evict(id, entry, operation, 'maxAge')
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
      this.#evict(id, entry, 'encrypt', 'maxAge')
      return undefined
    }
    if (entry.messages + 1 > this.maxMessagesEncrypted || entry.bytes + length > this.maxBytesEncrypted) {
      this.#evict(id, entry, 'encrypt', entry.messages + 1 > this.maxMessagesEncrypted ? 'maxMessagesEncrypted' : 'maxBytesEncrypted')
      return undefined
    }
    entry.messages += 1
    entry.bytes += length
    const copy = copyEncryption(entry.materials as EncryptionMaterials)
    // Used up: remove it now so the next request does not have to find out.
    if (entry.messages === this.maxMessagesEncrypted || entry.bytes === this.maxBytesEncrypted) this.#evict(id, entry, 'encrypt', 'limit reached')
    return copy
  }

  /**
   * Drops `entry` if the store still holds it under `id` (not a newer one put
   * there since), and wipes it in any case: a store need not wipe on delete,
   * and the CMM owns the materials.
   */
  #evict(id: string, entry: CacheEntry, operation: 'encrypt' | 'decrypt', reason: string): void {
    if (entry.wiped) return
    if (this.#cache.get(id) === entry) this.#cache.delete(id)
    wipeEntry(entry)
    this.#event({ type: 'eviction', operation, reason })
  }

  #bypass<M>(operation: 'encrypt' | 'decrypt', reason: string, call: () => Promise<M>): Promise<M> {
    this.#event({ type: 'bypass', operation, reason })
    this.#event({ type: 'underlying-call', operation })
    return call()
  }

  /**
   * One underlying call per identifier at a time; every concurrent miss awaits
   * the same one. `started` tells the caller whether it made the call.
   */
  #flight<M extends EncryptionMaterials | DecryptionMaterials>(
    id: string,
    operation: 'encrypt' | 'decrypt',
    call: () => Promise<M>,
    canCache: (materials: M) => boolean,
  ): { readonly result: Promise<Flight>; readonly started: boolean } {
    const pending = this.#inflight.get(id)
    if (pending) return { result: pending, started: false }
    this.#event({ type: 'underlying-call', operation })
    const result = call()
      .then((materials): Flight => {
        if (!canCache(materials)) return { uncached: materials }
        const createdAt = this.#clock()
        const entry: CacheEntry = { materials, createdAt, expiresAt: createdAt + this.maxAge, operation, messages: 0, bytes: 0 }
        this.#cache.put(id, entry)
        this.#armSweep(entry.expiresAt)
        return { entry }
      })
      .finally(() => this.#inflight.delete(id))
    this.#inflight.set(id, result)
    return { result, started: true }
  }

  /**
   * Arms one timer for `at`, unless one is pending. It is unref'd, so it never
   * keeps a process alive, and exists only while the store holds entries, so
   * it never keeps a dropped CMM alive once its keys are wiped.
   */
  #armSweep(at: number): void {
    if (this.#sweepTimer !== undefined || !this.#cache.prune) return
    const timer = setTimeout(() => this.#sweep(), Math.max(0, at - this.#clock()))
    unrefTimer(timer)
    this.#sweepTimer = timer
  }

  #sweep(): void {
    this.#sweepTimer = undefined
    const now = this.#clock()
    const { removed, next } = this.#cache.prune!(now)
    for (const entry of removed) this.#event({ type: 'eviction', operation: entry.operation, reason: 'maxAge' })
    if (next !== undefined) this.#armSweep(Math.max(next, now + SWEEP_GAP))
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

/** Node and Bun timers have unref(); Deno unrefs a timer by its number; browsers have no process to hold open. */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof (timer as { unref?: unknown }).unref === 'function') (timer as { unref(): void }).unref()
  else (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer)
}

function copyEncryption(materials: EncryptionMaterials): EncryptionMaterials {
  return createEncryptionMaterials(materials, materials.plaintextDataKey && copyBytes(materials.plaintextDataKey))
}

function copyDecryption(materials: DecryptionMaterials): DecryptionMaterials {
  return createDecryptionMaterials(materials, materials.plaintextDataKey && copyBytes(materials.plaintextDataKey))
}
