/**
 * Wycheproof RSA-OAEP and RSAES-PKCS1-v1_5 decryption, at two levels:
 * - each backend's rsaDecrypt (pure-JS rsa.ts with der.ts reading the key, crypto.subtle for OAEP
 *   behind WebCrypto, OpenSSL for node): a valid ciphertext decrypts to its message, an invalid one
 *   is refused, never answered with bytes;
 * - the raw RSA keyring's unwrap (what decrypt calls): an invalid ciphertext is an EnvelopeError,
 *   and a valid one whose message is 16, 24 or 32 bytes is that data key.
 * Failure messages and classes below the keyring are not asserted: every RSA unwrap failure is meant
 * to look the same (spec/keyrings.md, no padding oracle).
 *
 * node:crypto on Node 20 refuses PKCS#1 v1.5 decryption unless run with
 * --security-revert=CVE-2023-46809, so the PKCS#1 files run on node in a child process with that
 * flag (test/support/wycheproof-pkcs1-child.mjs, on the built dist/).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { CryptoBackend, RsaPadding } from '../../src/crypto/backend.js'
import { EnvelopeError } from '../../src/errors.js'
import { findSuite } from '../../src/format/suites.js'
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa.js'
import { createDecryptionMaterials } from '../../src/materials/materials.js'
import { BACKENDS } from '../support/backends.js'
import { WYCHEPROOF_VECTORS } from '../support/vectors.js'
import { hexToBytes } from '../support/helpers.js'
import { describeError, expectation, readWycheproof, Tally, toHex } from './support.js'

/** The interface has no OAEP label and the library never sets one: labelled vectors are skipped and counted. */
const LABEL_SKIP = 'OAEP label: the library never uses one'
/** A suite per data key length, for the keyring-level check. */
const SUITE_FOR_LENGTH: Record<number, number> = { 16: 0x0014, 24: 0x0046, 32: 0x0078 }
const AES_256_SUITE = 0x0078

const materials = (suiteId: number) =>
  createDecryptionMaterials({ suite: findSuite(suiteId)!, encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
const edk = (ciphertext: Uint8Array) => ({ providerId: 'wycheproof', providerInfo: new TextEncoder().encode('key'), ciphertext })

/**
 * Backends that answer a bad PKCS#1 v1.5 block with a random data key of the expected length
 * (spec/backends.md#pkcs1-v15-without-a-padding-oracle): there the keyring "succeeds" with a key
 * nobody knows, and the message fails header authentication later. The decision for an invalid
 * PKCS#1 vector on them: a key of the right length that differs between two unwraps, or an EnvelopeError.
 */
const IMPLICIT_REJECTION = new Set(['node', 'noble', 'webcrypto'])

async function run(name: string, backend: CryptoBackend, file: string, padding: RsaPadding): Promise<Tally> {
  const tally = new Tally()
  for (const group of readWycheproof(file).testGroups) {
    const key = backend.importRsaPrivateKey(group.privateKeyPem)
    const keyring = new RawRsaKeyring({ keyNamespace: 'wycheproof', keyName: 'key', privateKey: group.privateKeyPem, padding })
    for (const test of group.tests) {
      if (test.label) {
        tally.skip(LABEL_SKIP)
        continue
      }
      const want = expectation(test)
      if (want === undefined) {
        tally.fail(test, 'acceptable without a decision')
        continue
      }
      tally.ran(test)
      const ciphertext = hexToBytes(test.ct)
      let plaintext: Uint8Array | undefined
      let refused: unknown
      try {
        plaintext = await backend.rsaDecrypt(key, padding, ciphertext)
      } catch (error) {
        refused = error ?? 'undefined'
      }
      if (want === 'accept' && toHex(plaintext) !== test.msg) tally.fail(test, `decrypted to ${toHex(plaintext)} (${refused ? describeError(refused) : 'no error'})`)
      if (want === 'reject' && plaintext !== undefined) tally.fail(test, `decrypted to ${toHex(plaintext)}`)

      const suite = want === 'accept' ? SUITE_FOR_LENGTH[test.msg.length / 2] : AES_256_SUITE
      if (suite === undefined) continue
      const unwrap = () => keyring.onDecrypt(materials(suite), [edk(ciphertext)], { backend })
      try {
        const first = await unwrap()
        if (want === 'accept') {
          if (toHex(first.plaintextDataKey) !== test.msg) tally.fail(test, `keyring unwrapped ${toHex(first.plaintextDataKey)}`)
        } else if (!(padding === 'pkcs1' && IMPLICIT_REJECTION.has(name))) {
          tally.fail(test, 'keyring unwrapped a key')
        } else {
          const second = await unwrap()
          if (first.plaintextDataKey?.length !== 32 || toHex(first.plaintextDataKey) === toHex(second.plaintextDataKey)) tally.fail(test, 'implicit rejection gave a fixed key')
        }
      } catch (error) {
        if (want === 'accept' || !(error instanceof EnvelopeError)) tally.fail(test, `keyring threw ${describeError(error)}`)
      }
    }
  }
  return tally
}

/** File, padding, and valid / invalid tests run and labelled ones skipped. */
const OAEP = [
  ['rsa_oaep_2048_sha1_mgf1sha1_test.json', 'oaep-sha1', 10, 19, 7],
  ['rsa_oaep_2048_sha256_mgf1sha256_test.json', 'oaep-sha256', 10, 19, 8],
  ['rsa_oaep_2048_sha384_mgf1sha384_test.json', 'oaep-sha384', 10, 18, 6],
  ['rsa_oaep_2048_sha512_mgf1sha512_test.json', 'oaep-sha512', 10, 19, 4],
  ['rsa_oaep_3072_sha256_mgf1sha256_test.json', 'oaep-sha256', 10, 19, 8],
  ['rsa_oaep_4096_sha256_mgf1sha256_test.json', 'oaep-sha256', 10, 19, 8],
  ['rsa_oaep_4096_sha512_mgf1sha512_test.json', 'oaep-sha512', 10, 19, 7],
] as const
const PKCS1 = [
  ['rsa_pkcs1_2048_test.json', 42, 25],
  ['rsa_pkcs1_3072_test.json', 41, 26],
  ['rsa_pkcs1_4096_test.json', 41, 26],
] as const

describe.each(BACKENDS)('Wycheproof RSA on the %s backend', (name, backend) => {
  it.each(OAEP)('%s', async (file, padding, valid, invalid, labelled) => {
    const tally = await run(name, backend, file, padding)
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid, invalid, acceptable: 0 }, skipped: labelled ? { [LABEL_SKIP]: labelled } : {} })
  })

  // Skipped on node only here: the child process below runs them there, with the flag Node 20 needs.
  it.skipIf(name === 'node').each(PKCS1)('%s', async (file, valid, invalid) => {
    const tally = await run(name, backend, file, 'pkcs1')
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid, invalid, acceptable: 0 }, skipped: {} })
  })
})

describe('Wycheproof RSA PKCS#1 v1.5 on the node backend (--security-revert=CVE-2023-46809)', () => {
  it.each(PKCS1)('%s', (file, valid, invalid) => {
    const script = join(import.meta.dirname, '..', 'support', 'wycheproof-pkcs1-child.mjs')
    const out = execFileSync(process.execPath, ['--security-revert=CVE-2023-46809', script, join(WYCHEPROOF_VECTORS, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    // node prints a security warning for the flag first; the tally is the last line.
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ run: { valid, invalid }, failures: [] })
  })
})
