/** The encrypt and decrypt steps both ECDH keyrings share (spec/ecdh.md#schemes). */
import type { EcdhCurve } from '../../algorithms.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { ECDH_CURVE_NAMES } from '../../algorithms.js'
import { KeyringError, UnsupportedError } from '../../errors.js'
import { checkOptions, type OptionKind } from '../../options.js'
import { equalBytes } from '../../format/bytes.js'
import type { EncryptedDataKey } from '../../format/edk.js'
import { toBase64 } from '../../encoding.js'
import {
  withDecryptionDataKey,
  withEncryptedDataKey,
  withEncryptionDataKey,
  type DecryptionMaterials,
  type EncryptionMaterials,
} from '../../materials/materials.js'
import { AttemptLog, attemptLimitReason, newDataKey, yieldToEventLoop } from '../common.js'
import { decodeProviderInfo, ECDH_PROVIDER_IDS, encodeProviderInfo } from './wire.js'
import { fixedInfo, unwrapDataKey, wrapDataKey } from './wrap.js'

export function checkCurve(curve: unknown): EcdhCurve {
  if (!ECDH_CURVE_NAMES.includes(curve as EcdhCurve)) throw new TypeError(`curve must be one of ${ECDH_CURVE_NAMES.join(', ')}`)
  return curve as EcdhCurve
}

/**
 * The scheme object and its kind, checked against the kinds this keyring has. A field of another
 * kind is refused: a misspelt or misplaced key would otherwise silently change the scheme. The
 * fields are PEM text or DER bytes, or KMS key ids, which their importers check.
 */
export function checkScheme<K extends string>(keyring: string, scheme: unknown, kinds: Readonly<Record<K, readonly string[]>>): { kind: K; fields: Record<string, unknown> } {
  if (typeof scheme !== 'object' || scheme === null || Array.isArray(scheme)) throw new TypeError(`scheme must be an object with kind ${Object.keys(kinds).join(' | ')}`)
  const kind = (scheme as { kind?: unknown }).kind as K
  if (typeof kind !== 'string' || !Object.hasOwn(kinds, kind)) throw new TypeError(`scheme.kind must be one of ${Object.keys(kinds).join(', ')}`)
  const fields: Record<string, OptionKind> = { kind: 'string' }
  for (const name of kinds[kind]) fields[name] = 'any'
  return { kind, fields: checkOptions(scheme as Record<string, unknown>, `${keyring} ${kind} scheme`, fields) }
}

/** A compressed point or a provider info, for attempt logs: public, and what a reader compares with their own key. */
export function pointName(point: Uint8Array): string {
  return toBase64(point)
}

/** Adds an EDK wrapping the data key (made here if the materials have none) under the shared secret `z`. */
export function ecdhEncrypt(
  materials: EncryptionMaterials,
  backend: CryptoBackend,
  providerId: string,
  curve: EcdhCurve,
  sender: Uint8Array,
  recipient: Uint8Array,
  z: Uint8Array,
): EncryptionMaterials {
  try {
    const info = fixedInfo(curve, sender, recipient, materials.encryptionContext)
    let result = materials
    if (!result.plaintextDataKey) result = withEncryptionDataKey(result, newDataKey(backend, result.suite.keyLength))
    const ciphertext = wrapDataKey(backend, z, info, result.plaintextDataKey!)
    return withEncryptedDataKey(result, { providerId, providerInfo: encodeProviderInfo(recipient, sender), ciphertext })
  } finally {
    z.fill(0)
  }
}

/** What to do with one EDK's points: derive Z with the other party's point, or skip it and say why. */
export type EcdhMatch = { readonly other: Uint8Array } | { readonly skip: string }

/**
 * The decrypt loop: each raw-ecdh or aws-kms-ecdh EDK whose provider info
 * parses for `curve` goes to `match`; the first that unwraps wins, every
 * other is recorded for the NoMatchingKeyError.
 */
export async function ecdhDecrypt(
  keyring: string,
  materials: DecryptionMaterials,
  edks: readonly EncryptedDataKey[],
  backend: CryptoBackend,
  curve: EcdhCurve,
  maxAttempts: number,
  match: (sender: Uint8Array, recipient: Uint8Array) => EcdhMatch,
  derive: (other: Uint8Array) => Promise<Uint8Array>,
): Promise<DecryptionMaterials> {
  const log = new AttemptLog(keyring, pointName)
  let attempts = 0
  let unsupported: UnsupportedError | undefined
  for (const edk of edks) {
    if (!ECDH_PROVIDER_IDS.includes(edk.providerId)) {
      log.skip(edk, `not an ECDH key (provider id ${ECDH_PROVIDER_IDS.join(' or ')})`)
      continue
    }
    const points = decodeProviderInfo(edk.providerInfo, curve)
    if ('reason' in points) {
      log.skip(edk, points.reason)
      continue
    }
    const decision = match(points.sender, points.recipient)
    if ('skip' in decision) {
      log.skip(edk, decision.skip)
      continue
    }
    if (attempts === maxAttempts) {
      log.record(edk, attemptLimitReason(attempts))
      continue
    }
    attempts++
    // A key agreement is a scalar multiplication (or a KMS call): timers and I/O get their turn first.
    await yieldToEventLoop()
    let info: Uint8Array
    let z: Uint8Array
    try {
      info = fixedInfo(curve, points.sender, points.recipient, materials.encryptionContext)
      z = await derive(decision.other)
    } catch (e) {
      if (e instanceof UnsupportedError) unsupported ??= e
      log.record(edk, e instanceof Error ? e.message : String(e), e)
      continue
    }
    const unwrapped = unwrapDataKey(backend, z, info, edk.ciphertext, materials.suite.keyLength)
    z.fill(0)
    if ('reason' in unwrapped) {
      log.record(edk, unwrapped.reason)
      continue
    }
    return withDecryptionDataKey(materials, unwrapped)
  }
  if (unsupported) throw unsupported
  throw log.error()
}

/**
 * Static scheme matching (MPL): the EDK's {S, R} must be this party's key and
 * the configured peer's, in either orientation, so each party decrypts what
 * the other wrote. The other party's point is the one that is not ours.
 */
export function staticMatch(mine: Uint8Array, peer: Uint8Array): (sender: Uint8Array, recipient: Uint8Array) => EcdhMatch {
  return (sender, recipient) => {
    if (equalBytes(sender, mine) && equalBytes(recipient, peer)) return { other: recipient }
    if (equalBytes(recipient, mine) && equalBytes(sender, peer)) return { other: sender }
    return { skip: 'not this keyring\'s sender and recipient keys' }
  }
}

/** Discovery: any sender, as long as the EDK names our key as recipient. */
export function discoveryMatch(mine: Uint8Array): (sender: Uint8Array, recipient: Uint8Array) => EcdhMatch {
  return (sender, recipient) => (equalBytes(recipient, mine) ? { other: sender } : { skip: `recipient key is not this keyring's (${pointName(mine)})` })
}

export function cannot(what: string, kind: string, action: 'encrypt' | 'decrypt'): KeyringError {
  return new KeyringError(`${what} with scheme ${kind} cannot ${action} (spec/ecdh.md#schemes)`)
}

