/**
 * The 99 raw ECDH messages of the Dafny ESDK 4.1.0 set (decrypt-manifest.ecdh-hierarchy.json:
 * P-256/384/521, static and discovery, every suite) through the runner, one-shot and streaming,
 * on every backend. The manifest's other tests (aws-kms-hierarchy) belong to another keyring.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
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
