// @ts-check
// Quickstart: envelope encryption with an AWS KMS key.
//
// By default this runs against the KMS-compatible local server that ships with
// envelope-sdk (no AWS account, nothing leaves this machine). To use real AWS KMS,
// set ENVELOPE_KMS_KEY_ARN to a key you may use and have AWS credentials configured:
//   ENVELOPE_KMS_KEY_ARN=arn:aws:kms:us-west-2:111122223333:key/... npm run quickstart
import { createClient, defaultClientProvider, KmsKeyring } from 'envelope-sdk'
import { startLocalKms } from 'envelope-sdk/testing'

let local
let keyring
if (process.env.ENVELOPE_KMS_KEY_ARN) {
  keyring = new KmsKeyring({ generatorKeyId: process.env.ENVELOPE_KMS_KEY_ARN })
} else {
  local = await startLocalKms()
  const keyArn = local.createKey({ aliases: ['alias/quickstart'] })
  console.log(`local KMS at ${local.endpoint}, key ${keyArn}`)
  // The same KMSClient configuration you would use for real KMS, pointed at the local endpoint.
  keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider: defaultClientProvider(local.clientConfig()) })
}

// Default policy REQUIRE_ENCRYPT_REQUIRE_DECRYPT, default suite 0x0578
// (AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 signature).
const client = createClient()

try {
  const encryptionContext = { purpose: 'quickstart', tenant: 'example' }
  const { ciphertext, header } = await client.encrypt(keyring, 'Hello, envelope!', { encryptionContext })
  console.log(`encrypted ${ciphertext.length} bytes with suite 0x${header.suiteId.toString(16).padStart(4, '0')}, data key wrapped by ${header.encryptedDataKeys.map((k) => new TextDecoder().decode(k.providerInfo)).join(', ')}`)

  // Passing the context on decrypt makes the call fail unless the message carries those pairs.
  const { plaintext } = await client.decrypt(keyring, ciphertext, { encryptionContext })
  console.log(`decrypted: ${new TextDecoder().decode(plaintext)}`)
} finally {
  await local?.close()
}
