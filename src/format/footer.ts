/** The footer of a signed message: uint16 signature length ‖ DER signature (spec/message-format.md#footer). */
import { MalformedMessageError } from '../errors.js'
import { copyBytes, readUint16, writeUint16 } from './bytes.js'

/** Bytes of the signature length field. */
export const SIGNATURE_LENGTH_BYTES = 2

/** Room for the footer of a signature of at most `maxSignatureLength` bytes. */
export function maxFooterSize(maxSignatureLength: number): number {
  return SIGNATURE_LENGTH_BYTES + maxSignatureLength
}

/** Writes the footer at `offset`; returns the offset after it. */
export function writeFooter(out: Uint8Array, offset: number, signature: Uint8Array): number {
  writeUint16(out, offset, signature.length)
  out.set(signature, offset + SIGNATURE_LENGTH_BYTES)
  return offset + SIGNATURE_LENGTH_BYTES + signature.length
}

/**
 * The footer's total size, read from its first SIGNATURE_LENGTH_BYTES bytes.
 * A length of 0 or above `maxSignatureLength` is malformed.
 */
export function footerSize(lengthBytes: Uint8Array, maxSignatureLength: number): number {
  const length = readUint16(lengthBytes, 0)
  if (length === 0 || length > maxSignatureLength) throw new MalformedMessageError(`signature length ${length} is not between 1 and ${maxSignatureLength}`)
  return SIGNATURE_LENGTH_BYTES + length
}

/** A copy of the signature in a whole footer (the input may be reused while the signature is checked). */
export function footerSignature(footer: Uint8Array): Uint8Array {
  return copyBytes(footer, SIGNATURE_LENGTH_BYTES)
}
