/**
 * Interop with the peer, @aws-crypto/client-node, for the pure-JS and WebCrypto
 * backends: every suite x keyring both ways (as test/interop/peer.test.ts does
 * for node:crypto), PKCS#1 v1.5 from the peer, frame-boundary shapes, signed
 * messages large enough to leave the gathered WebCrypto path, and WHATWG streams.
 */
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, RawAesKeyring, RawRsaKeyring, type AlgorithmSuite, type CryptoBackend, type Keyring, type RsaPadding } from '../../src/index.js'
import { GATHER_LIMIT } from '../../src/crypto/webcrypto.js'
import { OTHER_BACKENDS } from '../support/backends.js'
import { aesKey, patterned, rsaKeyPair } from '../support/keys.js'
import { peerAesKeyring, peerAllow, peerForbid, peerRsaKeyring } from '../support/peer.js'

interface KeyringPair {
  name: string
  mine: Keyring
  peer: any
}

const rsa = rsaKeyPair()
const KEYRINGS: KeyringPair[] = [
  ...([16, 24, 32] as const).map((bytes) => {
    const key = aesKey(bytes)
    return { name: `raw-aes-${bytes * 8}`, mine: new RawAesKeyring({ keyNamespace: 'interop', keyName: `aes-${bytes}`, wrappingKey: key }), peer: peerAesKeyring('interop', `aes-${bytes}`, key) }
  }),
  ...(['oaep-sha1', 'oaep-sha256', 'oaep-sha384', 'oaep-sha512'] as RsaPadding[]).map((padding) => ({
    name: `raw-rsa-${padding}`,
    mine: new RawRsaKeyring({ keyNamespace: 'interop-rsa', keyName: 'rsa-2048', padding, ...rsa }),
    peer: peerRsaKeyring('interop-rsa', 'rsa-2048', padding, rsa),
  })),
]

function clients(backend: CryptoBackend, suite: AlgorithmSuite) {
  return suite.committing
    ? { mine: createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT', backend }), peer: peerAllow }
    : { mine: createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT', backend }), peer: peerForbid }
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0

describe.each(OTHER_BACKENDS)('%s backend with the peer', (_name, backend) => {
  const cases = ALL_SUITES.flatMap((suite) => KEYRINGS.map((k) => [suite.name, k.name, suite, k] as const))

  it.each(cases)('%s with %s, both directions', async (_s, _k, suite, keyrings) => {
    const { mine, peer } = clients(backend, suite)
    const plaintext = patterned(3000, suite.id)
    const encryptionContext = { '\u{1F600} emoji': 'b', ascii: 'c', 'é': 'd' }
    const ours = await mine.encrypt(keyrings.mine, plaintext, { suiteId: suite.id, frameLength: 1024, encryptionContext })
    const peerView = await peer.decrypt(keyrings.peer, ours.ciphertext)
    expect(same(peerView.plaintext, plaintext)).toBe(true)
    expect(peerView.messageHeader.suiteId).toBe(suite.id)
    const theirs = await peer.encrypt(keyrings.peer, plaintext, { suiteId: suite.id, frameLength: 1024, encryptionContext })
    expect(same((await mine.decrypt(keyrings.mine, theirs.result, { encryptionContext })).plaintext, plaintext)).toBe(true)
  })

  it('decrypts PKCS#1 v1.5 data keys wrapped by the peer, and its own', async () => {
    const keyring = new RawRsaKeyring({ keyNamespace: 'interop-rsa', keyName: 'rsa-2048', padding: 'pkcs1', ...rsa })
    const peer = peerRsaKeyring('interop-rsa', 'rsa-2048', 'pkcs1', rsa)
    const mine = createClient({ backend })
    const plaintext = patterned(5000)
    const { result } = await peerAllow.encrypt(peer, plaintext)
    expect(same((await mine.decrypt(keyring, result)).plaintext, plaintext)).toBe(true)
    // Node 20 will not decrypt PKCS#1 v1.5 without a flag, so our own wrapping is read back by us.
    const ours = await mine.encrypt(keyring, plaintext)
    expect(same((await mine.decrypt(keyring, ours.ciphertext)).plaintext, plaintext)).toBe(true)
  })

  const aes = KEYRINGS[2]!
  const shapes = [
    [0, 512],
    [1, 512],
    [511, 512],
    [512, 512],
    [2049, 512],
    [5, 1],
  ] as const
  it.each(shapes)('length %i at frame %i (0x0478 and 0x0014), both directions', async (length, frameLength) => {
    for (const suite of ALL_SUITES.filter((s) => s.id === 0x0478 || s.id === 0x0014)) {
      const { mine, peer } = clients(backend, suite)
      const plaintext = patterned(length, length + 3)
      const ours = await mine.encrypt(aes.mine, plaintext, { suiteId: suite.id, frameLength })
      expect(same((await peer.decrypt(aes.peer, ours.ciphertext)).plaintext, plaintext)).toBe(true)
      const theirs = await peer.encrypt(aes.peer, plaintext, { suiteId: suite.id, frameLength })
      expect(same((await mine.decrypt(aes.mine, theirs.result)).plaintext, plaintext)).toBe(true)
    }
  })

  it('signs and verifies 6 MiB messages (past the gathered-signature limit), both directions', async () => {
    const { mine, peer } = clients(backend, ALL_SUITES.find((s) => s.id === 0x0578)!)
    const plaintext = patterned(6 * 1024 * 1024)
    expect(plaintext.length).toBeGreaterThan(GATHER_LIMIT)
    const ours = await mine.encrypt(aes.mine, plaintext, { frameLength: 65536 })
    expect(same((await peer.decrypt(aes.peer, ours.ciphertext)).plaintext, plaintext)).toBe(true)
    const theirs = await peer.encrypt(aes.peer, plaintext, { frameLength: 65536 })
    expect(same((await mine.decrypt(aes.mine, theirs.result)).plaintext, plaintext)).toBe(true)
    // A flipped bit in the signature fails verification on the same large-input path.
    const bad = new Uint8Array(theirs.result)
    bad[bad.length - 10]! ^= 1
    await expect(mine.decrypt(aes.mine, bad)).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', stage: 'signature' })
  })

  it('streams through encryptWebStream and decryptWebStream, and the peer reads the result', async () => {
    const { mine, peer } = clients(backend, ALL_SUITES.find((s) => s.id === 0x0578)!)
    const plaintext = patterned(300_000)
    const chunks = (bytes: Uint8Array, size: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let o = 0; o < bytes.length; o += size) controller.enqueue(bytes.slice(o, o + size))
          controller.close()
        },
      })
    const collect = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer())
    const message = await collect(chunks(plaintext, 7777).pipeThrough(mine.encryptWebStream(aes.mine, { frameLength: 4096 })))
    expect(same((await peer.decrypt(aes.peer, message)).plaintext, plaintext)).toBe(true)
    const theirs = await peer.encrypt(aes.peer, plaintext)
    expect(same(await collect(chunks(theirs.result, 1000).pipeThrough(mine.decryptWebStream(aes.mine))), plaintext)).toBe(true)
  })
})
