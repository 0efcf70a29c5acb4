export { CachingCmm } from './caching-cmm.js'
export type { CacheEvent, CacheStats, CachingCmmOptions } from './caching-cmm.js'
export { LocalCache } from './cache.js'
export type { CacheEntry, LocalCacheOptions, MaterialsCache, PruneResult } from './cache.js'
