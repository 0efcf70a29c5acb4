/**
 * The Node entry (`exports` condition "node"): the shared surface and a
 * createClient bound to node:crypto whose clients add Node Duplex streams.
 * It exports the same names as the web entry (test/package/exports.test.ts);
 * the backends, node:crypto's included, are in `envelope-sdk/crypto`, so
 * importing this entry never loads the pure-JS or WebCrypto ones
 * (spec/backends.md#selection).
 */
import { createClientFactory } from '../client.js'
import { nodeBackend } from '../crypto/node.js'
import { decryptStream, encryptStream, rewrapStream } from '../streams/node.js'

export * from './shared.js'
export type { Client } from '../client.js'
export type { MessageDuplex } from '../streams/node.js'

/**
 * Makes a client; its backend is node:crypto unless `backend` says otherwise.
 * @example
 * ```ts
 * const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type
 * @throws {RangeError} a limit out of range.
 */
export const createClient = createClientFactory(() => nodeBackend, { encryptStream, decryptStream, rewrapStream })
