/**
 * The Node entry (`exports` condition "node"): the shared surface, a
 * createClient bound to node:crypto, and Node Duplex streams. The pure-JS and
 * WebCrypto backends are in `envelope-sdk/crypto`, so importing this entry
 * never loads them (spec/backends.md#selection).
 */
import { createClientFactory } from '../client.js'
import { createNodeBackend, nodeBackend } from '../crypto/node.js'
import { decryptStream, encryptStream } from '../streams/node.js'

export * from './shared.js'
export type { Client } from '../client.js'
export type { MessageDuplex } from '../streams/node.js'
export { createNodeBackend, nodeBackend }
export type { NodeBackend, NodeBackendOptions } from '../crypto/node.js'
export { FramePool, type FramePoolOptions, type FrameWorkerThread, type ParallelFramesStatus } from '../crypto/node-frame-worker.js'

/**
 * Makes a client; its backend is node:crypto unless `backend` says otherwise.
 * @example
 * ```ts
 * const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' })
 * ```
 * @throws {TypeError} options that are not an object, an unknown key or a wrong type
 * @throws {RangeError} a limit out of range.
 */
export const createClient = createClientFactory(() => nodeBackend, { encryptStream, decryptStream })
