/** Test and development helpers (Node only): `envelope-sdk/testing`. */
export { startLocalKms } from './kms-server.js'
export type { CallRecord, Fault, KmsOperation, LocalKey, LocalKeySpec, LocalKeySpecName, LocalKms, LocalKmsOptions } from './kms-server.js'
export { provisionManifestKeys } from './provision.js'
export type { ProvisionedKey, ProvisionOptions } from './provision.js'
export { createTestEnclave } from './enclave.js'
export type { TestDocumentOptions, TestEnclave, TestEnclaveOptions } from './enclave.js'
export type { LocalKmsAttestationOptions, RequireAttestation } from './kms-attestation.js'
