// @ts-check
// Runs under `node --security-revert=CVE-2023-46809`: one Wycheproof RSAES-PKCS1-v1_5 file on the
// node backend (built dist/), with the checks of test/wycheproof/rsa.test.ts. Prints a JSON tally.
import { readFileSync } from 'node:fs'
import { createDecryptionMaterials, EnvelopeError, findSuite, RawRsaKeyring } from '../../dist/index.js'
import { nodeBackend } from '../../dist/crypto/index.js'

/** @typedef {{ tcId: number, comment: string, result: 'valid' | 'invalid' | 'acceptable', ct: string, msg: string }} WycheproofTest */

const SUITE_FOR_LENGTH = new Map([[16, 0x0014], [24, 0x0046], [32, 0x0078]])
/** @param {Uint8Array | undefined} bytes */
const toHex = (bytes) => (bytes ? Buffer.from(bytes).toString('hex') : undefined)
/** @param {number} suiteId */
function materials(suiteId) {
  const suite = findSuite(suiteId)
  if (!suite) throw new Error(`no suite ${suiteId}`)
  return createDecryptionMaterials({ suite, encryptionContext: {}, requiredEncryptionContextKeys: [], verificationKey: undefined })
}

const path = process.argv[2]
if (!path) throw new Error('usage: wycheproof-pkcs1-child.mjs <wycheproof json>')
/** @type {{ testGroups: { privateKeyPem: string, tests: WycheproofTest[] }[] }} */
const file = JSON.parse(readFileSync(path, 'utf8'))
/** @type {{ run: { valid: number, invalid: number }, failures: string[] }} */
const result = { run: { valid: 0, invalid: 0 }, failures: [] }
for (const group of file.testGroups) {
  const key = nodeBackend.importRsaPrivateKey(group.privateKeyPem)
  const keyring = new RawRsaKeyring({ keyNamespace: 'wycheproof', keyName: 'key', privateKey: group.privateKeyPem, padding: 'pkcs1' })
  for (const test of group.tests) {
    /** @param {string} what */
    const fail = (what) => result.failures.push(`tcId ${test.tcId} (${test.result}; ${test.comment}): ${what}`)
    if (test.result !== 'valid' && test.result !== 'invalid') {
      fail('acceptable without a decision')
      continue
    }
    result.run[test.result]++
    const ciphertext = new Uint8Array(Buffer.from(test.ct, 'hex'))
    let plaintext
    try {
      plaintext = await nodeBackend.rsaDecrypt(key, 'pkcs1', ciphertext)
    } catch {
      // Refused: the class and text are not asserted (one indistinguishable failure, spec/keyrings.md).
    }
    if (test.result === 'valid' && toHex(plaintext) !== test.msg) fail(`decrypted to ${toHex(plaintext)}`)
    if (test.result === 'invalid' && plaintext !== undefined) fail(`decrypted to ${toHex(plaintext)}`)

    const suite = test.result === 'valid' ? SUITE_FOR_LENGTH.get(test.msg.length / 2) : 0x0078
    if (suite === undefined) continue
    const edk = { providerId: 'wycheproof', providerInfo: new TextEncoder().encode('key'), ciphertext }
    const unwrap = () => keyring.onDecrypt(materials(suite), [edk], { backend: nodeBackend })
    try {
      const first = await unwrap()
      if (test.result === 'valid') {
        if (toHex(first.plaintextDataKey) !== test.msg) fail(`keyring unwrapped ${toHex(first.plaintextDataKey)}`)
      } else {
        // Implicit rejection, as on the pure-JS backend (spec/backends.md#pkcs1-v15-without-a-padding-oracle):
        // a bad block yields a random key of the expected length, a different one each time.
        const second = await unwrap()
        if (first.plaintextDataKey?.length !== 32 || toHex(first.plaintextDataKey) === toHex(second.plaintextDataKey)) fail('implicit rejection gave a fixed key')
      }
    } catch (error) {
      if (test.result === 'valid' || !(error instanceof EnvelopeError)) fail(`keyring threw ${error?.constructor?.name}`)
    }
  }
}
console.log(JSON.stringify(result))
