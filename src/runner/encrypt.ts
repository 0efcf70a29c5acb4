/**
 * awses-encrypt (v1, v2) and awses-decrypt-generate (v1, v2) manifests
 * (spec/conformance.md): encrypt every scenario, apply tampering, and write an
 * awses-decrypt manifest that any implementation can run against the output.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, DefaultCmm, type Cmm, type Keyring } from '../index.js'
import { nodeBackend } from '../crypto/node.js'
import { writeUint16 } from '../format/bytes.js'
import { toBase64, utf8Encode } from '../encoding.js'
import { PUBLIC_KEY_CONTEXT_KEY } from '../format/constants.js'
import { encodeEncryptionContext } from '../format/encryption-context.js'
import { decodeHeader, encodeHeaderBody } from '../format/header.js'
import { getSuite } from '../format/suites.js'
import type { EncryptionRequest } from '../materials/cmm.js'
import type { KeyringServices } from '../materials/keyring.js'
import type { SigningKey } from '../crypto/backend.js'
import { parseKeyArn } from '../keyrings/kms/arn.js'
import { keyringForDescription, keyringForMasterKeys, parseKeysManifest, type KeyMap, type KmsHooks } from './keys.js'
import { kmsHooks } from './kms.js'
import { runPool, type TestResult } from './report.js'
import { openManifest } from './source.js'
import type { ZipLimits } from './zip.js'

/** `maxZipEntrySize` and `maxZipTotalSize` bound what a .zip manifest inflates to (spec/conformance.md#zip-limits). */
export interface EncryptRunOptions extends ZipLimits {
  readonly filter?: string
  readonly concurrency?: number
  /** KMS for the aws-kms scenarios (kmsHooks in kms.ts); without it they are skipped. */
  readonly kms?: KmsHooks
  /** Shorthand for `kms: kmsHooks({ endpoint })`, e.g. the local KMS's endpoint; `kms` wins when both are given. */
  readonly kmsEndpoint?: string
  /** Called once, before the first scenario, with the number of scenarios that will run. */
  readonly onStart?: (total: number) => void
  /** Called with each vector's result as it finishes. */
  readonly onResult?: (result: TestResult) => void
}

interface Scenario {
  readonly plaintext: string
  readonly algorithm: string
  readonly 'frame-size': number
  readonly 'encryption-context': Record<string, string>
  readonly 'master-keys': any[]
}

interface OutputTest {
  readonly ciphertext: string
  readonly 'master-keys': any[]
  readonly 'decryption-method'?: string
  readonly result: { output: { plaintext: string } } | { error: { 'error-description': string } }
}

const CLIENT = { name: 'envelope-sdk', version: '0.1.0' }

function clientFor(suiteId: number) {
  return createClient({ commitmentPolicy: getSuite(suiteId).committing ? 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
}

/**
 * Half-signing: materials for an unsigned suite that nevertheless carry a
 * signing key, with its public key in the context, and a footer appended. A
 * conformant decryptor must reject the result.
 */
class HalfSignCmm implements Cmm {
  signingKey: SigningKey | undefined
  readonly #inner: DefaultCmm
  constructor(keyring: Keyring) {
    this.#inner = new DefaultCmm(keyring)
  }
  async getEncryptionMaterials(request: EncryptionRequest, context: KeyringServices) {
    this.signingKey = await context.backend.generateSigningKey('P-384')
    const encryptionContext = { ...request.encryptionContext, [PUBLIC_KEY_CONTEXT_KEY]: toBase64(this.signingKey.publicKey) }
    return this.#inner.getEncryptionMaterials({ ...request, encryptionContext }, context)
  }
  decryptMaterials(): never {
    throw new Error('encrypt only')
  }
}

async function encryptScenario(scenario: Scenario, keyring: Keyring, plaintext: Uint8Array, tampering: unknown): Promise<Uint8Array> {
  const suiteId = parseInt(scenario.algorithm, 16)
  const options = { suiteId, frameLength: scenario['frame-size'], encryptionContext: scenario['encryption-context'] }
  if (tampering === 'half-sign') {
    const cmm = new HalfSignCmm(keyring)
    const { ciphertext } = await clientFor(suiteId).encrypt(cmm, plaintext, options)
    const signer = nodeBackend.createSigner(cmm.signingKey!, 'sha384')
    await signer.update(ciphertext)
    const signature = await signer.sign()
    const footer = new Uint8Array(2 + signature.length)
    writeUint16(footer, 0, signature.length)
    footer.set(signature, 2)
    return new Uint8Array([...ciphertext, ...footer])
  }
  return (await clientFor(suiteId).encrypt(keyring, plaintext, options)).ciphertext
}

/** Rewrites the provider info of each EDK in turn; the header tag no longer matches. */
function changeProviderInfo(message: Uint8Array, infos: readonly string[]): Uint8Array {
  const decoded = decodeHeader(message, { maxEncryptedDataKeys: 65535, maxHeaderSize: 1 << 24 })
  if ('needed' in decoded) throw new Error('incomplete header')
  const { header, suite } = decoded
  const edks = header.encryptedDataKeys.map((edk, i) => ({ ...edk, providerInfo: i < infos.length ? utf8Encode(infos[i]!) : edk.providerInfo }))
  const body = encodeHeaderBody({ ...header, suite, encryptedDataKeys: edks, serializedContext: encodeEncryptionContext(header.encryptionContext) })
  return new Uint8Array([...body, ...message.subarray(decoded.headerBodyLength)])
}

/** Each tampered variant as [suffix, bytes]. */
function* tamper(message: Uint8Array, tampering: unknown): Generator<[string, Uint8Array]> {
  if (tampering === 'truncate') {
    for (let n = 0; n < message.length; n++) yield [`truncated-${n}`, message.subarray(0, n)]
  } else if (tampering === 'mutate') {
    for (let i = 0; i < message.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = new Uint8Array(message)
        copy[i]! ^= 1 << bit
        yield [`byte-${i}-bit-${bit}`, copy]
      }
    }
  } else if (typeof tampering === 'object' && tampering !== null && 'change-edk-provider-info' in tampering) {
    yield ['provider-info', changeProviderInfo(message, (tampering as Record<string, string[]>)['change-edk-provider-info']!)]
  }
}

/**
 * Rewrites, in place, the `key-id` of every aws-kms entry that names an alias
 * (or a bare key id) to the key ARN it names, as the ESDK test-vector
 * handlers do when they write a keys manifest: a strict KMS keyring matches
 * encrypted data keys by key ARN only, so an alias in the output keys
 * manifest could never decrypt. Returns, per entry name, why a key could not
 * be resolved; scenarios that use such a key fail with that reason.
 */
async function nameKmsKeysByArn(keysJson: any, kms: KmsHooks | undefined): Promise<Map<string, string>> {
  const unresolved = new Map<string, string>()
  if (!kms?.resolveKeyArn) return unresolved
  for (const [name, entry] of Object.entries<any>(keysJson.keys ?? {})) {
    const keyId = entry?.['key-id']
    if (entry?.type !== 'aws-kms' || typeof keyId !== 'string' || parseKeyArn(keyId)) continue
    try {
      entry['key-id'] = await kms.resolveKeyArn(keyId)
    } catch (e) {
      unresolved.set(name, `cannot name ${keyId} by its key ARN for keys.json: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return unresolved
}

/** One test of an awses-decrypt v5 manifest (the MPL's format). */
interface OutputTestV5 {
  readonly 'decryption-scenario': Record<string, unknown>
}

/**
 * One scenario of an awses-encrypt v5 manifest (the MPL's: keyring descriptions, a
 * `positive-esdk` scenario per test), written as the matching awses-decrypt v5 test.
 */
async function encryptV5(id: string, test: any, keys: KeyMap, kms: KmsHooks | undefined, plaintexts: ReadonlyMap<string, Uint8Array>, outDir: string, out: Record<string, OutputTestV5>): Promise<TestResult> {
  const scenario = test['encryption-scenario']
  if (scenario?.type !== 'positive-esdk') return { id, status: 'skipped', reason: `awses-encrypt v5 scenario type ${JSON.stringify(scenario?.type)} is not supported by envelope-sdk` }
  const built = keyringForDescription(scenario.encryptKeyDescription, keys, 'encrypt', kms)
  if ('skip' in built) return { id, status: 'skipped', reason: built.skip }
  const plaintext = plaintexts.get(scenario.plaintext)
  if (!plaintext) return { id, status: 'failed', reason: `unknown plaintext ${scenario.plaintext}` }
  const suiteId = parseInt(scenario.algorithmSuiteId, 16)
  let message: Uint8Array
  try {
    const options = { suiteId, frameLength: scenario['frame-size'], encryptionContext: scenario['encryption-context'] }
    message = (await clientFor(suiteId).encrypt(built.keyring, plaintext, options)).ciphertext
  } catch (e) {
    return { id, status: 'failed', reason: `encrypt: ${(e as Error).message}` }
  }
  writeFileSync(join(outDir, 'ciphertexts', id), message)
  out[id] = {
    'decryption-scenario': {
      type: 'positive-esdk',
      ciphertext: `file://ciphertexts/${id}`,
      result: `file://plaintexts/${scenario.plaintext}`,
      algorithmSuiteId: scenario.algorithmSuiteId,
      'frame-size': scenario['frame-size'],
      description: scenario.description,
      decryptKeyDescription: scenario.decryptKeyDescription,
      'reproduced-encryption-context': scenario['reproduced-encryption-context'],
    },
  }
  return { id, status: 'passed' }
}

/**
 * Runs an awses-encrypt or awses-decrypt-generate manifest and writes
 * `outDir/manifest.json` (awses-decrypt), `keys.json`, `plaintexts/` and `ciphertexts/`.
 * @example
 * ```ts
 * await runEncryptManifest('0003-awses-message-encryption.v2.json', 'out/')
 * ```
 * @throws {Error} a manifest that cannot be read (a failing vector is a result, not a throw).
 */
export async function runEncryptManifest(path: string, outDir: string, options: EncryptRunOptions = {}): Promise<TestResult[]> {
  const source = await openManifest(path, options)
  const { manifest } = source
  const type = manifest.manifest?.type
  const version = manifest.manifest?.version
  const generate = type === 'awses-decrypt-generate'
  const v5 = type === 'awses-encrypt' && version === 5
  if (!(type === 'awses-encrypt' || generate) || !([1, 2].includes(version) || v5)) {
    throw new Error(`${path}: not an awses-encrypt manifest v1/v2/v5 or awses-decrypt-generate manifest v1/v2 (${JSON.stringify(manifest.manifest)})`)
  }
  const keysJson = await source.readJson(manifest.keys)
  const keys = parseKeysManifest(keysJson)
  const kms = options.kms ?? (options.kmsEndpoint !== undefined ? kmsHooks({ endpoint: options.kmsEndpoint }) : undefined)
  const unresolved = await nameKmsKeysByArn(keysJson, kms)
  mkdirSync(join(outDir, 'plaintexts'), { recursive: true })
  mkdirSync(join(outDir, 'ciphertexts'), { recursive: true })
  writeFileSync(join(outDir, 'keys.json'), JSON.stringify(keysJson, null, 2))

  const plaintexts = new Map<string, Uint8Array>()
  for (const [name, size] of Object.entries<number>(manifest.plaintexts)) {
    const bytes = nodeBackend.randomBytes(size)
    plaintexts.set(name, bytes)
    writeFileSync(join(outDir, 'plaintexts', name), bytes)
  }

  const tests = Object.entries<any>(manifest.tests).filter(([id]) => options.filter === undefined || id.includes(options.filter))
  const outputTests: Record<string, OutputTest> = {}
  const outputTestsV5: Record<string, OutputTestV5> = {}
  options.onStart?.(tests.length)
  const results = await runPool(tests, options.concurrency ?? 4, async ([id, test]): Promise<TestResult> => {
    if (v5) return encryptV5(id, test, keys, kms, plaintexts, outDir, outputTestsV5)
    const scenario: Scenario = generate ? test['encryption-scenario'] : test
    const built = keyringForMasterKeys(scenario['master-keys'], keys, 'encrypt', kms)
    if ('skip' in built) return { id, status: 'skipped', reason: built.skip }
    const unnamed = [...scenario['master-keys'], ...(test['decryption-master-keys'] ?? [])].map((mk) => unresolved.get(mk.key)).find(Boolean)
    if (unnamed) return { id, status: 'failed', reason: unnamed }
    const plaintext = plaintexts.get(scenario.plaintext)
    if (!plaintext) return { id, status: 'failed', reason: `unknown plaintext ${scenario.plaintext}` }
    let message: Uint8Array
    try {
      message = await encryptScenario(scenario, built.keyring as Keyring, plaintext, test.tampering)
    } catch (e) {
      return { id, status: 'failed', reason: `encrypt: ${(e as Error).message}` }
    }
    const decryptKeys = test['decryption-master-keys'] ?? scenario['master-keys']
    const method = test['decryption-method']
    const expectedError = test.result?.error
    const write = (name: string, bytes: Uint8Array, result: OutputTest['result']) => {
      writeFileSync(join(outDir, 'ciphertexts', name), bytes)
      outputTests[name] = { ciphertext: `file://ciphertexts/${name}`, 'master-keys': decryptKeys, ...(method ? { 'decryption-method': method } : {}), result }
    }
    if (test.tampering === undefined || test.tampering === 'half-sign') {
      const result = expectedError
        ? { error: expectedError }
        : test.tampering === 'half-sign'
          ? { error: { 'error-description': 'unsigned suite carrying a signing key and a signature (half-signed)' } }
          : { output: { plaintext: `file://plaintexts/${scenario.plaintext}` } }
      write(id, message, result)
    } else {
      for (const [suffix, bytes] of tamper(message, test.tampering)) {
        write(`${id}-${suffix}`, bytes, { error: { 'error-description': `tampered: ${suffix}` } })
      }
    }
    return { id, status: 'passed' }
  }, options.onResult)

  const anyMethod = Object.values(outputTests).some((t) => t['decryption-method'] !== undefined)
  const out = v5
    ? { manifest: { type: 'awses-decrypt', version: 5 }, client: CLIENT, keys: 'file://keys.json', tests: outputTestsV5 }
    : { manifest: { type: 'awses-decrypt', version: anyMethod ? 3 : 2 }, client: CLIENT, keys: 'file://keys.json', tests: outputTests }
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(out, null, 2))
  return results
}
