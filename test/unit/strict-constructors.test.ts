/**
 * Every public constructor refuses what it does not understand (issue 18,
 * spec/client.md#strict-options): a misspelt key, a value of the wrong type, or
 * a bare string in place of the options object is a TypeError naming it.
 */
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  BranchKeyCache,
  BranchKeyStore,
  buildKmsMrkDiscoveryMultiKeyring,
  buildKmsMrkStrictMultiKeyring,
  CachingCmm,
  KmsDiscoveryKeyring,
  KmsEcdhKeyring,
  KmsHierarchicalKeyring,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  KmsMrkKeyring,
  LocalCache,
  KmsRsaKeyring,
  MultiKeyring,
  RawAesKeyring,
  RawEcdhKeyring,
  RawRsaKeyring,
  RequiredEncryptionContextCmm,
} from '../../src/entry/node.js'
import { createNodeBackend, FramePool, SignaturePool } from '../../src/entry/crypto-node.js'

const ARN = 'arn:aws:kms:us-west-2:111122223333:key/mrk-1234'
const aes = () => new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32) })
const PEM = '-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n'
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const EC_PUBLIC = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string
const EC_PRIVATE = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
/** The Recipient constructor keeps the key as given: it is imported on first use. */
const recipient = { attestationDocument: new Uint8Array(8), privateKey: 'enclave key' }
const keyStore = () => new BranchKeyStore({ tableName: 't', kmsKeyArn: ARN })

/** Each constructor with options it accepts, and for each key a value of the wrong type. */
const CASES: readonly { name: string; make: (options: any) => unknown; valid: Record<string, unknown>; wrong: Record<string, unknown> }[] = [
  {
    name: 'RawAesKeyring',
    make: (o) => new RawAesKeyring(o),
    valid: { keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32), maxUnwrapAttempts: 2, legacyContextOrder: 'off' },
    wrong: { keyNamespace: 1, keyName: 1, wrappingKey: 'key', maxUnwrapAttempts: '2', legacyContextOrder: true },
  },
  { name: 'RawRsaKeyring', make: (o) => new RawRsaKeyring(o), valid: { keyNamespace: 'ns', keyName: 'k', publicKey: PEM, padding: 'oaep-sha256', maxUnwrapAttempts: 2 }, wrong: { keyNamespace: 1, keyName: 1, padding: 4, maxUnwrapAttempts: '2' } },
  { name: 'MultiKeyring', make: (o) => new MultiKeyring(o), valid: { generator: aes(), children: [aes()] }, wrong: { generator: 'k', children: aes() } },
  {
    name: 'KmsKeyring',
    make: (o) => new KmsKeyring(o),
    valid: { generatorKeyId: ARN, keyIds: [ARN], grantTokens: ['t'], maxUnwrapAttempts: 2, clientProvider: () => ({}), recipient },
    wrong: { generatorKeyId: 1, keyIds: ARN, grantTokens: 't', maxUnwrapAttempts: '2', clientProvider: {}, client: 'c', abortSignal: 'abort', recipient: 'enclave' },
  },
  { name: 'KmsDiscoveryKeyring', make: (o) => new KmsDiscoveryKeyring(o), valid: { discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] }, recipient }, wrong: { discoveryFilter: 'aws', recipient: 'enclave' } },
  { name: 'KmsMrkKeyring', make: (o) => new KmsMrkKeyring(o), valid: { keyId: ARN, recipient }, wrong: { keyId: 1, recipient: 'enclave' } },
  { name: 'KmsMrkDiscoveryKeyring', make: (o) => new KmsMrkDiscoveryKeyring(o), valid: { region: 'us-west-2', recipient }, wrong: { region: 1, discoveryFilter: 'aws', recipient: 'enclave' } },
  { name: 'buildKmsMrkStrictMultiKeyring', make: (o) => buildKmsMrkStrictMultiKeyring(o), valid: { generatorKeyId: ARN, recipient }, wrong: { generatorKeyId: 1, keyIds: ARN, recipient: 'enclave' } },
  { name: 'buildKmsMrkDiscoveryMultiKeyring', make: (o) => buildKmsMrkDiscoveryMultiKeyring(o), valid: { regions: ['us-west-2'], recipient }, wrong: { regions: 'us-west-2', discoveryFilter: 'aws', recipient: 'enclave' } },
  {
    name: 'KmsRsaKeyring',
    make: (o) => new KmsRsaKeyring(o),
    valid: { keyId: ARN, encryptionAlgorithm: 'RSAES_OAEP_SHA_256', grantTokens: ['t'], clientProvider: () => ({}) },
    wrong: { keyId: 1, encryptionAlgorithm: 256, publicKey: 1, grantTokens: 't', clientProvider: {}, client: 'c', maxUnwrapAttempts: '2' },
  },
  {
    name: 'RawEcdhKeyring',
    make: (o) => new RawEcdhKeyring(o),
    valid: { curve: 'P-256', scheme: { kind: 'static', senderPrivateKey: EC_PRIVATE, recipientPublicKey: EC_PUBLIC }, maxUnwrapAttempts: 2 },
    wrong: { curve: 256, scheme: 'static', maxUnwrapAttempts: '2' },
  },
  {
    name: 'KmsEcdhKeyring',
    make: (o) => new KmsEcdhKeyring(o),
    valid: { curve: 'P-256', scheme: { kind: 'discovery', recipientKmsKeyId: ARN }, grantTokens: ['t'], clientProvider: () => ({}) },
    wrong: { curve: 256, scheme: 'discovery', grantTokens: 't', clientProvider: {}, client: 'c', maxUnwrapAttempts: '2' },
  },
  {
    name: 'KmsHierarchicalKeyring',
    make: (o) => new KmsHierarchicalKeyring(o),
    valid: { keyStore: keyStore(), ttlSeconds: 60, branchKeyId: 'b', cache: 10, partitionId: 'p', maxUnwrapAttempts: 2, legacyContextOrder: 'off' },
    wrong: { keyStore: 'store', ttlSeconds: '60', branchKeyId: 1, branchKeyIdSupplier: 'tenant', cache: '10', partitionId: 1, maxUnwrapAttempts: '2', legacyContextOrder: true },
  },
  {
    name: 'BranchKeyStore',
    make: (o) => new BranchKeyStore(o),
    valid: { tableName: 't', logicalKeyStoreName: 'l', kmsKeyArn: ARN, ddbClient: { send: async () => ({}) }, kmsClient: { send: async () => ({}) }, grantTokens: ['t'] },
    wrong: { tableName: 1, logicalKeyStoreName: 1, kmsKeyArn: 1, ddbClient: 'ddb', kmsClient: 'kms', grantTokens: 't' },
  },
  { name: 'BranchKeyCache', make: (o) => new BranchKeyCache(o), valid: { capacity: 10, clock: () => 0 }, wrong: { capacity: '10', clock: 0 } },
  { name: 'RequiredEncryptionContextCmm', make: (o) => new RequiredEncryptionContextCmm(o), valid: { requiredEncryptionContextKeys: ['a'], keyring: aes() }, wrong: { requiredEncryptionContextKeys: 'a', keyring: 'k', cmm: 'c' } },
  {
    name: 'CachingCmm',
    make: (o) => new CachingCmm(o),
    valid: { keyring: aes(), capacity: 10, maxAge: 1000, maxMessagesEncrypted: 5, maxBytesEncrypted: 100, partition: 'p', clock: () => 0, onEvent: () => {} },
    wrong: { keyring: 'k', cache: 'c', capacity: '10', maxAge: '1000', maxMessagesEncrypted: '5', maxBytesEncrypted: '100', partition: 1, clock: 0, onEvent: 'log' },
  },
  { name: 'LocalCache', make: (o) => new LocalCache(o), valid: { capacity: 10 }, wrong: { capacity: '10' } },
  { name: 'FramePool', make: (o) => new FramePool(o), valid: { stallMs: 1000 }, wrong: { stallMs: '1000', spawn: 'worker', setTimer: 1, workerFile: 'file.mjs' } },
  { name: 'SignaturePool', make: (o) => new SignaturePool(o), valid: {}, wrong: { spawn: 'worker', workerFile: 'file.mjs' } },
  { name: 'createNodeBackend', make: (o) => createNodeBackend(o), valid: { frameWorker: false, signatureWorker: false }, wrong: { frameWorker: 'yes', signatureWorker: 'yes' } },
]

describe.each(CASES)('$name', ({ name, make, valid, wrong }) => {
  it('accepts its documented options', () => {
    expect(() => make(valid)).not.toThrow()
  })

  it('refuses an unknown (e.g. misspelt) key, naming it and the keys it takes', () => {
    expect(() => make({ ...valid, bogusOption: 1 })).toThrow(TypeError)
    expect(() => make({ ...valid, bogusOption: 1 })).toThrow(new RegExp(`unknown ${name} option "bogusOption": its options are `))
  })

  it('refuses a string or an array in place of the options object', () => {
    expect(() => make('FORBID_ENCRYPT_ALLOW_DECRYPT')).toThrow(TypeError)
    expect(() => make([valid])).toThrow(TypeError)
  })

  it.each(Object.entries(wrong))('refuses a wrong type for %s', (key, value) => {
    // client and clientProvider exclude each other: a wrong client is tried on its own (so are CachingCmm's cache and capacity).
    const base = key === 'client' ? { ...valid, clientProvider: undefined } : key === 'cmm' ? { ...valid, keyring: undefined } : key === 'cache' && name === 'CachingCmm' ? { ...valid, capacity: undefined } : valid
    expect(() => make({ ...base, [key]: value })).toThrow(TypeError)
    expect(() => make({ ...base, [key]: value })).toThrow(new RegExp(`\\b${key} must be`))
  })
})

describe('options nested in options', () => {
  it('an ECDH scheme refuses a field of another scheme kind, naming it', () => {
    const scheme = { kind: 'ephemeral', recipientPublicKey: EC_PUBLIC, senderPrivateKey: EC_PRIVATE }
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme } as any)).toThrow(/unknown RawEcdhKeyring ephemeral scheme option "senderPrivateKey": its options are kind, recipientPublicKey/)
    expect(() => new KmsEcdhKeyring({ curve: 'P-256', scheme: { kind: 'discovery', recipientKmsKeyId: ARN, senderKmsKeyId: ARN } } as any)).toThrow(/unknown KmsEcdhKeyring discovery scheme option "senderKmsKeyId"/)
  })

  it('an ECDH scheme must be an object with a known kind', () => {
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: [{ kind: 'ephemeral', recipientPublicKey: EC_PUBLIC }] } as any)).toThrow(/scheme must be an object/)
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: ['ephemeral'], recipientPublicKey: EC_PUBLIC } } as any)).toThrow(/scheme.kind must be one of/)
  })

  it('a recipient refuses an unknown key, naming it', () => {
    expect(() => new KmsKeyring({ generatorKeyId: ARN, recipient: { ...recipient, publicKey: 'x' } } as any)).toThrow(/unknown recipient option "publicKey": its options are attestationDocument, privateKey/)
  })

  it('keyrings that send no recipient refuse one', () => {
    expect(() => new KmsRsaKeyring({ keyId: ARN, encryptionAlgorithm: 'RSAES_OAEP_SHA_256', recipient } as any)).toThrow(/unknown KmsRsaKeyring option "recipient"/)
    expect(() => new KmsEcdhKeyring({ curve: 'P-256', scheme: { kind: 'discovery', recipientKmsKeyId: ARN }, recipient } as any)).toThrow(/unknown KmsEcdhKeyring option "recipient"/)
  })

  it('BranchKeyCache takes no options at all too', () => {
    expect(new BranchKeyCache().capacity).toBe(1000)
  })
})
