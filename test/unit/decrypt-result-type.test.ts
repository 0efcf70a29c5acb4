/**
 * decrypt returns a plain Uint8Array, never a Buffer, whatever the size, path and backend
 * (spec/client.md#decrypt-result): node:crypto's deciphers return Buffers, so before this the
 * one-part paths (empty, one frame, streamed collection of one part) leaked them while the
 * multi-part and collecting paths made Uint8Arrays, and `plaintext.toString()` printed text for
 * some sizes and comma-separated numbers for others.
 */
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createClient, RawAesKeyring } from '../../src/index.js'
import { BACKENDS } from '../support/backends.js'
import { aesKey, patterned } from '../support/keys.js'

const keyring = new RawAesKeyring({ keyNamespace: 'type', keyName: 'aes-256', wrappingKey: aesKey(32) })

/** [name, plaintext length, encrypt options]: each takes a different way through decryptBytes. */
const CASES = [
  ['empty', 0, {}],
  ['one small frame', 100, {}],
  ['several frames', 10_000, { frameLength: 4096 }],
  ['collected into one buffer, frames opened in parallel where the backend can', 3 << 20, { frameLength: 4096, suiteId: 0x0478 }],
  ['non-framed', 5000, { frameLength: 0 }],
  ['signed', 5000, { suiteId: 0x0578 }],
] as const

function expectPlain(plaintext: Uint8Array, expected: Uint8Array) {
  expect(Object.getPrototypeOf(plaintext)).toBe(Uint8Array.prototype)
  expect(Buffer.isBuffer(plaintext)).toBe(false)
  expect(plaintext.length).toBe(expected.length)
  expect(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length).equals(expected)).toBe(true)
}

describe.each(BACKENDS)('decrypt result type, %s backend', (_name, backend) => {
  const client = createClient({ backend })

  it.each(CASES)('%s: a plain Uint8Array', async (_case, length, options) => {
    const plaintext = patterned(length)
    const { ciphertext } = await client.encrypt(keyring, plaintext, options)
    expectPlain((await client.decrypt(keyring, ciphertext)).plaintext, plaintext)
    // The same message as a Node Buffer in, and as streams collected by decrypt.
    expectPlain((await client.decrypt(keyring, Buffer.from(ciphertext))).plaintext, plaintext)
    expectPlain((await client.decrypt(keyring, Readable.from([Buffer.from(ciphertext)]))).plaintext, plaintext)
    const web = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(ciphertext), c.close()) })
    expectPlain((await client.decrypt(keyring, web)).plaintext, plaintext)
  })
})
