/**
 * KMS keyrings through the real @aws-sdk/client-kms, over HTTP, against the
 * local KMS server this file starts on an ephemeral loopback port.
 */
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { getClient, KMS, KmsKeyringNode, AwsKmsMrkAwareSymmetricKeyringNode, AwsKmsMrkAwareSymmetricDiscoveryKeyringNode } from '@aws-crypto/client-node'
import { describe, expect, it } from 'vitest'
import {
  buildKmsMrkDiscoveryMultiKeyring,
  buildKmsMrkStrictMultiKeyring,
  createClient,
  KmsDiscoveryKeyring,
  KmsError,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  KmsMrkKeyring,
  MultiKeyring,
  NoMatchingKeyError,
} from '../../src/index.js'
import { peerAllow } from '../support/peer.js'
import { localProvider, peerClient, useLocalKms } from '../support/local-kms.js'

const WEST = 'us-west-2'
const EAST = 'us-east-1'
const ACCOUNT = '111122223333'
const OTHER_ACCOUNT = '444455556666'

const local = useLocalKms({
  keys: [
    { id: 'key-west', regions: [WEST], aliases: ['alias/app'] },
    { id: 'key-east', regions: [EAST] },
    { id: 'mrk-0123456789', regions: [WEST, EAST] },
    { id: 'key-other-account', account: OTHER_ACCOUNT, regions: [WEST] },
    { id: 'key-encrypt-only', regions: [WEST], operations: ['Encrypt', 'GenerateDataKey'] },
    { id: 'key-to-disable', regions: [WEST] },
  ],
})
const arn = (id: string, region = WEST, account = ACCOUNT) => `arn:aws:kms:${region}:${account}:key/${id}`
const client = createClient()
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('KmsKeyring (strict)', () => {
  it('generates with the generator, wraps with every key, and each key alone decrypts', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-west'), keyIds: [arn('key-east', EAST), arn('key-other-account', WEST, OTHER_ACCOUNT)], clientProvider })
    kms.resetCalls()
    const { ciphertext, header } = await client.encrypt(keyring, 'kms secret', { encryptionContext: { tenant: 't1' } })
    expect(header.encryptedDataKeys.map((e) => e.providerId)).toEqual(['aws-kms', 'aws-kms', 'aws-kms'])
    expect(header.encryptedDataKeys.map((e) => text(e.providerInfo))).toEqual([arn('key-west'), arn('key-east', EAST), arn('key-other-account', WEST, OTHER_ACCOUNT)])
    expect(kms.countCalls({ operation: 'GenerateDataKey' })).toBe(1)
    expect(kms.countCalls({ operation: 'Encrypt' })).toBe(2)
    for (const keyId of [arn('key-west'), arn('key-east', EAST), arn('key-other-account', WEST, OTHER_ACCOUNT)]) {
      const single = new KmsKeyring({ keyIds: [keyId], clientProvider })
      expect(text((await client.decrypt(single, ciphertext)).plaintext)).toBe('kms secret')
    }
  })

  it('binds the encryption context in KMS: the EDK does not decrypt without it', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-west'), clientProvider: localProvider(kms) })
    const { header } = await client.encrypt(keyring, 'x', { encryptionContext: { tenant: 't1' } })
    const raw = new KMSClient(kms.clientConfig(WEST))
    const edk = header.encryptedDataKeys[0]!
    await expect(raw.send(new DecryptCommand({ CiphertextBlob: edk.ciphertext }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' })
    const ec = { ...header.encryptionContext }
    const ok = await raw.send(new DecryptCommand({ CiphertextBlob: edk.ciphertext, EncryptionContext: ec }))
    expect(ok.KeyId).toBe(arn('key-west'))
  })

  it('resolves an alias on encrypt and records the key ARN KMS returns', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: `arn:aws:kms:${WEST}:${ACCOUNT}:alias/app`, clientProvider: localProvider(kms) })
    const { header } = await client.encrypt(keyring, 'x')
    expect(text(header.encryptedDataKeys[0]!.providerInfo)).toBe(arn('key-west'))
  })

  it('only tries EDKs of its configured keys, and lists each key it tried with KMS’s error', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const { ciphertext } = await client.encrypt(new KmsKeyring({ generatorKeyId: arn('key-encrypt-only'), keyIds: [arn('key-east', EAST)], clientProvider }), 'x')
    kms.resetCalls()
    const unrelated = new KmsKeyring({ keyIds: [arn('key-west')], clientProvider })
    const err = await client.decrypt(unrelated, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(0)
    const denied = new KmsKeyring({ keyIds: [arn('key-encrypt-only')], clientProvider })
    const err2 = await client.decrypt(denied, ciphertext).catch((e) => e)
    expect(err2.attempts[0]).toMatchObject({ keyName: arn('key-encrypt-only'), reason: expect.stringContaining('AccessDeniedException') })
  })

  it('rejects malformed identifiers and empty configurations', () => {
    expect(() => new KmsKeyring({ generatorKeyId: 'arn:aws:kms:us-west-2:key/abc' })).toThrow(TypeError)
    expect(() => new KmsKeyring({ keyIds: ['a:b'] })).toThrow(TypeError)
    expect(() => new KmsKeyring({})).toThrow(TypeError)
  })
})

describe('discovery keyrings', () => {
  it('decrypt any aws-kms EDK, within a partition and account filter', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const { ciphertext } = await client.encrypt(new KmsKeyring({ generatorKeyId: arn('key-other-account', WEST, OTHER_ACCOUNT), clientProvider }), 'found')
    expect(text((await client.decrypt(new KmsDiscoveryKeyring({ clientProvider }), ciphertext)).plaintext)).toBe('found')
    const filtered = new KmsDiscoveryKeyring({ clientProvider, discoveryFilter: { partition: 'aws', accountIds: [OTHER_ACCOUNT] } })
    expect(text((await client.decrypt(filtered, ciphertext)).plaintext)).toBe('found')
    const excluded = new KmsDiscoveryKeyring({ clientProvider, discoveryFilter: { partition: 'aws', accountIds: [ACCOUNT] } })
    const err = await client.decrypt(excluded, ciphertext).catch((e) => e)
    expect(err.attempts[0].reason).toBe('outside the discovery filter')
    await expect(client.encrypt(new KmsDiscoveryKeyring({ clientProvider }), 'x')).rejects.toMatchObject({ code: 'ERR_KEYRING' })
  })
})

describe('multi-region keys', () => {
  it('a message wrapped by the west replica decrypts with the east replica, calling KMS in the east', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const { ciphertext } = await client.encrypt(new KmsMrkKeyring({ keyId: arn('mrk-0123456789', WEST), clientProvider }), 'replicated')
    kms.resetCalls()
    const east = new KmsMrkKeyring({ keyId: arn('mrk-0123456789', EAST), clientProvider })
    expect(text((await client.decrypt(east, ciphertext)).plaintext)).toBe('replicated')
    expect(kms.countCalls({ operation: 'Decrypt', region: EAST })).toBe(1)
    expect(kms.countCalls({ operation: 'Decrypt', region: WEST })).toBe(0)
    // A plain strict keyring does not treat replicas as the same key.
    await expect(client.decrypt(new KmsKeyring({ keyIds: [arn('mrk-0123456789', EAST)], clientProvider }), ciphertext)).rejects.toBeInstanceOf(NoMatchingKeyError)
  })

  it('the MRK discovery keyring rewrites MRKs to its region and skips single-region keys elsewhere', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const mrkMessage = await client.encrypt(new KmsMrkKeyring({ keyId: arn('mrk-0123456789', WEST), clientProvider }), 'mrk')
    const eastDiscovery = new KmsMrkDiscoveryKeyring({ region: EAST, clientProvider })
    expect(text((await client.decrypt(eastDiscovery, mrkMessage.ciphertext)).plaintext)).toBe('mrk')
    const westOnly = await client.encrypt(new KmsKeyring({ generatorKeyId: arn('key-west'), clientProvider }), 'west')
    const err = await client.decrypt(eastDiscovery, westOnly.ciphertext).catch((e) => e)
    expect(err.attempts[0].reason).toContain('single-region key in us-west-2')
    const multi = buildKmsMrkDiscoveryMultiKeyring({ regions: [EAST, WEST], clientProvider })
    expect(text((await client.decrypt(multi, westOnly.ciphertext)).plaintext)).toBe('west')
  })

  it('the strict MRK multi-keyring builder rejects replicas of one key', () => {
    expect(() => buildKmsMrkStrictMultiKeyring({ generatorKeyId: arn('mrk-0123456789', WEST), keyIds: [arn('mrk-0123456789', EAST)] })).toThrow(/replicas/)
    expect(buildKmsMrkStrictMultiKeyring({ generatorKeyId: arn('mrk-0123456789', WEST), keyIds: [arn('key-east', EAST)] })).toBeInstanceOf(MultiKeyring)
  })
})

describe('interoperability with @aws-crypto/client-node KMS keyrings', () => {
  it('KmsKeyringNode both ways', async () => {
    const kms = local()
    const peerKeyring = new KmsKeyringNode({ generatorKeyId: arn('key-west'), keyIds: [arn('key-east', EAST)], clientProvider: getClient(KMS, kms.clientConfig()) })
    const ours = new KmsKeyring({ generatorKeyId: arn('key-west'), keyIds: [arn('key-east', EAST)], clientProvider: localProvider(kms) })
    const fromPeer = await peerAllow.encrypt(peerKeyring, 'from peer', { encryptionContext: { a: 'b' } })
    expect(text((await client.decrypt(ours, fromPeer.result)).plaintext)).toBe('from peer')
    const fromUs = await client.encrypt(ours, 'from us', { encryptionContext: { a: 'b' } })
    expect((await peerAllow.decrypt(peerKeyring, fromUs.ciphertext)).plaintext.toString()).toBe('from us')
  })

  it('MRK replicas in two regions and discovery, both ways', async () => {
    const kms = local()
    const peerWest = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: arn('mrk-0123456789', WEST), client: peerClient(kms, WEST) })
    const peerEastDiscovery = new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: peerClient(kms, EAST), discoveryFilter: { partition: 'aws', accountIDs: [ACCOUNT] } })
    const peerDiscoveryNoFilter = new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: peerClient(kms, EAST) })
    const oursEast = new KmsMrkKeyring({ keyId: arn('mrk-0123456789', EAST), clientProvider: localProvider(kms) })
    const oursDiscovery = new KmsMrkDiscoveryKeyring({ region: EAST, clientProvider: localProvider(kms), discoveryFilter: { partition: 'aws', accountIds: [ACCOUNT] } })

    const fromPeer = await peerAllow.encrypt(peerWest, 'peer west')
    expect(text((await client.decrypt(oursEast, fromPeer.result)).plaintext)).toBe('peer west')
    expect(text((await client.decrypt(oursDiscovery, fromPeer.result)).plaintext)).toBe('peer west')

    const fromUs = await client.encrypt(new KmsMrkKeyring({ keyId: arn('mrk-0123456789', WEST), clientProvider: localProvider(kms) }), 'us west')
    expect((await peerAllow.decrypt(peerEastDiscovery, fromUs.ciphertext)).plaintext.toString()).toBe('us west')
    expect((await peerAllow.decrypt(peerDiscoveryNoFilter, fromUs.ciphertext)).plaintext.toString()).toBe('us west')
  })
})

describe('faults', () => {
  it('throttling and 5xx are retried by the SDK and the message is intact', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-west'), clientProvider: localProvider(kms) })
    kms.resetCalls()
    kms.addFault({ operation: 'GenerateDataKey', kind: 'throttle' })
    kms.addFault({ operation: 'GenerateDataKey', kind: 'internal' })
    const { ciphertext } = await client.encrypt(keyring, 'survives')
    expect(kms.countCalls({ operation: 'GenerateDataKey' })).toBe(3)
    kms.addFault({ operation: 'Decrypt', kind: 'throttle', times: 2 })
    expect(text((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('survives')
  })

  it('without retries a throttle surfaces as a retryable KmsError and no message is produced', async () => {
    const kms = local()
    const keyring = new KmsKeyring({ generatorKeyId: arn('key-west'), clientProvider: localProvider(kms, { maxAttempts: 1 }) })
    kms.addFault({ operation: 'GenerateDataKey', kind: 'throttle' })
    const err = await client.encrypt(keyring, 'x').catch((e) => e)
    expect(err).toBeInstanceOf(KmsError)
    expect(err).toMatchObject({ code: 'ERR_KMS', kmsErrorName: 'ThrottlingException', retryable: true })
  })

  it('a multi-keyring decrypt falls through a disabled key to the next EDK', async () => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const both = new KmsKeyring({ generatorKeyId: arn('key-to-disable'), keyIds: [arn('key-west')], clientProvider })
    const { ciphertext } = await client.encrypt(both, 'fallthrough')
    kms.setEnabled(arn('key-to-disable'), false)
    try {
      const decryptor = new MultiKeyring({ children: [new KmsKeyring({ keyIds: [arn('key-to-disable')], clientProvider }), new KmsKeyring({ keyIds: [arn('key-west')], clientProvider })] })
      expect(text((await client.decrypt(decryptor, ciphertext)).plaintext)).toBe('fallthrough')
      const onlyDisabled = await client.decrypt(new KmsKeyring({ keyIds: [arn('key-to-disable')], clientProvider }), ciphertext).catch((e) => e)
      expect(onlyDisabled.attempts[0].reason).toContain('DisabledException')
    } finally {
      kms.setEnabled(arn('key-to-disable'), true)
    }
  })
})
