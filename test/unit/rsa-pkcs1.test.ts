/**
 * RSA PKCS#1 v1.5. Node refuses PKCS#1 v1.5 private decryption (CVE-2023-46809)
 * unless started with --security-revert=CVE-2023-46809. Without the flag we
 * raise a typed error naming the remedy; with it, in a child process, the path
 * works and interoperates with the peer both ways.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createClient, RawRsaKeyring, UnsupportedError } from '../../src/index.js'
import { rsaKeyPair } from '../support/keys.js'

const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })

describe('RSA PKCS#1 v1.5', () => {
  it('without the revert flag: a typed error that names the CVE and the remedy', async () => {
    const keyring = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'legacy', padding: 'pkcs1', ...rsaKeyPair() })
    const { ciphertext } = await client.encrypt(keyring, 'legacy data')
    const err = await client.decrypt(keyring, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(UnsupportedError)
    expect(err.code).toBe('ERR_UNSUPPORTED')
    expect(err.message).toContain('CVE-2023-46809')
    expect(err.message).toContain('--security-revert=CVE-2023-46809')
    expect(err.message).toMatch(/OAEP/)
  })

  it('with --security-revert=CVE-2023-46809 (child process on the built package): decrypts ours and the peer’s', () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'dist/ missing: npm test builds it first (npm run build)').toBe(true)
    const script = fileURLToPath(new URL('../support/pkcs1-child.mjs', import.meta.url))
    const output = execFileSync(process.execPath, ['--security-revert=CVE-2023-46809', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({ ours: 'ok', peerToOurs: 'ok', oursToPeer: 'ok', suites: 11 })
  })
})
