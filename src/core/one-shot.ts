/**
 * One-shot encrypt and decrypt over byte arrays. Encrypt computes the message
 * size first and writes every frame into one buffer; decrypt releases nothing
 * until the whole message, signature included, has verified.
 */
import { LimitError } from '../errors.js'
import { concatBytes } from '../format/bytes.js'
import { MAX_FRAMES } from '../format/constants.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import { maxFooterSize, writeFooter } from '../format/footer.js'
import { bodySize, RegularFrame } from '../format/frame.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { framesToOffload, worthOffloading } from './offload.js'
import { IncrementalDecryptor, type DecryptOptions, type DecryptSettings } from './decryptor.js'
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
/** Signed messages: sealed bytes are passed to the signer in runs of about this size. */
const SIGN_EVERY = 1024 * 1024

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
    let offloaded: Promise<Uint8Array> | undefined
    if (!signer && settings.parallel !== false && worthOffloading(regularFrames, frameLength)) {
      const local = regularFrames - framesToOffload(regularFrames)
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
      const frames = await offloaded
      if (frames.length !== offloadedCount * (frameLength + RegularFrame.OVERHEAD)) {
        throw new TypeError(`the ${settings.backend.name} backend sealed the wrong number of frames`)
      }
      out.set(frames, offloadedAt)
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

export async function decryptBytes(cmm: Cmm, settings: DecryptSettings, ciphertext: Uint8Array, options: DecryptOptions): Promise<DecryptResult> {
  const decryptor = new IncrementalDecryptor(cmm, settings, options)
  // The plaintext is shorter than the ciphertext, so the ciphertext length is room enough.
  const sink = ciphertext.length >= COLLECT_FROM ? new Uint8Array(ciphertext.length) : undefined
  if (sink) decryptor.collectFramesInto(sink)
  let parts: Uint8Array[]
  try {
    parts = await decryptor.push(ciphertext)
    parts.push(...(await decryptor.end()))
  } catch (e) {
    sink?.fill(0, 0, decryptor.collectedBytes)
    throw e
  }
  const info = decryptor.info!
  let plaintext: Uint8Array
  if (sink) {
    let length = decryptor.collectedBytes
    for (const part of parts) {
      sink.set(part, length)
      length += part.length
    }
    plaintext = length === sink.length ? sink : sink.subarray(0, length)
  } else {
    plaintext = parts.length === 1 ? parts[0]! : concatBytes(parts)
  }
  return { plaintext, header: info.header, encryptionContext: info.encryptionContext }
}
