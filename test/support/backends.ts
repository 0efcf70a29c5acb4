/**
 * The backends every conformance suite runs over (spec/backends.md): node:crypto,
 * pure JS, and WebCrypto with pure JS behind it (Node's crypto.subtle is a WebCrypto).
 */
import { type CryptoBackend } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { createWebCryptoBackend } from '../../src/crypto/webcrypto.js'

export const BACKENDS: readonly (readonly [string, CryptoBackend])[] = [
  ['node', nodeBackend],
  ['noble', nobleBackend],
  ['webcrypto', createWebCryptoBackend()],
]

/** The backends other than node:crypto, which the original suites already cover. */
export const OTHER_BACKENDS = BACKENDS.filter(([name]) => name !== 'node')
