/**
 * X.509 chain checks and ES384 for Nitro attestation documents (spec/nitro.md#verification),
 * on node:crypto (Node only: enclave applications run Node; only envelope-sdk/nitro
 * and the local KMS server import this). node:crypto checks the signatures and
 * names; the few extension facts it does not expose (basicConstraints with its
 * criticality and path length, keyUsage bits, unknown critical extensions) are
 * read here from the DER.
 */
import { X509Certificate, verify, type KeyObject } from 'node:crypto'
import { AttestationError } from '../errors.js'

const KEY_USAGE_DIGITAL_SIGNATURE = 0x80
const KEY_USAGE_KEY_CERT_SIGN = 0x04

/** 2.5.29.19 basicConstraints, 2.5.29.15 keyUsage: the extensions a path check reads. */
const BASIC_CONSTRAINTS = '551d13'
const KEY_USAGE = '551d0f'
/** Critical extensions a verifier may see and need not act on: identifiers, policies. */
const UNDERSTOOD = new Set([BASIC_CONSTRAINTS, KEY_USAGE, '551d0e', '551d23', '551d20', '551d25'])

interface Tlv {
  readonly tag: number
  readonly start: number
  readonly end: number
}

function bad(message: string): never {
  throw new AttestationError('certificate', message)
}

/** One DER element (definite, minimal lengths); certificates are DER by definition. */
function tlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) bad('truncated DER')
  const tag = der[offset]!
  let length = der[offset + 1]!
  let start = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 3 || start + count > limit) bad('bad DER length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!
    start += count
  }
  if (start + length > limit) bad('truncated DER')
  return { tag, start, end: start + length }
}

function childrenOf(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.start; at < parent.end; ) {
    const child = tlv(der, at, parent.end)
    out.push(child)
    at = child.end
  }
  return out
}

const hex = (der: Uint8Array, t: Tlv) => Buffer.from(der.subarray(t.start, t.end)).toString('hex')

interface Extensions {
  readonly ca: boolean
  readonly basicConstraintsCritical: boolean
  readonly pathLength: number | undefined
  /** First byte of the keyUsage bits (digitalSignature 0x80 ... keyCertSign 0x04); undefined when absent. */
  readonly keyUsage: number | undefined
}

/** basicConstraints and keyUsage from tbsCertificate.extensions; refuses unknown critical extensions. */
function extensionsOf(der: Uint8Array): Extensions {
  try {
    return readExtensions(der)
  } catch (e) {
    // A shape the reader did not expect (node:crypto parsed the certificate, so this is rare) is still typed.
    if (e instanceof AttestationError) throw e
    return bad('unreadable extensions')
  }
}

function readExtensions(der: Uint8Array): Extensions {
  const [tbs] = childrenOf(der, tlv(der, 0, der.length))
  if (!tbs) bad('no tbsCertificate')
  const explicit = childrenOf(der, tbs).find((t) => t.tag === 0xa3)
  const result = { ca: false, basicConstraintsCritical: false, pathLength: undefined as number | undefined, keyUsage: undefined as number | undefined }
  if (!explicit) return result
  const [list] = childrenOf(der, explicit)
  for (const extension of list ? childrenOf(der, list) : []) {
    const parts = childrenOf(der, extension)
    if (parts.length < 2 || parts.length > 3 || parts[0]!.tag !== 0x06) bad('malformed extension')
    const id = hex(der, parts[0]!)
    const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.start] !== 0
    const value = parts[parts.length - 1]!
    if (critical && !UNDERSTOOD.has(id)) bad(`unknown critical extension ${id}`)
    const inner = tlv(der, value.start, value.end)
    if (id === BASIC_CONSTRAINTS) {
      result.basicConstraintsCritical = critical
      for (const field of childrenOf(der, inner)) {
        if (field.tag === 0x01) result.ca = der[field.start] !== 0
        if (field.tag === 0x02) {
          if (field.end - field.start > 2) bad('path length out of range')
          result.pathLength = [...der.subarray(field.start, field.end)].reduce((n, b) => n * 256 + b, 0)
        }
      }
    } else if (id === KEY_USAGE) {
      // BIT STRING: unused-bits byte, then the bits; the first byte holds every bit checked here.
      result.keyUsage = inner.end - inner.start >= 2 ? der[inner.start + 1]! : 0
    }
  }
  return result
}

function load(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der)
  } catch {
    return bad(`${what} is not an X.509 certificate`)
  }
}

/** ECDSA P-384 keys only: every Nitro certificate uses them. */
function p384Key(cert: X509Certificate, what: string): KeyObject {
  let key: KeyObject
  try {
    key = cert.publicKey
  } catch {
    return bad(`${what} key is unreadable`)
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') bad(`${what} key is not ECDSA P-384`)
  return key
}

/**
 * Checks `chain`, leaf first and the trusted root last (already compared with
 * the pinned root by the caller): each certificate valid at `now`, issued and
 * signed by the next, CAs with critical basicConstraints CA, a path length
 * that allows the CAs below, and keyCertSign; the leaf not a CA, with
 * digitalSignature. Returns the leaf's public key.
 */
export function verifyCertificateChain(chain: readonly Uint8Array[], now: number): KeyObject {
  // Messages number CA certificates from the root: "CA certificate n" is cabundle[n - 1].
  const certs = chain.map((der, i) => load(der, i === 0 ? 'the leaf' : `CA certificate ${chain.length - i}`))
  certs.forEach((cert, i) => {
    const what = i === 0 ? 'the leaf certificate' : `CA certificate ${chain.length - i}`
    const from = Date.parse(cert.validFrom)
    const to = Date.parse(cert.validTo)
    if (!(from <= now && now <= to)) throw new AttestationError('certificate', `${what} is not valid at ${new Date(now).toISOString()} (${cert.validFrom} to ${cert.validTo})`)
    const facts = extensionsOf(chain[i]!)
    p384Key(cert, what)
    if (i === 0) {
      if (facts.ca) bad('the leaf certificate is a CA')
      if (facts.keyUsage !== undefined && !(facts.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE)) bad('the leaf certificate may not sign')
      return
    }
    if (!facts.ca || !facts.basicConstraintsCritical) bad(`${what} is not a CA (critical basicConstraints)`)
    if (facts.keyUsage === undefined || !(facts.keyUsage & KEY_USAGE_KEY_CERT_SIGN)) bad(`${what} lacks keyCertSign`)
    // CAs between this one and the leaf.
    if (facts.pathLength !== undefined && facts.pathLength < i - 1) bad(`${what} path length ${facts.pathLength} does not allow ${i - 1} CAs below it`)
  })
  for (let i = 0; i + 1 < certs.length; i++) {
    const issuer = certs[i + 1]!
    if (!issuedBy(certs[i]!, issuer)) {
      throw new AttestationError('chain', `certificate ${i === 0 ? 'leaf' : chain.length - i} is not signed by the one above it`)
    }
  }
  return p384Key(certs[0]!, 'the leaf certificate')
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    // OpenSSL throws on some damaged signatures instead of answering false.
    return false
  }
}

/** ES384 over `data` with a raw r ‖ s signature (COSE's form). */
export function verifyEs384(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    return false
  }
}
