// @ts-check
/**
 * The second thread of the two-thread limit (contenders.mjs, makeTwoThreadLimit): the
 * same bare AES-256-GCM loop as the limit, over the later half of the frames,
 * which sit in shared memory from setup on. Nothing is copied in or out per
 * call: this is the most two threads can do, not what a message format can.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import { parentPort, workerData } from 'node:worker_threads'

/** @type {{ keyBytes: Uint8Array, plaintext: SharedArrayBuffer, sealed: SharedArrayBuffer, frameLength: number, firstSequence: number, aadLength: number }} */
const { keyBytes, plaintext, sealed, frameLength, firstSequence, aadLength } = workerData
if (!parentPort) throw new Error('limit-worker.mjs runs as a worker thread')
const parent = parentPort
const key = createSecretKey(keyBytes)
const iv = new Uint8Array(12)
const aad = new Uint8Array(aadLength)
const ivView = new DataView(iv.buffer)
const aadView = new DataView(aad.buffer)
const input = new Uint8Array(plaintext)
const frames = new Uint8Array(sealed)
const step = frameLength + 16
const count = input.length / frameLength

/** @param {number} seq */
function setSeq(seq) {
  ivView.setUint32(8, seq)
  aadView.setUint32(aadLength - 12, seq)
}

parent.on('message', (/** @type {'encrypt' | 'decrypt'} */ op) => {
  for (let i = 0; i < count; i++) {
    setSeq(firstSequence + i)
    if (op === 'encrypt') {
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      c.setAAD(aad)
      c.update(input.subarray(i * frameLength, (i + 1) * frameLength))
      c.final()
      c.getAuthTag()
    } else {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      d.setAuthTag(frames.subarray(i * step + frameLength, (i + 1) * step))
      d.setAAD(aad)
      d.update(frames.subarray(i * step, i * step + frameLength))
      d.final()
    }
  }
  parent.postMessage(op)
})
