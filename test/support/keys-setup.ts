/**
 * vitest globalSetup: one RSA key pair for the whole run (test/support/keys.ts hands it out), instead
 * of one generated in every test file that asks for it (a 2048-bit pair costs a few hundred ms).
 */
import { generateKeyPairSync } from 'node:crypto'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    rsaKeyPair: { publicKey: string; privateKey: string }
  }
}

export default function setup(project: TestProject): void {
  project.provide(
    'rsaKeyPair',
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }),
  )
}
