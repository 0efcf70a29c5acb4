/**
 * RSA PKCS#1 v1.5 on node:crypto where it allows the padding: Node 20 only with
 * --security-revert=CVE-2023-46809, which a running process cannot turn on, so these run the built
 * package in a child process (the in-process cases, and what Node 20 without the flag does, are
 * test/unit/rsa-pkcs1.test.ts).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { nobleBackend } from '../../src/crypto/noble.js'
import { pkcs1NodeArgs } from '../support/helpers.js'
import { pkcs1Oracle } from '../support/pkcs1-oracle.js'

describe('RSA PKCS#1 v1.5', () => {
  it('where node allows it (Node 20 with --security-revert=CVE-2023-46809; child process on the built package): decrypts ours and the peer’s', () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'dist/ missing: npm test builds it first (npm run build)').toBe(true)
    const script = fileURLToPath(new URL('../support/pkcs1-child.mjs', import.meta.url))
    const output = execFileSync(process.execPath, [...pkcs1NodeArgs(), script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({ ours: 'ok', peerToOurs: 'ok', oursToPeer: 'ok', suites: 11 })
  })
})

describe('RSA PKCS#1 v1.5: no padding oracle on any backend', () => {
  const { privateKey, messages, outcomes, expectNoOracle } = pkcs1Oracle()

  it('node:crypto where it allows the padding (child process on the built package): the same outcomes as pure JS', async () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'dist/ missing: npm test builds it first (npm run build)').toBe(true)
    const all = await messages()
    const script = fileURLToPath(new URL('../support/pkcs1-oracle-child.mjs', import.meta.url))
    const output = execFileSync(process.execPath, [...pkcs1NodeArgs(), script], {
      encoding: 'utf8',
      input: JSON.stringify({ privateKey, messages: all }),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const node = JSON.parse(output.trim().split('\n').at(-1)!)
    expectNoOracle(node)
    expect(node).toEqual(await outcomes(nobleBackend, all))
  })
})
