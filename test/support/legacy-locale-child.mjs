// @ts-check
// Runs under the locale of its environment (LANG), for the context-order test:
// `encrypt` prints a message the peer wrote with its default (locale-ordered)
// raw AES AAD; `decrypt <base64>` prints our plaintext, or the error code.
import { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node'
import { createClient, isEnvelopeError, RawAesKeyring } from '../../dist/index.js'

const key = new Uint8Array(32).fill(7)
const [mode, message = '', context = '{}'] = process.argv.slice(2)
if (mode === 'encrypt') {
  const peer = new RawAesKeyringNode({ keyNamespace: 'ns', keyName: 'k', unencryptedMasterKey: new Uint8Array(key), wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING })
  const { result } = await buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT).encrypt(peer, 'hello', { encryptionContext: JSON.parse(context) })
  console.log(Buffer.from(result).toString('base64'))
} else {
  const ours = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: key })
  try {
    console.log(new TextDecoder().decode((await createClient().decrypt(ours, Buffer.from(message, 'base64'))).plaintext))
  } catch (e) {
    console.log(isEnvelopeError(e) ? e.code : String(e))
  }
}
