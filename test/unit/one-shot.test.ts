/**
 * The one-shot fast path: node backend primitives checked against node:crypto
 * used directly (an independent path through OpenSSL), decrypt straight into
 * one buffer, and signing in the thread pool. Round trips are checked against
 * the peer, which shares no code with us.
 */
import { createCipheriv, createDecipheriv, createVerify, hkdfSync, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, createClient, MalformedMessageError, RawAesKeyring } from '../../src/index.js'
import { createNodeBackend } from '../../src/crypto/node.js'
import { SignaturePool } from '../../src/crypto/node-hash-worker.js'
import { bodySize, RegularFrame } from '../../src/format/frame.js'
import { toCmm, type Cmm } from '../../src/materials/cmm.js'
import { aesKey, patterned } from '../support/keys.js'
import { peerAesKeyring, peerAllow, peerForbid } from '../support/peer.js'
import { builtWorkerFile } from '../support/worker-files.js'

// From src/ the library finds no built worker file: the tests above the worker threshold are given one, so they use it.
const nodeBackend = createNodeBackend({ signatureWorker: new SignaturePool({ workerFile: await builtWorkerFile('hash-worker') }) })

const HASHES = [
  ['sha256', 32],
  ['sha384', 48],
  ['sha512', 64],
] as const

describe('node backend: HKDF', () => {
  it.each(HASHES)('%s equals node hkdfSync for every output length class and salt', (hash, n) => {
    for (const length of [1, 16, 32, n - 1, n, n + 1, 2 * n + 7, 255 * n]) {
      for (const salt of [new Uint8Array(0), new Uint8Array(randomBytes(n)), new Uint8Array(randomBytes(3))]) {
        const ikm = new Uint8Array(randomBytes(32))
        const info = new Uint8Array(randomBytes(length % 40))
        const expected = new Uint8Array(hkdfSync(hash, ikm, salt, info, length))
        expect(nodeBackend.hkdf(hash, ikm, salt, [{ info, length }])).toEqual([expected])
      }
    }
  })

  it.each(HASHES)('%s equals hkdfSync for salts longer than a hash block and inputs longer than the scratch buffers', (hash) => {
    for (const [saltLength, ikmLength, infoLength] of [[129, 32, 9], [300, 32, 0], [32, 257, 11], [32, 32, 400], [64, 64, 255]]) {
      const salt = new Uint8Array(randomBytes(saltLength!))
      const ikm = new Uint8Array(randomBytes(ikmLength!))
      const info = new Uint8Array(randomBytes(infoLength!))
      const expected = new Uint8Array(hkdfSync(hash, ikm, salt, info, 100))
      expect(nodeBackend.hkdf(hash, ikm, salt, [{ info, length: 100 }])).toEqual([expected])
      // Interleaved with short calls: a long call must leave no state behind for the next one.
      const short = new Uint8Array(randomBytes(16))
      expect(nodeBackend.hkdf(hash, short, short, [{ info: short, length: 32 }])).toEqual([new Uint8Array(hkdfSync(hash, short, short, short, 32))])
    }
  })

  it('rejects an output longer than 255 blocks', () => {
    expect(() => nodeBackend.hkdf('sha256', new Uint8Array(32), new Uint8Array(0), [{ info: new Uint8Array(0), length: 255 * 32 + 1 }])).toThrow(RangeError)
  })

  it('derives several outputs from one extract, each equal to a separate hkdfSync', () => {
    const ikm = new Uint8Array(randomBytes(32))
    const salt = new Uint8Array(randomBytes(32))
    const outputs = [
      { info: new TextEncoder().encode('DERIVEKEY'), length: 32 },
      { info: new TextEncoder().encode('COMMITKEY'), length: 32 },
      { info: new Uint8Array(0), length: 100 },
    ]
    const keys = nodeBackend.hkdf('sha512', ikm, salt, outputs)
    expect(keys).toEqual(outputs.map(({ info, length }) => new Uint8Array(hkdfSync('sha512', ikm, salt, info, length))))
    expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(3)
  })
})

describe('node backend: random bytes', () => {
  it('hands out fresh, distinct bytes across pool refills, and large requests', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const bytes = nodeBackend.randomBytes(i % 2 ? 32 : 12)
      expect(bytes.length).toBe(i % 2 ? 32 : 12)
      expect(bytes.buffer.byteLength).toBe(bytes.length) // a copy, not a view of the pool
      seen.add(Buffer.from(bytes).toString('hex'))
    }
    expect(seen.size).toBe(200)
    const big = nodeBackend.randomBytes(10_000)
    expect(big.length).toBe(10_000)
    expect(big.some((b) => b !== 0)).toBe(true)
  })

  it('zeroing a returned key leaves the next ones intact', () => {
    const a = nodeBackend.randomBytes(32)
    a.fill(0)
    const b = nodeBackend.randomBytes(32)
    expect(b.some((x) => x !== 0)).toBe(true)
  })
})

describe('node backend: AES-GCM', () => {
  it.each([16, 24, 32] as const)('seal/open with a %i-byte key match node:crypto used directly', (bytes) => {
    const raw = aesKey(bytes)
    const key = nodeBackend.importAesKey(raw)
    for (const length of [0, 1, 15, 16, 4096, 70_000]) {
      const iv = new Uint8Array(randomBytes(12))
      const aad = new Uint8Array(randomBytes(length % 50))
      const plaintext = patterned(length, length)
      const out = new Uint8Array(length + 16 + 5).fill(0xee)
      nodeBackend.gcmSeal(key, iv, aad, plaintext, out, 3)
      const c = createCipheriv(`aes-${bytes * 8}-gcm` as 'aes-256-gcm', raw, iv)
      c.setAAD(aad)
      const expected = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])
      expect(Buffer.from(out.subarray(3, 3 + length + 16)).equals(expected)).toBe(true)
      expect([out[0], out[1], out[2], out[length + 16 + 3], out[length + 16 + 4]]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee])

      const opened = nodeBackend.gcmOpen(key, iv, aad, expected.subarray(0, length), expected.subarray(length))
      expect(opened && Buffer.from(opened).equals(Buffer.from(plaintext))).toBe(true)
      const bad = Buffer.from(expected)
      bad[bad.length - 1]! ^= 1
      expect(nodeBackend.gcmOpen(key, iv, aad, bad.subarray(0, length), bad.subarray(length))).toBeUndefined()
    }
  })

  it('keeps the imported key private: the caller may wipe its bytes, and nothing prints them', () => {
    const raw = aesKey(32)
    const copy = Uint8Array.from(raw)
    const key = nodeBackend.importAesKey(raw)
    raw.fill(0)
    const iv = new Uint8Array(12)
    const out = new Uint8Array(16)
    nodeBackend.gcmSeal(key, iv, new Uint8Array(0), new Uint8Array(0), out, 0)
    const d = createDecipheriv('aes-256-gcm', copy, iv)
    d.setAuthTag(out)
    expect(() => d.final()).not.toThrow()
    const hex = Buffer.from(copy).toString('hex')
    const printed = inspect(key, { showHidden: true, depth: 5 }) + JSON.stringify(key)
    expect(printed).not.toContain(hex)
    expect(printed).not.toMatch(new RegExp(String(copy[0]) + ', ' + String(copy[1]) + ', ' + String(copy[2])))
  })
})

describe('node backend: ECDSA off the main thread', () => {
  it.each([
    ['P-384', 'sha384'],
    ['P-256', 'sha256'],
  ] as const)('%s: a one-update signature (thread pool) and a multi-update one both verify', async (curve, hash) => {
    const pending = nodeBackend.generateSigningKey(curve)
    expect(pending).toBeInstanceOf(Promise)
    const key = await pending
    const verificationKey = nodeBackend.importVerificationKey(curve, key.publicKey)
    const message = patterned(200_000, 3)

    const one = nodeBackend.createSigner(key, hash)
    one.update(message)
    const oneSignature = await one.sign()
    const many = nodeBackend.createSigner(key, hash)
    many.update(message.subarray(0, 100))
    many.update(message.subarray(100, 150_000))
    many.update(message.subarray(150_000))
    const manySignature = await many.sign()

    for (const signature of [oneSignature, manySignature]) {
      const verifier = nodeBackend.createVerifier(verificationKey, hash)
      verifier.update(message)
      expect(await verifier.verify(signature)).toBe(true)
    }
    const wrong = nodeBackend.createVerifier(verificationKey, hash)
    wrong.update(message.subarray(1))
    expect(await wrong.verify(oneSignature)).toBe(false)
  })

  it('above the worker threshold: signatures from streamed input verify, and wrong input or signatures do not', async () => {
    const key = await nodeBackend.generateSigningKey('P-384')
    const message = patterned(6 * 1024 * 1024 + 123, 8)
    const signer = nodeBackend.createSigner(key, 'sha384')
    for (let o = 0; o < message.length; o += 300_001) await signer.update(message.subarray(o, o + 300_001))
    const signature = await signer.sign()
    const spki = Buffer.concat([Buffer.from('3046301006072a8648ce3d020106052b81040022033200', 'hex'), Buffer.from(key.publicKey)])
    expect(createVerify('sha384').update(message).verify({ key: spki, format: 'der', type: 'spki' }, Buffer.from(signature))).toBe(true)

    const verificationKey = nodeBackend.importVerificationKey('P-384', key.publicKey)
    const check = async (bytes: Uint8Array, sig: Uint8Array): Promise<boolean> => {
      const verifier = nodeBackend.createVerifier(verificationKey, 'sha384')
      await verifier.update(bytes.subarray(0, 1000))
      await verifier.update(bytes.subarray(1000))
      return verifier.verify(sig)
    }
    expect(await check(message, signature)).toBe(true)
    const altered = Uint8Array.from(message)
    altered[5_000_000]! ^= 1
    expect(await check(altered, signature)).toBe(false)
    expect(await check(message, signature.subarray(0, 20))).toBe(false)
  })

  it('a small first chunk is copied: changing it after update() does not change what is signed', async () => {
    const key = await nodeBackend.generateSigningKey('P-384')
    const chunk = patterned(1000, 4)
    const original = Uint8Array.from(chunk)
    const signer = nodeBackend.createSigner(key, 'sha384')
    signer.update(chunk)
    chunk.fill(0)
    const signature = await signer.sign()
    // Checked with node:crypto and a public key built independently of our verifier.
    const spki = Buffer.concat([Buffer.from('3046301006072a8648ce3d020106052b81040022033200', 'hex'), Buffer.from(key.publicKey)])
    expect(createVerify('sha384').update(original).verify({ key: spki, format: 'der', type: 'spki' }, Buffer.from(signature))).toBe(true)
  })
})

describe('one-shot decrypt into one buffer', () => {
  const wrappingKey = aesKey(32)
  const mine = new RawAesKeyring({ keyNamespace: 'one-shot', keyName: 'k', wrappingKey })
  const peer = peerAesKeyring('one-shot', 'k', wrappingKey)
  const strict = createClient({ backend: nodeBackend })
  const legacy = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT', backend: nodeBackend })

  const shapes = [
    // [suite, length, frame]: around the 64 KiB threshold, exact multiples, signed and unsigned, non-framed.
    [0x0478, 65_535, 4096],
    [0x0478, 65_536, 4096],
    [0x0478, 65_536 * 4, 4096],
    [0x0478, 300_001, 512],
    [0x0578, 65_536 * 2, 4096],
    [0x0578, 200_003, 1000],
    [0x0178, 1 << 20, 65_536],
    [0x0178, 100_000, 0],
    [0x0578, 100_000, 0],
  ] as const

  it.each(shapes)('suite %i, %i bytes, frame %i: ours and the peer read each other', async (suiteId, length, frameLength) => {
    const client = suiteId === 0x0178 ? legacy : strict
    const peerClient = suiteId === 0x0178 ? peerForbid : peerAllow
    const plaintext = patterned(length, length)
    const { ciphertext } = await client.encrypt(mine, plaintext, { suiteId, frameLength, encryptionContext: { a: 'b' } })
    const ours = await client.decrypt(mine, ciphertext)
    expect(ours.plaintext.length).toBe(length)
    expect(Buffer.from(ours.plaintext).equals(Buffer.from(plaintext))).toBe(true)
    expect(Buffer.compare((await peerClient.decrypt(peer, ciphertext)).plaintext, plaintext)).toBe(0)
    if (frameLength > 0) {
      const { result } = await peerClient.encrypt(peer, plaintext, { suiteId, frameLength })
      const back = await client.decrypt(mine, result)
      expect(Buffer.from(back.plaintext).equals(Buffer.from(plaintext))).toBe(true)
    }
  })

  it('a flipped bit in a middle frame of a large message fails with the frame number', async () => {
    const plaintext = patterned(50 * 4096, 1)
    const { ciphertext, header } = await strict.encrypt(mine, plaintext, { suiteId: 0x0478 })
    const headerLength = ciphertext.length - bodySize(plaintext.length, 4096)
    const tampered = Uint8Array.from(ciphertext)
    // Frame 20 starts after 19 regular frames; flip a byte of its ciphertext.
    tampered[headerLength + 19 * (4096 + RegularFrame.OVERHEAD) + RegularFrame.CONTENT + 100]! ^= 0x40
    const error = await strict.decrypt(mine, tampered).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as AuthenticationError).stage).toBe('frame')
    expect((error as AuthenticationError).frame).toBe(20)
    expect(header.frameLength).toBe(4096)
  })

  /** A flipped bit in the signature fails signature verification, nothing earlier. */
  async function expectBadSignature(ciphertext: Uint8Array): Promise<void> {
    const bad = Uint8Array.from(ciphertext)
    bad[bad.length - 10]! ^= 1
    const error = await strict.decrypt(mine, bad).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as AuthenticationError).stage).toBe('signature')
  }

  it('a large signed message cut before its footer is truncated, and one with a bad signature is rejected', async () => {
    const plaintext = patterned(100_000, 2)
    const { ciphertext } = await strict.encrypt(mine, plaintext, { suiteId: 0x0578 })
    const cut = await strict.decrypt(mine, ciphertext.subarray(0, ciphertext.length - 50)).catch((e: unknown) => e)
    expect(cut).toBeInstanceOf(MalformedMessageError)
    expect((cut as MalformedMessageError).code).toBe('ERR_TRUNCATED')
    await expectBadSignature(ciphertext)
  })

  it('a signed message large enough for the hash worker: ours and the peer read each other; a bad signature fails', async () => {
    const plaintext = patterned(6 * 1024 * 1024 + 5, 6)
    const { ciphertext } = await strict.encrypt(mine, plaintext, { suiteId: 0x0578 })
    expect(Buffer.compare((await peerAllow.decrypt(peer, ciphertext)).plaintext, plaintext)).toBe(0)
    expect(Buffer.from((await strict.decrypt(mine, ciphertext)).plaintext).equals(Buffer.from(plaintext))).toBe(true)
    const { result } = await peerAllow.encrypt(peer, plaintext, { suiteId: 0x0578 })
    expect(Buffer.from((await strict.decrypt(mine, result)).plaintext).equals(Buffer.from(plaintext))).toBe(true)
    await expectBadSignature(ciphertext)
  })

  it('eight concurrent signed encrypts each produce a distinct message the peer reads', async () => {
    const plaintext = patterned(1024, 9)
    const messages = await Promise.all(Array.from({ length: 8 }, () => strict.encrypt(mine, plaintext, { suiteId: 0x0578 })))
    const ids = new Set(messages.map((m) => Buffer.from(m.header.messageId).toString('hex')))
    expect(ids.size).toBe(8)
    for (const m of messages) expect(Buffer.compare((await peerAllow.decrypt(peer, m.ciphertext)).plaintext, plaintext)).toBe(0)
  })
})

describe('a CMM that breaks the materials contract', () => {
  it('a signed suite without a verification key is a typed error, not a crash in the backend', async () => {
    const keyring = new RawAesKeyring({ keyNamespace: 'one-shot', keyName: 'k', wrappingKey: aesKey(32) })
    const client = createClient()
    const { ciphertext } = await client.encrypt(keyring, patterned(100), { suiteId: 0x0578 })
    const inner = toCmm(keyring)
    const broken: Cmm = {
      getEncryptionMaterials: (request, services) => inner.getEncryptionMaterials(request, services),
      async decryptMaterials(request, services) {
        const m = await inner.decryptMaterials(request, services)
        const { suite, encryptionContext, requiredEncryptionContextKeys, plaintextDataKey } = m
        return { suite, encryptionContext, requiredEncryptionContextKeys, plaintextDataKey, verificationKey: undefined }
      },
    }
    await expect(client.decrypt(broken, ciphertext)).rejects.toMatchObject({ code: 'ERR_COMMITMENT_POLICY', message: /without a verification key/ })
  })
})
