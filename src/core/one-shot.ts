/**
 * One-shot encrypt and decrypt over byte arrays. Encrypt computes the message
 * size first and writes every frame into one buffer; decrypt releases nothing
 * until the whole message, signature included, has verified.
 */
import { LimitError } from '../errors.js'
import { concatBytes, writeUint16 } from '../format/bytes.js'
import { MAX_FRAMES } from '../format/constants.js'
import type { EncryptionContext } from '../format/encryption-context.js'
import type { MessageHeader } from '../format/header.js'
import type { Cmm } from '../materials/cmm.js'
import { chunksOf, type StreamInput } from '../streams/input.js'
import { MessageDecryptor, type DecryptOptions, type DecryptSettings } from './decryptor.js'
import { bodySize, checkFrameLength, MessageEncryptor, type EncryptOptions, type EncryptSettings } from './encryptor.js'
import { StreamEncryptor, type StreamEncryptOptions } from './stream-encryptor.js'

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

export async function encryptBytes(cmm: Cmm, settings: EncryptSettings, plaintext: Uint8Array, options: EncryptOptions): Promise<EncryptResult> {
  const frameLength = checkFrameLength(options.frameLength)
  const length = plaintext.length
  if (frameLength > 0 && Math.ceil(length / frameLength) > MAX_FRAMES) {
    throw new LimitError('frames per message', Math.ceil(length / frameLength), MAX_FRAMES)
  }
  const encryptor = await MessageEncryptor.start(cmm, settings, options, length)
  const { suite, headerBytes, signer } = encryptor
  const size = headerBytes.length + bodySize(length, frameLength) + (suite.signature ? 2 + suite.signature.maxSignatureLength : 0)
  if (size > MAX_BUFFER) throw new LimitError('one-shot message size', size, MAX_BUFFER, 'bytes; use encryptStream for larger data')
  const out = new Uint8Array(size)
  out.set(headerBytes, 0)
  let o = headerBytes.length
  if (frameLength === 0) {
    o += encryptor.sealNonFramed(plaintext, out, o)
  } else {
    const regularEnd = length === 0 ? 0 : (Math.ceil(length / frameLength) - 1) * frameLength
    let p = 0
    for (; p < regularEnd; p += frameLength) o += encryptor.sealFrame(plaintext.subarray(p, p + frameLength), out, o)
    o += encryptor.sealFinalFrame(plaintext.subarray(p), out, o)
  }
  if (signer) {
    signer.update(out.subarray(0, o))
    const signature = await signer.sign()
    writeUint16(out, o, signature.length)
    out.set(signature, o + 2)
    o += 2 + signature.length
  }
  return { ciphertext: o === size ? out : out.subarray(0, o), header: encryptor.header, encryptionContext: encryptor.encryptionContext }
}

export async function decryptBytes(cmm: Cmm, settings: DecryptSettings, ciphertext: Uint8Array, options: DecryptOptions): Promise<DecryptResult> {
  const decryptor = new MessageDecryptor(cmm, settings, options)
  const parts = await decryptor.push(ciphertext)
  parts.push(...(await decryptor.end()))
  const info = decryptor.info!
  const plaintext = parts.length === 1 ? parts[0]! : concatBytes(parts)
  return { plaintext, header: info.header, encryptionContext: info.encryptionContext }
}

/** One-shot encrypt of a stream or async iterable: framed as it arrives, returned whole. */
export async function encryptChunks(cmm: Cmm, settings: EncryptSettings, input: StreamInput, options: StreamEncryptOptions): Promise<EncryptResult> {
  const { encryptor, header } = await StreamEncryptor.start(cmm, settings, options)
  const parts = [header]
  for await (const chunk of chunksOf(input)) parts.push(...encryptor.push(chunk))
  parts.push(...(await encryptor.finish()))
  return { ciphertext: concatBytes(parts), header: encryptor.header, encryptionContext: encryptor.encryptionContext }
}

/** One-shot decrypt of a stream or async iterable: nothing is returned until the whole message verified. */
export async function decryptChunks(cmm: Cmm, settings: DecryptSettings, input: StreamInput, options: DecryptOptions): Promise<DecryptResult> {
  const decryptor = new MessageDecryptor(cmm, settings, options)
  const parts: Uint8Array[] = []
  for await (const chunk of chunksOf(input)) parts.push(...(await decryptor.push(chunk)))
  parts.push(...(await decryptor.end()))
  const info = decryptor.info!
  return { plaintext: concatBytes(parts), header: info.header, encryptionContext: info.encryptionContext }
}
