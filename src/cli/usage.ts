/** A command-line mistake: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The operation could not run on what it was given (e.g. a missing input or key file): printed without a stack, exit code 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure'
}

/** The operation failed (bad input file, wrong key, tampered message, KMS refused…). */
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

/** Reads a file the command line named; a missing or unreadable one is reported by path (exit 1), not as a raw ENOENT. */
export function readNamedFile<T>(path: string, what: string, read: (path: string) => T): T {
  try {
    return read(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message
    throw new CliFailure(`${what} ${path}: ${reason}`)
  }
}

/**
 * AWS SDK client settings for an `endpoint=` given on the command line. A loopback endpoint is the
 * local server (envelope kms-local / ddb-local), which takes any credentials: placeholder ones are
 * supplied when the environment names none, so a first try needs no AWS setup (docs/kms-local.md).
 */
export function endpointConfig(endpoint: string | undefined, region?: string): Record<string, unknown> {
  const config: Record<string, unknown> = { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) }
  if (!endpoint || process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE) return config
  let host: string
  try {
    host = new URL(endpoint).hostname
  } catch {
    return config
  }
  if (host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1') {
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
    config.region ??= 'us-west-2'
  }
  return config
}

/** The --port flag of the local servers: `fallback` when absent, 0 for any free port. */
export function parsePort(text: string | undefined, fallback: number): number {
  const port = text === undefined ? fallback : Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a port number')
  return port
}
