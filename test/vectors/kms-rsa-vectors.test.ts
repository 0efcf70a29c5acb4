/**
 * The 14 `aws-kms-rsa` scenarios of the Dafny ESDK 4.1.0 awses-encrypt v5 manifest, offline: the
 * keys manifest's RSA key is provisioned into a local KMS (a new key pair under the same ARN), our
 * encrypt runner writes each scenario with the public key read through GetPublicKey, and our decrypt
 * runner decrypts the output through KMS Decrypt, one-shot and streaming. The published ciphertexts
 * of these tests need AWS's own key and are left out of the vendored set.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { summarize } from '../../src/runner/report.js'
import { provisionManifestKeys, startLocalKms, type LocalKms } from '../../src/testing/index.js'
import { readVectorJson } from '../support/vectors.js'

const SET = 'dafny-esdk-4.1.0-via-c'
const KEYS = readVectorJson(SET, 'keys.json')
const RSA_ARN = 'arn:aws:kms:us-west-2:370957321024:key/mrk-63d386cb70614ea59b32ad65c9315297'

let kms: LocalKms
const work = mkdtempSync(join(tmpdir(), 'envelope-kms-rsa-vectors-'))

beforeAll(async () => {
  kms = await startLocalKms()
})
afterAll(async () => {
  await kms?.close()
})

/** The manifest's tests whose encrypt key is aws-kms-rsa, beside a copy of its keys manifest. */
function rsaOnly(): { path: string; ids: string[] } {
  const manifest = readVectorJson(SET, 'encrypt-manifest.json')
  const tests = Object.fromEntries(Object.entries<any>(manifest.tests).filter(([, t]) => t['encryption-scenario'].encryptKeyDescription.type === 'aws-kms-rsa'))
  const dir = join(work, 'in')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(KEYS))
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, tests }))
  return { path: join(dir, 'manifest.json'), ids: Object.keys(tests) }
}

describe('Dafny aws-kms-rsa scenarios through the local KMS', () => {
  it('provisions us-west-2-rsa-mrk as an RSA_2048 key with the manifest ARN', () => {
    const provisioned = provisionManifestKeys(kms, KEYS).find((k) => k.name === 'us-west-2-rsa-mrk')
    expect(provisioned).toMatchObject({ arn: RSA_ARN, keySpec: 'RSA_2048', encrypt: true, decrypt: true })
    expect(kms.getKey(RSA_ARN)?.operations).toEqual(expect.arrayContaining(['GetPublicKey', 'Decrypt']))
  })

  it('encrypts all 14 (7 unsigned suites x 2 OAEP hashes) and decrypts the output one-shot and streaming', async () => {
    const { path, ids } = rsaOnly()
    expect(ids).toHaveLength(14)
    const out = join(work, 'out')
    kms.resetCalls()
    const encrypted = await runEncryptManifest(path, out, { kmsEndpoint: kms.endpoint })
    expect(encrypted.filter((r) => r.status !== 'passed')).toEqual([])
    // Senders read the public key once, and never call Encrypt or GenerateDataKey.
    expect(kms.calls.map((c) => c.operation)).toEqual(['GetPublicKey'])
    const written = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    expect(written.manifest).toEqual({ type: 'awses-decrypt', version: 5 })
    expect(Object.keys(written.tests).sort()).toEqual([...ids].sort())

    kms.resetCalls()
    const decrypted = await runDecryptManifest(join(out, 'manifest.json'), { kmsEndpoint: kms.endpoint })
    expect(decrypted.filter((r) => r.status !== 'passed')).toEqual([])
    expect(summarize(decrypted)).toEqual({ passed: 14, failed: 0, skipped: 0 })
    // One Decrypt per test and pass: one-shot and streaming.
    expect(kms.countCalls({ operation: 'Decrypt', keyArn: RSA_ARN })).toBe(28)
  })

  it('without a KMS the scenarios are skipped with the reason', async () => {
    const { path } = rsaOnly()
    const results = await runEncryptManifest(path, join(work, 'no-kms'))
    expect(summarize(results)).toEqual({ passed: 0, failed: 0, skipped: 14 })
    expect(results[0]!.reason).toContain('--kms-endpoint')
  })
})
