/**
 * The header limits a client applies on decrypt (spec/decrypt-rules.md#limits),
 * here so that inspectMessage (which has no client) applies the same defaults.
 */
import { MAX_UINT16 } from './constants.js'

/**
 * Default `maxEncryptedDataKeys`: far above what real messages carry (a key per
 * region and recipient), far below what a forged 1 MiB header can (65,535), so
 * one message cannot cost thousands of keyring attempts or KMS calls
 * (spec/decrypt-rules.md#limits). `false` lifts it to the format's limit.
 * @example
 * ```ts
 * createClient({ maxEncryptedDataKeys: DEFAULT_MAX_ENCRYPTED_DATA_KEYS * 2 })
 * ```
 */
export const DEFAULT_MAX_ENCRYPTED_DATA_KEYS = 64

/**
 * The default `maxHeaderSize`: 1 MiB.
 * @example
 * ```ts
 * createClient({ maxHeaderSize: DEFAULT_MAX_HEADER_SIZE / 4 })
 * ```
 */
export const DEFAULT_MAX_HEADER_SIZE = 1024 * 1024

export function checkMaxEncryptedDataKeys(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_ENCRYPTED_DATA_KEYS
  if (value === false) return MAX_UINT16
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_UINT16) {
    throw new RangeError('maxEncryptedDataKeys must be an integer from 1 to 65535, or false for no limit')
  }
  return value
}

export function checkMaxHeaderSize(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_HEADER_SIZE
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RangeError('maxHeaderSize must be a positive integer')
  return value
}
