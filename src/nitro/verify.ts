/**
 * verifyAttestationDocument (spec/nitro.md#verification): the checks the NSM
 * documentation lists, in its order, then the caller's policy. Every failure
 * is an AttestationError whose `check` names the step.
 */
import { verifyCertificateChain, verifyEs384 } from '../crypto/x509.js'
import { AttestationError } from '../errors.js'
import { parseCoseSign1, parsePayload, sigStructure, type AttestationDocument } from '../format/attestation.js'
import { awsNitroRootCertificate } from './root-certificate.js'

export interface VerifyAttestationOptions {
  /** DER of the trusted root. Default: the AWS Nitro Enclaves root (AWS_NITRO_ROOT_CERTIFICATE). */
  readonly rootCertificate?: Uint8Array
  /** The time certificates must be valid at and `maxAge` counts from. Default: the current time. */
  readonly now?: Date | number
  /** Refuse a document signed more than this many ms before `now`. Default: no limit beyond the leaf's validity. */
  readonly maxAge?: number
  /** PCR index to the value it must have (bytes or hex); registers not named are not checked. */
  readonly expectedPcrs?: Readonly<Record<number, Uint8Array | string>>
  /** The nonce the document must carry (the one the verifier asked the enclave to put in). */
  readonly nonce?: Uint8Array
}

const DEFAULT_ROOT = awsNitroRootCertificate()

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function pcrBytes(index: string, value: Uint8Array | string): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(value)) throw new TypeError(`expectedPcrs[${index}] must be bytes or hex`)
  return Uint8Array.from(value.match(/../g)!, (h) => parseInt(h, 16))
}

function timeOf(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError('now must be a Date or ms since the epoch')
  return ms
}

/**
 * Verifies a Nitro Enclaves attestation document and returns its contents:
 * strict CBOR and field rules, the bundle's root equal to the trusted root,
 * the chain leaf-to-root (validity at `now`, CA constraints, signatures), the
 * COSE_Sign1 ES384 signature with the leaf key, then `maxAge`, `expectedPcrs`
 * and `nonce`.
 * @example
 * ```ts
 * const document = await verifyAttestationDocument(bytes, { expectedPcrs: { 0: pcr0 }, nonce, maxAge: 5 * 60_000 })
 * ```
 * @throws {AttestationError} the failed check as `check` (ERR_ATTESTATION): malformed, untrusted-root,
 * certificate, chain, signature, stale, pcr-mismatch or nonce-mismatch.
 * @throws {TypeError} options of the wrong type (now, maxAge, nonce, rootCertificate, expectedPcrs).
 */
export async function verifyAttestationDocument(bytes: Uint8Array, options: VerifyAttestationOptions = {}): Promise<AttestationDocument> {
  return verifyAttestationDocumentNow(bytes, options)
}

/** The same, synchronously: for the local KMS server, whose handlers are synchronous. */
export function verifyAttestationDocumentNow(bytes: Uint8Array, options: VerifyAttestationOptions = {}): AttestationDocument {
  const { rootCertificate = DEFAULT_ROOT, maxAge, expectedPcrs, nonce } = options
  if (!(rootCertificate instanceof Uint8Array) || rootCertificate.length === 0) throw new TypeError('rootCertificate must be DER bytes')
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !(maxAge >= 0))) throw new TypeError('maxAge must be a number of ms, 0 or more')
  if (nonce !== undefined && !(nonce instanceof Uint8Array)) throw new TypeError('nonce must be bytes')
  const expected = Object.entries(expectedPcrs ?? {}).map(([index, value]) => {
    if (!/^(?:[0-9]|[12][0-9]|3[01])$/.test(index)) throw new TypeError(`expectedPcrs index ${index} is not 0 to 31`)
    return [Number(index), pcrBytes(index, value)] as const
  })
  const now = timeOf(options.now)

  const cose = parseCoseSign1(bytes)
  const document = parsePayload(cose.payload)
  // The pinned root is compared byte for byte: a bundle may not bring its own.
  if (!equal(document.cabundle[0]!, rootCertificate)) throw new AttestationError('untrusted-root', 'the certificate bundle does not start with the trusted root')
  const leafKey = verifyCertificateChain([document.certificate, ...[...document.cabundle].reverse()], now)
  if (!verifyEs384(leafKey, sigStructure(cose), cose.signature)) throw new AttestationError('signature', 'the COSE_Sign1 signature does not verify with the leaf certificate')

  if (maxAge !== undefined && now - document.timestamp > maxAge) {
    throw new AttestationError('stale', `signed at ${new Date(document.timestamp).toISOString()}, more than ${maxAge} ms before ${new Date(now).toISOString()}`)
  }
  for (const [index, value] of expected) {
    const actual = document.pcrs.get(index)
    if (!actual || !equal(actual, value)) throw new AttestationError('pcr-mismatch', `PCR ${index} is not the expected value`)
  }
  if (nonce !== undefined && (!document.nonce || !equal(document.nonce, nonce))) throw new AttestationError('nonce-mismatch', 'the nonce is not the expected one')
  return document
}
