/**
 * A simulated Nitro enclave for tests and development (docs/nitro.md#simulated-enclave):
 * a test P-384 PKI (root CA, intermediate, leaf valid 3 h), an NSM-like
 * attestation document builder (COSE_Sign1 ES384 over a definite `a9` or
 * indefinite `bf … ff` map), and the enclave's RSA-2048 key pair. Its root is
 * a test root: only a local KMS configured with it trusts its documents.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { encode } from 'cborg'
import { sigStructure } from '../format/attestation.js'

export interface TestEnclaveOptions {
  /** PCR index to value (48 bytes, or hex); the rest of PCRs 0..15 are zero, as on a real enclave. Default: random PCR 0, 1, 2 and 8. */
  readonly pcrs?: Readonly<Record<number, Uint8Array | string>>
  /** The clock certificates and documents are dated by (ms since the epoch). Default: the current time. */
  readonly now?: () => number
  /** `i-…-enc…` by default. */
  readonly moduleId?: string
  /** Certificate flaws, for testing that a verifier refuses them (all off by default). */
  readonly misissue?: {
    /** The intermediate's basicConstraints says cA false. */
    readonly intermediateNotCa?: boolean
    /** The intermediate's basicConstraints is not marked critical. */
    readonly intermediateNotCritical?: boolean
    /** The intermediate's keyUsage lacks keyCertSign. */
    readonly intermediateWithoutKeyCertSign?: boolean
    /** The root says pathLen 0, so no CA may sit below it. */
    readonly rootPathLengthZero?: boolean
    /** The leaf says cA true. */
    readonly leafIsCa?: boolean
  }
}

export interface TestDocumentOptions {
  readonly nonce?: Uint8Array
  readonly userData?: Uint8Array
  /** The key KMS encrypts to. Default: the enclave's RSA public key; null leaves the field out. */
  readonly publicKey?: Uint8Array | null
  /** Signing time, ms. Default: `now()`. */
  readonly timestamp?: number
  /** `indefinite` (bf … ff, as current NSM documents; the default) or `definite` (a9, older ones). */
  readonly mapForm?: 'definite' | 'indefinite'
  /** Replaces PCR values in this document only (to fake a different image). */
  readonly pcrs?: Readonly<Record<number, Uint8Array | string>>
}

/** The PCR indexes a test enclave always has. */
export type PcrIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15

export interface TestEnclave {
  /** DER of the test root CA: give it to startLocalKms({ attestation: { rootCertificates } }) or verifyAttestationDocument. */
  readonly rootCertificate: Uint8Array
  /** The enclave's PCRs 0..15 (48 bytes each); typed per index so `pcrs[0]` needs no undefined check. */
  readonly pcrs: Readonly<Record<PcrIndex, Uint8Array>> & Readonly<Record<number, Uint8Array>>
  readonly moduleId: string
  /** The enclave's RSA-2048 key pair: the public half goes in documents, the private half opens CiphertextForRecipient. */
  readonly publicKey: Uint8Array
  readonly privateKey: KeyObject
  readonly privateKeyPem: string
  /** A signed attestation document, as the NSM device would return it. */
  attestationDocument(options?: TestDocumentOptions): Uint8Array
}

const HOUR = 3_600_000

// DER building blocks: just what a certificate needs.
function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const length = content.reduce((n, c) => n + c.length, 0)
  const head =
    length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : length < 0x10000 ? [tag, 0x82, length >> 8, length & 0xff] : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]
  const out = new Uint8Array(head.length + length)
  out.set(head)
  let at = head.length
  for (const c of content) {
    out.set(c, at)
    at += c.length
  }
  return out
}
const seq = (...c: Uint8Array[]) => der(0x30, ...c)
const bytes = (...b: number[]) => Uint8Array.from(b)
const oid = (...b: number[]) => der(0x06, bytes(...b))
const ECDSA_WITH_SHA384 = seq(oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03))

function name(commonName: string): Uint8Array {
  return seq(der(0x31, seq(oid(0x55, 0x04, 0x03), der(0x0c, new TextEncoder().encode(commonName)))))
}

function time(ms: number): Uint8Array {
  const text = new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)
  // UTCTime before 2050, GeneralizedTime from then on (RFC 5280 §4.1.2.5).
  return Number(text.slice(0, 4)) < 2050 ? der(0x17, new TextEncoder().encode(`${text.slice(2)}Z`)) : der(0x18, new TextEncoder().encode(`${text}Z`))
}

function extension(id: Uint8Array, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(id, ...(critical ? [der(0x01, bytes(0xff))] : []), der(0x04, value))
}

interface Issued {
  readonly der: Uint8Array
  readonly key: KeyObject
  readonly subject: Uint8Array
}

interface Profile {
  readonly ca: boolean
  readonly pathLength?: number
  readonly notCritical?: boolean
  readonly keyUsage: Uint8Array
}

// keyUsage BIT STRING: keyCertSign + cRLSign (0x06, 1 unused bit) for CAs, digitalSignature (0x80, 7 unused) for the leaf.
const CA_USAGE = bytes(0x01, 0x06)
const LEAF_USAGE = bytes(0x07, 0x80)

/** A P-384 certificate with the given basicConstraints and keyUsage. */
function issue(commonName: string, from: number, to: number, profile: Profile, issuer?: Issued): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
  const subject = name(commonName)
  const basicConstraints = seq(...(profile.ca ? [der(0x01, bytes(0xff))] : []), ...(profile.pathLength === undefined ? [] : [der(0x02, bytes(profile.pathLength))]))
  const keyUsage = der(0x03, profile.keyUsage)
  const tbs = seq(
    der(0xa0, der(0x02, bytes(0x02))),
    der(0x02, bytes(0x01, ...randomBytes(15))),
    ECDSA_WITH_SHA384,
    issuer?.subject ?? subject,
    seq(time(from), time(to)),
    subject,
    new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    der(0xa3, seq(extension(oid(0x55, 0x1d, 0x13), !profile.notCritical, basicConstraints), extension(oid(0x55, 0x1d, 0x0f), true, keyUsage))),
  )
  const signature = sign('sha384', tbs, issuer?.key ?? privateKey)
  return { der: seq(tbs, ECDSA_WITH_SHA384, der(0x03, bytes(0), signature)), key: privateKey, subject }
}

function pcrValue(index: number | string, value: Uint8Array | string): Uint8Array {
  const out = typeof value === 'string' ? Uint8Array.from(Buffer.from(value, 'hex')) : value
  if (out.length !== 48) throw new RangeError(`PCR ${index} must be 48 bytes`)
  return out
}

/** Encodes `entries` as a CBOR map in the given order, definite (a9) or indefinite (bf … ff). */
function cborMap(entries: readonly (readonly [string, unknown])[], form: 'definite' | 'indefinite'): Uint8Array {
  if (form === 'definite') return encode(new Map(entries), { mapSorter: () => 0 })
  const parts = entries.map(([k, v]) => Buffer.concat([encode(k), encode(v, { mapSorter: () => 0 })]))
  return Buffer.concat([bytes(0xbf), ...parts, bytes(0xff)])
}

/**
 * A simulated Nitro enclave for tests: its own test PKI, PCRs and RSA key pair, and NSM-like
 * attestation documents signed under that PKI. Only a local KMS given its root trusts them.
 * @example
 * ```ts
 * const enclave = await createTestEnclave()
 * const kms = await startLocalKms({ attestation: { rootCertificates: [enclave.rootCertificate] } })
 * const keyring = new KmsKeyring({
 *   generatorKeyId: kms.createKey({}),
 *   clientProvider: defaultClientProvider(kms.clientConfig()),
 *   recipient: { attestationDocument: async () => enclave.attestationDocument(), privateKey: enclave.privateKeyPem },
 * })
 * ```
 * @throws {RangeError} a PCR value that is not 48 bytes.
 */
export async function createTestEnclave(options: TestEnclaveOptions = {}): Promise<TestEnclave> {
  const now = options.now ?? Date.now
  const start = now()
  // Like AWS: a long-lived root, a shorter intermediate, a leaf that lives about 3 hours.
  const flaw = options.misissue ?? {}
  const root = issue('test.nitro-enclaves', start - HOUR, start + 24 * 365 * HOUR, { ca: true, pathLength: flaw.rootPathLengthZero ? 0 : undefined, keyUsage: CA_USAGE })
  const intermediate = issue(
    'intermediate.test.nitro-enclaves',
    start - HOUR,
    start + 30 * 24 * HOUR,
    { ca: !flaw.intermediateNotCa, pathLength: 0, notCritical: flaw.intermediateNotCritical, keyUsage: flaw.intermediateWithoutKeyCertSign ? bytes(0x07, 0x80) : CA_USAGE },
    root,
  )
  const leaf = issue('leaf.test.nitro-enclaves', start - 60_000, start + 3 * HOUR, { ca: flaw.leafIsCa === true, keyUsage: LEAF_USAGE }, intermediate)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  // The loop below sets every PcrIndex.
  const pcrs = {} as Record<PcrIndex, Uint8Array> & Record<number, Uint8Array>
  for (let i = 0; i < 16; i++) pcrs[i] = new Uint8Array(48)
  for (const [i, v] of Object.entries(options.pcrs ?? { 0: randomBytes(48), 1: randomBytes(48), 2: randomBytes(48), 8: randomBytes(48) })) pcrs[Number(i)] = pcrValue(i, v)
  const publicKey = new Uint8Array(rsa.publicKey.export({ type: 'spki', format: 'der' }))
  const moduleId = options.moduleId ?? `i-${createHash('sha256').update(publicKey).digest('hex').slice(0, 17)}-enc${randomBytes(8).toString('hex')}`

  return {
    rootCertificate: root.der,
    pcrs,
    moduleId,
    publicKey,
    privateKey: rsa.privateKey,
    privateKeyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    attestationDocument(doc = {}) {
      const registers = { ...pcrs }
      for (const [i, v] of Object.entries(doc.pcrs ?? {})) registers[Number(i)] = pcrValue(i, v)
      const entries: [string, unknown][] = [
        ['module_id', moduleId],
        ['digest', 'SHA384'],
        ['timestamp', doc.timestamp ?? now()],
        ['pcrs', new Map(Object.entries(registers).map(([i, v]) => [Number(i), v]))],
        ['certificate', leaf.der],
        // Root first, as NSM sends it.
        ['cabundle', [root.der, intermediate.der]],
      ]
      if (doc.publicKey !== null) entries.push(['public_key', doc.publicKey ?? publicKey])
      if (doc.userData !== undefined) entries.push(['user_data', doc.userData])
      if (doc.nonce !== undefined) entries.push(['nonce', doc.nonce])
      const protectedHeader = bytes(0xa1, 0x01, 0x38, 0x22)
      const payload = cborMap(entries, doc.mapForm ?? 'indefinite')
      const signature = sign('sha384', sigStructure({ protectedHeader, payload, signature: new Uint8Array(0) }), { key: leaf.key, dsaEncoding: 'ieee-p1363' })
      return encode([protectedHeader, new Map(), payload, new Uint8Array(signature)])
    },
  }
}
