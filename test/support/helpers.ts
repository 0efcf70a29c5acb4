/**
 * The one home for small, generic test helpers (bytes, encodings, hangs, seeded randomness). Names say the
 * direction: `hexToBytes` decodes, `bytesToHex` encodes. Test-area helpers that know the message format stay
 * beside their tests (test/hostile/helpers.ts, test/streams/helpers.ts).
 */
import { constants as cryptoConstants, generateKeyPairSync, privateDecrypt } from 'node:crypto'

export const hexToBytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
export const bytesToHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
export const bytesToBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
export const base64ToBytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))

/** Resolves with the promise's value, or rejects when it has not settled within `ms` (a hang, not a speed bound). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Joins byte arrays into one plain Uint8Array: the library's own concatBytes, not a second copy. */
export { concatBytes as concat } from '../../src/format/bytes.js'

export function isPrefix(prefix: Uint8Array, of: Uint8Array): boolean {
  if (prefix.length > of.length) return false
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false
  return true
}

/** A copy of `bytes` with bit `bit` of byte `index` flipped. */
export function flipBit(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const copy = new Uint8Array(bytes)
  copy[index]! ^= 1 << bit
  return copy
}

/** Deterministic PRNG (mulberry32) so a failing case can be reproduced from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` distinct items of `items`, chosen by a seeded shuffle (all of them when count >= items.length), in their original order. */
export function seededSample<T>(items: readonly T[], count: number, seed: number): T[] {
  if (count >= items.length) return [...items]
  const next = rng(seed)
  const order = items.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => items[i]!)
}

/**
 * Whether this Node.js refuses RSA PKCS#1 v1.5 private decryption without
 * --security-revert=CVE-2023-46809 (Node 20 does; Node 24, built on an OpenSSL
 * with implicit rejection, neither refuses nor knows the flag). Asked of
 * node:crypto directly, not of our backend.
 */
export function nodeRefusesPkcs1(): boolean {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  try {
    privateDecrypt({ key: privateKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, Buffer.alloc(128))
    return false
  } catch (e) {
    return String((e as Error).message).includes('CVE-2023-46809')
  }
}

/** The node flags a child process needs to decrypt PKCS#1 v1.5 on this Node.js. */
export const pkcs1NodeArgs = (): string[] => (nodeRefusesPkcs1() ? ['--security-revert=CVE-2023-46809'] : [])
