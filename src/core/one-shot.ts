/**
 * One-shot encrypt and decrypt over byte arrays. Encrypt computes the message
 * size first and writes every frame into one buffer; decrypt releases nothing
 * until the whole message, signature included, has verified. Both may hand
 * regular frames of a large unsigned message to the backend's other thread
 * (spec/backends.md#parallel-frames); the decryptor itself knows neither the
 * collecting buffer nor the other thread, only its FrameSink hooks.
 */
import type { FramesDone } from '../crypto/backend.js'
import { AuthenticationError, LimitError } from '../errors.js'
import { concatBytes, plainBytes } from '../format/bytes.js'
import { MAX_FRAMES } from '../format/constants.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import { maxFooterSize, writeFooter } from '../format/footer.js'
import { bodySize, RegularFrame, regularFrameSequence } from '../format/frame.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { openShare, sealShare, worthOffloading } from './offload.js'
import { IncrementalDecryptor, type BodyAccess, type DecryptOptions, type DecryptSettings, type FrameSink } from './decryptor.js'
import { checkFrameLength, MessageSealer, type EncryptOptions, type EncryptSettings } from './encryptor.js'

export interface EncryptResult {
  readonly ciphertext: Uint8Array
  readonly header: MessageHeader
  /** The full context bound to the message, including pairs not stored in it. */
  readonly encryptionContext: EncryptionContext
}

export interface DecryptResult {
  readonly plaintext: Uint8Array
  readonly header: MessageHeader
  readonly encryptionContext: EncryptionContext
}

/** Largest single buffer this runtime will allocate. */
const MAX_BUFFER = 2 ** 32
/** Signed messages: sealed bytes are passed to the signer in runs of about this size, one message to its worker each (spec/backends.md#signature-backpressure). */
const SIGN_EVERY = 2 * 1024 * 1024

export async function encryptBytes(cmm: Cmm, settings: EncryptSettings, plaintext: Uint8Array, options: EncryptOptions): Promise<EncryptResult> {
  const frameLength = checkFrameLength(options.frameLength)
  const length = plaintext.length
  if (frameLength > 0 && Math.ceil(length / frameLength) > MAX_FRAMES) {
    throw new LimitError('frames per message', Math.ceil(length / frameLength), MAX_FRAMES)
  }
  const encryptor = await MessageSealer.start(cmm, settings, options, length)
  const { suite, headerBytes, signer } = encryptor
  const size = headerBytes.length + bodySize(length, frameLength) + (suite.signature ? maxFooterSize(suite.signature.maxSignatureLength) : 0)
  if (size > MAX_BUFFER) throw new LimitError('one-shot message size', size, MAX_BUFFER, 'bytes; use encryptStream for larger data')
  const out = new Uint8Array(size)
  out.set(headerBytes, 0)
  let o = headerBytes.length
  /** Bytes of `out` already passed to the signer. */
  let signed = 0
  /**
   * Set while the signer has no room (spec/backends.md#signature-backpressure).
   * It reads from `out`, our own buffer, meanwhile; the sealing loop below
   * never waits, so sealed bytes wait in `out` and go to it after the loop.
   */
  let hashing: Promise<void> | void = undefined
  if (frameLength === 0) {
    o += encryptor.sealNonFramed(plaintext, out, o)
  } else {
    const regularEnd = length === 0 ? 0 : (Math.ceil(length / frameLength) - 1) * frameLength
    // Unsigned messages: the later regular frames may be sealed on another thread meanwhile.
    const regularFrames = regularEnd / frameLength
    let localEnd = regularEnd
    let offloaded: Promise<FramesDone> | undefined
    /** When this thread started on its share (with the copy in), to tune the split. */
    let started = 0
    if (!signer && settings.parallel !== false && worthOffloading(regularFrames, frameLength)) {
      started = performance.now()
      const local = regularFrames - sealShare.framesAway(regularFrames, frameLength)
      offloaded = encryptor.offloadFrames(plaintext.subarray(local * frameLength, regularEnd), local)
      if (offloaded) localEnd = local * frameLength
    }
    let p = 0
    for (; p < localEnd; p += frameLength) {
      o += encryptor.sealFrame(plaintext.subarray(p, p + frameLength), out, o)
      // A large message reaches the signer as it is sealed, so a backend can hash it alongside.
      if (signer && !hashing && o - signed >= SIGN_EVERY) {
        hashing = signer.update(out.subarray(signed, o))
        // Awaited after the loop; a failure meanwhile must not surface as unhandled.
        hashing?.catch(() => undefined)
        signed = o
      }
    }
    const offloadedAt = o
    const offloadedCount = regularFrames - localEnd / frameLength
    if (offloaded) {
      encryptor.takeOffloadedFrames(offloadedCount)
      o += offloadedCount * (frameLength + RegularFrame.OVERHEAD)
      p = regularEnd
    }
    // The final frame is sealed before any wait, so every plaintext byte is read before this call yields.
    o += encryptor.sealFinalFrame(plaintext.subarray(p), out, o)
    if (offloaded) {
      const sealedHere = performance.now()
      const { bytes: frames, ms } = await offloaded
      if (frames.length !== offloadedCount * (frameLength + RegularFrame.OVERHEAD)) {
        throw new TypeError(`the ${settings.backend.name} backend sealed the wrong number of frames`)
      }
      out.set(frames, offloadedAt)
      sealShare.record(localEnd / frameLength, sealedHere - started, offloadedCount, ms)
    }
  }
  if (signer) {
    if (hashing) await hashing
    hashing = signer.update(out.subarray(signed, o))
    if (hashing) await hashing
    o = writeFooter(out, o, await signer.sign())
  }
  return { ciphertext: o === size ? out : out.subarray(0, o), header: encryptor.header, encryptionContext: encryptor.encryptionContext }
}

/**
 * Messages this large are decrypted into one buffer, frame by frame, while
 * each frame is still in cache; smaller ones are usually a single frame,
 * returned as is with no copy at all.
 */
const COLLECT_FROM = 64 * 1024

/**
 * Copies each regular frame's plaintext into one buffer as soon as its tag
 * verifies, so the result needs no second pass and no frame stays alive; and
 * opens part of a large unsigned body on the backend's other thread.
 */
class CollectingSink implements FrameSink {
  /** Bytes written so far. */
  length = 0
  readonly buffer: Uint8Array
  readonly #settings: DecryptSettings
  readonly #fromWorker: Uint8Array[] = []

  /** `buffer` must have room for the message's plaintext: its ciphertext length is enough. */
  constructor(buffer: Uint8Array, settings: DecryptSettings) {
    this.buffer = buffer
    this.#settings = settings
  }

  take(plaintext: Uint8Array): void {
    this.buffer.set(plaintext, this.length)
    this.length += plaintext.length
  }

  /**
   * Takes the other thread's verified frames. Their buffer is kept until the
   * message ends: if a later frame or the signature fails, wipe() clears it
   * with the result; if the message verifies, the result holds the same bytes
   * and the buffer is left to the collector (spec/backends.md#parallel-frames).
   */
  takeFromWorker(plaintext: Uint8Array): void {
    this.take(plaintext)
    this.#fromWorker.push(plaintext)
  }

  /** The message failed: clears every plaintext byte the sink holds. */
  wipe(): void {
    this.buffer.fill(0, 0, this.length)
    for (const part of this.#fromWorker) part.fill(0)
  }

  bodyStarts(body: BodyAccess): Promise<void> | undefined {
    return openInParallel(body, this, this.#settings)
  }
}

/**
 * One-shot decrypt of an unsigned framed message whose bytes are all here:
 * the later 45 % of its regular frames are opened on the backend's other
 * thread while this one opens the rest into the sink (spec/backends.md#parallel-frames).
 * Leaves the final frame, and anything it does not hand off, to the decryptor.
 */
function openInParallel(body: BodyAccess, sink: CollectingSink, settings: DecryptSettings): Promise<void> | undefined {
  const { backend, parallel } = settings
  if (parallel === false || body.signed || !body.framed || !backend.openFramesInParallel) return undefined
  const { frameLength } = body
  const total = frameLength + RegularFrame.OVERHEAD
  const present = Math.floor(body.available / total)
  if (!worthOffloading(present, frameLength)) return undefined
  // Regular frames in order from here; the first other frame (final, or out of order) ends the run.
  const view = body.peek(present * total)
  if (!view) return undefined
  const first = body.sequenceNumber
  let frames = 0
  while (frames < present && regularFrameSequence(view, frames * total) === first + frames) frames++
  const away = openShare.framesAway(frames, frameLength)
  if (!worthOffloading(frames, frameLength) || away === 0) return undefined
  const local = frames - away
  const started = performance.now()
  const pending = backend.openFramesInParallel(body.key, body.framePrefix, first + local, frameLength, view.subarray(local * total, frames * total))
  if (!pending) return undefined
  try {
    body.readFrames(local)
  } catch (e) {
    // The other thread's plaintext is not wanted now; it is wiped when it comes. Its failure is not wanted either.
    void pending.then(
      (opened) => typeof opened !== 'number' && opened.bytes.fill(0),
      () => undefined,
    )
    throw e
  }
  const openedHere = performance.now()
  return pending.then((opened) => {
    if (typeof opened === 'number') throw new AuthenticationError('frame', opened)
    const { bytes, ms } = opened
    if (bytes.length !== away * frameLength) {
      bytes.fill(0)
      throw new TypeError(`the ${backend.name} backend opened the wrong number of frames`)
    }
    sink.takeFromWorker(bytes)
    // Only a run that opened every frame says how fast the other thread is: a tampered one stops early.
    openShare.record(local, openedHere - started, away, ms)
    body.skipFrames(away)
  })
}

export async function decryptBytes(cmm: Cmm, settings: DecryptSettings, ciphertext: Uint8Array, options: DecryptOptions): Promise<DecryptResult> {
  const decryptor = new IncrementalDecryptor(cmm, settings, options)
  // The plaintext is shorter than the ciphertext, so the ciphertext length is room enough.
  const sink = ciphertext.length >= COLLECT_FROM ? new CollectingSink(new Uint8Array(ciphertext.length), settings) : undefined
  if (sink) decryptor.releaseFramesTo(sink)
  let parts: Uint8Array[]
  try {
    parts = await decryptor.push(ciphertext)
    parts.push(...(await decryptor.end()))
  } catch (e) {
    sink?.wipe()
    throw e
  }
  const info = decryptor.info!
  let plaintext: Uint8Array
  if (sink) {
    for (const part of parts) sink.take(part)
    const { buffer, length } = sink
    plaintext = length === buffer.length ? buffer : buffer.subarray(0, length)
  } else {
    plaintext = parts.length === 1 ? plainBytes(parts[0]!) : concatBytes(parts)
  }
  return { plaintext, header: info.header, encryptionContext: info.encryptionContext }
}
