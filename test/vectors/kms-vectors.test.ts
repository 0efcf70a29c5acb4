/**
 * The KMS scenarios of the canonical manifests, offline: the canonical keys
 * are provisioned into the local KMS this file starts on an ephemeral loopback
 * port, our encryptor writes every KMS scenario through the real
 * @aws-sdk/client-kms over HTTP, and both our runner and the peer
 * (@aws-crypto/client-node, its own KMS keyrings and clients) decrypt the
 * output through the same server.
 *
 * Only the KMS scenarios run here (a filtered copy of each manifest: 440 of
 * 0003, 441 of 0006); canonical.test.ts covers the raw-key ones. About 10 s
 * on the shared 2-core machine.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { NO_KMS } from '../../src/runner/keys.js'
import { kmsHooks } from '../../src/runner/kms.js'
import { summarize, summaryLine, type TestResult } from '../../src/runner/report.js'
import { provisionManifestKeys, startLocalKms, type LocalKms } from '../../src/testing/index.js'
import { aliasKeyId } from '../../src/testing/provision.js'
import { peerDecryptManifest } from '../support/peer-decrypt.js'
import { PUBLIC_VECTORS, readVectorJson } from '../support/vectors.js'

const CANONICAL = join(PUBLIC_VECTORS, 'framework-canonical-manifests')
const CANONICAL_KEYS = readVectorJson('framework-canonical-manifests', '0002-keys.v3.json')
const DAFNY_KEYS = readVectorJson('dafny-esdk-4.1.0-via-c', 'keys.json')
const ACCOUNT = '658956600833'
const WEST = 'us-west-2'
const EAST = 'us-east-1'

let kms: LocalKms
let hooks: ReturnType<typeof kmsHooks>
const work = mkdtempSync(join(tmpdir(), 'envelope-kms-vectors-'))

beforeAll(async () => {
  kms = await startLocalKms()
  hooks = kmsHooks({ endpoint: kms.endpoint })
})
afterAll(async () => {
  await kms?.close()
})

const isKms = (mk: { type: string }) => mk.type !== 'raw'

/**
 * A copy of a canonical manifest holding only the tests that touch KMS (to
 * encrypt or to decrypt), next to a copy of its keys manifest.
 */
function kmsOnly(name: string): { path: string; ids: string[] } {
  const manifest = readVectorJson('framework-canonical-manifests', name)
  const tests = Object.fromEntries(
    Object.entries<any>(manifest.tests).filter(([, t]) => [...(t['encryption-scenario'] ?? t)['master-keys'], ...(t['decryption-master-keys'] ?? [])].some(isKms)),
  )
  const dir = join(work, `kms-only-${name}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'keys.json'), readFileSync(join(CANONICAL, manifest.keys.slice('file://'.length))))
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, keys: 'file://keys.json', tests }))
  return { path: join(dir, 'manifest.json'), ids: Object.keys(tests) }
}

const failures = (results: readonly TestResult[]) => results.filter((r) => r.status === 'failed').slice(0, 5)

/** Decrypts a written manifest with our runner and with the peer, both through the local KMS: every test must pass. */
async function bothDecryptAll(manifest: string, label: string, count: number, ours: Parameters<typeof runDecryptManifest>[1]): Promise<void> {
  const results = await runDecryptManifest(manifest, ours)
  console.log(`our decrypt of ${label}: ${summaryLine(summarize(results))}`)
  expect(failures(results)).toEqual([])
  expect(summarize(results)).toEqual({ passed: count, failed: 0, skipped: 0 })
  const peer = await peerDecryptManifest(manifest, { kmsEndpoint: kms.endpoint })
  console.log(`peer decrypt of ${label}: ${peer.passed} passed, ${peer.failed} failed, ${peer.skipped} skipped`)
  expect(peer).toEqual({ passed: count, failed: 0, skipped: 0, failures: [] })
}

describe('provisionManifestKeys', () => {
  it('gives each canonical alias ARN a key, with the flags as permissions, the same key every time', async () => {
    const local = await startLocalKms()
    try {
      const first = provisionManifestKeys(local, CANONICAL_KEYS)
      expect(first.map((k) => [k.name, k.alias, k.encrypt, k.decrypt])).toEqual([
        ['us-west-2-decryptable', 'alias/EncryptDecrypt', true, true],
        ['us-west-2-encrypt-only', 'alias/EncryptOnly', true, false],
      ])
      for (const k of first) {
        expect(k.arn).toBe(`arn:aws:kms:${WEST}:${ACCOUNT}:key/${aliasKeyId(ACCOUNT, WEST, k.alias!)}`)
        expect(local.getKey(k.keyId)?.id).toBe(local.getKey(k.arn)?.id) // the alias ARN names the key
      }
      expect(local.getKey(first[0]!.arn)?.operations).toContain('Decrypt')
      expect(local.getKey(first[1]!.arn)?.operations).toEqual(['Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'DescribeKey'])
      const material = local.getKey(first[0]!.arn)!.material
      expect(provisionManifestKeys(local, CANONICAL_KEYS)).toEqual(first)
      expect(local.getKey(first[0]!.arn)!.material).toBe(material)
    } finally {
      await local.close()
    }
  })

  it('makes one multi-region key with replicas in both regions the Dafny keys name, and key ARNs as given', async () => {
    const local = await startLocalKms()
    try {
      const keys = provisionManifestKeys(local, DAFNY_KEYS)
      // Raw keys and static materials are not this server's business; aws-kms-rsa keys are (kms-rsa-vectors.test.ts); aws-kms-ecdh keys are made but not listed (kms-ecdh-vectors.test.ts).
      expect(keys.map((k) => k.name)).toEqual(['us-west-2-decryptable', 'us-west-2-encrypt-only', 'us-west-2-mrk', 'us-east-1-mrk', 'us-west-2-rsa-mrk'])
      for (const k of keys) expect(k.arn).toBe(DAFNY_KEYS.keys[k.name]['key-id'])
      const west = local.getKey(keys[2]!.arn)!
      const east = local.getKey(keys[3]!.arn)!
      expect(west.id).toBe('mrk-80bd8ecdcd4342aebd84b7dc9da498a7')
      expect(west.regions).toEqual([WEST, EAST])
      expect(east.material).toBe(west.material)
      expect(local.getKey(keys[0]!.arn)!.regions).toEqual([WEST])
      expect(local.getKey(`arn:aws:kms:${EAST}:${ACCOUNT}:key/b3537ef1-d8dc-4780-9f5a-55776cbb2f7f`)).toBeUndefined()
      expect(provisionManifestKeys(local, DAFNY_KEYS, { regions: ['eu-west-1'] })[2]!.regions).toEqual([WEST, EAST, 'eu-west-1'])
    } finally {
      await local.close()
    }
  })

  it('refuses what is not a keys manifest', async () => {
    const local = await startLocalKms()
    try {
      expect(() => provisionManifestKeys(local, { manifest: { type: 'awses-decrypt', version: 2 } })).toThrow(/not a keys manifest/)
      expect(() => provisionManifestKeys(local, { manifest: { type: 'keys', version: 3 }, keys: { k: { type: 'aws-kms', 'key-id': 'arn:aws:s3:::bucket' } } })).toThrow(/not a KMS ARN/)
    } finally {
      await local.close()
    }
  })
})

describe('canonical KMS scenarios against the local KMS', () => {
  beforeAll(() => {
    provisionManifestKeys(kms, CANONICAL_KEYS)
  })

  it('awses-encrypt 0003: all 440 KMS scenarios encrypt; we and the peer decrypt all 440 through the local KMS', async () => {
    const { path, ids } = kmsOnly('0003-awses-message-encryption.v2.json')
    expect(ids).toHaveLength(440)
    const out = join(work, 'out-0003')
    const encrypted = await runEncryptManifest(path, out, { kms: hooks })
    console.log(`vectors encrypt 0003 (KMS scenarios): ${summaryLine(summarize(encrypted))}`)
    expect(failures(encrypted)).toEqual([])
    expect(summarize(encrypted)).toEqual({ passed: 440, failed: 0, skipped: 0 })

    // keys.json names keys by key ARN: a strict keyring never matches an EDK by alias.
    const written = JSON.parse(readFileSync(join(out, 'keys.json'), 'utf8')).keys
    expect(written['us-west-2-decryptable']['key-id']).toBe(`arn:aws:kms:${WEST}:${ACCOUNT}:key/${aliasKeyId(ACCOUNT, WEST, 'alias/EncryptDecrypt')}`)
    expect(written['us-west-2-encrypt-only']['key-id']).toBe(`arn:aws:kms:${WEST}:${ACCOUNT}:key/${aliasKeyId(ACCOUNT, WEST, 'alias/EncryptOnly')}`)

    await bothDecryptAll(join(out, 'manifest.json'), 'the 0003 KMS output', 440, { kms: hooks })

    // Without a KMS the same manifest skips every test, saying how to run it.
    const offline = await runDecryptManifest(join(out, 'manifest.json'), { filter: ids[0] })
    expect(offline).toEqual([{ id: ids[0], status: 'skipped', reason: NO_KMS }])
    expect(NO_KMS).toContain('--kms-endpoint')
  })

  it('awses-decrypt-generate 0006: 440 KMS positives and the altered-provider-info negative, by us and by the peer', async () => {
    const { path, ids } = kmsOnly('0006-awses-message-decryption-generation.v2.json')
    expect(ids).toHaveLength(441)
    const out = join(work, 'out-0006')
    kms.resetCalls()
    const generated = await runEncryptManifest(path, out, { kms: hooks })
    console.log(`vectors generate 0006 (KMS scenarios): ${summaryLine(summarize(generated))}`)
    expect(failures(generated)).toEqual([])
    expect(summarize(generated)).toEqual({ passed: 441, failed: 0, skipped: 0 })
    // 220 one-key and 220 two-key scenarios: a data key from GenerateDataKey each, and 220 Encrypts with the encrypt-only key.
    expect(kms.countCalls({ operation: 'GenerateDataKey' })).toBe(440)
    expect(kms.countCalls({ operation: 'Encrypt' })).toBe(220)

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    const negatives = Object.entries<any>(manifest.tests).filter(([, t]) => t.result.error)
    expect(negatives.map(([id]) => id)).toEqual(['ae852a4c-90e0-449e-9a0e-2898ac3051d3-provider-info'])

    await bothDecryptAll(join(out, 'manifest.json'), 'the 0006 KMS output', 441, { kmsEndpoint: kms.endpoint })
  })
})

describe('multi-region keys, discovery and an encrypt-only key, from the Dafny keys manifest', () => {
  const SUITES = ['0014', '0178', '0478', '0578']
  const FILTER = { partition: 'aws', 'account-ids': [ACCOUNT] }
  const discovery = (region: string, filter?: object) => ({ type: 'aws-kms-mrk-aware-discovery', 'default-mrk-region': region, ...(filter ? { 'aws-kms-discovery-filter': filter } : {}) })

  it('an MRK message decrypts with its replica and by discovery in the other region; strict, foreign-account and encrypt-only keys refuse', async () => {
    provisionManifestKeys(kms, DAFNY_KEYS)
    const dir = join(work, 'mrk')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(DAFNY_KEYS))
    const tests: Record<string, object> = {}
    for (const algorithm of SUITES) {
      const scenario = { plaintext: 'tiny', algorithm, 'frame-size': 512, 'encryption-context': { purpose: 'mrk test' } }
      tests[`mrk-west-${algorithm}`] = { ...scenario, 'master-keys': [{ type: 'aws-kms-mrk-aware', key: 'us-west-2-mrk' }] }
      tests[`encrypt-only-${algorithm}`] = { ...scenario, 'master-keys': [{ type: 'aws-kms', key: 'us-west-2-encrypt-only' }] }
    }
    const encryptManifest = { manifest: { type: 'awses-encrypt', version: 2 }, keys: 'file://keys.json', plaintexts: { tiny: 10 }, tests }
    writeFileSync(join(dir, 'encrypt.json'), JSON.stringify(encryptManifest))
    const out = join(dir, 'out')
    const encrypted = await runEncryptManifest(join(dir, 'encrypt.json'), out, { kms: hooks })
    expect(summarize(encrypted)).toEqual({ passed: 8, failed: 0, skipped: 0 })

    // Decrypt variants of each message, written into the output manifest.
    const path = join(out, 'manifest.json')
    const manifest = JSON.parse(readFileSync(path, 'utf8'))
    const refuse = (why: string) => ({ error: { 'error-description': why } })
    for (const algorithm of SUITES) {
      const west = manifest.tests[`mrk-west-${algorithm}`]
      const variant = (suffix: string, masterKeys: object[], result = west.result) => {
        manifest.tests[`mrk-west-${algorithm}-${suffix}`] = { ...west, 'master-keys': masterKeys, result }
      }
      variant('replica-east', [{ type: 'aws-kms-mrk-aware', key: 'us-east-1-mrk' }])
      variant('discovery-east', [discovery(EAST, FILTER)])
      variant('discovery-west-unfiltered', [discovery(WEST)])
      variant('discovery-other-account', [discovery(EAST, { partition: 'aws', 'account-ids': ['111122223333'] })], refuse('outside the discovery filter'))
      variant('strict-replica', [{ type: 'aws-kms', key: 'us-east-1-mrk' }], refuse('a strict keyring does not match a replica ARN'))
      manifest.tests[`encrypt-only-${algorithm}`].result = refuse('the key refuses Decrypt')
    }
    writeFileSync(path, JSON.stringify(manifest))

    await bothDecryptAll(path, 'the MRK / encrypt-only manifest', 28, { kms: hooks })
    // The encrypt-only key was asked, and refused: the manifest's flags are the server's permissions.
    expect(kms.calls.filter((c) => c.operation === 'Decrypt' && c.status === 400 && c.keyArn === DAFNY_KEYS.keys['us-west-2-encrypt-only']['key-id']).length).toBeGreaterThan(0)
  })

  it('a discovery description cannot encrypt: such a scenario is skipped with the reason', async () => {
    const dir = join(work, 'discovery-encrypt')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(DAFNY_KEYS))
    const tests = { d: { plaintext: 'tiny', algorithm: '0578', 'frame-size': 512, 'encryption-context': {}, 'master-keys': [discovery(WEST)] } }
    writeFileSync(join(dir, 'encrypt.json'), JSON.stringify({ manifest: { type: 'awses-encrypt', version: 2 }, keys: 'file://keys.json', plaintexts: { tiny: 10 }, tests }))
    const results = await runEncryptManifest(join(dir, 'encrypt.json'), join(dir, 'out'), { kms: hooks })
    expect(results).toEqual([{ id: 'd', status: 'skipped', reason: expect.stringContaining('cannot encrypt') }])
  })
})

describe('public KMS vectors (ciphertexts from AWS KMS)', () => {
  it('stay skipped, naming --kms-endpoint, in the default run; with a local KMS they cannot pass, and say why', async () => {
    // The full ESDK-NET 4.0.1 manifest: 99 raw-key tests and 33 aws-kms tests whose ciphertexts were not copied.
    const manifest = join(PUBLIC_VECTORS, 'esdk-net-4.0.1/manifest.json')
    const offline = await runDecryptManifest(manifest)
    expect(summarize(offline)).toEqual({ passed: 99, failed: 0, skipped: 33 })
    for (const r of offline.filter((r) => r.status === 'skipped')) expect(r.reason).toBe(NO_KMS)

    provisionManifestKeys(kms, readVectorJson('esdk-net-4.0.1', 'keys.json'))
    const local = await runDecryptManifest(manifest, { kms: hooks })
    expect(summarize(local)).toEqual({ passed: 99, failed: 33, skipped: 0 })
    for (const r of local.filter((r) => r.status === 'failed')) expect(r.reason).toMatch(/cannot read the test's files/)
  })

  it("the local KMS names the problem when handed a ciphertext blob it did not make", async () => {
    const { DecryptCommand, KMSClient } = await import('@aws-sdk/client-kms')
    const client = new KMSClient(kms.clientConfig(WEST))
    // The first bytes of an AWS KMS ciphertext blob: version 1, then a key reference this server does not know.
    const blob = new Uint8Array([1, 2, 2, 0, 0x78, ...new Uint8Array(150)])
    await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toThrow(/names no key this local KMS holds/)
    client.destroy()
  })
})
