/** CachingCmm over a KmsKeyring: real GenerateDataKey / Decrypt calls counted at the local KMS server. */
import { describe, expect, it } from 'vitest'
import { CachingCmm, createClient, KmsKeyring } from '../../src/index.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'
import { peerAllow } from '../support/peer.js'
import { getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node'

const local = useLocalKms({ keys: [{ id: 'cached-key' }] })
const client = createClient()

describe('caching KMS data keys', () => {
  it('E encrypts cost ceil(E / M) GenerateDataKey calls', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: kms.arn('cached-key'), clientProvider: localProvider(kms) })
    const cmm = new CachingCmm({ keyring, maxAge: 60_000, maxMessagesEncrypted: 4 })
    kms.resetCalls()
    for (let i = 0; i < 10; i++) await client.encrypt(cmm, `m${i}`)
    expect(kms.countCalls({ operation: 'GenerateDataKey' })).toBe(3)
  })

  it('100 concurrent encrypts on a cold cache make exactly 1 KMS call; decrypts then hit the cache', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: kms.arn('cached-key'), clientProvider: localProvider(kms) })
    const cmm = new CachingCmm({ keyring, maxAge: 60_000 })
    kms.resetCalls()
    const messages = await Promise.all(Array.from({ length: 100 }, (_, i) => client.encrypt(cmm, `m${i}`, { encryptionContext: { app: 'burst' } })))
    expect(kms.countCalls({ operation: 'GenerateDataKey' })).toBe(1)
    for (const m of messages.slice(0, 20)) await client.decrypt(cmm, m.ciphertext)
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(1)
    // And the peer's KMS keyring reads them.
    const peerKeyring = new KmsKeyringNode({ keyIds: [kms.arn('cached-key')], clientProvider: getClient(KMS, kms.clientConfig()) })
    expect((await peerAllow.decrypt(peerKeyring, messages[42]!.ciphertext)).plaintext.toString()).toBe('m42')
  })
})
