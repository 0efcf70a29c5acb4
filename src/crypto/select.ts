/**
 * Which backend a client uses (spec/backends.md#selection). Each entry point
 * binds its own default into createClient; `createClient({ backend })`
 * overrides it (client.ts checks it). Nothing here runs at import: the web
 * default is chosen on the first createClient call and then kept.
 */
import type { CryptoBackend } from './backend.js'
import { nobleBackend } from './noble.js'
import { createWebCryptoBackend } from './webcrypto.js'

let webDefault: CryptoBackend | undefined

/** WebCrypto with pure JS behind it where crypto.subtle exists (secure contexts), else pure JS alone. */
export function selectWebBackend(): CryptoBackend {
  return (webDefault ??= typeof globalThis.crypto?.subtle?.importKey === 'function' ? createWebCryptoBackend() : nobleBackend)
}
