/**
 * The hierarchical keyring against the peer's KmsHierarchicalKeyRingNode, both
 * ways, every suite, on one in-memory branch key store both read (the peer's
 * own DynamoDB-backed store comes with the local DynamoDB server).
 */
import { KmsHierarchicalKeyRingNode } from '@aws-crypto/client-node'
import { describe, expect, it } from 'vitest'
import { ALL_SUITES, createClient, KmsHierarchicalKeyring, type EncryptionContext } from '../../src/index.js'
import { MemoryBranchKeys } from '../support/branch-keys.js'
import { peerKeyStore } from '../support/peer-branch-keys.js'
import { peerAllow, peerForbid } from '../support/peer.js'

const store = new MemoryBranchKeys('interop')
store.rotate('tenant-a')
store.rotate('tenant-b')
const supplier = (ec: EncryptionContext) => `tenant-${ec.tenant}`
const mine = new KmsHierarchicalKeyring({ keyStore: store, branchKeyIdSupplier: supplier, ttlSeconds: 60 })
const peer = new KmsHierarchicalKeyRingNode({ keyStore: peerKeyStore(store), branchKeyIdSupplier: { getBranchKeyId: supplier }, cacheLimitTtl: 60, utf8Sorting: true })
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('hierarchical keyring and the peer', () => {
  it.each(ALL_SUITES.map((s) => [s.id.toString(16).padStart(4, '0'), s] as const))('suite %s, both ways', async (_, suite) => {
    const ours = createClient({ commitmentPolicy: suite.committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
    const theirs = suite.committing ? peerAllow : peerForbid
    const encryptionContext = { tenant: suite.id % 2 === 0 ? 'a' : 'b', purpose: 'interop' }
    const ourMessage = await ours.encrypt(mine, 'from us', { suiteId: suite.id, encryptionContext })
    expect(text((await theirs.decrypt(peer, ourMessage.ciphertext)).plaintext)).toBe('from us')
    const { result } = await theirs.encrypt(peer, 'from the peer', { suiteId: suite.id, encryptionContext })
    expect(text((await ours.decrypt(mine, result)).plaintext)).toBe('from the peer')
  })

  it('after a rotation, each side decrypts the other side’s messages under both versions', async () => {
    const local = new MemoryBranchKeys('rotation')
    local.rotate('bk')
    const ours = createClient()
    const k = () => new KmsHierarchicalKeyring({ keyStore: local, branchKeyId: 'bk', ttlSeconds: 60 })
    const p = () => new KmsHierarchicalKeyRingNode({ keyStore: peerKeyStore(local), branchKeyId: 'bk', cacheLimitTtl: 60, utf8Sorting: true })
    const before = [(await ours.encrypt(k(), 'ours v1')).ciphertext, (await peerAllow.encrypt(p(), 'peer v1')).result]
    local.rotate('bk')
    const after = [(await ours.encrypt(k(), 'ours v2')).ciphertext, (await peerAllow.encrypt(p(), 'peer v2')).result]
    const expected = ['ours v1', 'peer v1', 'ours v2', 'peer v2']
    for (const [i, message] of [...before, ...after].entries()) {
      expect(text((await ours.decrypt(k(), message)).plaintext)).toBe(expected[i])
      expect(text((await peerAllow.decrypt(p(), message)).plaintext)).toBe(expected[i])
    }
    expect(local.calls.filter((c) => c.op === 'version').map((c) => c.version)).toContain(local.versions.get('bk')![0]!.version)
  })
})
