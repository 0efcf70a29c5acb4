/**
 * Interoperability with the real @aws-crypto/client-node, both ways: for every
 * suite and every keyring type, the peer encrypts and we decrypt, and we
 * encrypt and the peer decrypts.
 */
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, MultiKeyring, RawAesKeyring, RawRsaKeyring, type AlgorithmSuite, type Keyring, type RsaPadding } from '../../src/index.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'
import { MultiKeyringNode, peerAesKeyring, peerAllow, peerForbid, peerRsaKeyring } from '../support/peer.js'

const ours = {
  forbid: createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }),
  require: createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' }),
}
const clientsFor = (suite: AlgorithmSuite) =>
  suite.committing ? { mine: ours.require, peer: peerAllow } : { mine: ours.forbid, peer: peerForbid }

/** Keys whose UTF-16 order differs from their UTF-8 byte order, plus ordinary ones. */
const UNICODE_CONTEXT = { '\uFF61 halfwidth': 'a', '\u{1F600} emoji': 'b', ascii: 'c', 'é': 'd' }

interface KeyringPair {
  name: string
  mine: Keyring
  peer: any
}

function keyringPairs(): KeyringPair[] {
  const pairs: KeyringPair[] = []
  for (const bytes of [16, 24, 32] as const) {
    const key = aesKey(bytes)
    pairs.push({ name: `raw-aes-${bytes * 8}`, mine: new RawAesKeyring({ keyNamespace: 'interop', keyName: `aes-${bytes}`, wrappingKey: key }), peer: peerAesKeyring('interop', `aes-${bytes}`, key) })
  }
  const rsa = rsaKeyPair()
  for (const padding of ['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512'] as RsaPadding[]) {
    pairs.push({
      name: `raw-rsa-${padding}`,
      mine: new RawRsaKeyring({ keyNamespace: 'interop-rsa', keyName: 'rsa-2048', padding, ...rsa }),
      peer: peerRsaKeyring('interop-rsa', 'rsa-2048', padding, rsa),
    })
  }
  const multiAes = aesKey(32)
  pairs.push({
    name: 'multi(aes generator, rsa child)',
    mine: new MultiKeyring({
      generator: new RawAesKeyring({ keyNamespace: 'multi', keyName: 'gen', wrappingKey: multiAes }),
      children: [new RawRsaKeyring({ keyNamespace: 'multi-rsa', keyName: 'child', padding: 'oaep-sha256', ...rsa })],
    }),
    peer: new MultiKeyringNode({
      generator: peerAesKeyring('multi', 'gen', multiAes),
      children: [peerRsaKeyring('multi-rsa', 'child', 'oaep-sha256', rsa)],
    }),
  })
  return pairs
}

const KEYRINGS = keyringPairs()
const cases = ALL_SUITES.flatMap((suite) => KEYRINGS.map((k) => [suite.name, k.name, suite, k] as const))

describe('every suite x keyring, both directions', () => {
  it.each(cases)('%s with %s', async (_s, _k, suite, keyrings) => {
    const { mine, peer } = clientsFor(suite)
    const plaintext = patterned(3000)
    const encryptionContext = UNICODE_CONTEXT

    const ourMessage = await mine.encrypt(keyrings.mine, plaintext, { suiteId: suite.id, frameLength: 1024, encryptionContext })
    const peerView = await peer.decrypt(keyrings.peer, ourMessage.ciphertext)
    expect(Buffer.compare(peerView.plaintext, plaintext)).toBe(0)
    expect(peerView.messageHeader.suiteId).toBe(suite.id)
    for (const [k, v] of Object.entries(encryptionContext)) expect(peerView.messageHeader.encryptionContext[k]).toBe(v)

    const peerMessage = await peer.encrypt(keyrings.peer, plaintext, { suiteId: suite.id, frameLength: 1024, encryptionContext })
    const ourView = await mine.decrypt(keyrings.mine, peerMessage.result, { encryptionContext })
    expect(Buffer.compare(ourView.plaintext, plaintext)).toBe(0)
    expect(ourView.header.suiteId).toBe(suite.id)
  })
})

describe('message shapes around frame boundaries (raw AES-256)', () => {
  const keyrings = KEYRINGS.find((k) => k.name === 'raw-aes-256')!
  const shapes = [
    ['empty', 0, 512],
    ['one byte', 1, 512],
    ['one byte short of a frame', 511, 512],
    ['exactly one frame', 512, 512],
    ['exact multiple of the frame', 2048, 512],
    ['one past a multiple', 2049, 512],
    ['frame length 1', 5, 1],
    ['many frames', 100_000, 4096],
  ] as const
  const suites = ALL_SUITES.filter((s) => [0x0014, 0x0178, 0x0378, 0x0478, 0x0578].includes(s.id))
  it.each(suites.flatMap((s) => shapes.map(([name, length, frame]) => [s.name, name, s, length, frame] as const)))(
    '%s: %s',
    async (_s, _n, suite, length, frameLength) => {
      const { mine, peer } = clientsFor(suite)
      const plaintext = patterned(length, length + 1)
      const ourMessage = await mine.encrypt(keyrings.mine, plaintext, { suiteId: suite.id, frameLength })
      expect(Buffer.compare((await peer.decrypt(keyrings.peer, ourMessage.ciphertext)).plaintext, plaintext)).toBe(0)
      const peerMessage = await peer.encrypt(keyrings.peer, plaintext, { suiteId: suite.id, frameLength })
      expect(Buffer.compare((await mine.decrypt(keyrings.mine, peerMessage.result)).plaintext, plaintext)).toBe(0)
    },
  )

  it('decrypts a peer stream that ends with an empty final frame after full frames', async () => {
    // The peer writes an empty final frame when the plaintext is an exact multiple of the frame; we write a full one.
    const plaintext = patterned(2048)
    const { result } = await peerAllow.encrypt(keyrings.peer, plaintext, { frameLength: 512, suiteId: 0x0478 })
    // The last 40 bytes are a final frame with content length 0: marker, seq, IV, length, tag.
    expect(result.readUInt32BE(result.length - 40)).toBe(0xffffffff)
    expect(result.readUInt32BE(result.length - 20)).toBe(0)
    expect(Buffer.compare((await ours.require.decrypt(keyrings.mine, result)).plaintext, plaintext)).toBe(0)
  })
})
