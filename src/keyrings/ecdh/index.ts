export { RawEcdhKeyring } from './raw.js'
export type { EcKeyInput, RawEcdhKeyringOptions, RawEcdhScheme } from './raw.js'
export { KMS_ECDH_PROVIDER_ID, RAW_ECDH_PROVIDER_ID } from './wire.js'
