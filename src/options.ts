/**
 * Strict options objects for every public constructor (spec/client.md#strict-options): a misspelt
 * key or a value of the wrong type is a TypeError naming it, never ignored in silence (a misspelt
 * `maxAge` or `discoveryFilter` would otherwise quietly weaken what the caller asked for).
 */

/** What one option may hold when it is given (undefined always means "not given"). */
export type OptionKind = 'string' | 'number' | 'boolean' | 'function' | 'object' | 'array' | 'bytes' | 'url' | 'any'

/** How an error names each kind. */
const ARTICLED: Readonly<Record<OptionKind, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  function: 'a function',
  object: 'an object',
  array: 'an array',
  bytes: 'a Uint8Array',
  url: 'a URL (e.g. new URL(\'./frame-worker.mjs\', import.meta.url) or pathToFileURL(path))',
  any: 'anything',
}

function holds(kind: OptionKind, value: unknown): boolean {
  switch (kind) {
    case 'array':
      return Array.isArray(value)
    case 'bytes':
      return value instanceof Uint8Array
    case 'url':
      return value instanceof URL
    case 'object':
      return typeof value === 'object' && value !== null
    case 'any':
      return true
    default:
      return typeof value === kind
  }
}

/**
 * Checks `value` as the options of `what` (e.g. "RawAesKeyring"): an object whose keys are all in
 * `kinds`, each given value of its kind. Absent options are `{}` when `optional`. Returns it typed.
 * @throws {TypeError} not an object, an unknown key, or a value of the wrong type.
 */
export function checkOptions<T extends object>(value: T | undefined, what: string, kinds: Readonly<Record<string, OptionKind>>, optional = false): T {
  if (value === undefined && optional) return {} as T
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} takes an options object`)
  for (const [key, given] of Object.entries(value)) {
    const kind = Object.hasOwn(kinds, key) ? kinds[key] : undefined
    if (kind === undefined) throw new TypeError(`unknown ${what} option ${JSON.stringify(key)}: its options are ${Object.keys(kinds).join(', ')}`)
    if (given !== undefined && !holds(kind, given)) throw new TypeError(`${what} option ${key} must be ${ARTICLED[kind]}`)
  }
  return value
}
