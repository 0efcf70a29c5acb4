// An AWS Lambda handler that encrypts and decrypts with KMS.
//
// Everything expensive is created once per cold start, outside the handler:
// the client, the keyring and, through the default client provider, one KMSClient
// per region (the SDK itself is only loaded on the first KMS call).
// Set KMS_KEY_ARN in the function's environment.
import { createClient, KmsKeyring } from 'envelope-sdk'

const client = createClient()
const keyring = new KmsKeyring({ generatorKeyId: process.env.KMS_KEY_ARN })

export async function handler(event) {
  const encryptionContext = { tenant: String(event.tenant ?? 'default') }
  if (event.action === 'encrypt') {
    const { ciphertext } = await client.encrypt(keyring, String(event.plaintext ?? ''), { encryptionContext })
    return { ciphertext: Buffer.from(ciphertext).toString('base64') }
  }
  const { plaintext } = await client.decrypt(keyring, Buffer.from(String(event.ciphertext), 'base64'), { encryptionContext })
  return { plaintext: Buffer.from(plaintext).toString('utf8') }
}
