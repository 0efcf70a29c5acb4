/**
 * The canonical awses-encrypt and awses-decrypt-generate manifests (raw keys):
 * we encrypt every scenario once (beforeAll), then each chunk of the output
 * manifest is a row decrypted by our runner AND by the peer @aws-crypto/client-node,
 * so no single test runs for minutes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { summarize, summaryLine, type TestResult } from '../../src/runner/report.js'
import { peerDecryptManifest } from '../support/peer-decrypt.js'
import { PUBLIC_VECTORS } from '../support/vectors.js'

const canonical = (name: string) => join(PUBLIC_VECTORS, 'framework-canonical-manifests', name)
const NO_KMS = 'needs AWS KMS'
const PKCS1 = 'CVE-2023-46809'
/**
 * Rows per manifest, so that each row decrypts about 250 messages both ways: a few seconds idle, well
 * within the default test timeout on a loaded machine (0006's output holds about 7,100 tests).
 */
const CHUNKS_0003 = 12
const CHUNKS_0006 = 30
/** Encrypting every scenario of a manifest is one step (the runner writes one output manifest): about 20 s idle, several times that on a loaded 2-core machine. */
const ENCRYPT_TIMEOUT = 240_000

interface Generated {
  readonly encrypted: TestResult[]
  /** The ids of the output manifest's tests, in order. */
  readonly ids: string[]
  /** Output sub-manifests, one per chunk, beside the output (the ciphertext URIs are relative to it). */
  readonly chunks: string[]
}

/** Encrypts `manifest` into a fresh folder and writes `count` sub-manifests of its output manifest. */
async function generate(manifest: string, prefix: string, count: number): Promise<Generated> {
  const out = mkdtempSync(join(tmpdir(), prefix))
  const encrypted = await runEncryptManifest(canonical(manifest), out)
  const output = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { tests: Record<string, unknown> }
  const ids = Object.keys(output.tests)
  const size = Math.ceil(ids.length / count)
  const chunks = Array.from({ length: count }, (_, k) => {
    const path = join(out, `manifest-chunk-${k}.json`)
    writeFileSync(path, JSON.stringify({ ...output, tests: Object.fromEntries(ids.slice(k * size, (k + 1) * size).map((id) => [id, output.tests[id]])) }))
    return path
  })
  return { encrypted, ids, chunks }
}

const rows = (count: number) => Array.from({ length: count }, (_, k) => [k + 1, k] as const)

describe('canonical awses-encrypt v2: 2,860 raw-key scenarios encrypt, and both we and the peer decrypt them', () => {
  let g: Generated
  beforeAll(async () => {
    g = await generate('0003-awses-message-encryption.v2.json', 'envelope-encrypt-', CHUNKS_0003)
  }, ENCRYPT_TIMEOUT)

  it('every raw-key scenario encrypts; only the AWS KMS ones are skipped', () => {
    console.log(`vectors encrypt 0003: ${summaryLine(summarize(g.encrypted))}`)
    expect(summarize(g.encrypted)).toEqual({ passed: 2860, failed: 0, skipped: 440 })
    for (const r of g.encrypted.filter((r) => r.status === 'skipped')) expect(r.reason).toContain(NO_KMS)
    expect(g.ids.length).toBe(2860)
  })

  it.each(rows(CHUNKS_0003))(`output chunk %i of ${CHUNKS_0003}: we and the peer decrypt every message`, async (_n, k) => {
    const ours = await runDecryptManifest(g.chunks[k]!)
    expect(ours.length).toBeGreaterThan(0)
    expect(ours.filter((r) => r.status === 'failed')).toEqual([])
    for (const r of ours.filter((r) => r.status === 'skipped')) expect(r.reason).toContain(PKCS1)
    const peer = await peerDecryptManifest(g.chunks[k]!)
    expect(peer.failures).toEqual([])
    expect(peer.passed).toBe(ours.filter((r) => r.status === 'passed').length)
  })
})

describe('canonical awses-decrypt-generate v2: positives decrypt; every truncation, bit flip, half-signed and altered message is rejected, by us and by the peer', () => {
  let g: Generated
  beforeAll(async () => {
    g = await generate('0006-awses-message-decryption-generation.v2.json', 'envelope-generate-', CHUNKS_0006)
  }, ENCRYPT_TIMEOUT)

  it('every scenario is generated, with every truncation (n prefixes) and every bit flip (8n) of a tiny 0x0578 message', () => {
    console.log(`vectors generate 0006: ${summaryLine(summarize(g.encrypted))}`)
    expect(summarize(g.encrypted).failed).toBe(0)
    // (The truncate and mutate scenarios are separate encryptions; signature lengths may differ by a byte.)
    const truncations = g.ids.filter((id) => id.includes('-truncated-'))
    const flips = g.ids.filter((id) => id.includes('-bit-'))
    const flippedBytes = Math.max(...flips.map((id) => Number(/-byte-(\d+)-/.exec(id)![1]))) + 1
    expect(truncations.length).toBe(Math.max(...truncations.map((id) => Number(/-truncated-(\d+)$/.exec(id)![1]))) + 1)
    expect(flips.length).toBe(flippedBytes * 8)
    expect(truncations.length).toBeGreaterThan(400)
    console.log(`generated: ${truncations.length} truncations and ${flips.length} bit flips`)
  })

  it.each(rows(CHUNKS_0006))(`output chunk %i of ${CHUNKS_0006}: we and the peer reject every negative and decrypt every positive`, async (_n, k) => {
    const ours = await runDecryptManifest(g.chunks[k]!)
    expect(ours.length).toBeGreaterThan(0)
    expect(ours.filter((r) => r.status === 'failed')).toEqual([])
    // Every truncation and bit flip was run (not skipped) and rejected.
    expect(ours.filter((r) => (r.id.includes('-truncated-') || r.id.includes('-bit-')) && r.status !== 'passed')).toEqual([])
    const peer = await peerDecryptManifest(g.chunks[k]!)
    expect(peer.failures).toEqual([])
  })
})
