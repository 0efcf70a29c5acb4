/**
 * Public keys of local-KMS asymmetric keys for the runner's `aws-kms-rsa` and `aws-kms-ecdh`
 * encrypt scenarios: one GetPublicKey per key, shared by every scenario of a run.
 */
import type { KmsClientProvider } from '../index.js'
import { regionOf } from '../keyrings/kms/arn.js'
import { callContext } from '../keyrings/kms/calls.js'
import { callKms } from '../keyrings/kms/client.js'

/** DER SPKI of a key, fetched once; a failed fetch is not kept, so the next scenario asks again. */
export function kmsPublicKeys(clientProvider: KmsClientProvider): (keyId: string) => Promise<Uint8Array> {
  const publicKeys = new Map<string, Promise<Uint8Array>>()
  return (keyId) => {
    let found = publicKeys.get(keyId)
    if (!found) {
      found = callKms<any>(callContext({ clientProvider }), regionOf(keyId), keyId, ({ GetPublicKeyCommand }) => new GetPublicKeyCommand({ KeyId: keyId })).then((out) => {
        if (!(out?.PublicKey instanceof Uint8Array)) throw new Error(`GetPublicKey ${keyId} returned no public key`)
        return out.PublicKey as Uint8Array
      })
      found.catch(() => publicKeys.delete(keyId))
      publicKeys.set(keyId, found)
    }
    return found
  }
}
