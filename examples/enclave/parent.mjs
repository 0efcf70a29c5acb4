// @ts-check
// The parent instance side: it holds ciphertext it cannot decrypt (the key policy requires the
// enclave's attestation) and forwards it to the enclave service.
import { createClient, KmsKeyring } from 'envelope-sdk'

/**
 * Encrypts a record as a producer would (kms:GenerateDataKey needs no attestation).
 * @param {string} keyArn
 * @param {import('envelope-sdk').KmsClientProvider} clientProvider
 * @param {string} text
 */
export async function produce(keyArn, clientProvider, text) {
  const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider })
  const { ciphertext } = await createClient().encrypt(keyring, text, { encryptionContext: { purpose: 'word-count' } })
  return ciphertext
}

/**
 * Sends the ciphertext to the enclave and returns its answer.
 * @param {string} enclaveUrl
 * @param {Uint8Array} ciphertext
 */
export async function forward(enclaveUrl, ciphertext) {
  // The DOM types take only ArrayBuffer-backed bodies; the SDK's output always is one.
  const body = /** @type {Uint8Array<ArrayBuffer>} */ (ciphertext)
  const response = await fetch(enclaveUrl, { method: 'POST', body })
  return response.json()
}
