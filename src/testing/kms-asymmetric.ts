/**
 * Asymmetric keys of the local KMS server (docs/kms-local.md#asymmetric-keys): RSA
 * encryption keys (KeyUsage ENCRYPT_DECRYPT) and NIST-curve key agreement keys
 * (KeyUsage KEY_AGREEMENT), with GetPublicKey, DeriveSharedSecret and RSA-OAEP
 * Encrypt/Decrypt. Requests a real KMS refuses for a key's usage are refused with
 * the exception names AWS KMS uses, so code tested here fails the same way there.
 *
 * The material of an asymmetric key is its private key, PKCS#8 DER in base64; a
 * symmetric key's is 32 random bytes, as before.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, constants, type KeyObject } from 'node:crypto'
import { KmsFailure } from './kms-server.js'

export type LocalKeySpecName = 'SYMMETRIC_DEFAULT' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521'
export type RsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'

const RSA_BITS: Partial<Record<LocalKeySpecName, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 }
const CURVES: Partial<Record<LocalKeySpecName, string>> = { ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1' }
const KEY_SPECS: readonly LocalKeySpecName[] = ['SYMMETRIC_DEFAULT', ...(Object.keys(RSA_BITS) as LocalKeySpecName[]), ...(Object.keys(CURVES) as LocalKeySpecName[])]
const OAEP_HASH: Record<RsaEncryptionAlgorithm, string> = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' }
const RSA_ALGORITHMS = Object.keys(OAEP_HASH) as RsaEncryptionAlgorithm[]

/** The file format version written by persistence; files without one are version 1 (symmetric keys only). */
export const PERSIST_VERSION = 2

const isRsa = (spec: LocalKeySpecName) => RSA_BITS[spec] !== undefined
const isEcc = (spec: LocalKeySpecName) => CURVES[spec] !== undefined

/** Fresh key material for a key spec. */
export function generateMaterial(spec: LocalKeySpecName): string {
  const bits = RSA_BITS[spec]
  if (bits) return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')
  const curve = CURVES[spec]
  if (curve) return generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')
  return randomBytes(32).toString('base64')
}

/** Throws a RangeError unless `spec` is a key spec and `material` fits it (given material is checked once, here). */
export function checkMaterial(spec: unknown, material: string): void {
  if (!KEY_SPECS.includes(spec as LocalKeySpecName)) throw new RangeError(`key spec must be one of ${KEY_SPECS.join(', ')}`)
  const s = spec as LocalKeySpecName
  if (s === 'SYMMETRIC_DEFAULT') {
    if (Buffer.from(material, 'base64').length !== 32) throw new RangeError('key material must be 32 bytes')
    return
  }
  let key: KeyObject
  try {
    key = privateKeyOf(material)
  } catch {
    throw new RangeError(`key material of a ${s} key must be a PKCS#8 private key, DER in base64`)
  }
  const details = key.asymmetricKeyDetails ?? {}
  const fits = isRsa(s) ? key.asymmetricKeyType === 'rsa' && details.modulusLength === RSA_BITS[s] : key.asymmetricKeyType === 'ec' && details.namedCurve === CURVES[s]
  if (!fits) throw new RangeError(`key material is not a ${s} private key`)
}

const privateKeyOf = (material: string) => createPrivateKey({ key: Buffer.from(material, 'base64'), format: 'der', type: 'pkcs8' })

/** The KeyMetadata / GetPublicKey fields that depend on the key spec, as AWS KMS names them. */
export function specFields(spec: LocalKeySpecName): Record<string, unknown> {
  const common = { KeySpec: spec, CustomerMasterKeySpec: spec }
  if (isRsa(spec)) return { ...common, KeyUsage: 'ENCRYPT_DECRYPT', EncryptionAlgorithms: [...RSA_ALGORITHMS] }
  if (isEcc(spec)) return { ...common, KeyUsage: 'KEY_AGREEMENT', KeyAgreementAlgorithms: ['ECDH'] }
  return { ...common, KeyUsage: 'ENCRYPT_DECRYPT', EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }
}

/** The keys of a persisted file, of either version; version-1 keys are symmetric. */
export function readPersisted<K extends { keySpec: LocalKeySpecName }>(json: unknown): K[] {
  const file = json as { version?: unknown; keys?: unknown }
  if (file.version !== undefined && file.version !== PERSIST_VERSION) throw new Error(`local KMS keys file version ${String(file.version)} is not supported (this version reads 1 and ${PERSIST_VERSION})`)
  if (!Array.isArray(file.keys)) throw new Error('local KMS keys file has no keys array')
  return (file.keys as K[]).map((k) => ({ ...k, keySpec: k.keySpec ?? 'SYMMETRIC_DEFAULT' }))
}

export interface AsymmetricKey {
  readonly keySpec: LocalKeySpecName
  readonly material: string
}

const wrongUsage = (arn: string, what: string) => new KmsFailure('InvalidKeyUsageException', `${arn} ${what}`)

/** Symmetric-only operations (data keys, symmetric Encrypt/Decrypt, ReEncrypt) on an asymmetric key. */
export function requireSymmetric(key: AsymmetricKey, arn: string, operation: string): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw wrongUsage(arn, `is a ${key.keySpec} key: ${operation} needs a SYMMETRIC_DEFAULT key.`)
}

/** An EncryptionAlgorithm field: absent means SYMMETRIC_DEFAULT. */
export function encryptionAlgorithm(value: unknown): 'SYMMETRIC_DEFAULT' | RsaEncryptionAlgorithm {
  if (value === undefined || value === 'SYMMETRIC_DEFAULT') return 'SYMMETRIC_DEFAULT'
  if (RSA_ALGORITHMS.includes(value as RsaEncryptionAlgorithm)) return value as RsaEncryptionAlgorithm
  throw new KmsFailure('ValidationException', `EncryptionAlgorithm must be one of SYMMETRIC_DEFAULT, ${RSA_ALGORITHMS.join(', ')}`)
}

/** Checks an RSA request: the key and algorithm agree, and there is no encryption context (RSA has no AAD). */
function rsaRequest(key: AsymmetricKey, arn: string, algorithm: 'SYMMETRIC_DEFAULT' | RsaEncryptionAlgorithm, context: unknown): RsaEncryptionAlgorithm {
  if (key.keySpec === 'SYMMETRIC_DEFAULT') {
    if (algorithm !== 'SYMMETRIC_DEFAULT') throw wrongUsage(arn, `is a symmetric key: ${algorithm} needs an RSA key.`)
  } else if (!isRsa(key.keySpec)) throw wrongUsage(arn, `is a ${key.keySpec} key (KeyUsage KEY_AGREEMENT): it does not encrypt or decrypt.`)
  if (algorithm === 'SYMMETRIC_DEFAULT') throw wrongUsage(arn, `is a ${key.keySpec} key: give EncryptionAlgorithm ${RSA_ALGORITHMS.join(' or ')}.`)
  if (context !== undefined) throw new KmsFailure('ValidationException', 'EncryptionContext is not supported with asymmetric KMS keys.')
  return algorithm
}

/** RSA-OAEP Encrypt with the key's public half. */
export function rsaEncrypt(key: AsymmetricKey, arn: string, algorithm: 'SYMMETRIC_DEFAULT' | RsaEncryptionAlgorithm, context: unknown, plaintext: Buffer): Buffer {
  const alg = rsaRequest(key, arn, algorithm, context)
  const hashBytes = alg === 'RSAES_OAEP_SHA_1' ? 20 : 32
  const max = RSA_BITS[key.keySpec]! / 8 - 2 * hashBytes - 2
  if (plaintext.length > max) throw new KmsFailure('ValidationException', `Plaintext is ${plaintext.length} bytes; a ${key.keySpec} key with ${alg} encrypts at most ${max}.`)
  return publicEncrypt({ key: createPublicKey(privateKeyOf(key.material)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[alg] }, plaintext)
}

/** RSA-OAEP Decrypt with the key's private half; any failure is the one InvalidCiphertextException. */
export function rsaDecrypt(key: AsymmetricKey, arn: string, algorithm: 'SYMMETRIC_DEFAULT' | RsaEncryptionAlgorithm, context: unknown, blob: Buffer): Buffer {
  const alg = rsaRequest(key, arn, algorithm, context)
  const invalid = new KmsFailure('InvalidCiphertextException', 'The ciphertext is invalid or was not encrypted under this key and algorithm.')
  if (blob.length !== RSA_BITS[key.keySpec]! / 8) throw invalid
  try {
    return privateDecrypt({ key: privateKeyOf(key.material), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[alg] }, blob)
  } catch {
    throw invalid
  }
}

/** GetPublicKey's answer: DER SPKI and the usage facts a caller needs to use it safely outside KMS. */
export function publicKeyFields(key: AsymmetricKey, arn: string): Record<string, unknown> {
  if (key.keySpec === 'SYMMETRIC_DEFAULT') throw new KmsFailure('UnsupportedOperationException', `${arn} is a symmetric key: it has no public key.`)
  const spki = createPublicKey(privateKeyOf(key.material)).export({ format: 'der', type: 'spki' })
  return { KeyId: arn, PublicKey: spki.toString('base64'), ...specFields(key.keySpec) }
}

/** DeriveSharedSecret: raw ECDH Z between the key's private half and the given DER SPKI public key. */
export function deriveSharedSecret(key: AsymmetricKey, arn: string, input: { KeyAgreementAlgorithm?: unknown; PublicKey?: unknown }): Buffer {
  if (!isEcc(key.keySpec)) throw wrongUsage(arn, `is a ${key.keySpec} key: DeriveSharedSecret needs a KEY_AGREEMENT key (ECC_NIST_P256, P384 or P521).`)
  if (input.KeyAgreementAlgorithm !== 'ECDH') throw new KmsFailure('ValidationException', 'KeyAgreementAlgorithm must be ECDH')
  if (typeof input.PublicKey !== 'string' || input.PublicKey.length === 0) throw new KmsFailure('ValidationException', 'PublicKey is required')
  let peer: KeyObject
  try {
    peer = createPublicKey({ key: Buffer.from(input.PublicKey, 'base64'), format: 'der', type: 'spki' })
  } catch {
    throw new KmsFailure('ValidationException', 'PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo')
  }
  if (peer.asymmetricKeyType !== 'ec' || peer.asymmetricKeyDetails?.namedCurve !== CURVES[key.keySpec]) {
    throw new KmsFailure('ValidationException', `PublicKey must be a point on the curve of ${key.keySpec}`)
  }
  try {
    return diffieHellman({ privateKey: privateKeyOf(key.material), publicKey: peer })
  } catch {
    // node:crypto refuses points off the curve and the point at infinity.
    throw new KmsFailure('ValidationException', `PublicKey is not a valid point on the curve of ${key.keySpec}`)
  }
}
