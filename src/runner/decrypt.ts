/**
 * Runs an awses-decrypt manifest, versions 1 to 5 (spec/conformance.md).
 * Each test decrypts one-shot and through the incremental decryptor in
 * chunks, unless the test asks for `streaming-unsigned-only`.
 */
import { createClient, EnvelopeError, LimitError, RequiredEncryptionContextCmm, UnsupportedError, type Cmm, type Keyring } from '../index.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { nodeBackend } from '../crypto/node.js'
import { toCmm } from '../materials/cmm.js'
import { IncrementalDecryptor } from '../core/decryptor.js'
import { concatBytes, equalBytes } from '../format/bytes.js'
import { keyringForDescription, keyringForMasterKeys, parseKeysManifest, type KeyMap, type KmsHooks, type ResolvedKeyring } from './keys.js'
import { kmsHooks } from './kms.js'
import { runPool, type TestResult } from './report.js'
import { openManifest, type ManifestSource } from './source.js'
import type { ZipLimits } from './zip.js'

/** `maxZipEntrySize` and `maxZipTotalSize` bound what a .zip manifest inflates to (spec/conformance.md#zip-limits). */
export interface DecryptRunOptions extends ZipLimits {
  /** Only tests whose id contains this text (or matches this expression). */
  readonly filter?: string | RegExp
  readonly concurrency?: number
  /** KMS for the KMS key descriptions (kmsHooks in kms.ts); without it those tests are skipped. */
  readonly kms?: KmsHooks
  /** Shorthand for `kms: kmsHooks({ endpoint })`, e.g. the local KMS's endpoint; `kms` wins when both are given. */
  readonly kmsEndpoint?: string
  /** Chunk size for the streaming pass. */
  readonly chunkSize?: number
  /** Called once, before the first test, with the number of tests that will run. */
  readonly onStart?: (total: number) => void
  /** Called with each vector's result as it finishes. */
  readonly onResult?: (result: TestResult) => void
  /** The crypto backend to decrypt with (spec/backends.md); default node:crypto. */
  readonly backend?: CryptoBackend
}

interface DecryptTest {
  readonly id: string
  readonly ciphertext: string
  /** URI of the expected plaintext, or undefined when an error is expected. */
  readonly plaintext: string | undefined
  readonly resolved: ResolvedKeyring
  readonly reproducedContext: Record<string, string> | undefined
  readonly method: 'streaming-unsigned-only' | undefined
}

function clientFor(backend: CryptoBackend) {
  const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend })
  const settings = { backend, commitmentPolicy: client.commitmentPolicy, maxEncryptedDataKeys: client.maxEncryptedDataKeys, maxHeaderSize: client.maxHeaderSize }
  return { client, settings }
}
type Decrypting = ReturnType<typeof clientFor>
const nodeDecrypting = clientFor(nodeBackend)

function parseTests(source: ManifestSource, keys: KeyMap, kms: KmsHooks | undefined): DecryptTest[] {
  const { manifest } = source
  const version = manifest.manifest?.version
  if (manifest.manifest?.type !== 'awses-decrypt' || ![1, 2, 3, 4, 5].includes(version)) {
    throw new Error(`${source.name}: not an awses-decrypt manifest version 1-5 (${JSON.stringify(manifest.manifest)})`)
  }
  return Object.entries<any>(manifest.tests).map(([id, test]) => {
    if (version === 5) {
      const scenario = test['decryption-scenario']
      const negative = scenario.type !== 'positive-esdk'
      return {
        id,
        ciphertext: scenario.ciphertext,
        plaintext: negative ? undefined : scenario.result,
        resolved: keyringForDescription(scenario.decryptKeyDescription, keys, 'decrypt', kms),
        reproducedContext: scenario['reproduced-encryption-context'],
        method: scenario['decryption-method'],
      }
    }
    const plaintext = version === 1 ? test.plaintext : test.result?.output?.plaintext
    let resolved = keyringForMasterKeys(test['master-keys'] ?? [], keys, 'decrypt', kms)
    const reproducedContext = test['encryption-context']
    if (test.cmm === 'RequiredEncryptionContext' && 'keyring' in resolved) {
      resolved = { keyring: requiredContextCmm(resolved.keyring, Object.keys(reproducedContext ?? {})) }
    }
    return { id, ciphertext: test.ciphertext, plaintext, resolved, reproducedContext, method: test['decryption-method'] }
  })
}

function requiredContextCmm(keyring: Keyring | Cmm, keys: string[]): Cmm {
  return new RequiredEncryptionContextCmm(typeof (keyring as Cmm).decryptMaterials === 'function' ? { cmm: keyring as Cmm, requiredEncryptionContextKeys: keys } : { keyring: keyring as Keyring, requiredEncryptionContextKeys: keys })
}

/** Decrypts through the incremental core, pushing `chunkSize` bytes at a time. */
async function decryptInChunks(keyring: Keyring | Cmm, ciphertext: Uint8Array, options: { encryptionContext?: Record<string, string>; unsignedOnly?: boolean }, chunkSize: number, { settings }: Decrypting): Promise<Uint8Array> {
  const decryptor = new IncrementalDecryptor(toCmm(keyring), settings, options)
  const out: Uint8Array[] = []
  for (let o = 0; o < ciphertext.length; o += chunkSize) out.push(...(await decryptor.push(ciphertext.subarray(o, o + chunkSize))))
  out.push(...(await decryptor.end()))
  return concatBytes(out)
}

async function runTest(test: DecryptTest, source: ManifestSource, chunkSize: number, using: Decrypting): Promise<TestResult> {
  const { client } = using
  if ('skip' in test.resolved) return { id: test.id, status: 'skipped', reason: test.resolved.skip }
  const keyring = test.resolved.keyring
  let ciphertext: Uint8Array
  let expected: Uint8Array | undefined
  try {
    ciphertext = await source.read(test.ciphertext)
    expected = test.plaintext === undefined ? undefined : await source.read(test.plaintext)
  } catch (e) {
    // The archive's budget is spent: every later test would fail alike, so the run stops.
    if (e instanceof LimitError && e.limit === 'maxZipTotalSize') throw e
    // Published sets sometimes leave out files (e.g. the offline copies omit KMS ciphertexts).
    return { id: test.id, status: 'failed', reason: `cannot read the test's files: ${(e as Error).message}` }
  }
  const options = { encryptionContext: test.reproducedContext }
  const modes: [string, () => Promise<Uint8Array>][] =
    test.method === 'streaming-unsigned-only'
      ? [['streaming-unsigned-only', () => decryptInChunks(keyring, ciphertext, { ...options, unsignedOnly: true }, chunkSize, using)]]
      : [
          ['one-shot', async () => (await client.decrypt(keyring, ciphertext, options)).plaintext],
          ['streaming', () => decryptInChunks(keyring, ciphertext, options, chunkSize, using)],
        ]
  for (const [mode, run] of modes) {
    let plaintext: Uint8Array
    try {
      plaintext = await run()
    } catch (e) {
      if (expected === undefined && e instanceof EnvelopeError) continue
      if (expected !== undefined && e instanceof UnsupportedError) return { id: test.id, status: 'skipped', reason: e.message }
      return { id: test.id, status: 'failed', reason: `${mode}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` }
    }
    if (expected === undefined) return { id: test.id, status: 'failed', reason: `${mode}: decrypted, but the manifest expects an error` }
    if (!equalBytes(plaintext, expected)) return { id: test.id, status: 'failed', reason: `${mode}: plaintext differs from the expected one` }
  }
  return { id: test.id, status: 'passed' }
}

/**
 * Runs every vector of an awses-decrypt manifest (a file or a zip) and returns one result each.
 * @example
 * ```ts
 * console.log(summaryLine(summarize(await runDecryptManifest('manifest.json'))))
 * ```
 * @throws {Error} a manifest that cannot be read (a failing vector is a result, not a throw).
 */
export async function runDecryptManifest(path: string, options: DecryptRunOptions = {}): Promise<TestResult[]> {
  const source = await openManifest(path, options)
  const keysUri = source.manifest.keys
  const keys = parseKeysManifest(await source.readJson(keysUri))
  const { filter } = options
  const kms = options.kms ?? (options.kmsEndpoint !== undefined ? kmsHooks({ endpoint: options.kmsEndpoint }) : undefined)
  const tests = parseTests(source, keys, kms).filter((t) =>
    filter === undefined ? true : typeof filter === 'string' ? t.id.includes(filter) : filter.test(t.id),
  )
  const chunkSize = options.chunkSize ?? 997
  const using = options.backend ? clientFor(options.backend) : nodeDecrypting
  options.onStart?.(tests.length)
  return runPool(tests, options.concurrency ?? 4, (t) => runTest(t, source, chunkSize, using), options.onResult)
}
