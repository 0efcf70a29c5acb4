/**
 * The signature hash worker never blocks the calling thread (spec/backends.md#worker-failures):
 * with its ring full, pieces go to the worker in buffers of their own, and the
 * signature is the one node:crypto computes here. Its failures are typed.
 * The worker is real; its transport holds the pieces back, so no slot frees
 * until the test says.
 */
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { HashWorker, WorkerDigest } from '../../src/crypto/node-hash-worker.js'

/** A real worker whose incoming messages the test holds back and then delivers. */
class HeldWorker {
  readonly worker: Worker
  hold = true
  readonly held: [unknown, ArrayBuffer[] | undefined][] = []

  constructor(source: string, options: WorkerOptions) {
    this.worker = new Worker(source, options)
  }

  postMessage(m: unknown, transfer?: ArrayBuffer[]): void {
    if (this.hold) this.held.push([m, transfer])
    else this.worker.postMessage(m, transfer)
  }

  on(event: string, listener: (value: any) => void): this {
    this.worker.on(event, listener)
    return this
  }

  ref(): void {
    this.worker.ref()
  }

  unref(): void {
    this.worker.unref()
  }

  deliver(): void {
    this.hold = false
    for (const [m, transfer] of this.held.splice(0)) this.worker.postMessage(m, transfer)
  }
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })

describe('signature hash worker', () => {
  it('a full ring neither blocks this thread nor changes the signature', async () => {
    let thread: HeldWorker | undefined
    const worker = new HashWorker((source, options) => (thread = new HeldWorker(source, options)))
    const digest = WorkerDigest.start('sign', 'sha384', worker)!
    // 12 pieces of 512 KiB against a ring of 8 slots, none freed while the worker receives nothing:
    // a sender that waited for a slot would never return from update.
    const data = randomBytes(12 * 512 * 1024 + 100)
    digest.update(data.subarray(0, 5 * 512 * 1024 + 7))
    digest.update(data.subarray(5 * 512 * 1024 + 7))
    let turned = false
    setImmediate(() => (turned = true))
    const signing = digest.sign(privateKey)
    // The event loop turns while the signature is pending.
    await new Promise((resolve) => setImmediate(resolve))
    expect(turned).toBe(true)
    thread!.deliver()
    const signature = await signing
    expect(createVerify('sha384').update(data).verify(publicKey, signature)).toBe(true)
    await thread!.worker.terminate()
  })

  it('a worker that dies holding a job fails it with a WorkerError', async () => {
    let thread: HeldWorker | undefined
    const worker = new HashWorker((source, options) => (thread = new HeldWorker(source, options)))
    thread!.deliver()
    const digest = WorkerDigest.start('verify', 'sha384', worker)!
    digest.update(randomBytes(600 * 1024))
    const verifying = digest.verify(publicKey, new Uint8Array(64))
    await thread!.worker.terminate()
    await expect(verifying).rejects.toMatchObject({ code: 'ERR_WORKER', name: 'WorkerError' })
  })
})
