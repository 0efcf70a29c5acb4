/**
 * RawEcdhKeyring and the shared ECDH wrapping (spec/ecdh.md): the MPL's MUST rules, each with a
 * test, on every backend where the backend matters.
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, diffieHellman, ECDH } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { EcdhCurve } from '../../src/algorithms.js'
import {
  ALL_SUITES,
  createClient,
  createDecryptionMaterials,
  createEncryptionMaterials,
  InvalidKeyError,
  KeyringError,
  NoMatchingKeyError,
  RawEcdhKeyring,
  type CryptoBackend,
  type EncryptedDataKey,
} from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { encodeSpkiEcPublicKey } from '../../src/crypto/der.js'
import { decodeHeader } from '../../src/format/header.js'
import { getSuite } from '../../src/format/suites.js'
import { kdfCtrHmac } from '../../src/crypto/kdf-ctr.js'
import { fixedInfo } from '../../src/keyrings/ecdh/wrap.js'
import { BACKENDS } from '../support/backends.js'
import { bytesToHex, hexToBytes } from '../support/helpers.js'
import { ecKeyPair } from '../support/keys.js'
import { readVectorJson } from '../support/vectors.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PUBLIC_VECTORS } from '../support/vectors.js'

const CURVES: readonly EcdhCurve[] = ['P-256', 'P-384', 'P-521']
const pairs = Object.fromEntries(CURVES.map((c) => [c, [ecKeyPair(c), ecKeyPair(c)]])) as Record<EcdhCurve, ReturnType<typeof ecKeyPair>[]>
const ec = { purpose: 'test' }

function encMaterials(context: Record<string, string> = ec, suiteId = 0x0478) {
  return createEncryptionMaterials({ suite: getSuite(suiteId), encryptionContext: context, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined })
}
function decMaterials(context: Record<string, string> = ec, suiteId = 0x0478) {
  return createDecryptionMaterials({ suite: getSuite(suiteId), encryptionContext: context, requiredEncryptionContextKeys: [], verificationKey: undefined })
}

/** Alice (sender) and Bob (recipient) on `curve`, in every scheme. */
function parties(curve: EcdhCurve) {
  const [alice, bob] = pairs[curve]
  return {
    aliceStatic: new RawEcdhKeyring({ curve, scheme: { kind: 'static', senderPrivateKey: alice!.privatePem, recipientPublicKey: bob!.publicDer } }),
    bobStatic: new RawEcdhKeyring({ curve, scheme: { kind: 'static', senderPrivateKey: bob!.privateDer, recipientPublicKey: alice!.publicPem } }),
    ephemeral: new RawEcdhKeyring({ curve, scheme: { kind: 'ephemeral', recipientPublicKey: bob!.publicPem } }),
    bobDiscovery: new RawEcdhKeyring({ curve, scheme: { kind: 'discovery', recipientPrivateKey: bob!.privatePem } }),
    aliceDiscovery: new RawEcdhKeyring({ curve, scheme: { kind: 'discovery', recipientPrivateKey: alice!.privatePem } }),
  }
}

async function wrapOne(keyring: RawEcdhKeyring, backend: CryptoBackend = nodeBackend, context = ec) {
  const m = await keyring.onEncrypt(encMaterials(context), { backend })
  return { dataKey: m.plaintextDataKey!, edk: m.encryptedDataKeys[0]! }
}

async function unwrap(keyring: RawEcdhKeyring, edks: EncryptedDataKey[], backend: CryptoBackend = nodeBackend, context = ec) {
  return (await keyring.onDecrypt(decMaterials(context), edks, { backend })).plaintextDataKey
}

describe('HMAC-SHA384 and the SP 800-108 KDF', () => {
  it.each(BACKENDS)('%s: RFC 4231 test cases 1 and 2', (_name, backend) => {
    expect(bytesToHex(backend.hmac('sha384', new Uint8Array(20).fill(0x0b), new TextEncoder().encode('Hi There')))).toBe(
      'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    )
    expect(bytesToHex(backend.hmac('sha384', new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?')))).toBe(
      'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    )
  })

  it.each(BACKENDS)('%s: the known answer of Dafny vector 92735139 (P-256 discovery, EC {})', (_name, backend) => {
    // S and R from the vector's provider info; Z, salt and okm as ../shared/design/ECDH-KMS-RSA.md §2.3 lists them.
    const message = new Uint8Array(readFileSync(join(PUBLIC_VECTORS, 'dafny-esdk-4.1.0-via-c/ciphertexts/92735139-fc6f-4cc5-9fcb-c912b272eae4')))
    const decoded = decodeHeader(message, { maxEncryptedDataKeys: 10, maxHeaderSize: 1 << 20 })
    if ('needed' in decoded) throw new Error('header')
    const info = decoded.header.encryptedDataKeys[0]!.providerInfo
    expect(bytesToHex(info.subarray(0, 9))).toBe('01000000210258c5ff')
    const recipient = info.subarray(5, 38)
    const sender = info.subarray(42)
    const z = hexToBytes('d4fd1983628a21e14e0e88dc28d27533740dc32942fc4c044e49e3c239d829be')
    const salt = hexToBytes('3191f2cdf61d82f02947f4fcdd125b642e2fd988c28d16415d83362b5847eed6')
    const okm = kdfCtrHmac(backend, 'sha384', z, fixedInfo('P-256', sender, recipient, {}), salt, 64)
    expect(bytesToHex(okm)).toBe(
      '96348780a4e164b3bc27552e5328fb4b9d5a6d9760281313835e783519ed8ee85be9ecddc211096175746ca24f7b38608feeb666765c3c9199967ef4d8887272',
    )
  })
})

describe('RawEcdhKeyring: schemes', () => {
  it.each(BACKENDS.flatMap(([name, backend]) => CURVES.map((curve) => [name, curve, backend] as const)))(
    '%s %s: static both ways, ephemeral and static to discovery',
    async (_name, curve, backend) => {
      const p = parties(curve)
      const fromAlice = await wrapOne(p.aliceStatic, backend)
      expect(hex(await unwrap(p.bobStatic, [fromAlice.edk], backend))).toBe(hex(fromAlice.dataKey))
      // The sender decrypts its own static message too (the keys match in the other orientation).
      expect(hex(await unwrap(p.aliceStatic, [fromAlice.edk], backend))).toBe(hex(fromAlice.dataKey))
      expect(hex(await unwrap(p.bobDiscovery, [fromAlice.edk], backend))).toBe(hex(fromAlice.dataKey))
      const fromBob = await wrapOne(p.bobStatic, backend)
      expect(hex(await unwrap(p.aliceStatic, [fromBob.edk], backend))).toBe(hex(fromBob.dataKey))
      expect(hex(await unwrap(p.aliceDiscovery, [fromBob.edk], backend))).toBe(hex(fromBob.dataKey))
      const eph = await wrapOne(p.ephemeral, backend)
      expect(hex(await unwrap(p.bobDiscovery, [eph.edk], backend))).toBe(hex(eph.dataKey))
    },
  )

  it('writes the layout of spec/ecdh.md: provider info, salt, commitment key, zero IV, FixedInfo as AAD', async () => {
    for (const curve of CURVES) {
      const [alice, bob] = pairs[curve]
      const { edk, dataKey } = await wrapOne(parties(curve).aliceStatic)
      const c = { 'P-256': 33, 'P-384': 49, 'P-521': 67 }[curve]
      const senderPoint = createECDH(curveName(curve))
      senderPoint.setPrivateKey(alice!.keyObject.export({ format: 'jwk' }).d!, 'base64url')
      const S = senderPoint.getPublicKey(null, 'compressed')
      const R = ECDHpublic(bob!.publicDer, curve)
      expect(edk.providerId).toBe('raw-ecdh')
      expect(bytesToHex(edk.providerInfo)).toBe(`01${(c).toString(16).padStart(8, '0')}${R.toString('hex')}${c.toString(16).padStart(8, '0')}${S.toString('hex')}`)
      expect(edk.ciphertext.length).toBe(32 + 32 + 32 + 16)
      // Independently of the library: Z with node:crypto, the KDF with createHmac, AES-GCM with createDecipheriv.
      const z = diffieHellman({ privateKey: alice!.keyObject, publicKey: createPublicKey({ key: Buffer.from(bob!.publicDer), format: 'der', type: 'spki' }) })
      const label = Buffer.concat([Buffer.from('ecdh-key-derivation\0'), Buffer.from(`p${curve.slice(2)}\0HMAC_SHA384\0`), S, R, Buffer.from([0, 1, 0]), Buffer.from([0, 1, 0, 7, ...Buffer.from('purpose'), 0, 4, ...Buffer.from('test')])])
      const salt = edk.ciphertext.subarray(0, 32)
      const block = (i: number) => createHmac('sha384', z).update(Buffer.concat([u32(i), label, Buffer.from([0]), salt, u32(512)])).digest()
      const okm = Buffer.concat([block(1), block(2)])
      expect(bytesToHex(edk.ciphertext.subarray(32, 64))).toBe(okm.subarray(0, 32).toString('hex'))
      const decipher = createDecipheriv('aes-256-gcm', okm.subarray(32, 64), Buffer.alloc(12))
      decipher.setAAD(label)
      decipher.setAuthTag(edk.ciphertext.subarray(96))
      expect(hex(Buffer.concat([decipher.update(edk.ciphertext.subarray(64, 96)), decipher.final()]))).toBe(hex(dataKey))
    }
  })

  it('draws a fresh 32-byte salt per data key', async () => {
    const p = parties('P-256')
    const a = await wrapOne(p.aliceStatic)
    const b = await wrapOne(p.aliceStatic)
    expect(bytesToHex(a.edk.ciphertext.subarray(0, 32))).not.toBe(bytesToHex(b.edk.ciphertext.subarray(0, 32)))
  })

  it('discovery cannot encrypt; ephemeral cannot decrypt, not even its own message', async () => {
    const p = parties('P-256')
    await expect(p.bobDiscovery.onEncrypt(encMaterials(), { backend: nodeBackend })).rejects.toThrow(KeyringError)
    const { edk } = await wrapOne(p.ephemeral)
    await expect(unwrap(p.ephemeral, [edk])).rejects.toThrow(KeyringError)
  })

  it('works with all 11 suites, signing ones included, through the client', async () => {
    const p = parties('P-384')
    for (const s of ALL_SUITES) {
      const client = createClient({ commitmentPolicy: s.committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
      const { ciphertext } = await client.encrypt(p.ephemeral, 'hello', { suiteId: s.id, encryptionContext: ec })
      expect(new TextDecoder().decode((await client.decrypt(p.bobDiscovery, ciphertext)).plaintext)).toBe('hello')
    }
  })

  it('accepts aws-kms-ecdh encrypted data keys as well as raw-ecdh ones', async () => {
    const p = parties('P-256')
    const { edk, dataKey } = await wrapOne(p.aliceStatic)
    expect(hex(await unwrap(p.bobDiscovery, [{ ...edk, providerId: 'aws-kms-ecdh' }]))).toBe(hex(dataKey))
  })
})

describe('RawEcdhKeyring: keys and options', () => {
  const [alice, bob] = pairs['P-256']
  const other = pairs['P-384'][0]!

  it('refuses a key on another curve than the configured one, at construction', () => {
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'static', senderPrivateKey: other.privatePem, recipientPublicKey: bob!.publicPem } })).toThrow(InvalidKeyError)
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'static', senderPrivateKey: alice!.privatePem, recipientPublicKey: other.publicDer } })).toThrow(/P-384 key, not P-256/)
    expect(() => new RawEcdhKeyring({ curve: 'P-384', scheme: { kind: 'discovery', recipientPrivateKey: alice!.privateDer } })).toThrow(InvalidKeyError)
  })

  it('refuses what does not parse, saying which form it expected', () => {
    const bad = (scheme: any) => () => new RawEcdhKeyring({ curve: 'P-256', scheme })
    expect(bad({ kind: 'ephemeral', recipientPublicKey: 'not a key' })).toThrow(/PEM "PUBLIC KEY" string or DER SubjectPublicKeyInfo/)
    expect(bad({ kind: 'ephemeral', recipientPublicKey: alice!.privatePem })).toThrow(/not a PEM "PRIVATE KEY"/)
    expect(bad({ kind: 'ephemeral', recipientPublicKey: new Uint8Array([0x30, 0x03, 1, 2, 3]) })).toThrow(InvalidKeyError)
    expect(bad({ kind: 'discovery', recipientPrivateKey: bob!.publicPem })).toThrow(/PKCS#8/)
    expect(bad({ kind: 'discovery', recipientPrivateKey: alice!.privateDer.subarray(0, 40) })).toThrow(InvalidKeyError)
    expect(bad({ kind: 'discovery', recipientPrivateKey: rsaPkcs8() })).toThrow(/not an id-ecPublicKey key/)
  })

  it('refuses a public point off the curve or the identity', () => {
    const uncompressed = ECDHpublic(bob!.publicDer, 'P-256', 'uncompressed')
    const off = new Uint8Array(uncompressed)
    off[64]! ^= 1
    const make = (point: Uint8Array) => () => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'ephemeral', recipientPublicKey: encodeSpkiEcPublicKey('P-256', point) } })
    expect(make(off)).toThrow(/not a valid point on P-256/)
    expect(make(new Uint8Array([0]))).toThrow(InvalidKeyError)
    expect(make(new Uint8Array(65).fill(0, 0).map((_, i) => (i === 0 ? 4 : 0)))).toThrow(InvalidKeyError)
  })

  it('refuses unknown options and scheme fields', () => {
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'ephemeral', recipientPublicKey: bob!.publicPem }, extra: 1 } as any)).toThrow(/unknown RawEcdhKeyring option "extra"/)
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'ephemeral', recipientPublicKey: bob!.publicPem, senderPrivateKey: alice!.privatePem } as any })).toThrow(/unknown RawEcdhKeyring ephemeral scheme option "senderPrivateKey"/)
    expect(() => new RawEcdhKeyring({ curve: 'P-256', scheme: { kind: 'mystery' } as any })).toThrow(TypeError)
    expect(() => new RawEcdhKeyring({ curve: 'SM2' as any, scheme: { kind: 'ephemeral', recipientPublicKey: bob!.publicPem } })).toThrow(/curve must be one of/)
  })

  it('prints no key material', () => {
    const keyring = parties('P-256').aliceStatic
    const text = JSON.stringify(keyring)
    expect(text).toBe('{"type":"RawEcdhKeyring","curve":"P-256","kind":"static"}')
  })

  it('fails when the encryption context cannot be serialized', async () => {
    const p = parties('P-256')
    await expect(p.aliceStatic.onEncrypt(encMaterials({ k: 'x'.repeat(70000) }), { backend: nodeBackend })).rejects.toThrow()
    await expect(p.aliceStatic.onEncrypt(encMaterials({ k: 1 as unknown as string }), { backend: nodeBackend })).rejects.toThrow()
  })
})

describe('RawEcdhKeyring: tampering', () => {
  const p = parties('P-256')
  const flip = (bytes: Uint8Array, i: number) => {
    const copy = new Uint8Array(bytes)
    copy[i]! ^= 1
    return copy
  }

  it.each([
    ['provider info version', (e: EncryptedDataKey) => ({ ...e, providerInfo: flip(e.providerInfo, 0) }), /version is 0/],
    ['recipient length', (e: EncryptedDataKey) => ({ ...e, providerInfo: flip(e.providerInfo, 4) }), /key lengths/],
    ['provider info length', (e: EncryptedDataKey) => ({ ...e, providerInfo: e.providerInfo.subarray(1) }), /not the 75/],
    ['sender point off the curve', (e: EncryptedDataKey) => ({ ...e, providerInfo: flip(e.providerInfo, 74) }), /not a valid point|commitment|not a SEC1/],
    ['salt', (e: EncryptedDataKey) => ({ ...e, ciphertext: flip(e.ciphertext, 0) }), /commitment key does not match/],
    ['commitment key', (e: EncryptedDataKey) => ({ ...e, ciphertext: flip(e.ciphertext, 40) }), /commitment key does not match/],
    ['wrapped key', (e: EncryptedDataKey) => ({ ...e, ciphertext: flip(e.ciphertext, 70) }), /AES-GCM tag/],
    ['tag', (e: EncryptedDataKey) => ({ ...e, ciphertext: flip(e.ciphertext, 100) }), /AES-GCM tag/],
    ['ciphertext length', (e: EncryptedDataKey) => ({ ...e, ciphertext: e.ciphertext.subarray(1) }), /ciphertext is 111 bytes/],
  ] as const)('%s: the key does not unwrap', async (_what, tamper, reason) => {
    const { edk } = await wrapOne(p.aliceStatic)
    const err = await unwrap(p.bobDiscovery, [tamper(edk)]).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0].reason).toMatch(reason)
  })

  it('S and R swapped: the static keyring tries it (either orientation) and the commitment fails', async () => {
    const { edk } = await wrapOne(p.aliceStatic)
    const info = edk.providerInfo
    const swapped = new Uint8Array([...info.subarray(0, 5), ...info.subarray(42), ...info.subarray(38, 42), ...info.subarray(5, 38)])
    const err = await unwrap(p.bobStatic, [{ ...edk, providerInfo: swapped }]).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts[0].reason).toMatch(/commitment key does not match/)
  })

  it('another encryption context: the commitment fails', async () => {
    const { edk } = await wrapOne(p.aliceStatic)
    const err = await unwrap(p.bobDiscovery, [edk], nodeBackend, { purpose: 'other' }).catch((e) => e)
    expect(err.attempts[0].reason).toMatch(/commitment key does not match/)
  })

  it('collects every failure, and skips keys for another recipient or of another kind', async () => {
    const { edk } = await wrapOne(p.aliceStatic)
    const toAlice = (await wrapOne(p.bobStatic)).edk
    const err = await unwrap(p.bobDiscovery, [{ ...edk, ciphertext: flip(edk.ciphertext, 40) }, toAlice, { providerId: 'aws-kms', providerInfo: new Uint8Array(3), ciphertext: new Uint8Array(3) }, { ...edk, ciphertext: flip(edk.ciphertext, 100) }]).catch((e) => e)
    expect(err).toBeInstanceOf(NoMatchingKeyError)
    expect(err.attempts.map((a: any) => [a.skipped, a.reason.slice(0, 20)])).toEqual([
      [false, 'commitment key does '],
      [true, 'recipient key is not'],
      [true, 'not an ECDH key (pro'],
      [false, 'data key did not aut'],
    ])
  })

  it('stops after maxUnwrapAttempts key agreements', async () => {
    const { edk } = await wrapOne(p.aliceStatic)
    const bad = { ...edk, ciphertext: flip(edk.ciphertext, 40) }
    const err = await unwrap(p.bobDiscovery, Array(6).fill(bad)).catch((e) => e)
    expect(err.attempts.filter((a: any) => /maxUnwrapAttempts/.test(a.reason))).toHaveLength(2)
  })
})

const hex = (bytes: Uint8Array | undefined) => (bytes ? bytesToHex(bytes) : 'none')

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

function curveName(curve: EcdhCurve): string {
  return { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[curve]
}

/** The SEC1 point of a DER SPKI public key, through node:crypto. */
function ECDHpublic(spki: Uint8Array, curve: EcdhCurve, form: 'compressed' | 'uncompressed' = 'compressed'): Buffer {
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' })
  const x = Buffer.from(jwk.x!, 'base64url')
  const y = Buffer.from(jwk.y!, 'base64url')
  return ECDH.convertKey(Buffer.concat([Buffer.from([4]), x, y]), curveName(curve), undefined, undefined, form) as Buffer
}

function rsaPkcs8(): string {
  return readVectorJson('static/keyring-kats.json').raw_rsa_private_key_pem
}
