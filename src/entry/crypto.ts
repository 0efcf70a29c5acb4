/**
 * `envelope-sdk/crypto`: the backends that run anywhere, for
 * `createClient({ backend })` (spec/backends.md). On Node, src/entry/crypto-node.ts
 * adds node:crypto's.
 */
export { nobleBackend } from '../crypto/noble.js'
export { createWebCryptoBackend, webCryptoParts } from '../crypto/webcrypto.js'
export { withFallback } from '../crypto/fallback.js'
export type { BackendParts, Capability, CryptoBackend, RsaPadding } from '../crypto/backend.js'
