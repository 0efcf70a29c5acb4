/**
 * The JS peer's legacy context order (spec/hierarchy.md#context-order), both ways
 * against the real @aws-crypto/client-node: its raw AES and hierarchical keyrings
 * with `utf8Sorting` false (its default: localeCompare order in the key-wrap
 * AAD) and true (byte order), against our three `legacyContextOrder` modes.
 */
import { randomBytes } from 'node:crypto'
import { KmsHierarchicalKeyRingNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node'
import { describe, expect, it } from 'vitest'
import { createClient, KmsHierarchicalKeyring, NoMatchingKeyError, RawAesKeyring, type Keyring, type LegacyContextOrder } from '../../src/index.js'
import { MemoryBranchKeys } from '../support/branch-keys.js'
import { peerKeyStore } from '../support/peer-branch-keys.js'
import { peerAllow } from '../support/peer.js'

const ours = createClient()

/** Each sorts differently by localeCompare than by UTF-8 bytes (checked below, so the test cannot pass vacuously). */
const CONTEXTS: Record<string, Record<string, string>> = {
  'mixed-case ASCII': { B: '1', a: '2' },
  'non-ASCII': { 'ä': '1', z: '2', 'é': '3', _x: '4' },
  'astral plane': { '\u{1F600}': '1', '\uFF61': '2', '\u{10400}': '3', a: '4' },
}
const ORDERED = { a: '1', b: '2' }

interface Family {
  mine(mode: LegacyContextOrder): Keyring
  peer(utf8Sorting: boolean): any
}

function families(): [string, Family][] {
  const aes = randomBytes(32)
  const store = new MemoryBranchKeys('interop')
  store.rotate('tenant')
  return [
    [
      'raw AES',
      {
        mine: (legacyContextOrder) => new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: aes, legacyContextOrder }),
        peer: (utf8Sorting) =>
          new RawAesKeyringNode({ keyNamespace: 'ns', keyName: 'k', unencryptedMasterKey: new Uint8Array(aes), wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING, utf8Sorting }),
      },
    ],
    [
      'hierarchical',
      {
        mine: (legacyContextOrder) => new KmsHierarchicalKeyring({ keyStore: store, branchKeyId: 'tenant', ttlSeconds: 60, legacyContextOrder }),
        peer: (utf8Sorting) => new KmsHierarchicalKeyRingNode({ keyStore: peerKeyStore(store), branchKeyId: 'tenant', cacheLimitTtl: 60, utf8Sorting }),
      },
    ],
  ]
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe.each(families())('%s keyring and the peer', (_, family) => {
  describe.each(Object.entries(CONTEXTS))('%s keys', (_, encryptionContext) => {
    // 0x0578 adds aws-crypto-public-key to the context the AAD covers.
    it.each([['0478', 0x0478], ['0578', 0x0578]] as const)('suite %s: we decrypt what the peer wrote in its default (locale) order; with the fallback off we cannot', async (_, suiteId) => {
      const { result } = await peerAllow.encrypt(family.peer(false), 'from the peer', { encryptionContext, suiteId })
      expect(text((await ours.decrypt(family.mine('decrypt'), result)).plaintext)).toBe('from the peer')
      expect(text((await ours.decrypt(family.mine('encrypt-and-decrypt'), result)).plaintext)).toBe('from the peer')
      const err = await ours.decrypt(family.mine('off'), result).catch((e) => e)
      expect(err).toBeInstanceOf(NoMatchingKeyError)
    })

    it('we decrypt what the peer wrote in byte order (utf8Sorting: true), in every mode', async () => {
      const { result } = await peerAllow.encrypt(family.peer(true), 'sorted', { encryptionContext })
      for (const mode of ['decrypt', 'off', 'encrypt-and-decrypt'] as const) expect(text((await ours.decrypt(family.mine(mode), result)).plaintext)).toBe('sorted')
    })

    it('by default we write byte order: the peer reads it with utf8Sorting, not with its default', async () => {
      const { ciphertext } = await ours.encrypt(family.mine('decrypt'), 'from us', { encryptionContext })
      expect(text((await peerAllow.decrypt(family.peer(true), ciphertext)).plaintext)).toBe('from us')
      await expect(peerAllow.decrypt(family.peer(false), ciphertext)).rejects.toThrow()
    })

    it("'encrypt-and-decrypt' writes the peer's order: its default reads it, and so do we", async () => {
      const { ciphertext } = await ours.encrypt(family.mine('encrypt-and-decrypt'), 'legacy', { encryptionContext })
      expect(text((await peerAllow.decrypt(family.peer(false), ciphertext)).plaintext)).toBe('legacy')
      expect(text((await ours.decrypt(family.mine('decrypt'), ciphertext)).plaintext)).toBe('legacy')
      await expect(ours.decrypt(family.mine('off'), ciphertext)).rejects.toBeInstanceOf(NoMatchingKeyError)
    })
  })

  it('a context that sorts the same either way needs no fallback', async () => {
    const { result } = await peerAllow.encrypt(family.peer(false), 'plain', { encryptionContext: ORDERED })
    expect(text((await ours.decrypt(family.mine('off'), result)).plaintext)).toBe('plain')
  })
})
