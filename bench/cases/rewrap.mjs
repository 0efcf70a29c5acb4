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
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CONTEXT, TMP } from '../contenders.mjs'
import { formatBytes, median, patterned, round } from '../harness.mjs'

const SUITE = 0x0478
const FRAME = 4096
const CHUNK = 1 << 20

/** `bytes` of patterned plaintext, one MiB block repeated with its first bytes varied. */
function* plaintextChunks(bytes) {
  const block = patterned(CHUNK, 3)
  for (let o = 0, i = 0; o < bytes; o += CHUNK, i++) {
    const chunk = block.slice(0, Math.min(CHUNK, bytes - o))
    new DataView(chunk.buffer).setUint32(0, i)
    yield chunk
  }
}

async function sha256Of(stream) {
  const hash = createHash('sha256')
  for await (const chunk of stream) hash.update(chunk)
  return hash.digest('hex')
}

async function timed(work) {
  const start = process.hrtime.bigint()
  await work()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** @param {import('../harness.mjs').CaseOptions} options */
export async function run({ ours, quick, log, filter }) {
  const client = ours.createClient()
  if (typeof client.rewrapStream !== 'function') {
    log('rewrap: not available (client.rewrapStream does not exist yet)')
    return [{ case: 'rewrap', available: false }]
  }
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
    const idOf = (path) => Buffer.from(ours.inspectMessage(readFileSync(path).subarray(0, 1 << 16)).messageId).toString('hex')
    if (idOf(output) === idOf(input)) throw new Error('cross-validation failed: the rewrapped file kept the message id')
    if ((await sha256Of(createReadStream(input).pipe(client.decryptStream(from)))) !== expected) throw new Error('cross-validation failed: the input does not decrypt')

    const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? Object.keys(contenders).reverse() : Object.keys(contenders)
      for (const name of order) samples[name].push(await timed(contenders[name]))
    }
    const size = statSync(input).size
    const results = Object.entries(samples).map(([name, ms]) => {
      const rates = ms.map((t) => size / 1e6 / (t / 1000))
      const mb = median(rates)
      return { name, mbPerSec: round(mb, 3), ms: round(median(ms), 4), spread: round(rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / mb : 0, 3) }
    })
    const [rewrap, both] = results
    log(`rewrap ${formatBytes(bytes)} @ ${formatBytes(FRAME)}, 0x0478: rewrap ${rewrap.mbPerSec} MB/s (${rewrap.ms} ms), decrypt + encrypt ${both.mbPerSec} MB/s (${both.ms} ms)  (${(both.ms / rewrap.ms).toFixed(2)}x faster)`)
    return [{ case: 'rewrap', available: true, suite: SUITE, size: bytes, frameLength: FRAME, results }]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
