/**
 * Rewrap against the peer (@aws-crypto/client-node): for every unsigned suite with key derivation,
 * framed and non-framed, the message is written (framed: by the peer, v1 and v2;
 * non-framed, which the peer cannot write: by envelope-sdk), envelope-sdk
 * rewraps it, and the peer decrypts the result with the new keys only.
 */
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, MultiKeyring, RawAesKeyring, RawRsaKeyring } from '../../src/index.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'
import { MultiKeyringNode, peerAesKeyring, peerAllow, peerForbid, peerRsaKeyring } from '../support/peer.js'

const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const requireBoth = createClient()

const oldKey = aesKey(32)
const newKey = aesKey(16)
const rsa = rsaKeyPair()
const ours = {
  old: new RawAesKeyring({ keyNamespace: 'interop', keyName: 'old', wrappingKey: oldKey }),
  // multi: a raw AES generator and an RSA child, wrapping the one data key.
  to: new MultiKeyring({
    generator: new RawAesKeyring({ keyNamespace: 'interop', keyName: 'new', wrappingKey: newKey }),
    children: [new RawRsaKeyring({ keyNamespace: 'interop-rsa', keyName: 'rsa', padding: 'oaep-sha256', publicKey: rsa.publicKey })],
  }),
}
const peer = {
  old: () => peerAesKeyring('interop', 'old', oldKey),
  newAes: () => peerAesKeyring('interop', 'new', newKey),
  rsa: () => peerRsaKeyring('interop-rsa', 'rsa', 'oaep-sha256', rsa),
}

const cases = ALL_SUITES.filter((s) => !s.signature && s.kdf === 'hkdf').flatMap((suite) => [0, 512].map((frameLength) => [suite.name, frameLength, suite] as const))

describe('envelope-sdk rewraps, the peer decrypts with the new keys', () => {
  it.each(cases)('%s frameLength=%i', async (_n, frameLength, suite) => {
    const peerClient = suite.committing ? peerAllow : peerForbid
    const client = suite.committing ? requireBoth : forbid
    const plaintext = patterned(2000)
    const encryptionContext = { who: 'peer' }
    const message =
      frameLength === 0
        ? (await client.encrypt(ours.old, plaintext, { suiteId: suite.id, frameLength, encryptionContext })).ciphertext
        : new Uint8Array((await peerClient.encrypt(peer.old(), plaintext, { suiteId: suite.id as never, frameLength, encryptionContext })).result)
    const { ciphertext } = await client.rewrap(message, { from: ours.old, to: ours.to })

    for (const keyring of [peer.newAes(), peer.rsa()]) {
      const { plaintext: out, messageHeader } = await peerClient.decrypt(keyring, ciphertext)
      expect(new Uint8Array(out)).toEqual(plaintext)
      expect(messageHeader.encryptedDataKeys.map((k) => k.providerInfo.startsWith('new') ? 'new' : k.providerInfo)).toEqual(['new', 'rsa'])
      expect(messageHeader.encryptionContext).toEqual({ who: 'peer' })
    }
    // The old key is gone from the message: the peer cannot decrypt with it.
    await expect(peerClient.decrypt(peer.old(), ciphertext)).rejects.toThrow()
    // And the peer accepts a multi-keyring holding both new keys.
    const both = new MultiKeyringNode({ children: [peer.rsa(), peer.newAes()] })
    expect(new Uint8Array((await peerClient.decrypt(both, ciphertext)).plaintext)).toEqual(plaintext)
  })
})
