// @ts-check
// An AWS Lambda handler that encrypts and decrypts with KMS.
//
// Everything expensive is created once per cold start, outside the handler:
// the client, the keyring, the data-key cache and, through the default client
// provider, one KMSClient per region (the SDK itself is only loaded on the
// first KMS call). Set KMS_KEY_ARN in the function's environment.
//
// The caching CMM lets warm invocations reuse a data key instead of calling
// KMS for every message, within the limits below (docs/caching.md). Drop it if
// every message must have its own data key.
import { CachingCmm, createClient, KmsKeyring } from 'envelope-sdk'

const client = createClient()
const keyring = new KmsKeyring({ generatorKeyId: process.env.KMS_KEY_ARN })
export const cmm = new CachingCmm({
  keyring,
  capacity: 100, // distinct encryption contexts kept (one entry each)
  maxAge: 5 * 60 * 1000, // a data key is used for at most 5 minutes...
  maxMessagesEncrypted: 1000, // ...and at most 1,000 messages
  maxBytesEncrypted: 100 * 1024 * 1024, // ...and at most 100 MiB of plaintext
})

/** @param {{ action: 'encrypt' | 'decrypt', tenant?: string, plaintext?: string, ciphertext?: string }} event */
export async function handler(event) {
  const encryptionContext = { tenant: String(event.tenant ?? 'default') }
  if (event.action === 'encrypt') {
    const { ciphertext } = await client.encrypt(cmm, String(event.plaintext ?? ''), { encryptionContext })
    return { ciphertext: Buffer.from(ciphertext).toString('base64') }
  }
  const { plaintext } = await client.decrypt(cmm, Buffer.from(String(event.ciphertext), 'base64'), { encryptionContext })
  return { plaintext: Buffer.from(plaintext).toString('utf8') }
}
