/**
 * The web entry (`exports` conditions "browser", "worker", "default"): browsers,
 * web workers, Deno, Bun and edge runtimes. The shared surface, a createClient
 * whose default backend is WebCrypto with pure JS behind it (pure JS alone
 * where crypto.subtle is missing), and the WHATWG stream methods only. Nothing
 * from node:* is reachable from here (spec/backends.md#selection). The same
 * names as the Node entry; the backends are in `envelope-sdk/crypto`.
 */
import { createClientFactory } from '../client.js'
import { selectWebBackend } from '../crypto/select.js'

export * from './shared.js'
export type { WebClient as Client } from '../client.js'

/**
 * Makes a client; its backend is chosen for this runtime unless `backend` says otherwise.
 * @example
 * ```ts
 * const client = createClient()
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type
 * @throws {RangeError} a limit out of range.
 */
export const createClient = createClientFactory(selectWebBackend)
