// @ts-check
// Runs under `node --security-revert=CVE-2023-46809`: proves the PKCS#1 v1.5 path both ways with the peer.
import { constants, generateKeyPairSync } from 'node:crypto'
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from '@aws-crypto/client-node'
import { ALL_SUITES, createClient, RawRsaKeyring } from '../../dist/index.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
const ours = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'legacy', padding: 'pkcs1', ...rsa })
const peerKeyring = new RawRsaKeyringNode({ keyNamespace: 'rsa', keyName: 'legacy', rsaKey: rsa, padding: constants.RSA_PKCS1_PADDING })
const result = { ours: 'ok', peerToOurs: 'ok', oursToPeer: 'ok', suites: 0 }
for (const suite of ALL_SUITES) {
  const policy = suite.committing ? 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT'
  const client = createClient({ commitmentPolicy: policy })
  const peer = buildClient(CommitmentPolicy[policy])
  const text = `pkcs1 ${suite.name}`
  const mine = await client.encrypt(ours, text, { suiteId: suite.id })
  if (new TextDecoder().decode((await client.decrypt(ours, mine.ciphertext)).plaintext) !== text) result.ours = 'mismatch'
  if ((await peer.decrypt(peerKeyring, mine.ciphertext)).plaintext.toString() !== text) result.oursToPeer = 'mismatch'
  const theirs = await peer.encrypt(peerKeyring, text, { suiteId: suite.id })
  if (new TextDecoder().decode((await client.decrypt(ours, theirs.result)).plaintext) !== text) result.peerToOurs = 'mismatch'
  result.suites++
}
console.log(JSON.stringify(result))
