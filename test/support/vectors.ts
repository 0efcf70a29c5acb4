/** Paths and loaders for the public test vectors in ../shared/test-vectors (never copied into the repo). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * The shared vectors sit beside the repository (<repo>/../shared/test-vectors/public);
 * ENVELOPE_TEST_VECTORS overrides the location. Searched upwards so a clone in any folder finds them.
 */
function locate(): string {
  if (process.env.ENVELOPE_TEST_VECTORS) return resolve(process.env.ENVELOPE_TEST_VECTORS)
  for (let dir = repo; ; dir = dirname(dir)) {
    const candidate = join(dir, '..', 'shared', 'test-vectors', 'public')
    if (existsSync(candidate)) return resolve(candidate)
    if (dirname(dir) === dir) return join(repo, '..', 'shared', 'test-vectors', 'public')
  }
}

export const PUBLIC_VECTORS = locate()

export function readVectorJson<T = any>(...path: string[]): T {
  return JSON.parse(readFileSync(join(PUBLIC_VECTORS, ...path), 'utf8')) as T
}

export const b64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))
export const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))

/**
 * The public awses-decrypt manifests and how many tests each holds (counts from
 * ../shared/test-vectors/README.md), run by test/vectors and test/backends.
 */
export const PUBLIC_DECRYPT_MANIFESTS = [
  ['awses-legacy-python-1.3.0/manifest.offline.json', 900],
  ['dafny-esdk-4.1.0-via-c/decrypt-manifest.offline.json', 187],
  ['esdk-net-4.0.1/manifest.offline.json', 99],
  ['esdk-net-4.0.0-valid/manifest.offline.json', 5],
  ['esdk-net-4.0.0-invalid/manifest.expect-failure.json', 28],
] as const
