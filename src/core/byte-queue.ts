/**
 * A queue of incoming chunks that hands out contiguous views (spec/streaming.md#decryptor).
 * A view is a subarray of a chunk when one chunk holds it; only a view that
 * spans chunks is copied, once. Memory stays proportional to the unread bytes:
 * - small chunks are appended to one shared buffer instead of being kept one
 *   object each (a byte-at-a-time sender would otherwise cost ~100 bytes of
 *   bookkeeping per byte);
 * - `compact()` copies a short unread tail out of a much larger backing buffer,
 *   so a small partial frame never pins a big input chunk in memory.
 * Work is linear in the bytes pushed, whatever the chunking: `compact()` looks
 * only at the head chunk and the chunks pushed since its last call (a chunk
 * behind the head never changes), and a view spanning chunks is copied once.
 * `chunkVisits` counts the chunk steps of every method, so tests can check it.
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
  /** `compact()` has already looked at #chunks[1 .. #compacted): they are not looked at again. */
  #compacted = 0
  #visits = 0

  get available(): number {
    return this.#available
  }

  /** Chunks stepped over, copied or moved so far, by every method (for the linear-work test). */
  get chunkVisits(): number {
    return this.#visits
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
      this.#visits++
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
    this.#visits += rest.length
    if (head > 0) rest[0] = rest[0]!.subarray(head)
    // The merge view may have been copied or cut; start a fresh one on the next small push.
    this.#merge = undefined
    this.#chunks = [out, ...rest]
    this.#head = 0
    // The rest moved (and the first may have been cut): compact() looks at them again, at the cost this copy already paid.
    this.#compacted = 1
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
      this.#visits++
      this.#chunks.shift()
      if (this.#compacted > 1) this.#compacted--
      this.#head = 0
    }
    if (this.#chunks.length === 0) this.#merge = undefined
  }

  /**
   * Copies unread bytes that pin a much larger buffer (a partial frame left at
   * the end of a big chunk). Call between pushes, when no view is in use.
   */
  compact(): void {
    const chunks = this.#chunks
    if (chunks.length === 0) return
    // The head chunk's unread part shrinks as it is consumed, so it is looked at every time.
    this.#retain(0, this.#head)
    for (let i = Math.max(1, this.#compacted); i < chunks.length; i++) this.#retain(i, 0)
    this.#compacted = chunks.length
  }

  /** Copies the unread part of #chunks[i] (from `start`) when it pins a much larger buffer. */
  #retain(i: number, start: number): void {
    this.#visits++
    const chunk = this.#chunks[i]!
    const unread = chunk.length - start
    if (chunk.buffer.byteLength <= Math.max(RETAIN_FLOOR, RETAIN_RATIO * unread)) return
    const copy = new Uint8Array(unread)
    copy.set(chunk.subarray(start))
    this.#chunks[i] = copy
    if (i === 0) this.#head = 0
    if (i === this.#chunks.length - 1) this.#merge = undefined
  }
}
