/**
 * Keyless EDK flood (issue 14 item 4): a header naming a raw keyring's public
 * namespace and key name in many forged encrypted data keys. One message costs
 * at most maxUnwrapAttempts unwrap operations per keyring, and a raw RSA
 * keyring lets the event loop run before each private-key operation. Counted
 * through a wrapped backend; the yield is shown by the order of events, not
 * by a clock.
 */
import { describe, expect, it } from 'vitest'
import {
  createClient,
  MultiKeyring,
  NoMatchingKeyError,
  RawAesKeyring,
  RawRsaKeyring,
  type CryptoBackend,
  type Keyring,
} from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { IV_LENGTH } from '../../src/format/constants.js'
import { withEncryptedDataKey, withEncryptionDataKey, type EncryptionMaterials } from '../../src/materials/materials.js'
import { KmsDiscoveryKeyring, KmsKeyring } from '../../src/index.js'
import { aesKey, rsaKeyPair } from '../support/keys.js'
import { localProvider, useLocalKms } from '../support/local-kms.js'

const pair = rsaKeyPair()
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A generator that makes the data key and adds `count` forged EDKs shaped by `forge` (the real keyring wraps after it). */
function forger(count: number, forge: (i: number) => { providerInfo: Uint8Array; ciphertext: Uint8Array }, providerId = 'ns'): Keyring {
  return {
    async onEncrypt(materials: EncryptionMaterials, { backend }) {
      let result = withEncryptionDataKey(materials, backend.randomBytes(materials.suite.keyLength))
      for (let i = 0; i < count; i++) result = withEncryptedDataKey(result, { providerId, ...forge(i) })
      return result
    },
    async onDecrypt() {
      throw new NoMatchingKeyError([])
    },
  }
}

const forgedRsa = (i: number) => ({ providerInfo: encoder.encode('rsa'), ciphertext: new Uint8Array(256).fill(i + 1, 1) })

/** nodeBackend with every rsaDecrypt recorded in `events`. */
function countingRsa(events: string[]): CryptoBackend {
  return {
    ...nodeBackend,
    rsaDecrypt(...args) {
      events.push('op')
      return nodeBackend.rsaDecrypt(...args)
    },
  }
}

async function floodedMessage(forged: number, keyring: Keyring, forge = forgedRsa): Promise<Uint8Array> {
  const client = createClient()
  return (await client.encrypt(new MultiKeyring({ generator: forger(forged, forge), children: [keyring] }), 'flooded')).ciphertext
}

describe('raw RSA keyring: forged EDKs under its name', () => {
  const rsa = (options: { maxUnwrapAttempts?: number } = {}) => new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'oaep-sha256', ...pair, ...options })

  it('tries at most maxUnwrapAttempts (default 4) per message, and names the rest as not tried', async () => {
    const ciphertext = await floodedMessage(10, rsa())
    const events: string[] = []
    const err = await createClient({ backend: countingRsa(events) }).decrypt(rsa(), ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(events).toEqual(['op', 'op', 'op', 'op'])
    const reasons = (err as NoMatchingKeyError).attempts.map((a) => a.reason)
    expect(reasons.slice(0, 4)).toEqual(Array(4).fill('unwrap failed: wrong private key or padding (oaep-sha256)'))
    // Six forged keys and the real one, last in the header, were never tried.
    expect(reasons.slice(4)).toEqual(Array(7).fill('not tried: this keyring already made 4 unwrap attempts for this message (maxUnwrapAttempts)'))
  })

  it('a real key among the first maxUnwrapAttempts still decrypts; a larger limit reaches a later one', async () => {
    const three = await floodedMessage(3, rsa())
    const events: string[] = []
    expect(decoder.decode((await createClient({ backend: countingRsa(events) }).decrypt(rsa(), three)).plaintext)).toBe('flooded')
    expect(events).toHaveLength(4)
    const ten = await floodedMessage(10, rsa())
    events.length = 0
    expect(decoder.decode((await createClient({ backend: countingRsa(events) }).decrypt(rsa({ maxUnwrapAttempts: 11 }), ten)).plaintext)).toBe('flooded')
    expect(events).toHaveLength(11)
  })

  it('lets the event loop run before every private-key operation', async () => {
    const ciphertext = await floodedMessage(20, rsa())
    const events: string[] = []
    let ticking = true
    const tick = () => {
      events.push('tick')
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    const { plaintext } = await createClient({ backend: countingRsa(events) }).decrypt(rsa({ maxUnwrapAttempts: 100 }), ciphertext)
    ticking = false
    expect(decoder.decode(plaintext)).toBe('flooded')
    // 20 forged keys, then the real one.
    expect(events.filter((e) => e === 'op')).toHaveLength(21)
    // A timer set before decrypt ran before the first operation, and never did two operations run back to back.
    expect(events[0]).toBe('tick')
    expect(events.join(' ')).not.toContain('op op')
  })

  it('refuses a maxUnwrapAttempts that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, '4', Number.NaN]) expect(() => rsa({ maxUnwrapAttempts: bad as number })).toThrow(TypeError)
  })
})

describe('raw AES keyring: forged EDKs under its name', () => {
  it('opens at most maxUnwrapAttempts (default 4) wrapped keys per message', async () => {
    const wrappingKey = aesKey(32)
    const keyring = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'aes', wrappingKey })
    // key name ‖ uint32 128 (tag bits) ‖ uint32 12 (IV length) ‖ IV, and 32 + 16 bytes of wrapped key.
    const info = new Uint8Array([...encoder.encode('aes'), 0, 0, 0, 128, 0, 0, 0, IV_LENGTH, ...new Uint8Array(IV_LENGTH)])
    const ciphertext = await floodedMessage(10, keyring, () => ({ providerInfo: info, ciphertext: new Uint8Array(48) }))
    let unwraps = 0
    const backend: CryptoBackend = {
      ...nodeBackend,
      gcmOpen(key, iv, aad, ct, tag) {
        // Only unwraps open 32 bytes here: the header tag covers none, the body holds 7.
        if (ct.length === 32) unwraps++
        return nodeBackend.gcmOpen(key, iv, aad, ct, tag)
      },
    }
    const err = await createClient({ backend }).decrypt(keyring, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(unwraps).toBe(4)
    unwraps = 0
    const generous = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'aes', wrappingKey, maxUnwrapAttempts: 20 })
    expect(decoder.decode((await createClient({ backend }).decrypt(generous, ciphertext)).plaintext)).toBe('flooded')
    // Ten forged keys, then the real one.
    expect(unwraps).toBe(11)
  })
})

describe('KMS keyrings: forged EDKs naming a key ARN (ARNs are public)', () => {
  const local = useLocalKms({ keys: [{ id: 'flood', regions: ['us-west-2'] }] })
  const arn = 'arn:aws:kms:us-west-2:111122223333:key/flood'
  const forgedKms = (i: number) => ({ providerInfo: encoder.encode(arn), ciphertext: new Uint8Array(64).fill(i + 1) })

  it.each([
    ['KmsKeyring', (o: object) => new KmsKeyring({ keyIds: [arn], ...o })],
    ['KmsDiscoveryKeyring', (o: object) => new KmsDiscoveryKeyring(o)],
  ] as const)('%s sends at most maxUnwrapAttempts (default 4) Decrypt calls per message', async (_name, make) => {
    const kms = local()
    const clientProvider = localProvider(kms)
    const real = new KmsKeyring({ generatorKeyId: arn, clientProvider })
    const client = createClient()
    const ciphertext = (await client.encrypt(new MultiKeyring({ generator: forger(30, forgedKms, 'aws-kms'), children: [real] }), 'flooded')).ciphertext
    const before = kms.countCalls({ operation: 'Decrypt' })
    const err = await client.decrypt(make({ clientProvider }), ciphertext).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(kms.countCalls({ operation: 'Decrypt' }) - before).toBe(4)
    expect((err as NoMatchingKeyError).attempts.filter((a) => a.reason.includes('maxUnwrapAttempts'))).toHaveLength(27)
    // Raised past the forged keys, the real one (the 31st) is reached.
    const { plaintext } = await client.decrypt(make({ clientProvider, maxUnwrapAttempts: 31 }), ciphertext)
    expect(decoder.decode(plaintext)).toBe('flooded')
  })
})
