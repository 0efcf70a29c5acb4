/**
 * Rewrap with KMS keyrings through the real @aws-sdk/client-kms against the
 * local KMS server: raw AES -> KMS, KMS -> KMS (key rotation), and the peer
 * decrypting the result with its own KMS keyring.
 */
import { KmsKeyringNode } from '@aws-crypto/client-node'
import { describe, expect, it } from 'vitest'
import { createClient, inspectMessage, KmsDiscoveryKeyring, KmsKeyring, KmsMrkKeyring, RawAesKeyring, type MessageInfo } from '../../src/index.js'
import { aesKey, patterned } from '../support/keys.js'
import { localProvider, peerClient, useLocalKms } from '../support/local-kms.js'
import { peerAllow } from '../support/peer.js'

const WEST = 'us-west-2'
const EAST = 'us-east-1'
const local = useLocalKms({
  keys: [
    { id: 'key-old', regions: [WEST] },
    { id: 'key-new', regions: [WEST] },
    { id: 'key-east', regions: [EAST] },
    { id: 'mrk-rewrap', regions: [WEST, EAST] },
  ],
})
const arn = (id: string, region = WEST) => `arn:aws:kms:${region}:111122223333:key/${id}`
const client = createClient()
const raw = new RawAesKeyring({ keyNamespace: 'rewrap', keyName: 'raw', wrappingKey: aesKey(32) })
const info = (message: Uint8Array) => inspectMessage(message) as MessageInfo
const plaintext = patterned(10_000)

describe('rewrap with KMS', () => {
  it('raw AES -> KMS (generator and a second key): one Encrypt per key, a new message id, the peer decrypts', async () => {
    const kms = local()
    const { ciphertext } = await client.encrypt(raw, plaintext, { encryptionContext: { tenant: 't' }, suiteId: 0x0478 })
    const to = new KmsKeyring({ generatorKeyId: arn('key-new'), keyIds: [arn('key-east', EAST)], clientProvider: localProvider(kms) })
    kms.resetCalls()
    const { ciphertext: out } = await client.rewrap(ciphertext, { from: raw, to })
    expect(kms.calls.map((c) => [c.operation, c.keyArn])).toEqual([
      ['Encrypt', arn('key-new')],
      ['Encrypt', arn('key-east', EAST)],
    ])
    expect(info(out).encryptedDataKeys.map((k) => [k.keyNameKind, k.keyName])).toEqual([
      ['kms-key-arn', arn('key-new')],
      ['kms-key-arn', arn('key-east', EAST)],
    ])
    expect(info(out).messageId).not.toEqual(info(ciphertext).messageId)
    // Each KMS key alone decrypts, in envelope-sdk and in the peer; the raw key no longer does.
    for (const keyId of [arn('key-new'), arn('key-east', EAST)]) {
      const only = new KmsKeyring({ keyIds: [keyId], clientProvider: localProvider(kms) })
      expect(new Uint8Array((await client.decrypt(only, out)).plaintext)).toEqual(plaintext)
    }
    const peer = new KmsKeyringNode({ keyIds: [arn('key-new')], clientProvider: () => peerClient(kms) })
    const fromPeer = await peerAllow.decrypt(peer, out)
    expect(new Uint8Array(fromPeer.plaintext)).toEqual(plaintext)
    await expect(client.decrypt(raw, out)).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_KEY' })
  })

  it('KMS -> KMS key rotation: one Decrypt, one Encrypt; the old key no longer decrypts', async () => {
    const kms = local()
    const provider = localProvider(kms)
    const oldKeyring = new KmsKeyring({ generatorKeyId: arn('key-old'), clientProvider: provider })
    const { ciphertext } = await client.encrypt(oldKeyring, plaintext, { suiteId: 0x0478, frameLength: 1000 })
    kms.resetCalls()
    const { ciphertext: out } = await client.rewrap(ciphertext, { from: new KmsDiscoveryKeyring({ clientProvider: provider }), to: new KmsMrkKeyring({ keyId: arn('mrk-rewrap'), clientProvider: provider }) })
    expect(kms.calls.map((c) => c.operation)).toEqual(['Decrypt', 'Encrypt'])
    expect(new Uint8Array((await client.decrypt(new KmsMrkKeyring({ keyId: arn('mrk-rewrap', EAST), clientProvider: provider }), out)).plaintext)).toEqual(plaintext)
    await expect(client.decrypt(oldKeyring, out)).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_KEY' })
  })

  it('a discovery keyring as `to` cannot wrap: ERR_KEYRING', async () => {
    const kms = local()
    const { ciphertext } = await client.encrypt(raw, 'x', { suiteId: 0x0478 })
    await expect(client.rewrap(ciphertext, { from: raw, to: new KmsDiscoveryKeyring({ clientProvider: localProvider(kms) }) })).rejects.toMatchObject({ code: 'ERR_KEYRING' })
  })
})
