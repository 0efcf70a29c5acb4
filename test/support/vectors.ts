/** Paths and loaders for the public test vectors in ../shared/test-vectors (never copied into the repo). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** The shared vectors sit beside the repository: <repo>/../shared/test-vectors/public. */
export const PUBLIC_VECTORS = resolve(here, '../../../shared/test-vectors/public')

export function vectorsAvailable(): boolean {
  return existsSync(PUBLIC_VECTORS)
}

export function readVectorJson<T = any>(...path: string[]): T {
  return JSON.parse(readFileSync(join(PUBLIC_VECTORS, ...path), 'utf8')) as T
}

export const b64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))
export const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
