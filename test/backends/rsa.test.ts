/**
 * Pure-JS RSA (src/crypto/rsa.ts) and its key reader (src/crypto/der.ts),
 * checked against node:crypto (OpenSSL) as the independent implementation:
 * OAEP both ways for every hash, PKCS#1 v1.5 blocks inspected raw, every key
 * format, and the oracle-free PKCS#1 v1.5 failure (spec/backends.md#pkcs1).
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, createClient, RawRsaKeyring, type CryptoBackend, type RsaPadding } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { importRsaPrivateMaterial, importRsaPublicMaterial, rsaDecrypt, rsaEncrypt } from '../../src/crypto/rsa.js'
import { createWebCryptoBackend } from '../../src/crypto/webcrypto.js'
import { rsaKeyPair } from '../support/keys.js'

const random = (n: number) => new Uint8Array(randomBytes(n))
const pair = rsaKeyPair()
const privateObject = createPrivateKey(pair.privateKey)
const publicObject = createPublicKey(pair.publicKey)
const OAEP: [RsaPadding, string][] = [
  ['oaep-sha1', 'sha1'],
  ['oaep-sha256', 'sha256'],
  ['oaep-sha384', 'sha384'],
  ['oaep-sha512', 'sha512'],
]

/** An RSA encryption block run through the raw public operation, so any padding (even a wrong one) can be made. */
function rawEncrypt(block: Uint8Array): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_NO_PADDING }, block))
}

function pkcs1Block(message: Uint8Array, options: { type?: number; psLength?: number; separator?: boolean } = {}): Uint8Array {
  const k = 256
  const block = new Uint8Array(k)
  block[1] = options.type ?? 2
  const psLength = options.psLength ?? k - 3 - message.length
  for (let i = 0; i < psLength; i++) block[2 + i] = 1 + (i % 255)
  if (options.separator !== false) block[2 + psLength] = 0
  else block[2 + psLength] = 0x55
  block.set(message, 3 + psLength)
  return block
}

describe('key formats', () => {
  const jwkPrivate = privateObject.export({ format: 'jwk' })
  const jwkPublic = publicObject.export({ format: 'jwk' })
  const formats = {
    'SPKI PEM': [pair.publicKey, pair.privateKey],
    'PKCS#1 PEM': [publicObject.export({ type: 'pkcs1', format: 'pem' }).toString(), privateObject.export({ type: 'pkcs1', format: 'pem' }).toString()],
    'PEM as bytes': [new TextEncoder().encode(pair.publicKey), new TextEncoder().encode(pair.privateKey)],
    JWK: [jwkPublic, jwkPrivate],
  } as const

  it.each(Object.entries(formats))('%s imports to the same key node:crypto reads', (_name, [pub, priv]) => {
    const publicKey = importRsaPublicMaterial(pub)
    expect(publicKey.n.toString(16)).toBe(Buffer.from(jwkPublic.n!, 'base64url').toString('hex').replace(/^0+/, ''))
    expect(publicKey.e).toBe(65537n)
    const privateKey = importRsaPrivateMaterial(priv)
    const message = random(32)
    const wrapped = new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, message))
    expect(rsaDecrypt(privateKey, 'oaep-sha256', wrapped, random)).toEqual(message)
  })

  it('refuses a private key as the public one, a non-RSA key, and garbage', () => {
    expect(() => importRsaPublicMaterial(pair.privateKey)).toThrow(/not a private key/)
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    expect(() => importRsaPublicMaterial(ec.publicKey)).toThrow(TypeError)
    expect(() => importRsaPrivateMaterial(ec.privateKey)).toThrow(TypeError)
    expect(() => importRsaPublicMaterial('not a key')).toThrow(TypeError)
    const lines = pair.privateKey.split('\n')
    const truncated = [...lines.slice(0, 5), ...lines.slice(6)].join('\n')
    expect(() => importRsaPrivateMaterial(truncated)).toThrow(TypeError)
  })

  it('never prints a private key', () => {
    const key = importRsaPrivateMaterial(pair.privateKey)
    const d = Buffer.from(privateObject.export({ format: 'jwk' }).d!, 'base64url').toString('hex')
    for (const text of [JSON.stringify(key), inspect(key, { depth: 5, showHidden: true }), String(key)]) {
      expect(text).not.toContain(d.slice(0, 16))
      expect(text).not.toMatch(/[0-9a-f]{64}/)
    }
  })
})

describe('RSAES-OAEP', () => {
  const publicKey = importRsaPublicMaterial(pair.publicKey)
  const privateKey = importRsaPrivateMaterial(pair.privateKey)

  it.each(OAEP)('%s: ours -> OpenSSL and OpenSSL -> ours', (padding, oaepHash) => {
    for (const length of [0, 1, 16, 32, 256 - 2 * (oaepHash === 'sha1' ? 20 : Number(oaepHash.slice(3)) / 8) - 2]) {
      const message = random(length)
      const ours = rsaEncrypt(publicKey, padding, message, random)
      expect(ours.length).toBe(256)
      expect(new Uint8Array(privateDecrypt({ key: privateObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, ours))).toEqual(message)
      const theirs = new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, message))
      expect(rsaDecrypt(privateKey, padding, theirs, random)).toEqual(message)
    }
  })

  it('refuses a message too long for the key and hash', () => {
    expect(() => rsaEncrypt(publicKey, 'oaep-sha512', random(256 - 2 * 64 - 1), random)).toThrow(RangeError)
  })

  it('fails with one fixed error for a wrong hash, a flipped bit, a short or an out-of-range ciphertext', () => {
    const good = new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, random(32)))
    const flipped = new Uint8Array(good)
    flipped[100]! ^= 1
    const tooBig = new Uint8Array(256).fill(0xff)
    const attempts: [RsaPadding, Uint8Array][] = [['oaep-sha1', good], ['oaep-sha256', flipped], ['oaep-sha256', good.subarray(1)], ['oaep-sha256', tooBig]]
    for (const [padding, ciphertext] of attempts) expect(() => rsaDecrypt(privateKey, padding, ciphertext, random)).toThrow(new Error('RSA decryption failed'))
  })
})

describe('RSAES-PKCS1-v1_5', () => {
  const publicKey = importRsaPublicMaterial(pair.publicKey)
  const privateKey = importRsaPrivateMaterial(pair.privateKey)

  it('writes 00 02 PS(nonzero, at least 8) 00 M, read back raw through OpenSSL', () => {
    for (const length of [0, 16, 32, 245]) {
      const message = random(length)
      const raw = new Uint8Array(privateDecrypt({ key: privateObject, padding: constants.RSA_NO_PADDING }, rsaEncrypt(publicKey, 'pkcs1', message, random)))
      expect([raw[0], raw[1]]).toEqual([0, 2])
      const separator = raw.indexOf(0, 2)
      expect(separator).toBe(256 - length - 1)
      expect(separator).toBeGreaterThanOrEqual(10)
      expect(raw.subarray(2, separator).includes(0)).toBe(false)
      expect(raw.subarray(separator + 1)).toEqual(message)
    }
    expect(() => rsaEncrypt(publicKey, 'pkcs1', random(246), random)).toThrow(RangeError)
  })

  it('reads OpenSSL PKCS#1 v1.5 blocks, with and without an expected length', () => {
    const message = random(32)
    const theirs = new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_PKCS1_PADDING }, message))
    expect(rsaDecrypt(privateKey, 'pkcs1', theirs, random)).toEqual(message)
    expect(rsaDecrypt(privateKey, 'pkcs1', theirs, random, 32)).toEqual(message)
  })

  const message = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
  const bad = {
    'block type 1': pkcs1Block(message, { type: 1 }),
    'no zero separator': pkcs1Block(message, { separator: false }),
    'PS of 7 bytes': (() => {
      // 00 02 PS(7) 00 M(246): valid but for the short PS.
      const block = new Uint8Array(256)
      block[1] = 2
      block.fill(9, 2, 9)
      block.fill(7, 10)
      return block
    })(),
    'message of 31 bytes where 32 are expected': pkcs1Block(message.subarray(1)),
  }

  it.each(Object.entries(bad))('%s: random bytes of the expected length, never an error', (name, block) => {
    const ciphertext = rawEncrypt(block)
    const first = rsaDecrypt(privateKey, 'pkcs1', ciphertext, random, 32)
    const second = rsaDecrypt(privateKey, 'pkcs1', ciphertext, random, 32)
    expect(first.length).toBe(32)
    expect(first).not.toEqual(second)
    expect(first).not.toEqual(message)
    // Without an expected length the caller asked for a plain failure.
    if (!name.startsWith('message of 31')) expect(() => rsaDecrypt(privateKey, 'pkcs1', ciphertext, random)).toThrow('RSA decryption failed')
  })

  it('the well-formed control block decrypts (so the cases above can fail)', () => {
    expect(rsaDecrypt(privateKey, 'pkcs1', rawEncrypt(pkcs1Block(message)), random, 32)).toEqual(message)
  })

  it.each([
    ['noble', nobleBackend],
    ['webcrypto', createWebCryptoBackend()],
  ] as const)('through RawRsaKeyring (%s): a bad block and a wrong key fail alike, at header authentication', async (_name, backend) => {
    const client = createClient({ backend })
    const keyring = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'pkcs1', ...pair })
    const { ciphertext } = await client.encrypt(keyring, 'secret')
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    const wrongKey = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'pkcs1', ...other })
    // Same key name, but the EDK holds a block with a bad type byte.
    const badBlock = rawEncrypt(pkcs1Block(random(32), { type: 1 }))
    // providerInfo "rsa" (uint16 length 3), then the 256-byte EDK ciphertext (uint16 length 0x0100).
    const edkAt = Buffer.from(ciphertext).indexOf(Buffer.from([0, 3, 0x72, 0x73, 0x61, 1, 0])) + 7
    expect(edkAt).toBeGreaterThan(7)
    const tampered = new Uint8Array(ciphertext)
    tampered.set(badBlock, edkAt)
    const outcomes = await Promise.allSettled([client.decrypt(wrongKey, ciphertext), client.decrypt(keyring, tampered)])
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      const reason = (outcome as PromiseRejectedResult).reason
      expect(reason).toBeInstanceOf(AuthenticationError)
      expect(reason.stage).toBe('commitment')
    }
    // Control: the untouched message decrypts with the right key.
    expect((await client.decrypt(keyring, ciphertext)).plaintext).toEqual(new TextEncoder().encode('secret'))
  })
})

describe('RSAES-OAEP unwrap failures are indistinguishable (issue 14 item 1)', () => {
  // A block that fails OAEP decoding, and a valid OAEP block holding 31 bytes where the suite wants 32.
  const garbage = rawEncrypt(Uint8Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : (i * 37) & 0xff)))
  const shortKey = new Uint8Array(publicEncrypt({ key: publicObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, random(31)))

  async function outcomes(backend: CryptoBackend): Promise<unknown[]> {
    const client = createClient({ backend })
    const keyring = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'oaep-sha256', ...pair })
    const { ciphertext } = await client.encrypt(keyring, 'secret')
    const edkAt = Buffer.from(ciphertext).indexOf(Buffer.from([0, 3, 0x72, 0x73, 0x61, 1, 0])) + 7
    expect(edkAt).toBeGreaterThan(7)
    const out = []
    for (const block of [garbage, shortKey]) {
      const tampered = new Uint8Array(ciphertext)
      tampered.set(block, edkAt)
      const e = await client.decrypt(keyring, tampered).catch((error) => error)
      out.push({ class: e.constructor.name, code: e.code, message: e.message, attempts: e.attempts })
    }
    return out
  }

  it('node, pure JS and WebCrypto: one class, code, message and reason for a bad block and a wrong-length key', async () => {
    const node = await outcomes(nodeBackend)
    expect(node[0]).toMatchObject({ class: 'NoMatchingKeyError', attempts: [{ reason: 'unwrap failed: wrong private key or padding (oaep-sha256)' }] })
    expect(node[1]).toEqual(node[0])
    expect(await outcomes(nobleBackend)).toEqual(node)
    expect(await outcomes(createWebCryptoBackend())).toEqual(node)
  })
})
