/**
 * Every public constructor refuses what it does not understand (issue 18,
 * spec/client.md#strict-options): a misspelt key, a value of the wrong type, or
 * a bare string in place of the options object is a TypeError naming it.
 */
import { describe, expect, it } from 'vitest'
import {
  buildKmsMrkDiscoveryMultiKeyring,
  buildKmsMrkStrictMultiKeyring,
  CachingCmm,
  KmsDiscoveryKeyring,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  KmsMrkKeyring,
  LocalCache,
  MultiKeyring,
  RawAesKeyring,
  RawRsaKeyring,
  RequiredEncryptionContextCmm,
} from '../../src/entry/node.js'
import { createNodeBackend, FramePool } from '../../src/entry/crypto-node.js'

const ARN = 'arn:aws:kms:us-west-2:111122223333:key/mrk-1234'
const aes = () => new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32) })
const PEM = '-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n'

/** Each constructor with options it accepts, and for each key a value of the wrong type. */
const CASES: readonly { name: string; make: (options: any) => unknown; valid: Record<string, unknown>; wrong: Record<string, unknown> }[] = [
  { name: 'RawAesKeyring', make: (o) => new RawAesKeyring(o), valid: { keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32), maxUnwrapAttempts: 2 }, wrong: { keyNamespace: 1, keyName: 1, wrappingKey: 'key', maxUnwrapAttempts: '2' } },
  { name: 'RawRsaKeyring', make: (o) => new RawRsaKeyring(o), valid: { keyNamespace: 'ns', keyName: 'k', publicKey: PEM, padding: 'oaep-sha256', maxUnwrapAttempts: 2 }, wrong: { keyNamespace: 1, keyName: 1, padding: 4, maxUnwrapAttempts: '2' } },
  { name: 'MultiKeyring', make: (o) => new MultiKeyring(o), valid: { generator: aes(), children: [aes()] }, wrong: { generator: 'k', children: aes() } },
  { name: 'KmsKeyring', make: (o) => new KmsKeyring(o), valid: { generatorKeyId: ARN, keyIds: [ARN], grantTokens: ['t'], maxUnwrapAttempts: 2, clientProvider: () => ({}) }, wrong: { generatorKeyId: 1, keyIds: ARN, grantTokens: 't', maxUnwrapAttempts: '2', clientProvider: {}, client: 'c', abortSignal: 'abort' } },
  { name: 'KmsDiscoveryKeyring', make: (o) => new KmsDiscoveryKeyring(o), valid: { discoveryFilter: { partition: 'aws', accountIds: ['111122223333'] } }, wrong: { discoveryFilter: 'aws' } },
  { name: 'KmsMrkKeyring', make: (o) => new KmsMrkKeyring(o), valid: { keyId: ARN }, wrong: { keyId: 1 } },
  { name: 'KmsMrkDiscoveryKeyring', make: (o) => new KmsMrkDiscoveryKeyring(o), valid: { region: 'us-west-2' }, wrong: { region: 1, discoveryFilter: 'aws' } },
  { name: 'buildKmsMrkStrictMultiKeyring', make: (o) => buildKmsMrkStrictMultiKeyring(o), valid: { generatorKeyId: ARN }, wrong: { generatorKeyId: 1, keyIds: ARN } },
  { name: 'buildKmsMrkDiscoveryMultiKeyring', make: (o) => buildKmsMrkDiscoveryMultiKeyring(o), valid: { regions: ['us-west-2'] }, wrong: { regions: 'us-west-2', discoveryFilter: 'aws' } },
  { name: 'RequiredEncryptionContextCmm', make: (o) => new RequiredEncryptionContextCmm(o), valid: { requiredEncryptionContextKeys: ['a'], keyring: aes() }, wrong: { requiredEncryptionContextKeys: 'a', keyring: 'k', cmm: 'c' } },
  {
    name: 'CachingCmm',
    make: (o) => new CachingCmm(o),
    valid: { keyring: aes(), capacity: 10, maxAge: 1000, maxMessagesEncrypted: 5, maxBytesEncrypted: 100, partition: 'p', clock: () => 0, onEvent: () => {} },
    wrong: { keyring: 'k', cache: 'c', capacity: '10', maxAge: '1000', maxMessagesEncrypted: '5', maxBytesEncrypted: '100', partition: 1, clock: 0, onEvent: 'log' },
  },
  { name: 'LocalCache', make: (o) => new LocalCache(o), valid: { capacity: 10 }, wrong: { capacity: '10' } },
  { name: 'FramePool', make: (o) => new FramePool(o), valid: { stallMs: 1000 }, wrong: { stallMs: '1000', spawn: 'worker', setTimer: 1, workerFile: 'file.mjs' } },
  { name: 'createNodeBackend', make: (o) => createNodeBackend(o), valid: { frameWorker: false }, wrong: { frameWorker: 'yes' } },
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
    // client and clientProvider exclude each other: a wrong client is tried on its own.
    const base = key === 'client' ? { ...valid, clientProvider: undefined } : key === 'cmm' ? { ...valid, keyring: undefined } : key === 'cache' ? { ...valid, capacity: undefined } : valid
    expect(() => make({ ...base, [key]: value })).toThrow(TypeError)
    expect(() => make({ ...base, [key]: value })).toThrow(new RegExp(`\\b${key} must be`))
  })
})
