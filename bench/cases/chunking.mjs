// @ts-check
/**
 * Chunking: stream decrypt of one message with 16 MiB frames, fed in 1 KiB and
 * in 64 KiB chunks (issue 14 item 5). The decryptor must do work linear in the
 * bytes whatever the chunking, so the time ratio small / large stays small
 * (goal <= 3x); a queue that walks its buffered chunks after every push makes
 * it grow with the chunks per frame (3.4 s against 28 ms before the fix).
 * The chunks are separate buffers made before timing, as a socket hands them out.
 */
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { assertSameBytes, compare, formatBytes, patterned, round } from '../harness.mjs'

const MIB = 1 << 20
const FRAME = 16 * MIB
const SMALL = 1024
const LARGE = 64 * 1024

/**
 * Decrypt time of one message fed in small and in large chunks, and large / small ops/s (the goal: at most 3).
 * @typedef {{ case: 'chunking', suite: number, size: number, frameLength: number, chunkSizes: number[], ratio: number, results: [small: import('../harness.mjs').Summary, large: import('../harness.mjs').Summary] }} Row
 */

/** @param {Uint8Array} bytes @param {number} size */
function chunksOf(bytes, size) {
  const out = []
  for (let o = 0; o < bytes.length; o += size) out.push(Buffer.from(bytes.subarray(o, o + size)))
  return out
}

/**
 * Decrypts `chunks` through decryptStream; returns the plaintext length, or the bytes when `keep`.
 * @template {boolean} K
 * @param {import('../../dist/index.js').Client} client
 * @param {import('../../dist/index.js').Keyring} keyring
 * @param {Buffer[]} chunks
 * @param {K} keep
 * @returns {Promise<K extends true ? Buffer : number>}
 */
async function decryptChunks(client, keyring, chunks, keep) {
  /** @type {Buffer[]} */
  const parts = []
  let length = 0
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      length += chunk.length
      if (keep) parts.push(chunk)
      callback()
    },
  })
  await pipeline(Readable.from(chunks), client.decryptStream(keyring), sink)
  return /** @type {K extends true ? Buffer : number} */ (keep ? Buffer.concat(parts) : length)
}

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, quick, log }) {
  const client = ours.createClient()
  const keyring = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'chunking', wrappingKey: new Uint8Array(randomBytes(32)) })
  // Exactly one frame: the message is one 16 MiB final frame, so every byte arrives before anything can be opened.
  const plaintext = patterned(FRAME, 5)
  const { ciphertext } = await client.encrypt(keyring, plaintext, { suiteId: 0x0478, frameLength: FRAME })
  const feeds = { small: chunksOf(ciphertext, SMALL), large: chunksOf(ciphertext, LARGE) }
  for (const [name, chunks] of Object.entries(feeds)) {
    assertSameBytes(await decryptChunks(client, keyring, chunks, true), plaintext, `stream decrypt in ${name} chunks`)
  }
  const results = await compare(
    [
      { name: `${formatBytes(SMALL)} chunks`, fn: () => decryptChunks(client, keyring, feeds.small, false) },
      { name: `${formatBytes(LARGE)} chunks`, fn: () => decryptChunks(client, keyring, feeds.large, false) },
    ],
    { rounds: quick ? 3 : 7, warmup: 300, bytes: ciphertext.length },
  )
  const [small, large] = results
  const ratio = round(large.opsPerSec / small.opsPerSec, 3)
  log(
    `chunking: stream decrypt of ${formatBytes(FRAME)} frames: ${small.name} ${round(1000 / small.opsPerSec, 3)} ms, ` +
      `${large.name} ${round(1000 / large.opsPerSec, 3)} ms: ${ratio}x (goal <= 3x)`,
  )
  return [{ case: 'chunking', suite: 0x0478, size: plaintext.length, frameLength: FRAME, chunkSizes: [SMALL, LARGE], ratio, results }]
}
