/**
 * Branch key materials cache (spec/hierarchy.md#cache): entries keyed by the
 * spec's SHA-384 cache ids, least recently used evicted first, one load per
 * id at a time (single-flight), and every branch key zeroed when its entry
 * leaves, whether evicted, replaced, expired or cleared.
 *
 * One cache may serve several keyrings: their partition ids keep their
 * entries apart unless they share partition, key store and branch key id.
 */
import { checkOptions } from '../../options.js'
import type { BranchKeyMaterials } from './branch-key.js'

export interface BranchKeyCacheOptions {
  /** Most entries kept. Default 1000. */
  readonly capacity?: number
  /** Milliseconds now; injectable for tests. Default Date.now. */
  readonly clock?: () => number
}

/** A cached branch key. `wiped` is set once its key was zeroed: it must not be used after that. */
export interface BranchKeyEntry {
  readonly materials: BranchKeyMaterials
  readonly createdAt: number
  /** createdAt + the TTL of the keyring that loaded it: wiped once the clock is past it. */
  readonly expiresAt: number
  wiped: boolean
}

export const DEFAULT_BRANCH_KEY_CACHE_CAPACITY = 1000

/** setTimeout takes at most 2^31 - 1 ms; a later expiry is swept in steps. */
const MAX_TIMER = 0x7fffffff

/**
 * A cache of branch keys that several KmsHierarchicalKeyrings may share (pass it as their `cache`):
 * least recently used evicted first, one load per branch key at a time, every key zeroed when its
 * entry leaves (spec/hierarchy.md#cache).
 * @example
 * ```ts
 * const cache = new BranchKeyCache({ capacity: 5000 })
 * const tenantA = new KmsHierarchicalKeyring({ keyStore, branchKeyId: 'tenant-a', ttlSeconds: 600, cache })
 * const tenantB = new KmsHierarchicalKeyring({ keyStore, branchKeyId: 'tenant-b', ttlSeconds: 600, cache })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key, or a wrong type.
 * @throws {RangeError} a capacity that is not a whole number of 1 or more.
 */
export class BranchKeyCache {
  readonly capacity: number
  readonly #clock: () => number
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, BranchKeyEntry>()
  readonly #loading = new Map<string, Promise<BranchKeyEntry>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #timerAt = Infinity

  constructor(options: BranchKeyCacheOptions = {}) {
    const { capacity = DEFAULT_BRANCH_KEY_CACHE_CAPACITY, clock = Date.now } = checkOptions(options, 'BranchKeyCache', { capacity: 'number', clock: 'function' }, true)
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    if (typeof clock !== 'function') throw new TypeError('clock must be a function returning milliseconds')
    this.capacity = capacity
    this.#clock = clock
  }

  get size(): number {
    return this.#entries.size
  }

  /** Milliseconds now, by the cache's clock. */
  now(): number {
    return this.#clock()
  }

  /**
   * The live entry for `id` if one is younger than `ttlMs` (the reader's TTL),
   * else one loaded by `load` and accepted by `check` (which throws to refuse
   * it; the refused key is zeroed); concurrent callers for the same id share
   * one load. Used by the keyrings: a caller must check `wiped` before each
   * synchronous use, since an entry can be evicted while the caller awaits.
   */
  async get(id: string, ttlMs: number, load: () => Promise<BranchKeyMaterials>, check: (m: BranchKeyMaterials) => void): Promise<BranchKeyEntry> {
    const hit = this.#hit(id, ttlMs)
    if (hit) return hit
    let pending = this.#loading.get(id)
    if (!pending) {
      pending = this.#load(id, ttlMs, load, check).finally(() => this.#loading.delete(id))
      this.#loading.set(id, pending)
    }
    return pending
  }

  /** A live entry, marked most recently used; an entry too old for this reader is left for the loader to replace. */
  #hit(id: string, ttlMs: number): BranchKeyEntry | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    const now = this.#clock()
    if (now > entry.expiresAt) {
      this.#remove(id, entry)
      return undefined
    }
    if (now - entry.createdAt > ttlMs) return undefined
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return entry
  }

  async #load(id: string, ttlMs: number, load: () => Promise<BranchKeyMaterials>, check: (m: BranchKeyMaterials) => void): Promise<BranchKeyEntry> {
    const materials = await load()
    try {
      check(materials)
    } catch (e) {
      materials?.branchKey?.fill?.(0)
      throw e
    }
    const createdAt = this.#clock()
    const entry: BranchKeyEntry = { materials, createdAt, expiresAt: createdAt + ttlMs, wiped: false }
    const old = this.#entries.get(id)
    if (old) this.#remove(id, old)
    this.#entries.set(id, entry)
    for (const [oldest, victim] of this.#entries) {
      if (this.#entries.size <= this.capacity) break
      this.#remove(oldest, victim)
    }
    this.#arm(entry.expiresAt)
    return entry
  }

  #remove(id: string, entry: BranchKeyEntry): void {
    if (this.#entries.get(id) === entry) this.#entries.delete(id)
    entry.wiped = true
    entry.materials.branchKey.fill(0)
  }

  /** Wipes and drops every entry whose expiry has passed; returns how many. Also runs on its own, on a timer. */
  prune(): number {
    const now = this.#clock()
    let removed = 0
    for (const [id, entry] of this.#entries) {
      if (now > entry.expiresAt) {
        this.#remove(id, entry)
        removed++
      }
    }
    return removed
  }

  /** Wipes and drops every entry. */
  clear(): void {
    for (const [id, entry] of this.#entries) this.#remove(id, entry)
  }

  /**
   * One unref'd timer for the earliest expiry, so branch keys do not outlive
   * their TTL in memory when no one reads them; it never keeps a process alive.
   */
  #arm(at: number): void {
    if (at >= this.#timerAt) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#sweep(), Math.min(MAX_TIMER, Math.max(0, at - this.#clock())))
    unrefTimer(this.#timer)
  }

  #sweep(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    this.prune()
    let next = Infinity
    for (const entry of this.#entries.values()) next = Math.min(next, entry.expiresAt)
    if (next !== Infinity) this.#arm(next)
  }
}

/** Node and Bun timers have unref(); Deno unrefs a timer by its id; browsers have no process to hold open. */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof (timer as { unref?: unknown }).unref === 'function') (timer as { unref(): void }).unref()
  else (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer)
}
