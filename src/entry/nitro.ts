/**
 * `envelope-sdk/nitro` (Node): read and verify AWS Nitro Enclaves attestation
 * documents (spec/nitro.md). The KMS keyrings' `recipient` option is in the main entry.
 */
export { parseAttestationDocument } from '../format/attestation.js'
export type { AttestationDocument } from '../format/attestation.js'
export { verifyAttestationDocument } from '../nitro/verify.js'
export type { VerifyAttestationOptions } from '../nitro/verify.js'
export { AWS_NITRO_ROOT_CERTIFICATE } from '../nitro/root-certificate.js'
export { AttestationError, RecipientError } from '../errors.js'
export type { AttestationCheck, RecipientFailure } from '../errors.js'
