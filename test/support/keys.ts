/** Key material generated once per test run (nothing secret is committed). */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { inject } from 'vitest'

/** The run's RSA key pair, made by the globalSetup test/support/keys-setup.ts. */
export function rsaKeyPair(): { publicKey: string; privateKey: string } {
  return inject('rsaKeyPair')
}

export function aesKey(bytes: 16 | 24 | 32): Uint8Array {
  return new Uint8Array(randomBytes(bytes))
}

/** Plaintext whose bytes depend on position, so reordered frames cannot pass as equal. */
export function patterned(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** An EC key pair on a NIST curve: PKCS#8 PEM private key, SPKI PEM and DER public key, and the raw values. */
export function ecKeyPair(curve: 'P-256' | 'P-384' | 'P-521') {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve })
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateDer: new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicDer: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    keyObject: privateKey,
  }
}
