/**
 * A small reader for the .zip archives test vectors are published in: the
 * central directory, stored and deflated entries. Enough for vector sets; not
 * a general archiver (no zip64, no encryption).
 */
import { inflateRawSync } from 'node:zlib'

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50
const LOCAL_FILE_HEADER = 0x04034b50

export class ZipArchive {
  readonly #bytes: Buffer
  readonly #entries = new Map<string, { offset: number; method: number; compressedSize: number }>()

  constructor(bytes: Buffer) {
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
      const nameLength = bytes.readUInt16LE(o + 28)
      const extraLength = bytes.readUInt16LE(o + 30)
      const commentLength = bytes.readUInt16LE(o + 32)
      const offset = bytes.readUInt32LE(o + 42)
      const name = bytes.toString('utf8', o + 46, o + 46 + nameLength)
      this.#entries.set(name, { offset, method, compressedSize })
      o += 46 + nameLength + extraLength + commentLength
    }
  }

  names(): string[] {
    return [...this.#entries.keys()]
  }

  read(name: string): Buffer | undefined {
    const entry = this.#entries.get(name)
    if (!entry) return undefined
    const b = this.#bytes
    if (b.readUInt32LE(entry.offset) !== LOCAL_FILE_HEADER) throw new Error(`corrupt zip entry ${name}`)
    const start = entry.offset + 30 + b.readUInt16LE(entry.offset + 26) + b.readUInt16LE(entry.offset + 28)
    const data = b.subarray(start, start + entry.compressedSize)
    if (entry.method === 0) return Buffer.from(data)
    if (entry.method === 8) return inflateRawSync(data)
    throw new Error(`zip entry ${name} uses unsupported compression method ${entry.method}`)
  }
}
