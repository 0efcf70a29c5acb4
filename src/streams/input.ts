/**
 * The inputs the one-shot API accepts besides bytes: a Node Readable, a WHATWG
 * ReadableStream, or any async iterable of byte chunks, read as one async
 * iterable. No Node built-in is imported: a Node Readable is an async iterable.
 */

export type StreamInput = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>

/** True for the stream-like inputs above (a Uint8Array or a string is not one). */
export function isStreamInput(value: unknown): value is StreamInput {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false
  return Symbol.asyncIterator in value || typeof (value as ReadableStream).getReader === 'function'
}

const encoder = new TextEncoder()

/**
 * Reads `input` chunk by chunk. String chunks (Node object-mode streams of text)
 * are UTF-8 encoded for plaintext and refused for ciphertext. Stopping early
 * (an error downstream) cancels the source.
 */
export async function* chunksOf(input: Uint8Array | StreamInput, what: 'plaintext' | 'ciphertext'): AsyncGenerator<Uint8Array, void, undefined> {
  if (input instanceof Uint8Array) {
    yield input
    return
  }
  const check = (chunk: unknown): Uint8Array => {
    if (chunk instanceof Uint8Array) return chunk
    if (typeof chunk === 'string' && what === 'plaintext') return encoder.encode(chunk)
    throw new TypeError(`${what} chunks must be Uint8Array${what === 'plaintext' ? ' or string' : ''}`)
  }
  if (Symbol.asyncIterator in input) {
    // Leaving the loop early calls the iterator's return(): Node destroys the Readable, a ReadableStream cancels.
    for await (const chunk of input as AsyncIterable<unknown>) yield check(chunk)
    return
  }
  // ReadableStream in runtimes where it is not async iterable (older browsers).
  const reader = (input as ReadableStream<Uint8Array>).getReader()
  let done = false
  try {
    for (;;) {
      const next = await reader.read()
      if (next.done) {
        done = true
        return
      }
      yield check(next.value)
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}
