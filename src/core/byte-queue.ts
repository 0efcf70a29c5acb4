/**
 * A queue of incoming chunks that hands out contiguous views. A view is a
 * subarray of a chunk when one chunk holds it; only a view that spans chunks
 * is copied, once, so no byte is copied more than once however data arrives.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = []
  /** Offset of the first unread byte in #chunks[0]. */
  #head = 0
  #available = 0

  get available(): number {
    return this.#available
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#available += chunk.length
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
  }
}
