/**
 * vitest globalSetup: importing the vector paths unpacks the vendored archives once, here, before the
 * forked test workers start (each would otherwise unpack its own copy on a first run).
 */
import { existsSync } from 'node:fs'
import { PUBLIC_VECTORS, WYCHEPROOF_VECTORS } from './vectors.js'

export default function setup(): void {
  for (const folder of [PUBLIC_VECTORS, WYCHEPROOF_VECTORS]) if (!existsSync(folder)) throw new Error(`test vectors not found at ${folder}`)
}
