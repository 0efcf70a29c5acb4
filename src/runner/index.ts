/** The conformance runner (Node only): `envelope-sdk/runner`. */
export { runDecryptManifest } from './decrypt.js'
export type { DecryptRunOptions } from './decrypt.js'
export { parseKeysManifest, keyringForDescription, keyringForMasterKeys } from './keys.js'
export type { KeyEntry, KeyMap, KmsHooks, Materials } from './keys.js'
export { summarize, summaryLine } from './report.js'
export type { Summary, TestResult } from './report.js'
export { openManifest } from './source.js'
export type { ManifestSource } from './source.js'
