/**
 * The flags of the file commands, one table each, shared by their parsers and by the wording of
 * errors (words.ts): a hint may name only a flag the command it is printed for takes.
 */

/** encrypt and decrypt share one parser; MODE_ONLY lists the flags only one of them takes. */
export const CRYPT_OPTIONS = {
  input: { type: 'string', short: 'i' },
  output: { type: 'string', short: 'o' },
  'wrapping-keys': { type: 'string', short: 'w', multiple: true },
  'encryption-context': { type: 'string', short: 'c', multiple: true },
  recursive: { type: 'boolean', short: 'r' },
  suffix: { type: 'string' },
  'commitment-policy': { type: 'string' },
  'max-encrypted-data-keys': { type: 'string' },
  'metadata-output': { type: 'string' },
  'overwrite-metadata': { type: 'boolean' },
  'suppress-metadata': { type: 'boolean', short: 'S' },
  'no-overwrite': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  algorithm: { type: 'string' },
  'frame-length': { type: 'string' },
  encode: { type: 'boolean' },
  'decrypt-unsigned': { type: 'boolean' },
  buffer: { type: 'boolean' },
  decode: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const MODE_ONLY = {
  encrypt: ['algorithm', 'frame-length', 'encode'],
  decrypt: ['decrypt-unsigned', 'buffer', 'decode'],
} as const

export const REWRAP_OPTIONS = {
  input: { type: 'string', short: 'i' },
  output: { type: 'string', short: 'o' },
  'from-wrapping-keys': { type: 'string', multiple: true },
  'to-wrapping-keys': { type: 'string', multiple: true },
  'encryption-context': { type: 'string', short: 'c', multiple: true },
  recursive: { type: 'boolean', short: 'r' },
  suffix: { type: 'string' },
  'commitment-policy': { type: 'string' },
  'max-encrypted-data-keys': { type: 'string' },
  'no-overwrite': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const INSPECT_OPTIONS = {
  json: { type: 'boolean' },
  'max-encrypted-data-keys': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export type FileCommand = 'encrypt' | 'decrypt' | 'rewrap' | 'inspect'

/** The long flags `command` accepts (without the leading --); none for commands without files. */
export function flagsOf(command: string | undefined): ReadonlySet<string> {
  switch (command) {
    case 'encrypt':
    case 'decrypt': {
      const other = MODE_ONLY[command === 'encrypt' ? 'decrypt' : 'encrypt'] as readonly string[]
      return new Set(Object.keys(CRYPT_OPTIONS).filter((flag) => !other.includes(flag)))
    }
    case 'rewrap':
      return new Set(Object.keys(REWRAP_OPTIONS))
    case 'inspect':
      return new Set(Object.keys(INSPECT_OPTIONS))
    default:
      return new Set()
  }
}
