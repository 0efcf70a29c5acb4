/**
 * `envelope-sdk/crypto`: the backends that run anywhere, for
 * `createClient({ backend })` (spec/backends.md). node:crypto's backend is
 * exported by the Node entry itself.
 */
export { nobleBackend } from '../crypto/noble.js'
export { createWebCryptoBackend, webCryptoParts } from '../crypto/webcrypto.js'
export { withFallback } from '../crypto/fallback.js'
export type { BackendParts, Capability, CryptoBackend, RsaPadding } from '../crypto/backend.js'
