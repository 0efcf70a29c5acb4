/**
 * `envelope-sdk/crypto` on Node (condition "node"): the backends that run
 * anywhere (src/entry/crypto.ts) and node:crypto's, with the frame pool that
 * parallelises its one-shot frames (spec/backends.md#parallel-frames).
 */
export * from './crypto.js'
export { createNodeBackend, nodeBackend } from '../crypto/node.js'
export type { NodeBackend, NodeBackendOptions } from '../crypto/node.js'
export { FramePool, type FramePoolOptions, type FrameWorkerThread, type ParallelFramesStatus } from '../crypto/node-frame-worker.js'
export { SignaturePool, type HashWorkerThread, type SignaturePoolOptions, type SignatureWorkerStatus } from '../crypto/node-hash-worker.js'
