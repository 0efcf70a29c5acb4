/**
 * The store behind the caching CMM (spec/materials.md#caching). A small
 * interface so another store can be plugged in; LocalCache keeps entries in
 * memory on lru-cache and zeroes a plaintext data key when its entry leaves.
 */
import { LRUCache } from 'lru-cache'
import type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'

export interface CacheEntry {
  readonly materials: EncryptionMaterials | DecryptionMaterials
  /** Clock time the entry was created, in milliseconds. */
  readonly createdAt: number
  /** Messages and plaintext bytes already counted against this entry (encrypt entries). */
  messages: number
  bytes: number
  /** Set once the store has wiped the entry's data key: it must not be handed out any more. */
  wiped?: boolean
}

export interface MaterialsCache {
  get(id: string): CacheEntry | undefined
  put(id: string, entry: CacheEntry): void
  delete(id: string): void
}

export interface LocalCacheOptions {
  /** Most entries kept; the least recently used goes first. */
  readonly capacity: number
}

export class LocalCache implements MaterialsCache {
  readonly #lru: LRUCache<string, CacheEntry>

  constructor(options: LocalCacheOptions) {
    const capacity = options?.capacity
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.#lru = new LRUCache<string, CacheEntry>({
      max: capacity,
      // The cache owns the original materials (callers only ever get copies), so wiping is safe.
      dispose: (entry) => {
        entry.wiped = true
        entry.materials.plaintextDataKey?.fill(0)
      },
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
}
