// @ts-check
// Encrypt and decrypt with a raw AES wrapping key you manage yourself. No AWS account needed.
// Run with: npm run build && node examples/raw-aes.mjs
import { randomBytes } from 'node:crypto'
import { createClient, RawAesKeyring } from 'envelope-sdk'

// In production the wrapping key comes from your key store, not from randomBytes.
const keyring = new RawAesKeyring({
  keyNamespace: 'quickstart',
  keyName: 'demo-key',
  wrappingKey: randomBytes(32),
})

// The default commitment policy is REQUIRE_ENCRYPT_REQUIRE_DECRYPT and the default suite
// is 0x0578 (AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 signature).
const client = createClient()

const encryptionContext = { purpose: 'quickstart', tenant: 'example' }
const { ciphertext, header } = await client.encrypt(keyring, 'Hello, envelope!', { encryptionContext })
console.log(`encrypted ${ciphertext.length} bytes with suite 0x${header.suiteId.toString(16).padStart(4, '0')}`)

// Passing the context on decrypt makes the call fail unless the message carries those pairs.
const { plaintext } = await client.decrypt(keyring, ciphertext, { encryptionContext })
console.log(`decrypted: ${new TextDecoder().decode(plaintext)}`)
