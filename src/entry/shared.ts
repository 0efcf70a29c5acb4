/**
 * What every entry point exports (src/entry/node.ts, src/entry/web.ts): keyrings,
 * CMMs, errors, types and the client factory, with no backend bound and
 * nothing from node:* reachable. No side effects; no cloud SDK is loaded.
 */
export { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_HEADER_SIZE, DEFAULT_STREAM_MAX_BODY_SIZE } from '../client.js'
export type { ClientOptions, RewrapOptions, WebClient } from '../client.js'
export type { RewrapResult } from '../core/rewrap.js'
export { inspectMessage } from '../format/inspect.js'
export type { IncompleteHeader, InspectedDataKey, InspectOptions, KeyNameKind, MessageInfo } from '../format/inspect.js'
export type { EncryptOptions } from '../core/encryptor.js'
export type { DecryptOptions } from '../core/decryptor.js'
export type { EncryptResult, DecryptResult } from '../core/one-shot.js'
export type { StreamEncryptOptions } from '../core/stream-encryptor.js'
export type { StreamInput } from '../streams/input.js'
export type { HeaderTransformStream } from '../streams/web.js'

export { RawAesKeyring } from '../keyrings/raw-aes.js'
export type { RawAesKeyringOptions } from '../keyrings/raw-aes.js'
export { RawRsaKeyring } from '../keyrings/raw-rsa.js'
export type { RawRsaKeyringOptions } from '../keyrings/raw-rsa.js'
// ECDH keyrings (spec/ecdh.md).
export * from '../keyrings/ecdh/index.js'
export type { EcdhCurve } from '../algorithms.js'
export { MultiKeyring } from '../keyrings/multi.js'
export type { MultiKeyringOptions } from '../keyrings/multi.js'

export { DefaultCmm, isCmm } from '../materials/cmm.js'
export type { Cmm, EncryptionRequest, DecryptionRequest } from '../materials/cmm.js'
export { RequiredEncryptionContextCmm } from '../materials/required-context.js'
export type { RequiredEncryptionContextCmmOptions } from '../materials/required-context.js'
export { isKeyring } from '../materials/keyring.js'
export type { Keyring, KeyringServices } from '../materials/keyring.js'
export {
  createDecryptionMaterials,
  createEncryptionMaterials,
  withDecryptionDataKey,
  withEncryptedDataKey,
  withEncryptionDataKey,
} from '../materials/materials.js'
export type { DecryptionMaterials, EncryptionMaterials } from '../materials/materials.js'
export type { CommitmentPolicy } from '../materials/policy.js'

export { Suite, ALL_SUITES, findSuite } from '../format/suites.js'
export type { AlgorithmSuite, SuiteId, SuiteName } from '../format/suites.js'
export type { MessageHeader } from '../format/header.js'
export type { EncryptedDataKey } from '../format/edk.js'
export type { EncryptionContext } from '../format/encryption-context.js'

export type { BackendParts, Capability, CryptoBackend, RsaPadding } from '../crypto/backend.js'

export {
  AuthenticationError,
  EncryptionContextError,
  EnvelopeError,
  ERROR_CODES,
  InvalidKeyError,
  isEnvelopeError,
  KeyringError,
  KeyStoreError,
  KmsError,
  LimitError,
  MalformedMessageError,
  NoMatchingKeyError,
  PolicyError,
  UnsupportedError,
  WorkerError,
  AttestationError,
  RecipientError,
} from '../errors.js'
export type { AnyEnvelopeError, AttestationCheck, AuthenticationStage, ErrorCode, KeyAttempt, KeyStoreErrorCode, RecipientFailure } from '../errors.js'

// AWS KMS keyrings: @aws-sdk/client-kms loads on their first call, never at import.
export * from '../keyrings/kms/index.js'

// The branch key store (hierarchical keyring): @aws-sdk/client-dynamodb loads on its first call, never at import.
export { BranchKeyStore } from '../keyrings/hierarchy/store.js'
export type { BeaconKeyMaterials, BranchKeyStoreOptions, CreateBranchKeyInput, KeyStoreInfo } from '../keyrings/hierarchy/store.js'
export type { DdbClientLike } from '../keyrings/hierarchy/ddb-client.js'

// Data-key caching.
export * from '../caching/index.js'

// The hierarchical keyring: branch keys from a key store, cached per TTL.
export { KmsHierarchicalKeyring } from '../keyrings/hierarchy/keyring.js'
export type { BranchKeyIdSupplier, KmsHierarchicalKeyringOptions } from '../keyrings/hierarchy/keyring.js'
export { BranchKeyCache } from '../keyrings/hierarchy/cache.js'
export type { BranchKeyCacheOptions } from '../keyrings/hierarchy/cache.js'
export type { BranchKeyMaterials, BranchKeySource } from '../keyrings/hierarchy/branch-key.js'
export type { LegacyContextOrder } from '../keyrings/context-order.js'
