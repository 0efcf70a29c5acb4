// @ts-check
// Runs the Lambda handler locally against the KMS-compatible local server.
import { startLocalKms } from 'envelope-sdk/testing'

const kms = await startLocalKms()
process.env.KMS_KEY_ARN = kms.createKey()
// Point the AWS SDK's default configuration at the local server, as a Lambda test harness would.
process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint
process.env.AWS_REGION = kms.defaultRegion
process.env.AWS_ACCESS_KEY_ID = 'local'
process.env.AWS_SECRET_ACCESS_KEY = 'local'
const { handler, cmm } = await import('./handler.mjs')
try {
  const { ciphertext } = await handler({ action: 'encrypt', tenant: 'acme', plaintext: 'invoice #42' })
  const { plaintext } = await handler({ action: 'decrypt', tenant: 'acme', ciphertext })
  console.log(`lambda round trip: ${plaintext}`)
  // Warm invocations: the cached data key serves them without calling KMS.
  for (let i = 0; i < 9; i++) await handler({ action: 'encrypt', tenant: 'acme', plaintext: `invoice #${43 + i}` })
  const { hits, misses, underlyingCalls } = cmm.stats()
  console.log(`10 encrypts and 1 decrypt: ${underlyingCalls} calls to the keyring (cache hits ${hits}, misses ${misses})`)
} finally {
  await kms.close()
}
