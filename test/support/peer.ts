/** The peer implementation, @aws-crypto/client-node 5.x, set up the way a conformant deployment uses it. */
import { constants } from 'node:crypto'
import {
  buildClient,
  CommitmentPolicy,
  MultiKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
} from '@aws-crypto/client-node'
import type { RsaPadding } from '../../src/index.js'

export const peerForbid = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)
export const peerAllow = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)

const WRAPPING = {
  16: RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING,
  24: RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING,
  32: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
} as const

export function peerAesKeyring(keyNamespace: string, keyName: string, key: Uint8Array): RawAesKeyringNode {
  // utf8Sorting: the peer's spec-conformant context order (its default is locale order).
  // The peer wipes the key buffer it is given, so it gets a copy.
  return new RawAesKeyringNode({
    keyNamespace,
    keyName,
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: WRAPPING[key.length as 16 | 24 | 32],
    utf8Sorting: true,
  })
}

export function peerRsaKeyring(keyNamespace: string, keyName: string, padding: RsaPadding, keys: { publicKey?: string; privateKey?: string }): RawRsaKeyringNode {
  const oaep = padding !== 'pkcs1'
  return new RawRsaKeyringNode({
    keyNamespace,
    keyName,
    rsaKey: keys,
    padding: oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING,
    ...(oaep ? { oaepHash: padding.slice(5) as 'sha256' } : {}),
  })
}

export { MultiKeyringNode }
