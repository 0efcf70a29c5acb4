/**
 * The 11 ESDK algorithm suites, in one table every layer reads (spec/algorithm-suites.md).
 * All suites use AES-GCM with a 12-byte IV and a 16-byte tag.
 */
import { CURVES, type CurveName, type HashName } from '../algorithms.js'

export type { CurveName, HashName }

export interface SignatureAlgorithm {
  readonly curve: CurveName
  readonly hash: HashName
  /** Length of the SEC1 compressed public point. */
  readonly publicKeyLength: number
  /** Upper bound of a DER `ECDSA-Sig-Value` on this curve. */
  readonly maxSignatureLength: number
}

export interface AlgorithmSuite {
  readonly id: number
  readonly name: SuiteName
  readonly messageFormat: 1 | 2
  /** Data key length = derived encryption key length, in bytes. */
  readonly keyLength: 16 | 24 | 32
  readonly kdf: 'identity' | 'hkdf'
  readonly kdfHash: HashName | undefined
  readonly committing: boolean
  readonly signature: SignatureAlgorithm | undefined
  readonly ivLength: 12
  readonly tagLength: 16
  /** Identity-KDF suites reuse the data key directly, so their materials must never be cached. */
  readonly cacheSafe: boolean
}

/**
 * The 11 algorithm suites by name, with the ESDK's ids, for `suiteId`.
 * @example
 * ```ts
 * await client.encrypt(keyring, data, { suiteId: Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY })
 * ```
 */
export const Suite = {
  ALG_AES_128_GCM_IV12_TAG16_NO_KDF: 0x0014,
  ALG_AES_192_GCM_IV12_TAG16_NO_KDF: 0x0046,
  ALG_AES_256_GCM_IV12_TAG16_NO_KDF: 0x0078,
  ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256: 0x0114,
  ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA256: 0x0146,
  ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA256: 0x0178,
  ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256: 0x0214,
  ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: 0x0346,
  ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: 0x0378,
  ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY: 0x0478,
  ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: 0x0578,
} as const

export type SuiteName = keyof typeof Suite
export type SuiteId = (typeof Suite)[SuiteName]

function signature(curve: CurveName, hash: HashName): SignatureAlgorithm {
  const facts = CURVES[curve]
  return { curve, hash, publicKeyLength: facts.compressedPointLength, maxSignatureLength: facts.maxDerSignatureLength }
}
const P256 = signature('P-256', 'sha256')
const P384 = signature('P-384', 'sha384')

function suite(
  name: SuiteName,
  keyLength: 16 | 24 | 32,
  kdfHash: HashName | undefined,
  signature: SignatureAlgorithm | undefined,
  committing = false,
): AlgorithmSuite {
  return Object.freeze({
    id: Suite[name],
    name,
    messageFormat: committing ? 2 : 1,
    keyLength,
    kdf: kdfHash ? 'hkdf' : 'identity',
    kdfHash,
    committing,
    signature,
    ivLength: 12,
    tagLength: 16,
    cacheSafe: kdfHash !== undefined,
  })
}

const TABLE: readonly AlgorithmSuite[] = [
  suite('ALG_AES_128_GCM_IV12_TAG16_NO_KDF', 16, undefined, undefined),
  suite('ALG_AES_192_GCM_IV12_TAG16_NO_KDF', 24, undefined, undefined),
  suite('ALG_AES_256_GCM_IV12_TAG16_NO_KDF', 32, undefined, undefined),
  suite('ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256', 16, 'sha256', undefined),
  suite('ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA256', 24, 'sha256', undefined),
  suite('ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA256', 32, 'sha256', undefined),
  suite('ALG_AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256', 16, 'sha256', P256),
  suite('ALG_AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384', 24, 'sha384', P384),
  suite('ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384', 32, 'sha384', P384),
  suite('ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY', 32, 'sha512', undefined, true),
  suite('ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384', 32, 'sha512', P384, true),
]

const BY_ID = new Map<number, AlgorithmSuite>(TABLE.map((s) => [s.id, s]))

/**
 * Every suite's facts (key length, KDF, commitment, signature), in id order.
 * @example
 * ```ts
 * const signed = ALL_SUITES.filter((s) => s.signature !== undefined).map((s) => s.id)
 * ```
 */
export const ALL_SUITES: readonly AlgorithmSuite[] = TABLE

/**
 * The suite with this id, or undefined when it is not an ESDK message suite.
 * @example
 * ```ts
 * findSuite(0x0578)?.commitment // true
 * ```
 * @throws never: an unknown id gives undefined.
 */
export function findSuite(id: number): AlgorithmSuite | undefined {
  return BY_ID.get(id)
}

/** Like findSuite, for ids that come from the caller: unknown ids are a programmer error. */
export function getSuite(id: number): AlgorithmSuite {
  const found = BY_ID.get(id)
  if (!found) throw new RangeError(`unknown algorithm suite id 0x${id.toString(16).padStart(4, '0')}`)
  return found
}

/** "0x0478" style label, used in messages and reports. */
export function suiteLabel(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`
}
