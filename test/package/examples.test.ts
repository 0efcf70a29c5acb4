/** Every example runs as a user would run it, against the built package. */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = (file: string) => execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8', env: { ...process.env, ENVELOPE_KMS_KEY_ARN: '', BRANCH_KEY_TABLE: '', KMS_KEY_ARN: '' } })

describe('examples', () => {
  it('quickstart: KMS through the local server', () => {
    expect(run('examples/quickstart.mjs')).toMatch(/decrypted: Hello, envelope!/)
  })
  it('raw AES', () => {
    expect(run('examples/raw-aes.mjs')).toMatch(/decrypted: Hello, envelope!/)
  })
  it('KMS RSA: the sender encrypts with the public key alone, no KMS call', () => {
    const out = run('examples/kms-rsa.mjs')
    expect(out).toMatch(/encrypted \d+ bytes with 0 KMS calls/)
    expect(out).toMatch(/decrypted: Hello, envelope! \(KMS calls: Decrypt\)/)
  })
  it('hierarchical keyring: tenants, a supplier and a rotation on the local DynamoDB and KMS', () => {
    const out = run('examples/hierarchy.mjs')
    // Ten messages, two tenants: one KMS Decrypt per tenant's branch key, the other eight derive locally.
    expect(out).toMatch(/encrypted 10 messages for 2 tenants with 2 KMS calls/)
    expect(out).toMatch(/decrypted: order 3 \(branch key [0-9a-f-]{36}\)/)
    expect(out).toMatch(/rotated acme: new version; old message: order 0; new message: after rotation/)
  })
  it('Lambda handler, locally', () => {
    const out = run('examples/lambda/local.mjs')
    expect(out).toMatch(/lambda round trip: invoice #42/)
    // One GenerateDataKey for the first encrypt, one Decrypt; the nine warm encrypts reuse the cached key.
    expect(out).toMatch(/10 encrypts and 1 decrypt: 2 calls to the keyring \(cache hits 9, misses 2\)/)
  })
  it('Nitro enclave decrypt service and parent, with the simulated enclave', () => {
    const out = run('examples/enclave/local.mjs')
    expect(out).toMatch(/enclave says: \{"words":9\}/)
    expect(out).toMatch(/parent decrypt: denied \(AccessDeniedException\)/)
  })
})
