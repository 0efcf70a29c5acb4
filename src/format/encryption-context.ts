/**
 * Encryption context serialization (spec/encryption-context.md#serialization).
 * Pairs are sorted by the UTF-8 bytes of their keys: not UTF-16 code units, not locale order.
 */
import { EncryptionContextError, MalformedMessageError, PolicyError, printable } from '../errors.js'
import { compareBytes, readUint16, writeUint16 } from './bytes.js'
import { asciiLength, utf8Decode, utf8Encode, writeAscii } from '../encoding.js'
import { MAX_UINT16 } from './constants.js'

export type EncryptionContext = Readonly<Record<string, string>>

interface EncodedPair {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

function encodePairs(context: EncryptionContext, order?: (a: string, b: string) => number): EncodedPair[] {
  const pairs: EncodedPair[] = []
  const entries = Object.entries(context)
  if (order) entries.sort(([a], [b]) => order(a, b))
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw new TypeError(`encryption context value for ${printable(JSON.stringify(key))} must be a string`)
    if (!key.isWellFormed() || !value.isWellFormed()) {
      throw new EncryptionContextError(`encryption context pair ${printable(JSON.stringify(key))} is not well-formed Unicode (lone surrogate)`)
    }
    const k = utf8Encode(key)
    const v = utf8Encode(value)
    if (k.length > MAX_UINT16 || v.length > MAX_UINT16) {
      throw new EncryptionContextError(`encryption context pair ${printable(JSON.stringify(key.slice(0, 40)))} is longer than 65535 bytes`)
    }
    pairs.push({ key: k, value: v })
  }
  if (!order) pairs.sort((a, b) => compareBytes(a.key, b.key))
  return pairs
}

/**
 * The bare serialization: empty for an empty context, otherwise
 * uint16 count ‖ (uint16 keyLen ‖ key ‖ uint16 valueLen ‖ value)*.
 */
export function encodeEncryptionContext(context: EncryptionContext): Uint8Array {
  return encodeAscii(context) ?? encodeAny(context)
}

/**
 * The common case, every key and value ASCII, written straight from the
 * strings: for ASCII, UTF-16 order is UTF-8 byte order, so the keys sort as
 * strings. Returns undefined for anything else (and for values that are not
 * strings, which encodeAny reports).
 */
function encodeAscii(context: EncryptionContext): Uint8Array | undefined {
  const keys = Object.keys(context)
  if (keys.length === 0) return new Uint8Array(0)
  if (keys.length > MAX_UINT16) return undefined
  let length = 2
  for (const key of keys) {
    const value = context[key]
    if (typeof value !== 'string') return undefined
    const k = asciiLength(key)
    const v = asciiLength(value)
    if (k < 0 || v < 0 || k > MAX_UINT16 || v > MAX_UINT16) return undefined
    length += 4 + k + v
  }
  keys.sort()
  const out = new Uint8Array(length)
  writeUint16(out, 0, keys.length)
  let o = 2
  for (const key of keys) {
    const value = context[key]!
    writeUint16(out, o, key.length)
    writeAscii(out, o + 2, key)
    o += 2 + key.length
    writeUint16(out, o, value.length)
    writeAscii(out, o + 2, value)
    o += 2 + value.length
  }
  return out
}

/**
 * The same serialization with the pairs in another key order: only for keyring
 * AAD that other implementations wrote in a non-canonical order
 * (keyrings/context-order.ts). Messages always use encodeEncryptionContext.
 */
export function encodeEncryptionContextInOrder(context: EncryptionContext, order: (a: string, b: string) => number): Uint8Array {
  return encodeAny(context, order)
}

function encodeAny(context: EncryptionContext, order?: (a: string, b: string) => number): Uint8Array {
  const pairs = encodePairs(context, order)
  if (pairs.length === 0) return new Uint8Array(0)
  if (pairs.length > MAX_UINT16) throw new EncryptionContextError(`encryption context has ${pairs.length} pairs; at most 65535 fit`)
  let length = 2
  for (const p of pairs) length += 4 + p.key.length + p.value.length
  const out = new Uint8Array(length)
  writeUint16(out, 0, pairs.length)
  let o = 2
  for (const p of pairs) {
    writeUint16(out, o, p.key.length)
    out.set(p.key, o + 2)
    o += 2 + p.key.length
    writeUint16(out, o, p.value.length)
    out.set(p.value, o + 2)
    o += 2 + p.value.length
  }
  return out
}

/**
 * Parses a bare serialization that must span `bytes` exactly. `offset` is only
 * used to report positions relative to the whole message.
 */
export function decodeEncryptionContext(bytes: Uint8Array, offset = 0): EncryptionContext {
  if (bytes.length === 0) return Object.freeze({})
  if (bytes.length < 2) throw new MalformedMessageError('encryption context is shorter than its pair count', { offset })
  const count = readUint16(bytes, 0)
  if (count === 0) throw new MalformedMessageError('encryption context declares zero pairs but is not empty', { offset })
  const entries: [string, string][] = []
  const seen = new Set<string>()
  let o = 2
  const readField = (what: string): string => {
    if (o + 2 > bytes.length) throw new MalformedMessageError(`encryption context ${what} length runs past the context`, { offset: offset + o })
    const len = readUint16(bytes, o)
    if (o + 2 + len > bytes.length) throw new MalformedMessageError(`encryption context ${what} runs past the context`, { offset: offset + o })
    let text: string
    try {
      text = utf8Decode(bytes.subarray(o + 2, o + 2 + len))
    } catch {
      throw new MalformedMessageError(`encryption context ${what} is not valid UTF-8`, { offset: offset + o })
    }
    o += 2 + len
    return text
  }
  for (let i = 0; i < count; i++) {
    const key = readField('key')
    const value = readField('value')
    if (seen.has(key)) throw new MalformedMessageError(`encryption context has a duplicate key`, { offset: offset + o })
    seen.add(key)
    entries.push([key, value])
  }
  if (o !== bytes.length) throw new MalformedMessageError('encryption context has bytes after its last pair', { offset: offset + o })
  return Object.freeze(Object.fromEntries(entries))
}

const EMPTY_CONTEXT: EncryptionContext = Object.freeze({})

/** Adds a pair to a context being built: plain assignment would take "__proto__" for the prototype, not a key. */
export function addPair(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/**
 * A plain object: not a Map (whose pairs Object.keys does not see, so it would
 * pass as an empty context), not an array, not a class instance.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A frozen copy holding only own string pairs; rejects non-string values early. */
export function copyEncryptionContext(context: EncryptionContext | undefined): EncryptionContext {
  if (context === undefined || context === null) return EMPTY_CONTEXT
  if (!isPlainObject(context)) throw new TypeError('encryptionContext must be a plain object of string pairs (not a Map or an array)')
  const copy: Record<string, string> = {}
  for (const key of Object.keys(context)) {
    const value = context[key]
    if (typeof value !== 'string') throw new TypeError(`encryption context value for ${printable(JSON.stringify(key))} must be a string`)
    addPair(copy, key, value)
  }
  return Object.freeze(copy)
}

/**
 * Checks a reproduced context (the one given at decrypt): an object of string
 * pairs. A value of another type can match no message, so it is the context
 * error, ERR_CONTEXT_MISMATCH (spec/encryption-context.md#reproduced-context).
 */
export function checkReproducedContext(context: unknown): asserts context is EncryptionContext {
  if (!isPlainObject(context)) throw new TypeError('encryptionContext must be a plain object of string pairs (not a Map or an array)')
  for (const key of Object.keys(context)) {
    if (typeof (context as Record<string, unknown>)[key] !== 'string') {
      throw new PolicyError('ERR_CONTEXT_MISMATCH', `the encryption context given at decrypt has a value that is not a string for ${printable(JSON.stringify(key))}: it can match no message`)
    }
  }
}
