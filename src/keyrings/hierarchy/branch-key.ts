/**
 * What the hierarchical keyring needs from a branch key store
 * (spec/hierarchy.md): the plaintext branch key of one version, with the
 * custom encryption context the store bound to it. `BranchKeyStore` (DynamoDB
 * and KMS) implements it; so can a static source for conformance vectors.
 */

export interface BranchKeyMaterials {
  readonly branchKeyId: string
  /** The version as its 36-character UUID string (the EDK carries its 16 bytes). */
  readonly branchKeyVersion: string
  /** 32 bytes. The keyring's cache owns it once handed over and wipes it on eviction. */
  readonly branchKey: Uint8Array
  /** The item's custom context, without the `aws-crypto-ec:` prefix. */
  readonly encryptionContext: Readonly<Record<string, string>>
}

export interface BranchKeySource {
  /** Bound into the keyring's cache ids, so two stores never share entries. */
  readonly logicalKeyStoreName: string
  /** The branch key's ACTIVE version: what encrypt uses. */
  getActiveBranchKey(branchKeyId: string): Promise<BranchKeyMaterials>
  /** The version an encrypted data key names: what decrypt uses. */
  getBranchKeyVersion(branchKeyId: string, branchKeyVersion: string): Promise<BranchKeyMaterials>
}
