/**
 * RSA PKCS#1 v1.5. Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809)
 * unless started with --security-revert=CVE-2023-46809; Node 24 (OpenSSL with
 * implicit rejection) allows it and has no such flag. Where node refuses, we
 * raise a typed error naming the remedy; where it allows (with the flag on 20,
 * in a child process: test/package/rsa-pkcs1-revert.test.ts), the path works and
 * interoperates with the peer both ways.
 */
import { describe, expect, it } from 'vitest'
import { createClient, RawRsaKeyring, UnsupportedError } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { createWebCryptoBackend } from '../../src/crypto/webcrypto.js'
import { nodeRefusesPkcs1 } from '../support/helpers.js'
import { rsaKeyPair } from '../support/keys.js'
import { pkcs1Oracle } from '../support/pkcs1-oracle.js'

const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const refuses = nodeRefusesPkcs1()

describe('RSA PKCS#1 v1.5', () => {
  it('where node refuses the padding (Node 20 without the flag): a typed error that names the CVE and the remedy; elsewhere it decrypts', async () => {
    const keyring = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'legacy', padding: 'pkcs1', ...rsaKeyPair() })
    const { ciphertext } = await client.encrypt(keyring, 'legacy data')
    if (!refuses) {
      expect(new TextDecoder().decode((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('legacy data')
      return
    }
    const err = await client.decrypt(keyring, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(UnsupportedError)
    expect(err.code).toBe('ERR_UNSUPPORTED')
    expect(err.message).toContain('CVE-2023-46809')
    expect(err.message).toContain('--security-revert=CVE-2023-46809')
    expect(err.message).toMatch(/OAEP/)
  })
})

/**
 * The three blocks of a Bleichenbacher oracle (issue 14 item 1), each put in
 * place of the EDK of a real message: every backend must fail all three the
 * same way (same class, code, message, stage), the node backend included,
 * under the revert flag that lets it decrypt PKCS#1 v1.5 at all.
 */
describe('RSA PKCS#1 v1.5: no padding oracle on any backend', () => {
  const { messages, outcomes, expectNoOracle } = pkcs1Oracle()

  it('pure JS and WebCrypto (+ pure JS for PKCS#1): the three blocks fail alike, at header authentication', async () => {
    const all = await messages()
    const noble = await outcomes(nobleBackend, all)
    expectNoOracle(noble)
    expect(await outcomes(createWebCryptoBackend(), all)).toEqual(noble)
  })

  it('node:crypto where it refuses the padding: one environment error for every message, good or crafted; elsewhere the outcomes of pure JS', async () => {
    const all = await messages()
    const node = await outcomes(nodeBackend, all)
    if (!refuses) {
      expectNoOracle(node)
      expect(node).toEqual(await outcomes(nobleBackend, all))
      return
    }
    const errors = new Set(Object.values(node).map((o) => JSON.stringify(o)))
    expect(errors.size).toBe(1)
    expect(JSON.parse([...errors][0]!)).toMatchObject({ class: 'UnsupportedError', code: 'ERR_UNSUPPORTED' })
  })
})
