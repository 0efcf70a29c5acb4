/**
 * The recipient (Nitro Enclaves) path of every KMS keyring (spec/nitro.md#recipient).
 * An extension outside the ESDK spec: the keyring sends its enclave's
 * attestation document as `Recipient`, and KMS answers with the data key
 * encrypted to the enclave's RSA key (`CiphertextForRecipient`, CMS) instead
 * of a plaintext key, so the key never crosses the parent instance in clear.
 * The CMS parser is imported on first use only.
 */
import type { CryptoBackend, RsaPrivateKey } from '../../crypto/backend.js'
import { toBase64 } from '../../encoding.js'
import { RecipientError, UnsupportedError } from '../../errors.js'
import { checkOptions } from '../../options.js'

export interface KmsRecipient {
  /**
   * The enclave's attestation document (from the NSM device), with the enclave's RSA public key
   * as `public_key`; or a function returning a fresh one per call (documents expire).
   */
  readonly attestationDocument: Uint8Array | (() => Promise<Uint8Array>)
  /** The enclave's RSA private key: PKCS#8 or PKCS#1 PEM, PKCS#8 DER, or the backend's key object. */
  readonly privateKey: unknown
}

/** The only key encryption algorithm KMS offers a recipient. */
export const RECIPIENT_KEY_ENCRYPTION_ALGORITHM = 'RSAES_OAEP_SHA_256' as const
/** KMS's own bound on AttestationDocument. */
const MAX_DOCUMENT_SIZE = 16 * 1024
/** The content key of CiphertextForRecipient is AES-256. */
const CONTENT_KEY_LENGTH = 32

/** A keyring's checked recipient, with the private key imported once per backend. */
export class Recipient {
  readonly #document: KmsRecipient['attestationDocument']
  readonly #privateKey: unknown
  readonly #imported = new WeakMap<CryptoBackend, RsaPrivateKey>()

  constructor(options: KmsRecipient) {
    // Both take several forms, checked below with messages that name them.
    const { attestationDocument, privateKey } = checkOptions(options, 'recipient', { attestationDocument: 'any', privateKey: 'any' })
    if (typeof attestationDocument !== 'function' && !(attestationDocument instanceof Uint8Array && attestationDocument.length > 0)) {
      throw new TypeError('recipient.attestationDocument must be the document bytes or a function returning them')
    }
    if (privateKey === undefined || privateKey === null) throw new TypeError('recipient.privateKey is required: the enclave RSA key that opens CiphertextForRecipient')
    this.#document = attestationDocument instanceof Uint8Array ? attestationDocument.slice() : attestationDocument
    this.#privateKey = privateKey
  }

  /** The `Recipient` request parameter, with a fresh document when a supplier is given. */
  async request(): Promise<{ KeyEncryptionAlgorithm: typeof RECIPIENT_KEY_ENCRYPTION_ALGORITHM; AttestationDocument: Uint8Array }> {
    let document: unknown
    try {
      document = typeof this.#document === 'function' ? await this.#document() : this.#document
    } catch (cause) {
      throw new RecipientError('document', 'the attestation document supplier failed', { cause })
    }
    if (!(document instanceof Uint8Array) || document.length === 0 || document.length > MAX_DOCUMENT_SIZE) {
      throw new RecipientError('document', `the attestation document must be 1 to ${MAX_DOCUMENT_SIZE} bytes`)
    }
    return { KeyEncryptionAlgorithm: RECIPIENT_KEY_ENCRYPTION_ALGORITHM, AttestationDocument: document }
  }

  #key(backend: CryptoBackend): RsaPrivateKey {
    let key = this.#imported.get(backend)
    if (!key) {
      const given = this.#privateKey
      // DER (a SEQUENCE) goes in as PKCS#8 PEM: backends take PEM text or their own key objects.
      const pem = given instanceof Uint8Array && given[0] === 0x30 ? `-----BEGIN PRIVATE KEY-----\n${toBase64(given)}\n-----END PRIVATE KEY-----\n` : given
      key = backend.importRsaPrivateKey(pem)
      this.#imported.set(backend, key)
    }
    return key
  }

  /**
   * The data key from a KMS answer to a recipient request: refuses a
   * plaintext key, opens CiphertextForRecipient. The caller still checks
   * the answer's KeyId and the key's length.
   */
  async open(backend: CryptoBackend, response: { Plaintext?: unknown; CiphertextForRecipient?: unknown }): Promise<Uint8Array> {
    const plaintext = response.Plaintext
    if (plaintext instanceof Uint8Array && plaintext.length > 0) {
      // A recipient request exists so the key never crosses the parent in clear; a KMS that sends it anyway is not trusted.
      plaintext.fill(0)
      throw new RecipientError('plaintext-returned', 'KMS returned a plaintext data key to a recipient request')
    }
    if (plaintext !== undefined && !(plaintext instanceof Uint8Array)) throw new RecipientError('plaintext-returned', 'KMS returned a Plaintext field to a recipient request')
    const blob = response.CiphertextForRecipient
    if (!(blob instanceof Uint8Array) || blob.length === 0) throw new RecipientError('missing-ciphertext', 'KMS returned no CiphertextForRecipient')
    if (typeof backend.aesCbcDecrypt !== 'function') throw new UnsupportedError(`the ${backend.name} backend has no AES-CBC, which CiphertextForRecipient needs`)
    const { parseEnvelopedData } = await import('../../format/cms.js')
    const envelope = parseEnvelopedData(blob)
    let contentKey: Uint8Array
    try {
      contentKey = await backend.rsaDecrypt(this.#key(backend), 'oaep-sha256', envelope.encryptedKey)
    } catch (cause) {
      throw new RecipientError('unwrap-failed', 'the enclave key could not unwrap the content key', { cause: cause instanceof TypeError ? cause : undefined })
    }
    try {
      if (contentKey.length !== CONTENT_KEY_LENGTH) throw new RecipientError('unwrap-failed', 'the content key is not AES-256')
      try {
        return backend.aesCbcDecrypt(contentKey, envelope.iv, envelope.encryptedContent)
      } catch {
        throw new RecipientError('unwrap-failed', 'the content does not decrypt')
      }
    } finally {
      contentKey.fill(0)
    }
  }
}
