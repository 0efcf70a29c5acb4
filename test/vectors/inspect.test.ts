/**
 * inspectMessage over every ciphertext of every public decrypt manifest: its
 * fields against what the manifests say (suite, frame size, context, the keys
 * that decrypt) and against the peer's own header parser
 * (@aws-crypto/serialize deserializeMessageHeader, which @aws-crypto/client-node decrypts with).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { NodeAlgorithmSuite } from '@aws-crypto/material-management'
import { deserializeFactory } from '@aws-crypto/serialize'
import { describe, expect, it } from 'vitest'
import { findSuite, inspectMessage, type MessageInfo } from '../../src/index.js'
import { PUBLIC_VECTORS, readVectorJson } from '../support/vectors.js'

const peer = deserializeFactory((bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'), NodeAlgorithmSuite)

/** A key that must be among a message's EDKs, as a manifest describes it. */
interface ExpectedKey {
  readonly providerId: string
  readonly keyName: string
  readonly keyNameKind: string
}

interface Expected {
  suiteId?: number
  /** Pairs the writer's context had (stored ones must agree with them). */
  context?: Record<string, string>
  /** One of these keys is among the EDKs (the decrypting keys of a positive test). */
  keys: ExpectedKey[]
}

function* jsonFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* jsonFiles(path)
    else if (name.endsWith('.json')) yield path
  }
}

const fileUrl = (base: string, url: string) => join(base, url.replace(/^file:\/\//, ''))

/** The keys a manifest key description names, where the message must carry an EDK for one of them. */
function keysOf(description: any, keys: Record<string, any>): ExpectedKey[] {
  switch (description.type) {
    case 'raw': {
      const keyId = keys[description.key]['key-id']
      return [{ providerId: description['provider-id'], keyName: keyId, keyNameKind: description['encryption-algorithm'] === 'aes' ? 'raw-aes-key-name' : 'key-name' }]
    }
    case 'aws-kms':
      return [{ providerId: 'aws-kms', keyName: keys[description.key]['key-id'], keyNameKind: 'kms-key-arn' }]
    case 'multi-keyring':
      return [...(description.generator ? keysOf(description.generator, keys) : []), ...(description.childKeyrings ?? []).flatMap((c: any) => keysOf(c, keys))]
    case 'required-encryption-context-cmm':
      return keysOf(description.underlying, keys)
    default:
      // MRK-aware (the EDK may name a replica), discovery, ECDH, RSA and hierarchy: checked against the peer only.
      return []
  }
}

/** Every ciphertext of every awses-decrypt manifest, with what its manifest says of it (the first manifest to list a file wins). */
function vectors(): Map<string, Expected> {
  const out = new Map<string, Expected>()
  for (const path of jsonFiles(PUBLIC_VECTORS)) {
    const manifest = JSON.parse(readFileSync(path, 'utf8'))
    if (manifest?.manifest?.type !== 'awses-decrypt') continue
    const base = dirname(path)
    const keys = JSON.parse(readFileSync(fileUrl(base, manifest.keys), 'utf8')).keys
    for (const test of Object.values<any>(manifest.tests)) {
      const scenario = test['decryption-scenario'] ?? test
      const file = fileUrl(base, scenario.ciphertext)
      // The online manifests list KMS ciphertexts the vendored set does not carry (public/README.md).
      if (out.has(file) || !existsSync(file)) continue
      const expected: Expected = { keys: [] }
      // Where the manifest names the suite: a field, or the ciphertext's path (legacy: ciphertext/0014/..., .NET: 0014-ec_len_2-...).
      const suite = scenario.algorithmSuiteId ?? /(?:^|\/)([0-9a-f]{4})(?:\/|-ec_len)/i.exec(scenario.ciphertext.replace(/^file:\/\//, ''))?.[1]
      if (suite) expected.suiteId = Number.parseInt(suite, 16)
      // Not `frame-size`: the v5 manifest says 512 where every header says 4096 (public/README.md); the peer check covers it.
      if (test['encryption-context']) expected.context = test['encryption-context']
      const positive = scenario.type === 'positive-esdk' || test.result?.output !== undefined
      if (positive) {
        const descriptions = scenario.decryptKeyDescription ? [scenario.decryptKeyDescription] : (test['master-keys'] ?? [])
        expected.keys = descriptions.flatMap((d: any) => keysOf(d, keys))
      }
      out.set(file, expected)
    }
  }
  return out
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** inspectMessage's fields against the peer's parse of the same bytes. */
function sameAsPeer(bytes: Uint8Array, info: MessageInfo, file: string): void {
  const theirs = peer.deserializeMessageHeader(bytes, { maxEncryptedDataKeys: 65535 })
  if (theirs === false) throw new Error(`the peer found no complete header in ${file}`)
  const h = theirs.messageHeader
  expect({
    version: info.version,
    suiteId: info.suiteId,
    messageId: hex(info.messageId),
    contentType: info.contentType,
    frameLength: info.frameLength,
    headerLength: info.headerLength,
    signed: info.signed,
    committing: info.committing,
    encryptionContext: info.encryptionContext,
    encryptedDataKeys: info.encryptedDataKeys.map((k) => [k.providerId, hex(k.providerInfo), k.length]),
  }, file).toEqual({
    version: h.version,
    suiteId: h.suiteId,
    messageId: hex(h.messageId),
    contentType: h.contentType,
    frameLength: h.frameLength,
    headerLength: theirs.headerLength + theirs.headerAuth.headerAuthLength,
    signed: theirs.algorithmSuite.signatureCurve !== undefined,
    committing: theirs.algorithmSuite.commitment !== 'NONE',
    encryptionContext: { ...h.encryptionContext },
    encryptedDataKeys: h.encryptedDataKeys.map((k) => [k.providerId, hex(k.rawInfo ?? Buffer.from(k.providerInfo)), k.encryptedDataKey.length]),
  })
  // The peer spells suite names its own way (ALG_AES128_GCM_IV12_TAG16): ours are the spec's.
  expect(info.suiteName, file).toBe(findSuite(h.suiteId)?.name)
}

const VECTORS = vectors()

describe('inspectMessage over every public vector', () => {
  it('finds the manifests (a vector set that moved would otherwise check nothing)', () => {
    expect(VECTORS.size).toBeGreaterThan(1300)
  })

  it('agrees with the manifests and with the peer header parser on every ciphertext', () => {
    let keysChecked = 0
    let suitesChecked = 0
    for (const [file, expected] of VECTORS) {
      const bytes = new Uint8Array(readFileSync(file))
      const result = inspectMessage(bytes)
      expect(result.complete, file).toBe(true)
      const info = result as MessageInfo
      expect(info.authenticated).toBe(false)

      sameAsPeer(bytes, info, file)

      if (expected.suiteId !== undefined) {
        expect(info.suiteId, file).toBe(expected.suiteId)
        suitesChecked++
      }
      if (expected.context) {
        for (const [k, v] of Object.entries(info.encryptionContext)) if (k !== 'aws-crypto-public-key') expect(v, `${file} ${k}`).toBe(expected.context[k])
      }
      if (expected.keys.length > 0) {
        const found = info.encryptedDataKeys.map((k) => ({ providerId: k.providerId, keyName: k.keyName, keyNameKind: k.keyNameKind }))
        expect(found.some((f) => expected.keys.some((e) => e.providerId === f.providerId && e.keyName === f.keyName && e.keyNameKind === f.keyNameKind)), file).toBe(true)
        keysChecked++
      }
    }
    console.log(`inspectMessage: ${VECTORS.size} ciphertexts, ${suitesChecked} with a suite and ${keysChecked} with a key named in their manifest`)
    // Most vectors name their suite and a raw or KMS key; a parsing change that drops them would show here.
    expect(suitesChecked).toBeGreaterThan(1300)
    expect(keysChecked).toBeGreaterThan(1100)
  })

  it('agrees with the peer on the static messages (the C SDK\'s and the commitment vectors), accepting and refusing the same ones', () => {
    const statics = [
      ...readVectorJson('static', 'c-decryption-vectors.json').cases.map((c: any) => [c.id, c.ciphertext_b64, c.message?.suite_id]),
      ...readVectorJson('static', 'c-test-data.json').cases.map((c: any) => [c.id, c.ciphertext_b64, c.message?.suite_id]),
      ...readVectorJson('static', 'commitment-test-vectors.json').tests.map((t: any, i: number) => [`commitment-${i}`, t.ciphertext, undefined, t['message-id']]),
    ] as [string, string, string | undefined, string | undefined][]
    expect(statics).toHaveLength(97)
    let parsed = 0
    for (const [id, b64, suite, messageId] of statics) {
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'))
      let info: MessageInfo | undefined
      let ours: unknown
      try {
        const result = inspectMessage(bytes)
        info = result.complete ? result : undefined
      } catch (e) {
        ours = e
      }
      if (!info) {
        // Refused (or cut short) here: the peer must not parse it either.
        let theirs: unknown = false
        try {
          theirs = peer.deserializeMessageHeader(bytes, { maxEncryptedDataKeys: 65535 })
        } catch (e) {
          theirs = e
        }
        expect(theirs === false || theirs instanceof Error, `${id}: ours ${String(ours)}, the peer parsed it`).toBe(true)
        continue
      }
      parsed++
      sameAsPeer(bytes, info, id)
      if (suite) expect(info.suiteId, id).toBe(Number.parseInt(suite, 16))
      if (messageId) expect(Buffer.from(info.messageId).toString('base64'), id).toBe(messageId)
    }
    expect(parsed).toBeGreaterThan(90)
  })
})
