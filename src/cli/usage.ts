/** A command-line mistake: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The operation failed (bad input file, wrong key, tampered message, KMS refused…). */
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
