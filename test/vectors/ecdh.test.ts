/**
 * The 99 raw ECDH messages of the Dafny ESDK 4.1.0 set (decrypt-manifest.ecdh-hierarchy.json:
 * P-256/384/521, static and discovery, every suite) through the runner, one-shot and streaming,
 * on every backend. The manifest's other tests (aws-kms-hierarchy) belong to another keyring. The
 * 99 raw ECDH scenarios of encrypt-manifest.json go through the encrypt runner and back.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { runEncryptManifest } from '../../src/runner/encrypt.js'
import { BACKENDS } from '../support/backends.js'
import { PUBLIC_VECTORS, readVectorJson } from '../support/vectors.js'

const MANIFEST = 'dafny-esdk-4.1.0-via-c/decrypt-manifest.ecdh-hierarchy.json'
const tests = Object.entries<any>(readVectorJson(MANIFEST).tests)
const rawEcdh = new Set(tests.filter(([, t]) => t['decryption-scenario'].decryptKeyDescription.type === 'raw-ecdh').map(([id]) => id))

describe.each(BACKENDS)('raw ECDH vectors on the %s backend', (_name, backend) => {
  it('all 99 decrypt', async () => {
    expect(rawEcdh.size).toBe(99)
    const results = await runDecryptManifest(join(PUBLIC_VECTORS, MANIFEST), { backend, filter: new RegExp(`^(${[...rawEcdh].join('|')})$`) })
    expect(results.filter((r) => r.status !== 'passed')).toEqual([])
    expect(results).toHaveLength(99)
  })
})

describe('raw ECDH encrypt scenarios', () => {
  it('the 99 of encrypt-manifest.json (ephemeral and static senders) encrypt, and the output decrypts', async () => {
    const manifest = readVectorJson('dafny-esdk-4.1.0-via-c/encrypt-manifest.json')
    const chosen = Object.fromEntries(Object.entries<any>(manifest.tests).filter(([, t]) => t['encryption-scenario'].encryptKeyDescription.type === 'raw-ecdh'))
    expect(Object.keys(chosen)).toHaveLength(99)
    const work = mkdtempSync(join(tmpdir(), 'envelope-raw-ecdh-'))
    mkdirSync(join(work, 'in'))
    writeFileSync(join(work, 'in', 'keys.json'), JSON.stringify(readVectorJson('dafny-esdk-4.1.0-via-c/keys.json')))
    writeFileSync(join(work, 'in', 'manifest.json'), JSON.stringify({ ...manifest, tests: chosen }))
    const encrypted = await runEncryptManifest(join(work, 'in', 'manifest.json'), join(work, 'out'))
    expect(encrypted.filter((r) => r.status !== 'passed')).toEqual([])
    const decrypted = await runDecryptManifest(join(work, 'out', 'manifest.json'))
    expect(decrypted.filter((r) => r.status !== 'passed')).toEqual([])
    expect(decrypted).toHaveLength(99)
  })
})
