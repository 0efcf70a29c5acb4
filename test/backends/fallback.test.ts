/**
 * withFallback (src/crypto/fallback.ts) routes by declared capability, decided
 * when the backend is made; the web entry's default selection; and the
 * `crypto` option's check. Routing is observed through counting backends.
 */
import { describe, expect, it } from 'vitest'
import { createClient, RawAesKeyring, RawRsaKeyring, type BackendParts, type CryptoBackend } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { withFallback } from '../../src/crypto/fallback.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { selectWebBackend } from '../../src/crypto/select.js'
import { createWebCryptoBackend, webCryptoParts } from '../../src/crypto/webcrypto.js'
import * as web from '../../src/entry/web.js'
import { rsaKeyPair } from '../support/keys.js'

type Counts = Record<string, number>

/** A complete backend that counts calls of every operation. */
function counting(inner: CryptoBackend, counts: Counts): CryptoBackend {
  const out: Record<string, unknown> = { name: inner.name }
  for (const [key, value] of Object.entries(inner)) {
    if (typeof value === 'function') {
      out[key] = (...args: unknown[]) => {
        counts[key] = (counts[key] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(inner, args)
      }
    }
  }
  return out as unknown as CryptoBackend
}

describe('withFallback', () => {
  it('sends AES-192 keys and empty GCM inputs to the fallback and the rest to the primary', () => {
    const p: Counts = {}
    const s: Counts = {}
    const primary: BackendParts = { ...counting(nodeBackend, p), name: 'primary', lacks: ['aes-192', 'gcm-empty'] }
    const backend = withFallback(primary, counting(nobleBackend, s))
    expect(backend.name).toBe('primary+noble')
    const out = new Uint8Array(64)
    const iv = new Uint8Array(12)
    const k16 = backend.importAesKey(new Uint8Array(16).fill(1))
    backend.gcmSeal(k16, iv, new Uint8Array(0), new Uint8Array(8), out, 0)
    expect([p.gcmSeal, s.gcmSeal]).toEqual([1, undefined])
    backend.gcmSeal(k16, iv, new Uint8Array(3), new Uint8Array(0), out, 0)
    expect([p.gcmSeal, s.gcmSeal]).toEqual([1, 1])
    const k24 = backend.importAesKey(new Uint8Array(24).fill(2))
    backend.gcmSeal(k24, iv, new Uint8Array(0), new Uint8Array(8), out, 0)
    expect(backend.gcmOpen(k24, iv, new Uint8Array(0), out.subarray(0, 8), out.subarray(8, 24))).toEqual(new Uint8Array(8))
    expect([p.gcmSeal, s.gcmSeal, p.gcmOpen, s.gcmOpen]).toEqual([1, 2, undefined, 1])
    // Everything the primary has stays with it.
    backend.hkdf('sha256', new Uint8Array(32), new Uint8Array(0), [{ info: new Uint8Array(0), length: 32 }])
    backend.randomBytes(4)
    expect([p.hkdf, s.hkdf, p.randomBytes, s.randomBytes]).toEqual([1, undefined, 1, undefined])
  })

  it('takes the whole symmetric family from the fallback when the primary has no synchronous one', () => {
    const s: Counts = {}
    const backend = withFallback({ name: 'async-only', lacks: ['sync-symmetric'], randomBytes: nodeBackend.randomBytes }, counting(nobleBackend, s))
    const key = backend.importAesKey(new Uint8Array(32))
    backend.gcmSeal(key, new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(17), 0)
    backend.digest('sha256', new Uint8Array(0))
    expect([s.importAesKey, s.gcmSeal, s.digest, s.randomBytes]).toEqual([1, 1, 1, undefined])
  })

  it('decides routes once: changing the primary afterwards changes nothing', () => {
    const s: Counts = {}
    const lacks: BackendParts['lacks'] = ['aes-192']
    const primary = { ...nodeBackend, name: 'p', lacks }
    const backend = withFallback(primary, counting(nobleBackend, s))
    ;(lacks as string[]).length = 0
    primary.gcmSeal = () => {
      throw new Error('replaced after construction')
    }
    const k = backend.importAesKey(new Uint8Array(24))
    backend.gcmSeal(k, new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(17), 0)
    expect(s.gcmSeal).toBe(1)
    const k16 = backend.importAesKey(new Uint8Array(16))
    expect(() => backend.gcmSeal(k16, new Uint8Array(12), new Uint8Array(0), new Uint8Array(1), new Uint8Array(17), 0)).not.toThrow()
  })

  it('routes PKCS#1 v1.5 to pure JS and OAEP to WebCrypto, per padding, with one imported key', async () => {
    const s: Counts = {}
    const backend = withFallback(webCryptoParts(), counting(nobleBackend, s))
    const { publicKey, privateKey } = rsaKeyPair()
    const pub = backend.importRsaPublicKey(publicKey)
    const priv = backend.importRsaPrivateKey(privateKey)
    const dataKey = new Uint8Array(32).fill(5)
    expect(await backend.rsaDecrypt(priv, 'oaep-sha256', await backend.rsaEncrypt(pub, 'oaep-sha256', dataKey))).toEqual(dataKey)
    expect([s.rsaEncrypt, s.rsaDecrypt]).toEqual([undefined, undefined])
    expect(await backend.rsaDecrypt(priv, 'pkcs1', await backend.rsaEncrypt(pub, 'pkcs1', dataKey), 32)).toEqual(dataKey)
    expect([s.rsaEncrypt, s.rsaDecrypt, s.importRsaPublicKey, s.importRsaPrivateKey]).toEqual([1, 1, 1, 1])
  })

  it('refuses a fallback that itself lacks something', () => {
    expect(() => withFallback(webCryptoParts(), { ...nobleBackend, lacks: ['ecdsa'] })).toThrow(TypeError)
  })
})

describe('selection', () => {
  it('the WebCrypto parts declare what WebCrypto lacks, and a client refuses them until composed', () => {
    const parts = webCryptoParts()
    expect([...parts.lacks].sort()).toEqual(['aes-192', 'rsa-pkcs1', 'sync-symmetric'])
    expect(parts.gcmSeal).toBeUndefined()
    expect(() => createClient({ backend: parts as unknown as CryptoBackend })).toThrow(TypeError)
    expect(() => createClient({ backend: {} as CryptoBackend })).toThrow(TypeError)
    expect(createWebCryptoBackend().lacks).toBeUndefined()
  })

  it('the old option name crypto is refused with a TypeError naming backend, on both entries', () => {
    for (const create of [createClient, web.createClient]) {
      expect(() => create({ crypto: nobleBackend } as never)).toThrow(/the crypto option is now called backend/)
    }
  })

  it('the web default is WebCrypto with noble behind it where crypto.subtle exists (Node has it)', () => {
    expect(selectWebBackend().name).toBe('webcrypto+noble')
    expect(selectWebBackend()).toBe(selectWebBackend())
  })

  it('the web entry: no Node streams, a working client on its default backend, including AES-192 wrapping', async () => {
    const client = web.createClient()
    expect('encryptStream' in client).toBe(false)
    expect('decryptStream' in client).toBe(false)
    expect(typeof client.encryptWebStream).toBe('function')
    const keyring = new web.RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(24).fill(3) })
    const { ciphertext } = await client.encrypt(keyring, 'hello')
    // node:crypto reads what the web default wrote.
    expect(new TextDecoder().decode((await createClient().decrypt(keyring, ciphertext)).plaintext)).toBe('hello')
    const rsa = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'r', padding: 'oaep-sha1', ...rsaKeyPair() })
    const wrapped = await client.encrypt(rsa, 'x')
    expect(new TextDecoder().decode((await createClient().decrypt(rsa, wrapped.ciphertext)).plaintext)).toBe('x')
    expect(RawAesKeyring).toBe(web.RawAesKeyring)
  })
})
