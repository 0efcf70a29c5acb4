/**
 * Methods that return a promise never throw (issue 14 item 14): every bad
 * argument of client.encrypt / client.decrypt comes back as a rejection with a
 * typed error (TypeError / RangeError for a wrong type or range, the
 * documented EnvelopeError for a limit), on the Node and the web client.
 */
import { describe, expect, it } from 'vitest'
import { createClient as createNodeClient, LimitError, RawAesKeyring, type Cmm, type Keyring } from '../../src/index.js'
import { createClient as createWebClient } from '../../src/entry/web.js'
import { aesKey } from '../support/keys.js'

const keyring = new RawAesKeyring({ keyNamespace: 'args', keyName: 'k', wrappingKey: aesKey(32) })
type ErrorClass = typeof TypeError | typeof RangeError | typeof LimitError

/** Any value, as a caller without types may pass it. */
const any = (value: unknown) => value as never

const encryptCases: [string, unknown[], ErrorClass][] = [
  ['no keyring', [undefined, 'x'], TypeError],
  ['null keyring', [null, 'x'], TypeError],
  ['a string as keyring', ['keyring', 'x'], TypeError],
  ['an object that is neither keyring nor CMM', [{}, 'x'], TypeError],
  ['no plaintext', [keyring, undefined], TypeError],
  ['null plaintext', [keyring, null], TypeError],
  ['a number as plaintext', [keyring, 42], TypeError],
  ['a plain object as plaintext', [keyring, { length: 3 }], TypeError],
  ['an array as plaintext', [keyring, [1, 2, 3]], TypeError],
  ['null options', [keyring, 'x', null], TypeError],
  ['a string as options', [keyring, 'x', 'options'], TypeError],
  ['a negative frame length', [keyring, 'x', { frameLength: -1 }], RangeError],
  ['a frame length that is not a number', [keyring, 'x', { frameLength: '4096' }], RangeError],
  ['an unknown suite', [keyring, 'x', { suiteId: 0x9999 }], RangeError],
  ['a context that is not an object', [keyring, 'x', { encryptionContext: 'tenant=a' }], TypeError],
  ['a context value that is not a string', [keyring, 'x', { encryptionContext: { tenant: 1 } }], TypeError],
  ['plaintext beyond plaintextLength', [keyring, 'secret', { plaintextLength: 1 }], LimitError],
  ['a misspelt option key', [keyring, 'x', { encrytionContext: { tenant: 'a' } }], TypeError],
  ['a Map as context (its pairs would be invisible)', [keyring, 'x', { encryptionContext: new Map([['tenant', 'a']]) }], TypeError],
  ['an array as context', [keyring, 'x', { encryptionContext: ['tenant', 'a'] }], TypeError],
]

const decryptCases: [string, unknown[], ErrorClass][] = [
  ['no keyring', [undefined, new Uint8Array(10)], TypeError],
  ['a string as keyring', ['keyring', new Uint8Array(10)], TypeError],
  ['an object that is neither keyring nor CMM', [{ onEncrypt: 1 }, new Uint8Array(10)], TypeError],
  ['base64 text as ciphertext', [keyring, 'AYAAF...'], TypeError],
  ['no ciphertext', [keyring, undefined], TypeError],
  ['null ciphertext', [keyring, null], TypeError],
  ['a number as ciphertext', [keyring, 42], TypeError],
  ['an array as ciphertext', [keyring, [1, 2, 3]], TypeError],
  ['null options', [keyring, new Uint8Array(10), null], TypeError],
  ['a number as options', [keyring, new Uint8Array(10), 7], TypeError],
  ['a negative maxBodySize', [keyring, new Uint8Array(10), { maxBodySize: -1 }], RangeError],
  ['a misspelt option key (the context check would be skipped)', [keyring, new Uint8Array(10), { encrytionContext: { tenant: 'b' } }], TypeError],
  ['a Map as context (the context check would be skipped)', [keyring, new Uint8Array(10), { encryptionContext: new Map([['tenant', 'b']]) }], TypeError],
]

describe.each([
  ['node', createNodeClient],
  ['web', createWebClient],
])('the %s client never throws from a promise-returning method', (_, createClient) => {
  const client = createClient()

  it.each(encryptCases)('encrypt with %s rejects', async (_, args, expected) => {
    let result: Promise<unknown> | undefined
    expect(() => {
      result = client.encrypt(any(args[0]) as Keyring | Cmm, any(args[1]), any(args[2]))
    }).not.toThrow()
    expect(result).toBeInstanceOf(Promise)
    await expect(result).rejects.toBeInstanceOf(expected)
  })

  it.each(decryptCases)('decrypt with %s rejects', async (_, args, expected) => {
    let result: Promise<unknown> | undefined
    expect(() => {
      result = client.decrypt(any(args[0]) as Keyring | Cmm, any(args[1]), any(args[2]))
    }).not.toThrow()
    expect(result).toBeInstanceOf(Promise)
    await expect(result).rejects.toBeInstanceOf(expected)
  })
})

describe.each([
  ['node', createNodeClient],
  ['web', createWebClient],
])('the %s client refuses option keys it does not know', (_, createClient) => {
  it('createClient: null, a misspelt key', () => {
    expect(() => createClient(any(null))).toThrow(/client options must be an object/)
    expect(() => createClient(any({ comitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }))).toThrow(/unknown client options key "comitmentPolicy"/)
    // The peer's call shape: a policy string instead of an options object.
    expect(() => createClient(any('FORBID_ENCRYPT_ALLOW_DECRYPT'))).toThrow(TypeError)
  })

  it('stream methods throw at the call for a misspelt key or a Map context', () => {
    const client = createClient()
    expect(() => client.encryptWebStream(keyring, any({ encrytionContext: {} }))).toThrow(/unknown encrypt options key "encrytionContext"/)
    expect(() => client.decryptWebStream(keyring, any({ encryptionContext: new Map() }))).toThrow(/plain object/)
  })

  it('a wrong context on decrypt given correctly still fails: the check runs', async () => {
    const client = createClient()
    const { ciphertext } = await client.encrypt(keyring, 'x', { encryptionContext: { tenant: 'a' } })
    await expect(client.decrypt(keyring, ciphertext, { encryptionContext: { tenant: 'b' } })).rejects.toMatchObject({ code: 'ERR_CONTEXT_MISMATCH' })
  })
})
