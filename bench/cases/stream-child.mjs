// @ts-check
/**
 * One timed stream pipeline in a fresh process, so its RSS is its own:
 * source -> encrypt stream -> decrypt stream -> checking sink.
 * argv: side (ours|peer), entry (our module path), bytes, suite id, frame length.
 * Prints one JSON line: { ms, bytes, rssBefore, rssPeak } (bytes). The peak
 * is the kernel's high-water mark: the pipeline rarely yields to timers, so
 * sampling alone would miss it.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pathToFileURL } from 'node:url'
import { peerAesKeyring } from '../contenders.mjs'

const [side, entry, bytesText, suiteText, frameText] = process.argv.slice(2)
if (!entry) throw new Error('usage: stream-child.mjs ours|peer <entry> <bytes> <suite id> <frame length>')
const total = Number(bytesText)
const suiteId = Number(suiteText)
const frameLength = Number(frameText)
const CHUNK = 64 * 1024
const context = { purpose: 'bench', tenant: 'example' }
const policy = suiteId === 0x0178 ? 'FORBID_ENCRYPT_ALLOW_DECRYPT' : 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'
const wrappingKey = new Uint8Array(randomBytes(32))

const block = Buffer.alloc(CHUNK)
for (let i = 0; i < CHUNK; i++) block[i] = (i * 31 + (i >> 8)) & 0xff

let encrypt, decrypt
if (side === 'ours') {
  const ours = await import(pathToFileURL(entry).href)
  const client = ours.createClient({ commitmentPolicy: policy })
  const keyring = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-256', wrappingKey })
  encrypt = () => client.encryptStream(keyring, { suiteId, frameLength, encryptionContext: context })
  decrypt = () => client.decryptStream(keyring)
} else {
  const peer = createRequire(entry)('@aws-crypto/client-node')
  const client = peer.buildClient(peer.CommitmentPolicy[policy])
  const keyring = peerAesKeyring(peer, wrappingKey)
  encrypt = () => client.encryptStream(keyring, { suiteId, frameLength, encryptionContext: context })
  decrypt = () => client.decryptStream(keyring)
}

function source() {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null)
      const n = Math.min(CHUNK, total - sent)
      sent += n
      // A fresh copy per chunk, as a file or socket would hand out.
      this.push(Buffer.from(block.subarray(0, n)))
    },
  })
}

let received = 0
const sink = new Writable({
  write(chunk, _encoding, done) {
    // Every output byte is compared with what the source sent at that offset.
    let o = 0
    while (o < chunk.length) {
      const at = (received + o) % CHUNK
      const n = Math.min(chunk.length - o, CHUNK - at)
      if (Buffer.compare(chunk.subarray(o, o + n), block.subarray(at, at + n)) !== 0) return done(new Error(`plaintext differs at byte ${received + o}`))
      o += n
    }
    received += chunk.length
    done()
  },
})

/**
 * The kernel's peak RSS of this process image. Not getrusage's maxRSS: that
 * survives exec, so a child forked from a large parent starts with the
 * parent's RSS as its peak (this bench's parent holds hundreds of MiB).
 * VmHWM belongs to the image made by exec and starts fresh.
 */
function highWaterMark() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {}
  return process.resourceUsage().maxRSS * 1024
}

globalThis.gc?.()
const rssBefore = process.memoryUsage.rss()
let rssPeak = rssBefore
const timer = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
}, 10)
const t0 = performance.now()
await pipeline(source(), encrypt(), decrypt(), sink)
const ms = performance.now() - t0
clearInterval(timer)
rssPeak = Math.max(rssPeak, highWaterMark())
if (received !== total) throw new Error(`received ${received} bytes, expected ${total}`)
process.stdout.write(JSON.stringify({ ms, bytes: total, rssBefore, rssPeak }) + '\n')
