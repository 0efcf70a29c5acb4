/**
 * Nitro Enclaves attestation documents (spec/nitro.md#document): COSE_Sign1
 * (tagged 18 or not) over a CBOR map of the enclave's measurements. Parsed
 * with cborg in strict mode (minimal encodings, no duplicate keys, no
 * undefined, no tags but COSE's), then every field checked against the NSM
 * rules, within fixed bounds. No signature is checked here: src/nitro/verify.ts does.
 */
import { decode, encode } from 'cborg'
import { AttestationError } from '../errors.js'

export interface AttestationDocument {
  /** The enclave's id, e.g. `i-0697c9729fa547b20-enc0183422ede9a5dc8`. */
  readonly moduleId: string
  /** Always `SHA384`. */
  readonly digest: 'SHA384'
  /** When the NSM signed it, in ms since the epoch. */
  readonly timestamp: number
  /** Platform configuration registers: index (0..31) to its 32, 48 or 64 byte value. */
  readonly pcrs: ReadonlyMap<number, Uint8Array>
  /** DER leaf certificate, whose key signed the document. */
  readonly certificate: Uint8Array
  /** DER certificates, root first: `[ROOT, INTERM_1, ..., INTERM_N]`. */
  readonly cabundle: readonly Uint8Array[]
  /** For KMS `Recipient`: the enclave's RSA public key (DER SubjectPublicKeyInfo). */
  readonly publicKey: Uint8Array | undefined
  readonly userData: Uint8Array | undefined
  readonly nonce: Uint8Array | undefined
}

/** The signed parts, as the verifier needs them. */
export interface CoseSign1 {
  readonly protectedHeader: Uint8Array
  readonly payload: Uint8Array
  /** Raw r ‖ s, 48 + 48 bytes. */
  readonly signature: Uint8Array
}

/** A document is about 5 KiB; this bounds what the parser will look at. */
export const MAX_DOCUMENT_SIZE = 16 * 1024
const MAX_CABUNDLE = 16
const MAX_CERTIFICATE_SIZE = 4096
const MAX_MODULE_ID = 256

const COSE_SIGN1_TAG = 0xd2
const STRICT = { strict: true, rejectDuplicateMapKeys: true, useMaps: true, allowIndefinite: true, allowUndefined: false, allowInfinity: false, allowNaN: false, allowBigInt: false } as const
/** The only protected header NSM writes: {1 (alg): -35 (ES384)}. */
const ES384_HEADER = Uint8Array.of(0xa1, 0x01, 0x38, 0x22)

function malformed(message: string, cause?: unknown): never {
  throw new AttestationError('malformed', message, cause === undefined ? undefined : { cause })
}

function cbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, STRICT)
  } catch (cause) {
    return malformed(`${what} is not strict CBOR`, cause)
  }
}

function bytesField(value: unknown, what: string, min: number, max: number): Uint8Array {
  if (!(value instanceof Uint8Array)) malformed(`${what} is not a byte string`)
  if (value.length < min || value.length > max) malformed(`${what} is ${value.length} bytes, not ${min} to ${max}`)
  return value
}

/** Optional byte fields: absent or null (the NSM library writes null for a field not asked for) mean none. */
function optionalBytes(payload: Map<unknown, unknown>, key: string, min: number, max: number): Uint8Array | undefined {
  const value = payload.get(key)
  return value === undefined || value === null ? undefined : bytesField(value, key, min, max)
}

/** The COSE_Sign1 structure, checked down to the ES384 header; the payload stays bytes. */
export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) malformed('empty')
  if (bytes.length > MAX_DOCUMENT_SIZE) malformed(`${bytes.length} bytes, more than ${MAX_DOCUMENT_SIZE}`)
  // RFC 9052 tag 18 is optional; NSM sends the bare array.
  const body = bytes[0] === COSE_SIGN1_TAG ? bytes.subarray(1) : bytes
  const cose = cbor(body, 'the COSE_Sign1 structure')
  if (!Array.isArray(cose) || cose.length !== 4) malformed('not a COSE_Sign1 array of 4')
  const [protectedHeader, unprotected, payload, signature] = cose as unknown[]
  if (!(protectedHeader instanceof Uint8Array) || !equalBytes(protectedHeader, ES384_HEADER)) malformed('the protected header is not {alg: ES384}')
  // Unprotected headers are not signed; NSM sends none, and none are accepted.
  if (!(unprotected instanceof Map) || unprotected.size !== 0) malformed('the unprotected header is not empty')
  return {
    protectedHeader,
    payload: bytesField(payload, 'payload', 1, MAX_DOCUMENT_SIZE),
    signature: bytesField(signature, 'signature', 96, 96),
  }
}

/** The bytes ES384 signs (RFC 9052 §4.4): ["Signature1", protected, h'' (no external AAD), payload]. */
export function sigStructure(cose: CoseSign1): Uint8Array {
  return encode(['Signature1', cose.protectedHeader, new Uint8Array(0), cose.payload])
}

const FIELDS = new Set(['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce'])

/** The payload map, every field checked against the NSM rules; unknown fields are refused. */
export function parsePayload(payloadBytes: Uint8Array): AttestationDocument {
  const payload = cbor(payloadBytes, 'the payload')
  if (!(payload instanceof Map)) malformed('the payload is not a map')
  for (const key of payload.keys()) if (typeof key !== 'string' || !FIELDS.has(key)) malformed(`unknown field ${JSON.stringify(String(key)).slice(0, 40)}`)
  const moduleId = payload.get('module_id')
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > MAX_MODULE_ID) malformed('module_id is not a non-empty text')
  if (payload.get('digest') !== 'SHA384') malformed('digest is not SHA384')
  const timestamp = payload.get('timestamp')
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0) malformed('timestamp is not a positive integer')
  const pcrMap = payload.get('pcrs')
  if (!(pcrMap instanceof Map) || pcrMap.size === 0 || pcrMap.size > 32) malformed('pcrs is not a map of 1 to 32 registers')
  const pcrs = new Map<number, Uint8Array>()
  for (const [index, value] of pcrMap) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 31) malformed('a PCR index is not 0 to 31')
    const pcr = bytesField(value, `PCR ${index}`, 32, 64)
    if (pcr.length !== 32 && pcr.length !== 48 && pcr.length !== 64) malformed(`PCR ${index} is ${pcr.length} bytes, not 32, 48 or 64`)
    pcrs.set(index, pcr)
  }
  const certificate = bytesField(payload.get('certificate'), 'certificate', 1, MAX_CERTIFICATE_SIZE)
  const bundle = payload.get('cabundle')
  if (!Array.isArray(bundle) || bundle.length === 0 || bundle.length > MAX_CABUNDLE) malformed(`cabundle is not an array of 1 to ${MAX_CABUNDLE} certificates`)
  const cabundle = bundle.map((c, i) => bytesField(c, `cabundle[${i}]`, 1, MAX_CERTIFICATE_SIZE))
  return Object.freeze({
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs,
    certificate,
    cabundle: Object.freeze(cabundle),
    publicKey: optionalBytes(payload, 'public_key', 1, 1024),
    userData: optionalBytes(payload, 'user_data', 0, 512),
    nonce: optionalBytes(payload, 'nonce', 0, 512),
  })
}

/**
 * Reads an attestation document without verifying it: for looking, never
 * for trusting. Use verifyAttestationDocument (envelope-sdk/nitro) to trust one.
 * @example
 * ```ts
 * const { moduleId, pcrs, timestamp } = parseAttestationDocument(document)
 * ```
 * @throws {AttestationError} check `malformed`: not COSE_Sign1 over a well-formed payload (ERR_ATTESTATION).
 */
export function parseAttestationDocument(bytes: Uint8Array): AttestationDocument {
  return parsePayload(parseCoseSign1(bytes).payload)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
