/** Turns the stream-like inputs the one-shot API accepts into one async iterable of byte chunks. */

export type StreamInput = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>

export function isStreamInput(value: unknown): value is StreamInput {
  if (typeof value !== 'object' || value === null) return false
  return Symbol.asyncIterator in value || typeof (value as ReadableStream).getReader === 'function'
}

export async function* chunksOf(input: StreamInput): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in input) {
    for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
      if (typeof chunk === 'string') yield new TextEncoder().encode(chunk)
      else if (chunk instanceof Uint8Array) yield chunk
      else throw new TypeError('stream chunks must be Uint8Array or string')
    }
    return
  }
  // Browsers without async iteration of ReadableStream.
  const reader = (input as ReadableStream<Uint8Array>).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}
