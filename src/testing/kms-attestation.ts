/**
 * The local KMS server's side of KMS `Recipient` (docs/nitro.md#local-kms):
 * it checks an attestation document against the server's configured test
 * roots (never the AWS root), the key's PCR conditions, then answers with
 * CiphertextForRecipient built as KMS builds it (NITRO.md §4.2, spec/nitro.md):
 * CMS EnvelopedData in BER with indefinite lengths, one KeyTransRecipientInfo
 * v2 naming the key by a 32-byte subject key identifier, RSAES-OAEP-SHA-256
 * key transport, AES-256-CBC content with PKCS#7 padding.
 */
import { constants, createCipheriv, createHash, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto'
import { AttestationError } from '../errors.js'
import { verifyAttestationDocumentNow } from '../nitro/verify.js'

export interface LocalKmsAttestationOptions {
  /** DER root certificates whose documents this server accepts: test roots, e.g. createTestEnclave().rootCertificate. */
  readonly rootCertificates: readonly Uint8Array[]
  /** The server's clock for certificate validity and maxAge, ms. Default: the current time. */
  readonly now?: () => number
  /** Refuse documents older than this many ms. Default: no limit beyond the leaf certificate's validity. */
  readonly maxAgeMs?: number
}

/**
 * A key's condition, like `kms:RecipientAttestation:PCR<n>` on kms:Decrypt in a key policy: Decrypt
 * needs a document with these values; GenerateDataKey without Recipient stays allowed (the parent may
 * encrypt), with Recipient its document must satisfy them too.
 */
export interface RequireAttestation {
  /** PCR index to hex (or bytes). */
  readonly pcrs?: Readonly<Record<number, string | Uint8Array>>
}

type Fail = (type: string, message: string) => never

const OAEP_ALGORITHM = Buffer.from('303c06092a864886f70d010107302fa00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500', 'hex')
const ENVELOPED_DATA = Buffer.from('06092a864886f70d010703', 'hex')
const DATA = Buffer.from('06092a864886f70d010701', 'hex')
const AES256_CBC = Buffer.from('060960864801650304012a', 'hex')
const EOC = Buffer.from([0, 0])

/** Definite-length DER element. */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  const n = body.length
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]
  return Buffer.concat([Buffer.from([tag, ...length]), body])
}

/** Indefinite-length BER element, as KMS writes its constructed outer layers. */
function indefinite(tag: number, ...content: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...content, EOC])
}

/** CiphertextForRecipient for `plaintext`, to the RSA key `recipient` (a SubjectPublicKeyInfo). */
export function envelopeForRecipient(recipient: KeyObject, plaintext: Uint8Array): Buffer {
  const contentKey = randomBytes(32)
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv)
  const content = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const wrapped = publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, contentKey)
  contentKey.fill(0)
  // KMS's identifier is 32 bytes; a hash of the public key serves (the client ignores it).
  const ski = createHash('sha256').update(recipient.export({ type: 'spki', format: 'der' })).digest()
  const ktri = tlv(0x30, tlv(0x02, Buffer.from([2])), tlv(0x80, ski), OAEP_ALGORITHM, tlv(0x04, wrapped))
  const encryptedContentInfo = indefinite(0x30, DATA, tlv(0x30, AES256_CBC, tlv(0x04, iv)), indefinite(0xa0, tlv(0x04, content)))
  const envelopedData = indefinite(0x30, tlv(0x02, Buffer.from([2])), tlv(0x31, ktri), encryptedContentInfo)
  return indefinite(0x30, ENVELOPED_DATA, indefinite(0xa0, envelopedData))
}

/** What a handler does with a request: undefined (no Recipient, plaintext as usual) or the key to encrypt to. */
export function recipientOf(
  options: LocalKmsAttestationOptions | undefined,
  recipient: unknown,
  requirement: RequireAttestation | undefined,
  mandatory: boolean,
  arn: string,
  fail: Fail,
): KeyObject | undefined {
  if (recipient === undefined || recipient === null) {
    if (requirement && mandatory) fail('AccessDeniedException', `User is not authorized to use ${arn} without an attestation document that satisfies its key policy (kms:RecipientAttestation)`)
    return undefined
  }
  const { KeyEncryptionAlgorithm: algorithm, AttestationDocument: document } = recipient as Record<string, unknown>
  if (algorithm !== 'RSAES_OAEP_SHA_256') fail('ValidationException', `1 validation error detected: Value '${String(algorithm)}' at 'recipient.keyEncryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RSAES_OAEP_SHA_256]`)
  if (typeof document !== 'string' || document.length === 0) fail('ValidationException', 'Recipient.AttestationDocument is required')
  if (!options || options.rootCertificates.length === 0) fail('ValidationException', 'this local KMS trusts no attestation root (startLocalKms({ attestation: { rootCertificates } }))')
  const bytes = new Uint8Array(Buffer.from(document, 'base64'))
  let lastError: unknown
  for (const rootCertificate of options.rootCertificates) {
    try {
      const verified = verifyAttestationDocumentNow(bytes, { rootCertificate, now: options.now?.(), maxAge: options.maxAgeMs })
      if (requirement?.pcrs) {
        for (const [index, value] of Object.entries(requirement.pcrs)) {
          const want = typeof value === 'string' ? Buffer.from(value, 'hex') : Buffer.from(value)
          const have = verified.pcrs.get(Number(index))
          // A policy condition that does not hold: KMS denies, it does not call the document invalid.
          if (!have || !want.equals(have)) fail('AccessDeniedException', `User is not authorized to use ${arn}: kms:RecipientAttestation:PCR${index} does not match`)
        }
      }
      if (!verified.publicKey) fail('ValidationException', 'The attestation document has no public key')
      let key: KeyObject
      try {
        key = createPublicKey({ key: Buffer.from(verified.publicKey), format: 'der', type: 'spki' })
      } catch {
        return fail('ValidationException', 'The public key in the attestation document is not a valid key')
      }
      if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) fail('ValidationException', 'The public key in the attestation document is not an RSA key of 2048 bits or more')
      return key
    } catch (e) {
      if (!(e instanceof AttestationError)) throw e
      // Another configured root may be the document's: only its own root's verdict counts.
      if (e.check !== 'untrusted-root') fail('ValidationException', `The attestation document is not valid: ${e.message}`)
      lastError = e
    }
  }
  return fail('ValidationException', `The attestation document is not valid: ${(lastError as Error).message}`)
}
