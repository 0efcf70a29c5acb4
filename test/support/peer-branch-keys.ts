/** The peer's view of a MemoryBranchKeys store, for its KmsHierarchicalKeyRingNode. */
import { BranchKeyStoreNode } from '@aws-crypto/client-node'
import { NodeBranchKeyMaterial } from '@aws-crypto/material-management'
import type { MemoryBranchKeys } from './branch-keys.js'

export function peerKeyStore(store: MemoryBranchKeys): BranchKeyStoreNode {
  const toPeer = async (m: ReturnType<MemoryBranchKeys['getActiveBranchKey']>) => {
    const { branchKey, branchKeyId, branchKeyVersion, encryptionContext } = await m
    return new NodeBranchKeyMaterial(Buffer.from(branchKey), branchKeyId, branchKeyVersion, { ...encryptionContext })
  }
  // The peer checks `instanceof BranchKeyStoreNode`; own properties shadow the prototype's read-only methods.
  return Object.create(BranchKeyStoreNode.prototype, {
    getKeyStoreInfo: { value: () => ({ logicalKeyStoreName: store.logicalKeyStoreName, keystoreId: 'memory', keystoreTableName: 'memory', grantTokens: [], kmsConfiguration: 'discovery' }) },
    getActiveBranchKey: { value: (id: string) => toPeer(store.getActiveBranchKey(id)) },
    getBranchKeyVersion: { value: (id: string, version: string) => toPeer(store.getBranchKeyVersion(id, version)) },
  })
}
