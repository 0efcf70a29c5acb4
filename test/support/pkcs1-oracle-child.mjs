// @ts-check
// Runs under `node --security-revert=CVE-2023-46809`: decrypts the messages on stdin with the node
// backend of the built package and prints how each attempt ended (test/package/rsa-pkcs1-revert.test.ts).
import { readFileSync } from 'node:fs'
import { createClient, RawRsaKeyring } from '../../dist/index.js'

const { privateKey, messages } = JSON.parse(readFileSync(0, 'utf8'))
const keyring = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'pkcs1', privateKey })
const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
/** @type {Record<string, unknown>} */
const outcomes = {}
for (const [name, base64] of Object.entries(messages)) {
  outcomes[name] = await client.decrypt(keyring, Buffer.from(base64, 'base64')).then(
    () => 'decrypted',
    (e) => ({ class: e.constructor.name, code: e.code, message: e.message, stage: e.stage, attempts: e.attempts }),
  )
}
console.log(JSON.stringify(outcomes))
