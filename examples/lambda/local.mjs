// Runs the Lambda handler locally against the KMS-compatible local server.
import { startLocalKms } from 'envelope-sdk/testing'

const kms = await startLocalKms()
process.env.KMS_KEY_ARN = kms.createKey()
// Point the AWS SDK's default configuration at the local server, as a Lambda test harness would.
process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint
process.env.AWS_REGION = kms.defaultRegion
process.env.AWS_ACCESS_KEY_ID = 'local'
process.env.AWS_SECRET_ACCESS_KEY = 'local'
const { handler } = await import('./handler.mjs')
try {
  const { ciphertext } = await handler({ action: 'encrypt', tenant: 'acme', plaintext: 'invoice #42' })
  const { plaintext } = await handler({ action: 'decrypt', tenant: 'acme', ciphertext })
  console.log(`lambda round trip: ${plaintext}`)
} finally {
  await kms.close()
}
