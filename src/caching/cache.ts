/**
 * The store behind the caching CMM (spec/materials.md#caching). A small
 * interface so another store can be plugged in; LocalCache keeps entries in
 * memory on lru-cache and zeroes a plaintext data key when its entry leaves,
 * and can drop every expired entry at once (prune) for the CMM's sweep.
 */
import { checkOptions } from '../options.js'
import { LRUCache } from 'lru-cache'
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'

export interface CacheEntry {
  readonly materials: EncryptionMaterials | DecryptionMaterials
  /** Clock time the entry was created, in milliseconds. */
  readonly createdAt: number
  /** Clock time from which the entry must not be used (createdAt + the CMM's maxAge). */
  readonly expiresAt: number
  readonly operation: 'encrypt' | 'decrypt'
  /** Messages and plaintext bytes already counted against this entry (encrypt entries). */
  messages: number
  bytes: number
  /** Set once the store has wiped the entry's data key: it must not be handed out any more. */
  wiped?: boolean
}

export interface PruneResult {
  /** The entries dropped, their data keys already zeroed. */
  readonly removed: readonly CacheEntry[]
  /** The earliest expiresAt among the entries left, or undefined when none is left. */
  readonly next: number | undefined
}

export interface MaterialsCache {
  /** The entry under `id`, if any (expiry is the caller's check). */
  get(id: string): CacheEntry | undefined
  /** Stores `entry` under `id`, replacing (and wiping) any older one. */
  put(id: string, entry: CacheEntry): void
  /** Removes and wipes the entry under `id`. */
  delete(id: string): void
  /**
   * Optional: wipes and drops every entry with expiresAt <= now. A store
   * without it keeps an expired entry until the CMM looks it up or the store
   * drops it (spec/materials.md#expiry).
   */
  prune?(now: number): PruneResult
}

/** Zeroes the entry's data key and marks it, so it is never handed out again. */
export function wipeEntry(entry: CacheEntry): void {
  entry.wiped = true
  entry.materials.plaintextDataKey?.fill(0)
}

export interface LocalCacheOptions {
  /** Most entries kept; the least recently used goes first. */
  readonly capacity: number
}

/**
 * The in-memory LRU materials cache a CachingCmm uses by default; evicted entries are wiped.
 * @example
 * ```ts
 * const cmm = new CachingCmm({ keyring, cache: new LocalCache({ capacity: 100 }), maxAge: 60_000 })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type.
 * @throws {RangeError} a capacity that is not a positive integer.
 */
export class LocalCache implements MaterialsCache {
  readonly #lru: LRUCache<string, CacheEntry>

  constructor(options: LocalCacheOptions) {
    const { capacity } = checkOptions(options, 'LocalCache', { capacity: 'number' })
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.#lru = new LRUCache<string, CacheEntry>({
      max: capacity,
      // The cache owns the original materials (callers only ever get copies), so wiping is safe.
      dispose: wipeEntry,
    })
  }

  get size(): number {
    return this.#lru.size
  }

  get(id: string): CacheEntry | undefined {
    return this.#lru.get(id)
  }

  put(id: string, entry: CacheEntry): void {
    this.#lru.set(id, entry)
  }

  delete(id: string): void {
    this.#lru.delete(id)
  }

  /** One pass over at most `capacity` entries; entries() leaves recency alone. */
  prune(now: number): PruneResult {
    const expired: string[] = []
    const removed: CacheEntry[] = []
    let next: number | undefined
    for (const [id, entry] of this.#lru.entries()) {
      if (entry.expiresAt <= now) {
        expired.push(id)
        removed.push(entry)
      } else if (next === undefined || entry.expiresAt < next) next = entry.expiresAt
    }
    // Deleted after the walk, so the walk never sees the list change under it.
    for (const id of expired) this.#lru.delete(id)
    return { removed, next }
  }
}
