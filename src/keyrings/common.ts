/** Checks and presentation shared by the raw keyrings. */

export function checkKeyNamespace(keyNamespace: unknown): asserts keyNamespace is string {
  if (typeof keyNamespace !== 'string' || keyNamespace.length === 0) throw new TypeError('keyNamespace must be a non-empty string')
  // "aws-kms*" provider ids belong to the KMS keyrings (spec/keyrings.md#provider-ids).
  if (keyNamespace.startsWith('aws-kms')) throw new TypeError('keyNamespace must not start with "aws-kms": that prefix is reserved for AWS KMS keyrings')
}

/** What util.inspect shows for a keyring: its identity, never key material. */
export function redactedInspect(type: string, fields: Record<string, string>): string {
  return `${type} { ${Object.entries(fields)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ')}, key: [redacted] }`
}
