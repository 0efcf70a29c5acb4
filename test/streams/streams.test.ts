/** Streaming encrypt/decrypt through the Node and WHATWG adapters, and the release rules. */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, RawAesKeyring, type AlgorithmSuite, type MessageHeader } from '../../src/index.js'
import { MessageDecryptor } from '../../src/core/decryptor.js'
import { StreamEncryptor } from '../../src/core/stream-encryptor.js'
import { toCmm } from '../../src/materials/cmm.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { aesKey, patterned } from '../support/keys.js'
import { peerAesKeyring, peerAllow, peerForbid } from '../support/peer.js'

const key = aesKey(32)
const keyring = new RawAesKeyring({ keyNamespace: 'stream', keyName: 'k', wrappingKey: key })
const peerKeyring = peerAesKeyring('stream', 'k', key)
const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const clientFor = (suite: AlgorithmSuite) => (suite.committing ? allow : forbid)
const F = 64

/** Splits bytes into chunks of the given sizes, cycling through them. */
function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let i = 0
  for (let o = 0; o < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    yield bytes.subarray(o, o + n)
    o += n
  }
}

async function collect(readable: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of readable) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}

async function nodeRoundTrip(suite: AlgorithmSuite, plaintext: Uint8Array, sizes: number[]): Promise<Uint8Array> {
  const client = clientFor(suite)
  const ciphertext = await collect(Readable.from(chunked(plaintext, sizes)).pipe(client.encryptStream(keyring, { suiteId: suite.id, frameLength: F })))
  return collect(Readable.from(chunked(ciphertext, sizes)).pipe(client.decryptStream(keyring)))
}

async function webRoundTrip(suite: AlgorithmSuite, plaintext: Uint8Array, sizes: number[]): Promise<Uint8Array> {
  const client = clientFor(suite)
  const source = () => webStreamOf(chunked(plaintext, sizes))
  const ciphertext = await collect(source().pipeThrough(client.encryptWebStream(keyring, { suiteId: suite.id, frameLength: F })))
  return collect(webStreamOf(chunked(ciphertext, sizes)).pipeThrough(client.decryptWebStream(keyring)))
}

const LENGTHS = [0, 1, F - 1, F, F + 1, 2 * F, 3 * F + 7]
const CHUNKINGS: [string, number[]][] = [
  ['1-byte chunks', [1]],
  ['odd chunks', [3, 7, 13]],
  ['chunks larger than a frame', [F * 2 + 5]],
]

describe.each(ALL_SUITES.map((s) => [s.name, s] as const))('%s', (_name, suite) => {
  it.each(CHUNKINGS)('Node and web streams round-trip every boundary length with %s', async (_label, sizes) => {
    for (const length of LENGTHS) {
      const plaintext = patterned(length, length)
      expect(Buffer.compare(await nodeRoundTrip(suite, plaintext, sizes), plaintext), `node len=${length}`).toBe(0)
      expect(Buffer.compare(await webRoundTrip(suite, plaintext, sizes), plaintext), `web len=${length}`).toBe(0)
    }
  })
})

describe('interoperability of streams with @aws-crypto/client-node', () => {
  it.each(ALL_SUITES.map((s) => [s.name, s] as const))('%s both ways', async (_n, suite) => {
    const peer = suite.committing ? peerAllow : peerForbid
    const plaintext = patterned(5000)
    const ours = await collect(Readable.from(chunked(plaintext, [777])).pipe(clientFor(suite).encryptStream(keyring, { suiteId: suite.id, frameLength: 1024 })))
    const theirs = await collect(Readable.from(chunked(ours, [333])).pipe(peer.decryptStream(peerKeyring)))
    expect(Buffer.compare(theirs, plaintext)).toBe(0)
    const peerMessage = await collect(Readable.from(chunked(plaintext, [500])).pipe(peer.encryptStream(peerKeyring, { suiteId: suite.id, frameLength: 1024 })))
    const back = await collect(Readable.from(chunked(peerMessage, [211])).pipe(clientFor(suite).decryptStream(keyring)))
    expect(Buffer.compare(back, plaintext)).toBe(0)
  })
})

describe('release rules', () => {
  async function signedMessage(length = 10 * F) {
    return (await allow.encrypt(keyring, patterned(length), { suiteId: 0x0578, frameLength: F })).ciphertext
  }

  it('holds the final frame of a signed message until the signature verifies, and never emits it on a bad signature', async () => {
    const ciphertext = await signedMessage(10 * F + 10)
    const tampered = new Uint8Array(ciphertext)
    tampered[tampered.length - 3]! ^= 1 // inside the signature
    const emitted: Uint8Array[] = []
    const decrypt = allow.decryptStream(keyring)
    decrypt.on('data', (d: Uint8Array) => emitted.push(d))
    await expect(pipeline(Readable.from(chunked(tampered, [50])), decrypt)).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'signature' })
    // Ten regular frames may have been released; the 10-byte final frame never was.
    const total = emitted.reduce((n, c) => n + c.length, 0)
    expect(total).toBe(10 * F)
  })

  it('a tampered last frame of a signed message errors and its plaintext is never emitted', async () => {
    const ciphertext = await signedMessage(3 * F + 10)
    const tampered = new Uint8Array(ciphertext)
    // The footer is 2 + (up to 104) bytes; the final frame's tag sits right before it.
    const footerLength = 2 + new DataView(tampered.buffer).getUint16(findFooter(tampered))
    tampered[tampered.length - footerLength - 20]! ^= 1
    const emitted: Uint8Array[] = []
    const decrypt = allow.decryptStream(keyring)
    decrypt.on('data', (d: Uint8Array) => emitted.push(d))
    await expect(pipeline(Readable.from([tampered]), decrypt)).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED' })
    expect(emitted.reduce((n, c) => n + c.length, 0)).toBeLessThanOrEqual(3 * F)
  })

  it('truncation at every frame boundary fails the stream, never a clean end', async () => {
    const ciphertext = (await allow.encrypt(keyring, patterned(5 * F), { suiteId: 0x0478, frameLength: F })).ciphertext
    const headerLength = ciphertext.length - 4 * (F + 32) - (F + 40)
    for (let cut = headerLength; cut < ciphertext.length; cut += F + 32) {
      await expect(pipeline(Readable.from([ciphertext.subarray(0, cut)]), allow.decryptStream(keyring), devNull()), `cut at ${cut}`).rejects.toMatchObject({ code: 'ERR_TRUNCATED' })
      const web = webStreamOf([ciphertext.subarray(0, cut)]).pipeThrough(allow.decryptWebStream(keyring))
      await expect(collect(web)).rejects.toMatchObject({ code: 'ERR_TRUNCATED' })
    }
  })

  it('bytes after the message fail the stream', async () => {
    const ciphertext = (await allow.encrypt(keyring, 'x', { suiteId: 0x0478 })).ciphertext
    await expect(pipeline(Readable.from([ciphertext, new Uint8Array([0])]), allow.decryptStream(keyring), devNull())).rejects.toMatchObject({ code: 'ERR_TRAILING_BYTES' })
  })

  it('unsignedOnly fails on a signed message before any output', async () => {
    const ciphertext = await signedMessage()
    const emitted: Uint8Array[] = []
    const decrypt = allow.decryptStream(keyring, { unsignedOnly: true })
    decrypt.on('data', (d: Uint8Array) => emitted.push(d))
    await expect(pipeline(Readable.from(chunked(ciphertext, [40])), decrypt)).rejects.toMatchObject({ code: 'ERR_SIGNED_NOT_ALLOWED' })
    expect(emitted).toEqual([])
  })

  it('announces the header before the first output byte', async () => {
    const ciphertext = (await allow.encrypt(keyring, patterned(3 * F), { suiteId: 0x0478, frameLength: F, encryptionContext: { who: 'me' } })).ciphertext
    const events: string[] = []
    const decrypt = allow.decryptStream(keyring)
    decrypt.on('header', (h: MessageHeader) => events.push(`header:${h.encryptionContext.who}`))
    decrypt.on('data', () => events.push('data'))
    await pipeline(Readable.from(chunked(ciphertext, [1])), decrypt)
    expect(events[0]).toBe('header:me')
    expect(events.length).toBeGreaterThan(1)
    expect((await decrypt.header).suiteId).toBe(0x0478)

    const encrypt = allow.encryptStream(keyring, { encryptionContext: { who: 'me' } })
    const order: string[] = []
    encrypt.on('header', () => order.push('header'))
    encrypt.on('data', () => order.push('data'))
    await pipeline(Readable.from(['hello']), encrypt)
    expect(order[0]).toBe('header')
    expect((await encrypt.header).encryptionContext.who).toBe('me')
  })

  it('enforces plaintextLength as a bound', async () => {
    const encrypt = allow.encryptStream(keyring, { plaintextLength: 10 })
    await expect(pipeline(Readable.from([patterned(11)]), encrypt, devNull())).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'plaintextLength' })
  })
})

describe('slow producers and consumers', () => {
  it('round-trips with delays on both ends', async () => {
    const plaintext = patterned(20 * F + 3)
    async function* slowly(bytes: Uint8Array) {
      for (const chunk of chunked(bytes, [37])) {
        await sleep(1)
        yield chunk
      }
    }
    const out: Uint8Array[] = []
    const slowSink = new Writable({
      highWaterMark: 8,
      write(chunk, _e, cb) {
        out.push(chunk)
        setTimeout(cb, 2)
      },
    })
    await pipeline(Readable.from(slowly(plaintext)), allow.encryptStream(keyring, { frameLength: F }), allow.decryptStream(keyring), slowSink)
    expect(Buffer.compare(Buffer.concat(out), plaintext)).toBe(0)
  })
})

describe('one-shot API with stream input', () => {
  it('accepts async iterables, Node Readables and web ReadableStreams', async () => {
    const plaintext = patterned(3 * F + 1)
    const a = await allow.encrypt(keyring, Readable.from(chunked(plaintext, [10])), { frameLength: F })
    expect(Buffer.compare((await allow.decrypt(keyring, a.ciphertext)).plaintext, plaintext)).toBe(0)
    const b = await allow.decrypt(keyring, webStreamOf(chunked(a.ciphertext, [9])))
    expect(Buffer.compare(b.plaintext, plaintext)).toBe(0)
    async function* gen() {
      yield* chunked(a.ciphertext, [100])
    }
    expect(Buffer.compare((await allow.decrypt(keyring, gen())).plaintext, plaintext)).toBe(0)
  })
})

describe('bounded memory', () => {
  it('64 MiB through the incremental core never buffers more than a frame plus a chunk', async () => {
    const settings = { crypto: nodeBackend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' as const, maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 20 }
    const frameLength = 4096
    const chunk = 65536
    const { encryptor, header } = await StreamEncryptor.start(toCmm(keyring), settings, { frameLength, suiteId: 0x0478 })
    const decryptor = new MessageDecryptor(toCmm(keyring), settings, {})
    let maxBuffered = 0
    let decrypted = 0
    const feed = async (bytes: Uint8Array) => {
      for (const part of chunked(bytes, [chunk])) {
        for (const p of await decryptor.push(part)) decrypted += p.length
        maxBuffered = Math.max(maxBuffered, decryptor.bufferedBytes)
      }
    }
    await feed(header)
    const block = patterned(1 << 20)
    for (let i = 0; i < 64; i++) for (const frame of encryptor.push(block)) await feed(frame)
    for (const part of await encryptor.finish()) await feed(part)
    await decryptor.end()
    expect(decrypted).toBe(64 << 20)
    expect(maxBuffered).toBeLessThan(frameLength + 32 + chunk)
  })
})

/** A web ReadableStream over an iterable (ReadableStream.from is not in every runtime's types). */
function webStreamOf(chunks: Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.iterator]()
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
  })
}

function devNull(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

/** Offset of the footer of a signed message: walk the frames from the header. */
function findFooter(message: Uint8Array): number {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  // v2 header: fixed prefix 35 bytes, then context and keys; easier to scan backwards for a plausible footer.
  for (let sigLength = 104; sigLength >= 96; sigLength--) {
    const at = message.length - 2 - sigLength
    if (view.getUint16(at) === sigLength) return at
  }
  throw new Error('no footer found')
}
