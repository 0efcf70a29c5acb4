/**
 * A small reader for the .zip archives test vectors are published in: the
 * central directory, stored and deflated entries. Enough for vector sets; not
 * a general archiver (no zip64, no encryption).
 *
 * An archive may come from anyone, and deflate expands up to ~1000x, so every
 * read is bounded on the bytes actually inflated, not on the sizes the headers
 * declare (spec/conformance.md#zip-limits).
 */
import { inflateRawSync } from 'node:zlib'
import { LimitError } from '../errors.js'

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50
const LOCAL_FILE_HEADER = 0x04034b50

export interface ZipLimits {
  /** Most bytes one entry may inflate to. Default 64 MiB. */
  readonly maxZipEntrySize?: number
  /** Most bytes all reads from one archive may inflate to together, a re-read entry counting again. Default 1 GiB. */
  readonly maxZipTotalSize?: number
}

export const DEFAULT_MAX_ZIP_ENTRY_SIZE = 64 * 1024 * 1024
export const DEFAULT_MAX_ZIP_TOTAL_SIZE = 1024 * 1024 * 1024

function limitOption(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive whole number of bytes`)
  return value
}

export class ZipArchive {
  readonly #bytes: Buffer
  readonly #entries = new Map<string, { offset: number; method: number; compressedSize: number; declaredSize: number }>()
  readonly #maxEntry: number
  readonly #maxTotal: number
  #total = 0

  constructor(bytes: Buffer, limits: ZipLimits = {}) {
    this.#maxEntry = limitOption(limits.maxZipEntrySize, 'maxZipEntrySize', DEFAULT_MAX_ZIP_ENTRY_SIZE)
    this.#maxTotal = limitOption(limits.maxZipTotalSize, 'maxZipTotalSize', DEFAULT_MAX_ZIP_TOTAL_SIZE)
    this.#bytes = bytes
    let eocd = -1
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
      if (bytes.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
        eocd = i
        break
      }
    }
    if (eocd < 0) throw new Error('not a zip archive (no end of central directory)')
    const count = bytes.readUInt16LE(eocd + 10)
    let o = bytes.readUInt32LE(eocd + 16)
    for (let i = 0; i < count; i++) {
      if (bytes.readUInt32LE(o) !== CENTRAL_FILE_HEADER) throw new Error('corrupt zip central directory')
      const method = bytes.readUInt16LE(o + 10)
      const compressedSize = bytes.readUInt32LE(o + 20)
      const declaredSize = bytes.readUInt32LE(o + 24)
      const nameLength = bytes.readUInt16LE(o + 28)
      const extraLength = bytes.readUInt16LE(o + 30)
      const commentLength = bytes.readUInt16LE(o + 32)
      const offset = bytes.readUInt32LE(o + 42)
      const name = bytes.toString('utf8', o + 46, o + 46 + nameLength)
      this.#entries.set(name, { offset, method, compressedSize, declaredSize })
      o += 46 + nameLength + extraLength + commentLength
    }
  }

  names(): string[] {
    return [...this.#entries.keys()]
  }

  /** The entry's bytes; LimitError when they exceed maxZipEntrySize or the archive's remaining maxZipTotalSize. */
  read(name: string): Buffer | undefined {
    const entry = this.#entries.get(name)
    if (!entry) return undefined
    const b = this.#bytes
    if (b.readUInt32LE(entry.offset) !== LOCAL_FILE_HEADER) throw new Error(`corrupt zip entry ${name}`)
    const start = entry.offset + 30 + b.readUInt16LE(entry.offset + 26) + b.readUInt16LE(entry.offset + 28)
    const data = b.subarray(start, start + entry.compressedSize)
    const what = `bytes in zip entry ${JSON.stringify(name)}`
    const remaining = this.#maxTotal - this.#total
    const totalBinds = remaining < this.#maxEntry
    const bound = Math.min(remaining, this.#maxEntry)
    const overflow = (size: number, detail: string) =>
      totalBinds
        ? new LimitError('maxZipTotalSize', this.#total + size, this.#maxTotal, `${what} with those read before${detail}`)
        : new LimitError('maxZipEntrySize', size, this.#maxEntry, `${what}${detail}`)
    // A header that declares too much is refused before any work; one that declares too little is caught below.
    if (entry.declaredSize > bound) throw overflow(entry.declaredSize, ', as declared')
    let out: Buffer
    if (entry.method === 0) {
      out = Buffer.from(data)
    } else if (entry.method === 8) {
      try {
        // zlib stops at the first output chunk (16 KiB) past maxOutputLength, whatever the headers say.
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, bound) })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw overflow(bound + 1, ', at least: inflating stopped there')
        throw e
      }
    } else {
      throw new Error(`zip entry ${name} uses unsupported compression method ${entry.method}`)
    }
    if (out.length > bound) throw overflow(out.length, '')
    this.#total += out.length
    return out
  }
}
