/**
 * The little DER the pure-JS and WebCrypto backends need (spec/backends.md#keys):
 * PEM armour, RSA keys in SPKI, PKCS#1 and PKCS#8, EC keys on named curves in
 * SPKI and PKCS#8 (RFC 5480, RFC 5915), and ECDSA-Sig-Value
 * (X9.62) <-> IEEE P1363 r ‖ s. A reader for these shapes only, not a general
 * ASN.1 parser: anything else is refused.
 */
import { fromBase64, toBase64 } from '../encoding.js'
import { ECDH_CURVES, ECDH_CURVE_NAMES, type EcdhCurve } from '../algorithms.js'

const SEQUENCE = 0x30
const INTEGER = 0x02
const BIT_STRING = 0x03
const OCTET_STRING = 0x04
const NULL = 0x05
const OID = 0x06
/** 1.2.840.10045.2.1 id-ecPublicKey, as DER content bytes. */
const EC_PUBLIC_KEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
/** Context-specific constructed [0] and [1] (ECPrivateKey parameters and publicKey). */
const CONTEXT_0 = 0xa0
const CONTEXT_1 = 0xa1
/** 1.2.840.113549.1.1.1 rsaEncryption, as DER content bytes. */
const RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]

export interface RsaPublicComponents {
  readonly n: bigint
  readonly e: bigint
}

export interface RsaPrivateComponents extends RsaPublicComponents {
  readonly d: bigint
  readonly p: bigint
  readonly q: bigint
  readonly dp: bigint
  readonly dq: bigint
  readonly qi: bigint
}

export class DerError extends TypeError {}

/** One element: its tag and where its content starts and ends in `bytes`. */
interface Tlv {
  readonly tag: number
  readonly start: number
  readonly end: number
}

function readTlv(bytes: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER')
  const tag = bytes[offset]!
  let length = bytes[offset + 1]!
  let start = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    // Definite, minimal lengths of at most 4 bytes: keys and signatures are far smaller.
    if (count === 0 || count > 4 || start + count > limit) throw new DerError('bad DER length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!
    if (length < 0x80 || bytes[start] === 0) throw new DerError('non-minimal DER length')
    start += count
  }
  const end = start + length
  if (end > limit) throw new DerError('truncated DER')
  return { tag, start, end }
}

/** The children of a constructed element, each checked for `tags` in order when given. */
function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let o = parent.start; o < parent.end; ) {
    const child = readTlv(bytes, o, parent.end)
    out.push(child)
    o = child.end
  }
  return out
}

function ofTag(tlv: Tlv | undefined, tag: number): Tlv {
  if (!tlv || tlv.tag !== tag) throw new DerError('unexpected DER structure')
  return tlv
}

function whole(bytes: Uint8Array, tag: number): Tlv {
  const tlv = readTlv(bytes, 0, bytes.length)
  if (tlv.end !== bytes.length) throw new DerError('bytes after DER value')
  return ofTag(tlv, tag)
}

/** A non-negative INTEGER (keys never hold negative ones). */
function integer(bytes: Uint8Array, tlv: Tlv | undefined): bigint {
  const { start, end } = ofTag(tlv, INTEGER)
  if (end === start || bytes[start]! & 0x80) throw new DerError('expected a positive DER INTEGER')
  return bytesToBigInt(bytes.subarray(start, end))
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = ''
  for (const b of bytes) hex += b.toString(16).padStart(2, '0')
  return hex.length === 0 ? 0n : BigInt('0x' + hex)
}

/** Big-endian bytes of `value`, left-padded with zeros to `length` (or minimal when length is omitted). */
export function bigIntToBytes(value: bigint, length?: number): Uint8Array {
  let hex = value.toString(16)
  if (hex.length % 2) hex = '0' + hex
  const size = length ?? hex.length / 2
  if (hex.length / 2 > size) throw new RangeError('integer too large for its encoding')
  const out = new Uint8Array(size)
  for (let i = 0, o = size - hex.length / 2; o < size; i += 2, o++) out[o] = parseInt(hex.slice(i, i + 2), 16)
  return out
}

function sameBytes(bytes: Uint8Array, tlv: Tlv, expected: readonly number[]): boolean {
  if (tlv.end - tlv.start !== expected.length) return false
  return expected.every((b, i) => bytes[tlv.start + i] === b)
}

/** AlgorithmIdentifier { rsaEncryption, NULL (or absent) }. */
function checkRsaAlgorithm(bytes: Uint8Array, tlv: Tlv | undefined): void {
  const [oid, params, ...rest] = children(bytes, ofTag(tlv, SEQUENCE))
  if (!oid || oid.tag !== OID || !sameBytes(bytes, oid, RSA_ENCRYPTION)) throw new DerError('not an rsaEncryption key')
  if (rest.length > 0 || (params && (params.tag !== NULL || params.end !== params.start))) throw new DerError('unexpected RSA key parameters')
}

/** RSAPublicKey ::= SEQUENCE { modulus, publicExponent } (RFC 8017 A.1.1). */
export function decodePkcs1PublicKey(der: Uint8Array): RsaPublicComponents {
  const [n, e, ...rest] = children(der, whole(der, SEQUENCE))
  if (rest.length > 0) throw new DerError('unexpected fields in RSAPublicKey')
  return { n: integer(der, n), e: integer(der, e) }
}

/** SubjectPublicKeyInfo with rsaEncryption (RFC 5280 4.1, RFC 3279 2.3.1). */
export function decodeSpkiRsaPublicKey(der: Uint8Array): RsaPublicComponents {
  const [algorithm, key, ...rest] = children(der, whole(der, SEQUENCE))
  checkRsaAlgorithm(der, algorithm)
  const bits = ofTag(key, BIT_STRING)
  if (rest.length > 0 || bits.end - bits.start < 1 || der[bits.start] !== 0) throw new DerError('bad subjectPublicKey')
  return decodePkcs1PublicKey(der.subarray(bits.start + 1, bits.end))
}

/** RSAPrivateKey, two-prime (version 0) only (RFC 8017 A.1.2). */
export function decodePkcs1PrivateKey(der: Uint8Array): RsaPrivateComponents {
  const fields = children(der, whole(der, SEQUENCE))
  if (fields.length !== 9 || integer(der, fields[0]) !== 0n) throw new DerError('only two-prime RSA private keys (version 0) are supported')
  const [n, e, d, p, q, dp, dq, qi] = fields.slice(1).map((f) => integer(der, f)) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]
  return { n, e, d, p, q, dp, dq, qi }
}

/** PrivateKeyInfo / OneAsymmetricKey with rsaEncryption (RFC 5208, RFC 5958). */
export function decodePkcs8RsaPrivateKey(der: Uint8Array): RsaPrivateComponents {
  const [version, algorithm, key] = children(der, whole(der, SEQUENCE))
  const v = integer(der, version)
  if (v !== 0n && v !== 1n) throw new DerError('unknown PKCS#8 version')
  checkRsaAlgorithm(der, algorithm)
  const octets = ofTag(key, OCTET_STRING)
  return decodePkcs1PrivateKey(der.subarray(octets.start, octets.end))
}

/**
 * AlgorithmIdentifier { id-ecPublicKey, namedCurve OID }: the curve. Explicit
 * curve parameters (specifiedCurve) are refused, as RFC 5480 asks.
 */
function ecAlgorithmCurve(bytes: Uint8Array, tlv: Tlv | undefined): EcdhCurve {
  const [oid, params, ...rest] = children(bytes, ofTag(tlv, SEQUENCE))
  if (!oid || oid.tag !== OID || !sameBytes(bytes, oid, EC_PUBLIC_KEY)) throw new DerError('not an id-ecPublicKey key')
  if (rest.length > 0 || !params || params.tag !== OID) throw new DerError('EC key parameters must be a named curve OID')
  const curve = ECDH_CURVE_NAMES.find((name) => sameBytes(bytes, params, ECDH_CURVES[name].oid))
  if (!curve) throw new DerError('the EC key is not on P-256, P-384 or P-521')
  return curve
}

/** SubjectPublicKeyInfo with id-ecPublicKey (RFC 5480): the curve and the SEC1 point bytes (not yet checked). */
export function decodeSpkiEcPublicKey(der: Uint8Array): { curve: EcdhCurve; point: Uint8Array } {
  const [algorithm, key, ...rest] = children(der, whole(der, SEQUENCE))
  const curve = ecAlgorithmCurve(der, algorithm)
  const bits = ofTag(key, BIT_STRING)
  if (rest.length > 0 || bits.end - bits.start < 2 || der[bits.start] !== 0) throw new DerError('bad subjectPublicKey')
  return { curve, point: der.slice(bits.start + 1, bits.end) }
}

/** SubjectPublicKeyInfo for a named-curve EC point (uncompressed, as KMS and OpenSSL write it). */
export function encodeSpkiEcPublicKey(curve: EcdhCurve, point: Uint8Array): Uint8Array {
  const oid = ECDH_CURVES[curve].oid
  const algorithm = [OID, EC_PUBLIC_KEY.length, ...EC_PUBLIC_KEY, OID, oid.length, ...oid]
  const bits = [BIT_STRING, ...derLength(point.length + 1), 0, ...point]
  const body = [SEQUENCE, ...derLength(algorithm.length), ...algorithm, ...bits]
  return Uint8Array.from([SEQUENCE, ...derLength(body.length), ...body])
}

/**
 * PrivateKeyInfo / OneAsymmetricKey with id-ecPublicKey (RFC 5208, RFC 5958)
 * holding an ECPrivateKey (RFC 5915): the curve and the scalar, left-padded to
 * the curve's length. Parameters inside the ECPrivateKey, when present, must
 * name the same curve; its optional public key is ignored (derived instead).
 */
export function decodePkcs8EcPrivateKey(der: Uint8Array): { curve: EcdhCurve; scalar: Uint8Array } {
  const [version, algorithm, key] = children(der, whole(der, SEQUENCE))
  const v = integer(der, version)
  if (v !== 0n && v !== 1n) throw new DerError('unknown PKCS#8 version')
  const curve = ecAlgorithmCurve(der, algorithm)
  const octets = ofTag(key, OCTET_STRING)
  const inner = der.subarray(octets.start, octets.end)
  const [innerVersion, secret, ...optional] = children(inner, whole(inner, SEQUENCE))
  if (integer(inner, innerVersion) !== 1n) throw new DerError('ECPrivateKey version must be 1')
  const scalar = ofTag(secret, OCTET_STRING)
  const size = ECDH_CURVES[curve].coordinateLength
  if (scalar.end - scalar.start > size || scalar.end === scalar.start) throw new DerError('the EC private key has the wrong length for its curve')
  for (const field of optional) {
    if (field.tag === CONTEXT_0) {
      const named = readTlv(inner, field.start, field.end)
      if (named.tag !== OID || named.end !== field.end || !sameBytes(inner, named, ECDH_CURVES[curve].oid)) throw new DerError('ECPrivateKey parameters name another curve')
    } else if (field.tag !== CONTEXT_1) {
      throw new DerError('unexpected field in ECPrivateKey')
    }
  }
  const out = new Uint8Array(size)
  out.set(inner.subarray(scalar.start, scalar.end), size - (scalar.end - scalar.start))
  return { curve, scalar: out }
}

/** The one PEM block in `text`: its label and DER bytes. */
export function decodePem(text: string): { label: string; der: Uint8Array } {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)
  if (!begin) throw new DerError('expected PEM text (-----BEGIN ...-----)')
  const label = begin[1]!
  const endMarker = `-----END ${label}-----`
  const stop = text.indexOf(endMarker, begin.index)
  if (stop < 0) throw new DerError(`PEM has no ${endMarker} line`)
  const body = text.slice(begin.index + begin[0].length, stop).replace(/\s+/g, '')
  const der = fromBase64(body)
  if (!der || der.length === 0) throw new DerError('PEM body is not base64')
  return { label, der }
}

/** RSA public key from PEM ("PUBLIC KEY" = SPKI, "RSA PUBLIC KEY" = PKCS#1). */
export function rsaPublicKeyFromPem(text: string): RsaPublicComponents {
  const { label, der } = decodePem(text)
  if (label.includes('PRIVATE KEY')) throw new TypeError('publicKey must be a public key, not a private key')
  if (label === 'PUBLIC KEY') return decodeSpkiRsaPublicKey(der)
  if (label === 'RSA PUBLIC KEY') return decodePkcs1PublicKey(der)
  throw new TypeError(`expected an RSA public key PEM, got "${label}"`)
}

/** RSA private key from PEM ("PRIVATE KEY" = PKCS#8, "RSA PRIVATE KEY" = PKCS#1). */
export function rsaPrivateKeyFromPem(text: string): RsaPrivateComponents {
  const { label, der } = decodePem(text)
  if (label === 'PRIVATE KEY') return decodePkcs8RsaPrivateKey(der)
  if (label === 'RSA PRIVATE KEY') return decodePkcs1PrivateKey(der)
  if (label === 'ENCRYPTED PRIVATE KEY') throw new TypeError('encrypted PEM private keys are not supported: decrypt the key first')
  throw new TypeError(`expected an RSA private key PEM, got "${label}"`)
}

/**
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r ‖ s, each `size`
 * bytes (P1363, what WebCrypto signs and verifies). Returns undefined for
 * anything but strict DER with 0 < r, s < 2^(8 size), so a malformed footer
 * verifies as false, like a wrong one.
 */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const [r, s, ...rest] = children(der, whole(der, SEQUENCE))
    if (rest.length > 0) return undefined
    const out = new Uint8Array(2 * size)
    for (const [i, tlv] of [r, s].entries()) {
      const { start, end } = ofTag(tlv, INTEGER)
      let from = start
      // Minimal encoding: one leading zero only when the next byte has its top bit set.
      if (end - start > 1 && der[start] === 0) {
        if (!(der[start + 1]! & 0x80)) return undefined
        from++
      }
      if (end === start || der[start]! & 0x80 || end - from > size) return undefined
      out.set(der.subarray(from, end), (i + 1) * size - (end - from))
    }
    return out
  } catch (e) {
    if (e instanceof DerError) return undefined
    throw e
  }
}

function derLength(length: number): number[] {
  return length < 0x80 ? [length] : length < 0x100 ? [0x81, length] : [0x82, length >> 8, length & 0xff]
}

function derUnsigned(bytes: Uint8Array): number[] {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const body = [...bytes.subarray(i)]
  if (body[0]! & 0x80) body.unshift(0)
  return [INTEGER, ...derLength(body.length), ...body]
}

/** r ‖ s (two equal halves) -> DER ECDSA-Sig-Value. */
export function ecdsaP1363ToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2
  const body = [...derUnsigned(raw.subarray(0, half)), ...derUnsigned(raw.subarray(half))]
  return Uint8Array.from([SEQUENCE, ...derLength(body.length), ...body])
}

/** Unpadded base64url (RFC 7515 section 2), as JWK members use it. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64Url(text: string): Uint8Array | undefined {
  if (/[+/=]/.test(text)) return undefined
  const standard = text.replace(/-/g, '+').replace(/_/g, '/')
  return fromBase64(standard + '='.repeat((4 - (standard.length % 4)) % 4))
}
