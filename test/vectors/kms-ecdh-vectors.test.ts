/**
 * The 66 `aws-kms-ecdh` scenarios of the Dafny ESDK 4.1.0 awses-encrypt v5 manifest, offline: the
 * keys manifest's sender and recipient KMS keys are provisioned into a local KMS (new key pairs
 * under the same ARNs), our encrypt runner writes each scenario (static, with the recipient's public
 * key read through GetPublicKey), and our decrypt runner decrypts the output through
 * DeriveSharedSecret with static and discovery keyrings, one-shot and streaming. The published
 * ciphertexts of these tests need AWS's own keys.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { provisionManifestKeys, startLocalKms, type LocalKms } from '../../src/testing/index.js'
import { readVectorJson } from '../support/vectors.js'

const SET = 'dafny-esdk-4.1.0-via-c'
const KEYS = readVectorJson(SET, 'keys.json')

let kms: LocalKms
const work = mkdtempSync(join(tmpdir(), 'envelope-kms-ecdh-vectors-'))

beforeAll(async () => {
  kms = await startLocalKms()
})
afterAll(async () => {
  await kms?.close()
})

describe('Dafny aws-kms-ecdh scenarios through the local KMS', () => {
  it('provisions each entry\'s sender and recipient as KEY_AGREEMENT keys on its curve, under the manifest ARNs', () => {
    provisionManifestKeys(kms, KEYS)
    for (const [name, spec] of [['us-west-2-256-ecc', 'ECC_NIST_P256'], ['us-west-2-384-ecc', 'ECC_NIST_P384'], ['us-west-2-521-ecc', 'ECC_NIST_P521']]) {
      for (const side of ['sender-material', 'recipient-material']) {
        const key = kms.getKey(KEYS.keys[name!][side])
        expect(key?.keySpec).toBe(spec)
        expect(key?.operations).toEqual(expect.arrayContaining(['DeriveSharedSecret', 'GetPublicKey']))
      }
    }
  })

  it('encrypts all 66 and decrypts the output statically and by discovery, one-shot and streaming', async () => {
    provisionManifestKeys(kms, KEYS)
    const manifest = readVectorJson(SET, 'encrypt-manifest.json')
    const tests = Object.fromEntries(Object.entries<any>(manifest.tests).filter(([, t]) => t['encryption-scenario'].encryptKeyDescription.type === 'aws-kms-ecdh'))
    expect(Object.keys(tests)).toHaveLength(66)
    const dir = join(work, 'in')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(KEYS))
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, tests }))
    const out = join(work, 'out')
    kms.resetCalls()
    const encrypted = await runEncryptManifest(join(dir, 'manifest.json'), out, { kmsEndpoint: kms.endpoint })
    expect(encrypted.filter((r) => r.status !== 'passed')).toEqual([])
    // One DeriveSharedSecret per message; each of the six keys' public key is read once.
    expect(kms.countCalls({ operation: 'DeriveSharedSecret' })).toBe(66)
    expect(kms.countCalls({ operation: 'GetPublicKey' })).toBe(6)
    const written = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    const schemas = Object.values<any>(written.tests).map((t) => t['decryption-scenario'].decryptKeyDescription.schema)
    expect(schemas.filter((s) => s === 'static')).toHaveLength(33)
    expect(schemas.filter((s) => s === 'discovery')).toHaveLength(33)
    const decrypted = await runDecryptManifest(join(out, 'manifest.json'), { kmsEndpoint: kms.endpoint })
    expect(decrypted.filter((r) => r.status !== 'passed')).toEqual([])
    expect(decrypted).toHaveLength(66)
  })
})
