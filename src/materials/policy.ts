/** Commitment policies, as one table (spec/materials.md#commitment-policy). */
import { PolicyError } from '../errors.js'
import { Suite, suiteLabel, type AlgorithmSuite } from '../format/suites.js'

export type CommitmentPolicy = 'FORBID_ENCRYPT_ALLOW_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'

interface PolicyRules {
  /** Whether encrypt must use a committing suite (true) or must not (false). */
  readonly encryptCommitting: boolean
  readonly decryptRequiresCommitting: boolean
  readonly defaultSuiteId: number
}

const POLICIES: Readonly<Record<CommitmentPolicy, PolicyRules>> = Object.freeze({
  // Every implementation defaults FORBID to 0x0378 (the spec text's NO_KDF default is a known erratum).
  FORBID_ENCRYPT_ALLOW_DECRYPT: { encryptCommitting: false, decryptRequiresCommitting: false, defaultSuiteId: Suite.ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 },
  REQUIRE_ENCRYPT_ALLOW_DECRYPT: { encryptCommitting: true, decryptRequiresCommitting: false, defaultSuiteId: Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 },
  REQUIRE_ENCRYPT_REQUIRE_DECRYPT: { encryptCommitting: true, decryptRequiresCommitting: true, defaultSuiteId: Suite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 },
})

export const DEFAULT_COMMITMENT_POLICY: CommitmentPolicy = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'

export function checkCommitmentPolicy(policy: unknown): CommitmentPolicy {
  if (typeof policy !== 'string' || !Object.hasOwn(POLICIES, policy)) {
    throw new TypeError(`commitmentPolicy must be one of ${Object.keys(POLICIES).join(', ')}`)
  }
  return policy as CommitmentPolicy
}

export function defaultSuiteId(policy: CommitmentPolicy): number {
  return POLICIES[policy].defaultSuiteId
}

export function assertEncryptAllowed(policy: CommitmentPolicy, suite: AlgorithmSuite): void {
  if (POLICIES[policy].encryptCommitting !== suite.committing) {
    throw new PolicyError(
      'ERR_COMMITMENT_POLICY',
      `suite ${suiteLabel(suite.id)} is ${suite.committing ? '' : 'not '}key-committing, and commitment policy ${policy} ` +
        `${POLICIES[policy].encryptCommitting ? 'requires' : 'forbids'} key commitment on encrypt`,
    )
  }
}

export function assertDecryptAllowed(policy: CommitmentPolicy, suite: AlgorithmSuite): void {
  if (POLICIES[policy].decryptRequiresCommitting && !suite.committing) {
    throw new PolicyError(
      'ERR_COMMITMENT_POLICY',
      `the message uses suite ${suiteLabel(suite.id)} without key commitment, and commitment policy ${policy} only decrypts ` +
        `key-committing messages (use REQUIRE_ENCRYPT_ALLOW_DECRYPT to read older messages)`,
    )
  }
}
