/**
 * The canonical awses-encrypt and awses-decrypt-generate manifests (raw keys):
 * we encrypt every scenario, then the output manifest is decrypted by our
 * runner AND by the peer @aws-crypto/client-node.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { summarize, summaryLine } from '../../src/runner/report.js'
import { peerDecryptManifest } from '../support/peer-decrypt.js'
import { PUBLIC_VECTORS } from '../support/vectors.js'

const canonical = (name: string) => join(PUBLIC_VECTORS, 'framework-canonical-manifests', name)
const NO_KMS = 'needs AWS KMS'
const PKCS1 = 'CVE-2023-46809'
/** Each run encrypts thousands of messages and both implementations decrypt every one: about a minute on a shared 2-core machine. */
const HEAVY_TIMEOUT = 240_000

describe('canonical manifests', () => {
  it('awses-encrypt v2: 2,860 raw-key scenarios encrypt, and both we and the peer decrypt them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'envelope-encrypt-'))
    const encrypted = await runEncryptManifest(canonical('0003-awses-message-encryption.v2.json'), out)
    console.log(`vectors encrypt 0003: ${summaryLine(summarize(encrypted))}`)
    expect(summarize(encrypted)).toEqual({ passed: 2860, failed: 0, skipped: 440 })
    for (const r of encrypted.filter((r) => r.status === 'skipped')) expect(r.reason).toContain(NO_KMS)

    const ours = await runDecryptManifest(join(out, 'manifest.json'))
    console.log(`our decrypt of 0003 output: ${summaryLine(summarize(ours))}`)
    expect(ours.filter((r) => r.status === 'failed')).toEqual([])
    for (const r of ours.filter((r) => r.status === 'skipped')) expect(r.reason).toContain(PKCS1)

    const peer = await peerDecryptManifest(join(out, 'manifest.json'))
    console.log(`peer decrypt of 0003 output: ${peer.passed} passed, ${peer.failed} failed, ${peer.skipped} skipped`)
    expect(peer.failures).toEqual([])
    expect(peer.passed).toBe(ours.filter((r) => r.status === 'passed').length)
  }, HEAVY_TIMEOUT)

  it('awses-decrypt-generate v2: positives decrypt; every truncation, bit flip, half-signed and altered message is rejected, by us and by the peer', async () => {
    const out = mkdtempSync(join(tmpdir(), 'envelope-generate-'))
    const generated = await runEncryptManifest(canonical('0006-awses-message-decryption-generation.v2.json'), out)
    console.log(`vectors generate 0006: ${summaryLine(summarize(generated))}`)
    expect(summarize(generated).failed).toBe(0)

    const ours = await runDecryptManifest(join(out, 'manifest.json'))
    const summary = summarize(ours)
    console.log(`our decrypt of 0006 output: ${summaryLine(summary)}`)
    expect(summary.failed).toBe(0)
    // Every truncation (n prefixes) and every bit flip (8n) of a tiny 0x0578 message is there, and rejected.
    // (The truncate and mutate scenarios are separate encryptions; signature lengths may differ by a byte.)
    const truncations = ours.filter((r) => r.id.includes('-truncated-'))
    const flips = ours.filter((r) => r.id.includes('-bit-'))
    const flippedBytes = Math.max(...flips.map((r) => Number(/-byte-(\d+)-/.exec(r.id)![1]))) + 1
    expect(truncations.length).toBe(Math.max(...truncations.map((r) => Number(/-truncated-(\d+)$/.exec(r.id)![1]))) + 1)
    expect(flips.length).toBe(flippedBytes * 8)
    expect(truncations.length).toBeGreaterThan(400)
    console.log(`rejected: ${truncations.length} truncations and ${flips.length} bit flips`)
    expect([...truncations, ...flips].every((r) => r.status === 'passed')).toBe(true)

    const peer = await peerDecryptManifest(join(out, 'manifest.json'))
    console.log(`peer decrypt of 0006 output: ${peer.passed} passed, ${peer.failed} failed, ${peer.skipped} skipped`)
    expect(peer.failures).toEqual([])
  }, HEAVY_TIMEOUT)
})
