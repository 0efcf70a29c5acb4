/**
 * A queue of incoming chunks that hands out contiguous views (spec/streaming.md#decryptor).
 * A view is a subarray of a chunk when one chunk holds it; only a view that
 * spans chunks is copied, once. Memory stays proportional to the unread bytes:
 * - small chunks are appended to one shared buffer instead of being kept one
 *   object each (a byte-at-a-time sender would otherwise cost ~100 bytes of
 *   bookkeeping per byte);
 * - `compact()` copies a short unread tail out of a much larger backing buffer,
 *   so a small partial frame never pins a big input chunk in memory.
 * Pushed chunks are not copied: the caller must not modify them afterwards.
 */

/** Chunks shorter than this are appended to the merge buffer. */
const SMALL_CHUNK = 1024
const MERGE_CAPACITY = 16 * 1024
/** `compact()` copies a view when its backing buffer is larger than this many times its length (and than RETAIN_FLOOR). */
const RETAIN_RATIO = 4
const RETAIN_FLOOR = 64 * 1024

export class ByteQueue {
  #chunks: Uint8Array[] = []
  /** Offset of the first unread byte in #chunks[0]. */
  #head = 0
  #available = 0
  /** When set, the last entry of #chunks is the view merge[mergeStart, mergeEnd) and small pushes extend it. */
  #merge: Uint8Array | undefined
  #mergeStart = 0
  #mergeEnd = 0

  get available(): number {
    return this.#available
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length
    if (n === 0) return
    this.#available += n
    if (n < SMALL_CHUNK) {
      const merge = this.#merge
      if (merge !== undefined && merge.length - this.#mergeEnd >= n) {
        merge.set(chunk, this.#mergeEnd)
        this.#mergeEnd += n
        this.#chunks[this.#chunks.length - 1] = merge.subarray(this.#mergeStart, this.#mergeEnd)
        return
      }
      const fresh = new Uint8Array(MERGE_CAPACITY)
      fresh.set(chunk, 0)
      this.#merge = fresh
      this.#mergeStart = 0
      this.#mergeEnd = n
      this.#chunks.push(fresh.subarray(0, n))
      return
    }
    this.#merge = undefined
    this.#chunks.push(chunk)
  }

  /** The next `length` bytes as one view, or undefined when fewer are available. Does not consume. */
  peek(length: number): Uint8Array | undefined {
    if (length > this.#available) return undefined
    const first = this.#chunks[0]
    if (first === undefined) return new Uint8Array(0)
    if (first.length - this.#head >= length) return first.subarray(this.#head, this.#head + length)
    // Coalesce exactly the chunks this view spans into one, and keep it as the new head.
    const out = new Uint8Array(length)
    let filled = 0
    let taken = 0
    let head = this.#head
    while (filled < length) {
      const chunk = this.#chunks[taken]!
      const n = Math.min(chunk.length - head, length - filled)
      out.set(chunk.subarray(head, head + n), filled)
      filled += n
      if (head + n === chunk.length) {
        taken++
        head = 0
      } else {
        head += n
      }
    }
    const rest = this.#chunks.slice(taken)
    if (head > 0) rest[0] = rest[0]!.subarray(head)
    // The merge view may have been copied or cut; start a fresh one on the next small push.
    this.#merge = undefined
    this.#chunks = [out, ...rest]
    this.#head = 0
    return out
  }

  consume(length: number): void {
    this.#available -= length
    while (length > 0) {
      const first = this.#chunks[0]!
      const left = first.length - this.#head
      if (length < left) {
        this.#head += length
        return
      }
      length -= left
      this.#chunks.shift()
      this.#head = 0
    }
    if (this.#chunks.length === 0) this.#merge = undefined
  }

  /**
   * Copies unread bytes that pin a much larger buffer (a partial frame left at
   * the end of a big chunk). Call between pushes, when no view is in use.
   */
  compact(): void {
    for (let i = 0; i < this.#chunks.length; i++) {
      const start = i === 0 ? this.#head : 0
      const chunk = this.#chunks[i]!
      const unread = chunk.length - start
      if (chunk.buffer.byteLength <= Math.max(RETAIN_FLOOR, RETAIN_RATIO * unread)) continue
      const copy = new Uint8Array(unread)
      copy.set(chunk.subarray(start))
      this.#chunks[i] = copy
      if (i === 0) this.#head = 0
      if (i === this.#chunks.length - 1) this.#merge = undefined
    }
  }
}
