/**
 * client.encrypt / client.decrypt with a stream or async iterable as input:
 * read through the streaming core, returned whole, same rules as one-shot.
 */
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { patterned } from '../support/keys.js'
import { chunked, keyring, requireClient, same, webSource } from './helpers.js'

const plaintext = patterned(3 * 4096 + 17)

async function* generate(bytes: Uint8Array, sizes: number[]) {
  for (const c of chunked(bytes, sizes)) {
    await Promise.resolve()
    yield c
  }
}

/** A ReadableStream without async iteration, as in browsers that lack it. */
function readerOnly(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return { getReader: () => stream.getReader() } as unknown as ReadableStream<Uint8Array>
}

describe('one-shot API with stream input', () => {
  it('encrypts from an async generator, a Node Readable, a ReadableStream and a reader-only stream', async () => {
    const inputs = [
      ['async generator', () => generate(plaintext, [1000, 1])],
      ['Node Readable', () => Readable.from(chunked(plaintext, [333]))],
      ['ReadableStream', () => webSource(chunked(plaintext, [5000]))],
      ['reader-only ReadableStream', () => readerOnly(webSource(chunked(plaintext, [7])))],
    ] as const
    for (const [label, make] of inputs) {
      const result = await requireClient.encrypt(keyring, make(), { encryptionContext: { from: label } })
      expect(result.header.encryptionContext.from).toBe(label)
      const back = await requireClient.decrypt(keyring, result.ciphertext)
      expect(same(back.plaintext, plaintext), label).toBe(true)
      expect(same(back.header.messageId, result.header.messageId)).toBe(true)
    }
  })

  it('decrypts from the same kinds of input', async () => {
    const { ciphertext, header } = await requireClient.encrypt(keyring, plaintext, { frameLength: 1000 })
    for (const input of [generate(ciphertext, [1, 999, 4]), Readable.from(chunked(ciphertext, [100])), webSource(chunked(ciphertext, [2048])), readerOnly(webSource([ciphertext]))]) {
      const result = await requireClient.decrypt(keyring, input)
      expect(same(result.plaintext, plaintext)).toBe(true)
      expect(same(result.header.messageId, header.messageId)).toBe(true)
    }
  })

  it('applies the one-shot rules: truncation, trailing bytes, unsignedOnly', async () => {
    const { ciphertext } = await requireClient.encrypt(keyring, plaintext)
    await expect(requireClient.decrypt(keyring, generate(ciphertext.subarray(0, ciphertext.length - 1), [100]))).rejects.toMatchObject({ code: 'ERR_TRUNCATED' })
    await expect(requireClient.decrypt(keyring, generate(new Uint8Array([...ciphertext, 0]), [100]))).rejects.toMatchObject({ code: 'ERR_TRAILING_BYTES' })
    await expect(requireClient.decrypt(keyring, generate(ciphertext, [100]), { unsignedOnly: true })).rejects.toMatchObject({ code: 'ERR_SIGNED_NOT_ALLOWED' })
  })

  it('text chunks: UTF-8 for plaintext, refused for ciphertext', async () => {
    const { ciphertext } = await requireClient.encrypt(keyring, Readable.from(['grüße ', 'aus ', 'köln']))
    expect(Buffer.from((await requireClient.decrypt(keyring, ciphertext)).plaintext).toString('utf8')).toBe('grüße aus köln')
    await expect(requireClient.decrypt(keyring, Readable.from(['AYAA']))).rejects.toThrow(TypeError)
  })

  it('non-framed (frameLength 0) stream input is read whole, then encrypted', async () => {
    const { ciphertext, header } = await requireClient.encrypt(keyring, generate(plaintext, [4000]), { frameLength: 0 })
    expect(header.contentType).toBe(1)
    expect(same((await requireClient.decrypt(keyring, ciphertext)).plaintext, plaintext)).toBe(true)
  })

  it('plaintextLength bounds stream and byte input alike', async () => {
    for (const frameLength of [4096, 0]) {
      await expect(requireClient.encrypt(keyring, generate(plaintext, [1000]), { plaintextLength: plaintext.length - 1, frameLength })).rejects.toMatchObject({
        code: 'ERR_LIMIT_EXCEEDED',
        limit: 'plaintextLength',
      })
    }
    await expect(requireClient.encrypt(keyring, plaintext, { plaintextLength: 10 })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
    const ok = await requireClient.encrypt(keyring, generate(plaintext, [1000]), { plaintextLength: plaintext.length })
    expect(same((await requireClient.decrypt(keyring, ok.ciphertext)).plaintext, plaintext)).toBe(true)
  })

  it('a failure stops reading: the source is cancelled or destroyed', async () => {
    let cancelled = false
    let pulls = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++
        controller.enqueue(patterned(100))
      },
      cancel() {
        cancelled = true
      },
    })
    await expect(requireClient.decrypt(keyring, endless)).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    expect(cancelled).toBe(true)
    expect(pulls).toBeLessThan(5)

    const node = Readable.from(
      (function* () {
        for (;;) yield patterned(100)
      })(),
    )
    await expect(requireClient.decrypt(keyring, node)).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' })
    expect(node.destroyed).toBe(true)

    let stopped = false
    async function* endlessPlaintext() {
      try {
        for (;;) yield patterned(100)
      } finally {
        stopped = true
      }
    }
    await expect(requireClient.encrypt(keyring, endlessPlaintext(), { plaintextLength: 1000 })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
    expect(stopped).toBe(true)
  })
})
