/**
 * createClient: validates and freezes the policy, limits and crypto backend
 * once; every call made through the client uses them (spec/client.md).
 */
import type { CryptoBackend } from './crypto/backend.js'
import { nodeBackend } from './crypto/node.js'
import { utf8Encode } from './format/bytes.js'
import { MAX_UINT16 } from './format/constants.js'
import type { Cmm } from './materials/cmm.js'
import { toCmm } from './materials/cmm.js'
import type { Keyring } from './materials/keyring.js'
import { checkCommitmentPolicy, DEFAULT_COMMITMENT_POLICY, type CommitmentPolicy } from './materials/policy.js'
import type { DecryptOptions } from './core/decryptor.js'
import type { EncryptOptions } from './core/encryptor.js'
import { decryptBytes, encryptBytes, type DecryptResult, type EncryptResult } from './core/one-shot.js'

export interface ClientOptions {
  /** Default REQUIRE_ENCRYPT_REQUIRE_DECRYPT. */
  readonly commitmentPolicy?: CommitmentPolicy
  /** Most encrypted data keys a message may carry (1 to 65535); `false` or absent: no limit beyond the format's. */
  readonly maxEncryptedDataKeys?: number | false
  /** Largest header accepted on decrypt, in bytes. Default 1 MiB. */
  readonly maxHeaderSize?: number
  /** The crypto backend; default node:crypto. */
  readonly crypto?: CryptoBackend
}

export const DEFAULT_MAX_HEADER_SIZE = 1024 * 1024

export interface Client {
  readonly commitmentPolicy: CommitmentPolicy
  readonly maxEncryptedDataKeys: number
  readonly maxHeaderSize: number
  encrypt(keyringOrCmm: Keyring | Cmm, plaintext: Uint8Array | string, options?: EncryptOptions): Promise<EncryptResult>
  decrypt(keyringOrCmm: Keyring | Cmm, ciphertext: Uint8Array, options?: DecryptOptions): Promise<DecryptResult>
}

function checkMaxEncryptedDataKeys(value: unknown): number {
  if (value === undefined || value === false) return MAX_UINT16
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_UINT16) {
    throw new RangeError('maxEncryptedDataKeys must be an integer from 1 to 65535, or false for no limit')
  }
  return value
}

function checkMaxHeaderSize(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_HEADER_SIZE
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RangeError('maxHeaderSize must be a positive integer')
  return value
}

function toBytes(input: Uint8Array | string, what: string): Uint8Array {
  if (typeof input === 'string') return utf8Encode(input)
  if (input instanceof Uint8Array) return input
  throw new TypeError(`${what} must be a Uint8Array or a string`)
}

export function createClient(options: ClientOptions = {}): Client {
  const commitmentPolicy = checkCommitmentPolicy(options.commitmentPolicy ?? DEFAULT_COMMITMENT_POLICY)
  const maxEncryptedDataKeys = checkMaxEncryptedDataKeys(options.maxEncryptedDataKeys)
  const maxHeaderSize = checkMaxHeaderSize(options.maxHeaderSize)
  const crypto = options.crypto ?? nodeBackend
  const settings = Object.freeze({ crypto, commitmentPolicy, maxEncryptedDataKeys, maxHeaderSize })

  return Object.freeze({
    commitmentPolicy,
    maxEncryptedDataKeys,
    maxHeaderSize,
    encrypt(keyringOrCmm: Keyring | Cmm, plaintext: Uint8Array | string, encryptOptions: EncryptOptions = {}) {
      return encryptBytes(toCmm(keyringOrCmm), settings, toBytes(plaintext, 'plaintext'), encryptOptions)
    },
    decrypt(keyringOrCmm: Keyring | Cmm, ciphertext: Uint8Array, decryptOptions: DecryptOptions = {}) {
      if (typeof ciphertext === 'string') {
        throw new TypeError('ciphertext must be a Uint8Array; if you have base64 text, decode it to bytes first')
      }
      return decryptBytes(toCmm(keyringOrCmm), settings, toBytes(ciphertext, 'ciphertext'), decryptOptions)
    },
  })
}
