/**
 * envelope-sdk/nitro: the real AWS-signed attestation document verifies at its
 * time (known answer), the embedded root is AWS's, and every kind of damage
 * or mismatch is a typed AttestationError with its stable `check`.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { decode, encode } from 'cborg'
import { beforeAll, describe, expect, it } from 'vitest'
import { AttestationError, AWS_NITRO_ROOT_CERTIFICATE, parseAttestationDocument, verifyAttestationDocument } from '../../src/entry/nitro.js'
import { createTestEnclave, type TestEnclave } from '../../src/testing/index.js'

const REAL = new Uint8Array(readFileSync(new URL('../fixtures/nitro/aws-attestation-2022-09-15.cbor', import.meta.url)))
/** The time cape-js checks this document at: inside every certificate's validity. */
const REAL_TIME = new Date('2022-09-15T17:44:24Z')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

async function failure(promise: Promise<unknown>): Promise<AttestationError> {
  const e = await promise.then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(AttestationError)
  expect((e as AttestationError).code).toBe('ERR_ATTESTATION')
  return e as AttestationError
}

describe('the real AWS document (known answer)', () => {
  it('the embedded root is the AWS Nitro Enclaves root G1 (SHA-256 from NITRO.md)', () => {
    expect(createHash('sha256').update(AWS_NITRO_ROOT_CERTIFICATE).digest('hex')).toBe('641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b')
  })

  it('verifies at its time against the default (AWS) root', async () => {
    const doc = await verifyAttestationDocument(REAL, { now: REAL_TIME })
    expect(doc.moduleId).toBe('i-0697c9729fa547b20-enc0183422ede9a5dc8')
    expect(doc.digest).toBe('SHA384')
    expect(doc.timestamp).toBe(1663263808848)
    expect(doc.pcrs.size).toBe(16)
    expect([...doc.pcrs.values()].every((p) => p.length === 48)).toBe(true)
    expect(doc.cabundle).toHaveLength(4)
    expect(hex(doc.cabundle[0]!)).toBe(hex(AWS_NITRO_ROOT_CERTIFICATE))
    expect(doc.publicKey).toHaveLength(32)
    expect(doc.nonce).toHaveLength(12)
    // Policy on top: its own PCR 0 and nonce match, with a fresh enough maxAge.
    await verifyAttestationDocument(REAL, { now: REAL_TIME, maxAge: 60_000, expectedPcrs: { 0: hex(doc.pcrs.get(0)!) }, nonce: doc.nonce })
  })

  it('parse reads it without trusting it', () => {
    expect(parseAttestationDocument(REAL).moduleId).toBe('i-0697c9729fa547b20-enc0183422ede9a5dc8')
  })

  it('is expired today and not yet valid before its leaf', async () => {
    expect((await failure(verifyAttestationDocument(REAL))).check).toBe('certificate')
    expect((await failure(verifyAttestationDocument(REAL, { now: new Date('2022-09-15T17:00:00Z') }))).check).toBe('certificate')
  })

  it('another root is not its root', async () => {
    const enclave = await createTestEnclave()
    expect((await failure(verifyAttestationDocument(REAL, { now: REAL_TIME, rootCertificate: enclave.rootCertificate }))).check).toBe('untrusted-root')
  })

  it('PCR, nonce and age mismatches', async () => {
    expect((await failure(verifyAttestationDocument(REAL, { now: REAL_TIME, expectedPcrs: { 0: new Uint8Array(48) } }))).check).toBe('pcr-mismatch')
    expect((await failure(verifyAttestationDocument(REAL, { now: REAL_TIME, expectedPcrs: { 20: new Uint8Array(48) } }))).check).toBe('pcr-mismatch')
    expect((await failure(verifyAttestationDocument(REAL, { now: REAL_TIME, nonce: new Uint8Array(12) }))).check).toBe('nonce-mismatch')
    expect((await failure(verifyAttestationDocument(REAL, { now: REAL_TIME, maxAge: 1000 }))).check).toBe('stale')
  })

  it('every single-byte change in any region is refused, typed', async () => {
    // Bytes of every region flipped: COSE header, payload fields, the five certificates, signature.
    // Every byte of the first 200 and last 200 (header, PCRs; nonce, user data, signature), every 11th between (each verification checks five certificates).
    const checks = new Map<string, number>()
    for (let i = 0; i < REAL.length; i += i < 200 || i >= REAL.length - 200 ? 1 : 11) {
      const bad = REAL.slice()
      bad[i]! ^= 0x01
      const e = await verifyAttestationDocument(bad, { now: REAL_TIME }).then(() => undefined, (x: unknown) => x)
      expect(e, `byte ${i}`).toBeInstanceOf(AttestationError)
      const check = (e as AttestationError).check
      checks.set(check, (checks.get(check) ?? 0) + 1)
    }
    // The regions are told apart: structure, root pinning, certificates, chain and COSE signature all fire.
    expect([...checks.keys()].sort()).toEqual(expect.arrayContaining(['certificate', 'malformed', 'signature', 'untrusted-root']))
  }, 120_000)

  it('truncations are malformed', async () => {
    for (const length of [0, 1, 4, 100, REAL.length - 1]) {
      expect((await failure(verifyAttestationDocument(REAL.subarray(0, length), { now: REAL_TIME }))).check).toBe('malformed')
    }
  })
})

describe('strict CBOR and field rules', () => {
  let enclave: TestEnclave
  beforeAll(async () => {
    enclave = await createTestEnclave()
  })
  const verify = (bytes: Uint8Array) => verifyAttestationDocument(bytes, { rootCertificate: enclave.rootCertificate })

  it('definite (a9) and indefinite (bf … ff) payload maps both verify; tag 18 is accepted', async () => {
    const indefinite = enclave.attestationDocument({ mapForm: 'indefinite' })
    const definite = enclave.attestationDocument({ mapForm: 'definite' })
    const payloadStart = (doc: Uint8Array) => parseCose(doc).payload[0]
    expect(payloadStart(indefinite)).toBe(0xbf)
    expect(payloadStart(definite)).toBe(0xa7)
    expect((await verify(indefinite)).moduleId).toBe(enclave.moduleId)
    expect((await verify(definite)).moduleId).toBe(enclave.moduleId)
    expect((await verify(Uint8Array.of(0xd2, ...definite))).moduleId).toBe(enclave.moduleId)
    const withAll = enclave.attestationDocument({ mapForm: 'definite', nonce: new Uint8Array(8), userData: new Uint8Array(3) })
    expect(parseCose(withAll).payload[0]).toBe(0xa9)
    expect((await verify(withAll)).nonce).toEqual(new Uint8Array(8))
  })

  it('the test enclave PCRs and nonce are checked', async () => {
    const nonce = new Uint8Array([1, 2, 3])
    await verifyAttestationDocument(enclave.attestationDocument({ nonce }), { rootCertificate: enclave.rootCertificate, expectedPcrs: { 0: enclave.pcrs[0]! }, nonce })
    const other = enclave.attestationDocument({ pcrs: { 0: new Uint8Array(48).fill(1) } })
    expect((await failure(verifyAttestationDocument(other, { rootCertificate: enclave.rootCertificate, expectedPcrs: { 0: enclave.pcrs[0]! } }))).check).toBe('pcr-mismatch')
  })

  /** A document signed by the test leaf over an arbitrary payload. */
  function resign(payload: Uint8Array): Uint8Array {
    // The payload swapped into a real signed document: the structure checks fire before the signature is looked at.
    const cose = parseCose(enclave.attestationDocument())
    return encode([cose.protectedHeader, new Map(), payload, cose.signature])
  }

  it('duplicate keys, unknown fields, wrong types, nulls in required fields and oversize fields are malformed', async () => {
    const base = new Map<string, unknown>([
      ['module_id', 'i-1-enc2'],
      ['digest', 'SHA384'],
      ['timestamp', 1],
      ['pcrs', new Map([[0, new Uint8Array(48)]])],
      ['certificate', new Uint8Array(10)],
      ['cabundle', [new Uint8Array(10)]],
    ])
    const variants: [string, Uint8Array][] = [
      // module_id twice: a9-style map with 7 entries whose first key repeats.
      ['duplicate key', Uint8Array.of(0xa2, ...encode('digest'), ...encode('SHA384'), ...encode('digest'), ...encode('SHA384'))],
      ['unknown field', encode(new Map([...base, ['extra', 1]]))],
      ['digest', encode(new Map([...base, ['digest', 'SHA256']]))],
      ['null certificate', encode(new Map([...base, ['certificate', null]]))],
      ['pcr length', encode(new Map([...base, ['pcrs', new Map([[0, new Uint8Array(47)]])]]))],
      ['pcr index', encode(new Map([...base, ['pcrs', new Map([[32, new Uint8Array(48)]])]]))],
      ['public key too long', encode(new Map([...base, ['public_key', new Uint8Array(1025)]]))],
      ['nonce too long', encode(new Map([...base, ['nonce', new Uint8Array(513)]]))],
      ['empty cabundle', encode(new Map([...base, ['cabundle', []]]))],
      ['not a map', encode([1, 2])],
      ['non-minimal integer', Uint8Array.of(0xa1, ...encode('timestamp'), 0x18, 0x01)],
      ['unterminated indefinite map', Uint8Array.of(0xbf, ...encode('digest'), ...encode('SHA384'))],
      ['trailing bytes', Uint8Array.of(...encode(base), 0x00)],
    ]
    for (const [name, payload] of variants) {
      const e = await failure(verify(resign(payload)))
      expect(e.check, name).toBe('malformed')
    }
  })

  it('COSE: other algorithms, unprotected headers, short signatures, other shapes are malformed', async () => {
    const cose = parseCose(enclave.attestationDocument())
    const variants: [string, Uint8Array][] = [
      ['ES256 header', encode([Uint8Array.of(0xa1, 0x01, 0x26), new Map(), cose.payload, cose.signature])],
      ['unprotected header', encode([cose.protectedHeader, new Map([[4, new Uint8Array(1)]]), cose.payload, cose.signature])],
      ['short signature', encode([cose.protectedHeader, new Map(), cose.payload, cose.signature.subarray(0, 64)])],
      ['three elements', encode([cose.protectedHeader, new Map(), cose.payload])],
      ['other tag', Uint8Array.of(0xd1, ...encode([cose.protectedHeader, new Map(), cose.payload, cose.signature]))],
      ['oversize', new Uint8Array(16 * 1024 + 1)],
    ]
    for (const [name, doc] of variants) expect((await failure(verify(doc))).check, name).toBe('malformed')
  })

  it('misissued chains are refused: CA without cA or critical basicConstraints or keyCertSign, path length, CA leaf', async () => {
    const flaws = [
      ['intermediateNotCa', /CA certificate 2 is not a CA/],
      ['intermediateNotCritical', /CA certificate 2 is not a CA \(critical basicConstraints\)/],
      ['intermediateWithoutKeyCertSign', /CA certificate 2 lacks keyCertSign/],
      ['rootPathLengthZero', /CA certificate 1 path length 0 does not allow 1 CAs/],
      ['leafIsCa', /the leaf certificate is a CA/],
    ] as const
    for (const [flaw, message] of flaws) {
      const bad = await createTestEnclave({ misissue: { [flaw]: true } })
      const e = await failure(verifyAttestationDocument(bad.attestationDocument(), { rootCertificate: bad.rootCertificate }))
      expect(e.check, flaw).toBe('certificate')
      expect(e.message, flaw).toMatch(message)
    }
  })

  it('a document signed by another leaf is refused (signature)', async () => {
    const other = await createTestEnclave()
    const mine = parseCose(enclave.attestationDocument())
    const theirs = parseCose(other.attestationDocument())
    expect((await failure(verify(encode([mine.protectedHeader, new Map(), mine.payload, theirs.signature])))).check).toBe('signature')
  })
})

/** The three byte strings of a COSE_Sign1 document, read loosely: the tests rebuild documents from them. */
function parseCose(doc: Uint8Array): { protectedHeader: Uint8Array; payload: Uint8Array; signature: Uint8Array } {
  const [protectedHeader, , payload, signature] = decode(doc, { useMaps: true }) as [Uint8Array, unknown, Uint8Array, Uint8Array]
  return { protectedHeader, payload, signature }
}
