/**
 * The 11 `aws-kms-hierarchy` messages of the Dafny ESDK 4.1.0 set (one per suite,
 * static branch key `static-branch-key-1`), through the runner: one-shot and streaming.
 * The rest of that manifest is raw ECDH, run once the ECDH keyring exists.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { PUBLIC_VECTORS } from '../support/vectors.js'

const MANIFEST = join(PUBLIC_VECTORS, 'dafny-esdk-4.1.0-via-c/decrypt-manifest.ecdh-hierarchy.json')

it('every hierarchy message of the Dafny 4.1.0 set decrypts, one per suite', async () => {
  const tests = JSON.parse(readFileSync(MANIFEST, 'utf8')).tests as Record<string, any>
  const ids = Object.keys(tests).filter((id) => tests[id]['decryption-scenario'].decryptKeyDescription.type === 'aws-kms-hierarchy')
  expect(ids).toHaveLength(11)
  expect(new Set(ids.map((id) => tests[id]['decryption-scenario'].algorithmSuiteId)).size).toBe(11)
  const results = await runDecryptManifest(MANIFEST, { filter: new RegExp(`^(${ids.join('|')})$`) })
  expect(results.map((r) => r.status === 'passed' ? r.id : `${r.id}: ${r.status} ${'reason' in r ? r.reason : ''}`).sort()).toEqual([...ids].sort())
})
