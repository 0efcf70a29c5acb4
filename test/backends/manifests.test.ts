/**
 * The public awses-decrypt manifests (as in test/vectors/manifests.test.ts)
 * through the runner with the pure-JS and WebCrypto backends: one-shot and
 * streaming, every test passing, none skipped. PKCS#1 v1.5 runs in pure JS
 * here, so unlike node:crypto on Node 20 nothing needs --security-revert.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDecryptManifest } from '../../src/runner/decrypt.js'
import { summarize } from '../../src/runner/report.js'
import type { CryptoBackend } from '../../src/index.js'
import { OTHER_BACKENDS } from '../support/backends.js'
import { PUBLIC_DECRYPT_MANIFESTS, PUBLIC_VECTORS } from '../support/vectors.js'

const MANIFESTS = PUBLIC_DECRYPT_MANIFESTS

describe.each(OTHER_BACKENDS)('public decrypt manifests with the %s backend', (_name, backend) => {
  it.each(MANIFESTS)('%s: all %i tests', async (manifest, count) => {
    const results = await runDecryptManifest(join(PUBLIC_VECTORS, manifest), { backend })
    const { passed, failed, skipped } = summarize(results)
    expect(results.filter((r) => r.status !== 'passed').slice(0, 5)).toEqual([])
    expect([passed, failed, skipped]).toEqual([count, 0, 0])
  })
})

it('the runner decrypts with the backend it is given (a counting wrapper sees every frame)', async () => {
  const [, noble] = OTHER_BACKENDS[0]!
  let opened = 0
  const counting: CryptoBackend = { ...noble, name: 'counting', gcmOpen: (...args) => (opened++, noble.gcmOpen(...args)) }
  const results = await runDecryptManifest(join(PUBLIC_VECTORS, MANIFESTS[3][0]), { backend: counting })
  expect(summarize(results).passed).toBe(5)
  expect(opened).toBeGreaterThan(5 * 2)
  // And a backend whose tag checks all fail makes every test fail: the backend is really in the path.
  const failing: CryptoBackend = { ...noble, name: 'failing', gcmOpen: () => undefined }
  expect(summarize(await runDecryptManifest(join(PUBLIC_VECTORS, MANIFESTS[3][0]), { backend: failing })).failed).toBe(5)
})
