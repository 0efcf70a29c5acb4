/** Test and development helpers (Node only): `envelope-sdk/testing`. */
export { startLocalKms } from './kms-server.js'
export type { CallRecord, Fault, KmsOperation, LocalKey, LocalKeySpec, LocalKms, LocalKmsOptions } from './kms-server.js'
export { provisionManifestKeys } from './provision.js'
export type { ProvisionedKey, ProvisionOptions } from './provision.js'
export { startLocalDynamoDb } from './ddb-server.js'
export type { DdbAttributeValue, DdbCallRecord, DdbFault, DdbItem, DdbOperation, LocalDynamoDb, LocalDynamoDbOptions } from './ddb-server.js'
