/**
 * Every holder of key material prints through one rule (src/crypto/redacted.ts):
 * JSON has the type and public facts, util.inspect the same plus "key: [redacted]",
 * on every backend and through the fallback composition.
 */
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { RawAesKeyring, RawRsaKeyring } from '../../src/index.js'
import { withFallback } from '../../src/crypto/fallback.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { webCryptoParts } from '../../src/crypto/webcrypto.js'
import { BACKENDS } from '../support/backends.js'
import { rsaKeyPair } from '../support/keys.js'

const composed = withFallback(webCryptoParts(), nobleBackend)

function expectPrinted(value: object, json: object, shown: string): void {
  expect(JSON.parse(JSON.stringify(value))).toEqual(json)
  expect(inspect(value)).toBe(shown)
  expect(inspect(value, { showHidden: true, depth: 5 })).toBe(shown)
}

/** node:crypto's signing and RSA keys are plain objects around a KeyObject, which Node never prints the bytes of. */
function expectNoKeyBytes(value: object): void {
  const text = inspect(value, { showHidden: true, depth: 5 }) + JSON.stringify(value)
  expect(text).not.toMatch(/PRIVATE KEY|[0-9a-f]{32}|\d{30}|(\d+, ){16}/)
}

describe.each([...BACKENDS, ['webcrypto parts + noble', composed] as const])('%s: key holders', (name, backend) => {
  it('an AES key shows its length only', () => {
    const raw = new Uint8Array(24).fill(0xab)
    expectPrinted(backend.importAesKey(raw), { type: 'AesKey', length: 24 }, 'AesKey { length: 24, key: [redacted] }')
  })

  it('a signing key shows its curve only', async () => {
    const key = await backend.generateSigningKey('P-384')
    if (name === 'node') return expectNoKeyBytes(key)
    expectPrinted(key, { type: 'SigningKey', curve: 'P-384' }, 'SigningKey { curve: "P-384", key: [redacted] }')
  })

  it('an RSA private key shows no key bytes', () => {
    const key = backend.importRsaPrivateKey(rsaKeyPair().privateKey)
    expectNoKeyBytes(key)
    if (name !== 'node') expect(inspect(key)).toMatch(/^RsaPrivateKey \{ (bits: 2048, )?key: \[redacted\] \}$/)
  })
})

describe('keyrings', () => {
  it('print their identity and the redaction marker', () => {
    const aes = new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32).fill(7) })
    expectPrinted(aes, { type: 'RawAesKeyring', keyNamespace: 'ns', keyName: 'k' }, 'RawAesKeyring { keyNamespace: "ns", keyName: "k", key: [redacted] }')
    const rsa = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'r', padding: 'oaep-sha256', ...rsaKeyPair() })
    expectPrinted(
      rsa,
      { type: 'RawRsaKeyring', keyNamespace: 'ns', keyName: 'r', padding: 'oaep-sha256' },
      'RawRsaKeyring { keyNamespace: "ns", keyName: "r", padding: "oaep-sha256", key: [redacted] }',
    )
  })
})
