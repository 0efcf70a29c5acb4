// @ts-check
/**
 * Rewrap (spec/rewrap.md): moving a file's data key to a new wrapping key with
 * rewrapStream (every frame verified and re-encrypted under a new message id) against
 * what it replaces, decryptStream | encryptStream under the new key. Both run
 * file to file through stream.pipeline, raw AES keyrings on both sides (so no
 * KMS latency in either figure), 0x0478 in 4 KiB frames; rounds alternate.
 * Cross-validated first: the rewrapped file decrypts to the plaintext under the
 * new key.
 */
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CONTEXT, TMP } from '../contenders.mjs'
import { formatBytes, median, patterned, round } from '../harness.mjs'

const SUITE = 0x0478
const FRAME = 4096
const CHUNK = 1 << 20

/** @typedef {{ name: 'rewrap' | 'decrypt + encrypt', mbPerSec: number, ms: number, spread: number }} Result median of the rounds */
/** @typedef {{ case: 'rewrap', suite: number, size: number, frameLength: number, results: [rewrap: Result, both: Result] }} Row */

/**
 * `bytes` of patterned plaintext, one MiB block repeated with its first bytes varied.
 * @param {number} bytes
 */
function* plaintextChunks(bytes) {
  const block = patterned(CHUNK, 3)
  for (let o = 0, i = 0; o < bytes; o += CHUNK, i++) {
    const chunk = block.slice(0, Math.min(CHUNK, bytes - o))
    new DataView(chunk.buffer).setUint32(0, i)
    yield chunk
  }
}

/** @param {AsyncIterable<Uint8Array>} stream */
async function sha256Of(stream) {
  const hash = createHash('sha256')
  for await (const chunk of stream) hash.update(chunk)
  return hash.digest('hex')
}

/** @param {() => Promise<unknown>} work @returns {Promise<number>} ms */
async function timed(work) {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/**
 * The message id of the message in the file at `path`, in hex: reads the file's first bytes, then as many as
 * inspectMessage says the header needs (a large context or many data keys make it longer than any first guess).
 * @param {import('../contenders.mjs').Ours} ours
 * @param {string} path
 */
export function messageIdOf(ours, path) {
  const fd = openSync(path, 'r')
  try {
    for (let length = 1 << 16; ; ) {
      const bytes = new Uint8Array(length)
      const read = readSync(fd, bytes, 0, length, 0)
      const info = ours.inspectMessage(bytes.subarray(0, read))
      if (info.complete) return Buffer.from(info.messageId).toString('hex')
      if (read < length) throw new Error(`${path}: the file ends inside the message header`)
      // `needed` is a lower bound: at least double, so each round makes progress.
      length = Math.max(info.needed, 2 * length)
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ ours, quick, log, filter }) {
  const client = ours.createClient()
  const bytes = filter.rewrapBytes ?? 1 << 30
  const rounds = quick ? 1 : 3
  const from = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'old', wrappingKey: patterned(32, 1) })
  const to = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'new', wrappingKey: patterned(32, 2) })
  const dir = join(TMP, `rewrap-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const input = join(dir, 'in.enc')
  const output = join(dir, 'out.enc')
  try {
    await pipeline(Readable.from(plaintextChunks(bytes)), client.encryptStream(from, { suiteId: SUITE, frameLength: FRAME, encryptionContext: CONTEXT }), createWriteStream(input))
    const contenders = {
      rewrap: () => pipeline(createReadStream(input, { highWaterMark: CHUNK }), client.rewrapStream({ from, to }), createWriteStream(output)),
      'decrypt + encrypt': () =>
        pipeline(
          createReadStream(input, { highWaterMark: CHUNK }),
          client.decryptStream(from),
          client.encryptStream(to, { suiteId: SUITE, frameLength: FRAME, encryptionContext: CONTEXT }),
          createWriteStream(output),
        ),
    }

    // Cross-validation: the rewrapped file decrypts under the new key, and is a new message (new message id).
    await contenders.rewrap()
    const expected = await sha256Of(Readable.from(plaintextChunks(bytes)))
    if ((await sha256Of(createReadStream(output).pipe(client.decryptStream(to)))) !== expected) throw new Error('cross-validation failed: the rewrapped file does not decrypt to the plaintext')
    if (messageIdOf(ours, output) === messageIdOf(ours, input)) throw new Error('cross-validation failed: the rewrapped file kept the message id')
    if ((await sha256Of(createReadStream(input).pipe(client.decryptStream(from)))) !== expected) throw new Error('cross-validation failed: the input does not decrypt')

    /** @type {Record<Result['name'], number[]>} */
    const samples = { rewrap: [], 'decrypt + encrypt': [] }
    /** @type {Result['name'][]} */
    const names = ['rewrap', 'decrypt + encrypt']
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 ? [...names].reverse() : names) samples[name].push(await timed(contenders[name]))
    }
    const size = statSync(input).size
    /** @param {Result['name']} name @returns {Result} */
    const summary = (name) => {
      const ms = samples[name]
      const rates = ms.map((t) => size / 1e6 / (t / 1000))
      const mb = median(rates)
      return { name, mbPerSec: round(mb, 3), ms: round(median(ms), 4), spread: round(rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / mb : 0, 3) }
    }
    const [rewrap, both] = /** @type {const} */ ([summary('rewrap'), summary('decrypt + encrypt')])
    log(`rewrap ${formatBytes(bytes)} @ ${formatBytes(FRAME)}, 0x0478: rewrap ${rewrap.mbPerSec} MB/s (${rewrap.ms} ms), decrypt + encrypt ${both.mbPerSec} MB/s (${both.ms} ms)  (${(both.ms / rewrap.ms).toFixed(2)}x faster)`)
    return [{ case: 'rewrap', suite: SUITE, size: bytes, frameLength: FRAME, results: [rewrap, both] }]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
