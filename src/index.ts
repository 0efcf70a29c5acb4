/**
 * envelope-sdk: client-side envelope encryption in the AWS Encryption SDK
 * message format. This module has no side effects and loads no cloud SDK.
 *
 * This is the Node entry (src/entry/node.ts); browsers, workers and edge
 * runtimes get src/entry/web.ts through the package's `exports` conditions.
 * Exports common to both belong in src/entry/shared.ts.
 */
export * from './entry/node.js'
