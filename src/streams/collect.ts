/**
 * One-shot encrypt and decrypt of a stream or async iterable: the input goes
 * through the incremental core as it arrives and the result is returned whole.
 * Byte-array input never comes here (core/one-shot.ts is its fast path).
 */
import type { DecryptOptions, DecryptSettings } from '../core/decryptor.js'
import { IncrementalDecryptor } from '../core/decryptor.js'
import type { EncryptSettings } from '../core/encryptor.js'
import { encryptBytes, type DecryptResult, type EncryptResult } from '../core/one-shot.js'
import { IncrementalEncryptor, type StreamEncryptOptions } from '../core/stream-encryptor.js'
import { LimitError } from '../errors.js'
import { concatBytes, plainBytes } from '../format/bytes.js'
import type { Cmm } from '../materials/cmm.js'
import { chunksOf, type StreamInput } from './input.js'

function joined(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? plainBytes(parts[0]!) : concatBytes(parts)
}

export async function encryptCollected(cmm: Cmm, settings: EncryptSettings, input: StreamInput, options: StreamEncryptOptions): Promise<EncryptResult> {
  if (options.frameLength === 0) {
    // A non-framed body starts with its length: read everything, then take the byte-array path.
    const bound = options.plaintextLength
    const parts: Uint8Array[] = []
    let total = 0
    for await (const chunk of chunksOf(input, 'plaintext')) {
      total += chunk.length
      if (bound !== undefined && total > bound) throw new LimitError('plaintextLength', total, bound, 'bytes of plaintext')
      parts.push(chunk)
    }
    return encryptBytes(cmm, settings, joined(parts), options)
  }
  const encryptor = await IncrementalEncryptor.start(cmm, settings, options)
  const parts = [encryptor.headerBytes]
  try {
    for await (const chunk of chunksOf(input, 'plaintext')) {
      const out = encryptor.push(chunk)
      parts.push(...(Array.isArray(out) ? out : await out))
    }
    parts.push(...(await encryptor.finish()))
  } catch (e) {
    encryptor.abort(e)
    throw e
  }
  return { ciphertext: concatBytes(parts), header: encryptor.header, encryptionContext: encryptor.encryptionContext }
}

/** Nothing is returned until the whole message, signature included, has verified. */
export async function decryptCollected(cmm: Cmm, settings: DecryptSettings, input: StreamInput, options: DecryptOptions): Promise<DecryptResult> {
  const decryptor = new IncrementalDecryptor(cmm, settings, options)
  const parts: Uint8Array[] = []
  try {
    for await (const chunk of chunksOf(input, 'ciphertext')) parts.push(...(await decryptor.push(chunk)))
    parts.push(...(await decryptor.end()))
  } catch (e) {
    for (const part of parts) part.fill(0)
    throw e
  }
  const info = decryptor.info!
  return { plaintext: joined(parts), header: info.header, encryptionContext: info.encryptionContext }
}
