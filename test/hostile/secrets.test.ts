/**
 * Secrets after use and in everything printable.
 * - Zeroing, where JavaScript allows it: the data key the keyring put in the
 *   materials, the derived message key, the SDK's copy of a KMS data key and a
 *   held final frame are all zero once encrypt/decrypt is done with them
 *   (observed through wrapping keyrings, a wrapping crypto backend and a
 *   wrapping KMS client; nothing here reaches into private state).
 * - No data key, derived key, wrapping key, RSA private key, KMS credential (or,
 *   in errors, plaintext) in the message, toString, util.inspect (showHidden,
 *   full depth, getters) or JSON of any object the library hands back.
 */
import { KMSClient } from '@aws-sdk/client-kms'
import { generateKeyPairSync } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  ALL_SUITES,
  createClient,
  createEncryptionMaterials,
  findSuite,
  KmsDiscoveryKeyring,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  KmsMrkKeyring,
  MultiKeyring,
  RawAesKeyring,
  RawRsaKeyring,
  withEncryptionDataKey,
  type CryptoBackend,
  type DecryptionMaterials,
  type EncryptionMaterials,
  type Keyring,
  type KmsClientLike,
} from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { aesKey, patterned } from '../support/keys.js'
import { useLocalKms } from '../support/local-kms.js'

const allow = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const forbid = createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })
const clientFor = (suiteId: number) => (suiteId >= 0x0478 ? allow : forbid)
const isZero = (b: Uint8Array) => b.every((x) => x === 0)

/** Every printable form of a value. */
function printed(value: unknown): string {
  const forms = [inspect(value, { showHidden: true, depth: Infinity, getters: true }), inspect(value)]
  try {
    forms.push(String(value))
  } catch {
    // Objects without a prototype have no toString; inspect covered them.
  }
  try {
    forms.push(JSON.stringify(value) ?? '')
  } catch {
    // Circular (streams): inspect covered them.
  }
  for (let e = value as { message?: unknown; stack?: unknown; cause?: unknown } | undefined, i = 0; e instanceof Error && i < 10; e = e.cause as typeof e, i++) {
    forms.push(String(e.message), String(e.stack))
  }
  return forms.join('\n')
}

/** Fails when `text` shows `secret` as hex, base64 or a list of decimal bytes. */
function expectNoLeak(text: string, secret: Uint8Array | string, what: string): void {
  const squashed = text.replace(/\s+/g, '')
  if (typeof secret === 'string') {
    expect(text.includes(secret), `${what} shows a secret string`).toBe(false)
    return
  }
  const b = Buffer.from(secret)
  const hex = b.toString('hex')
  for (const form of [hex, hex.toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url'), [...b.subarray(0, 8)].join(',')]) {
    expect(squashed.includes(form), `${what} shows a secret as ${form.slice(0, 12)}…`).toBe(false)
  }
}

interface Captured {
  encryptKeys: Uint8Array[]
  decryptKeys: Uint8Array[]
  /** Copies taken while the keys were live, to search printed output for. */
  copies: Uint8Array[]
}

/** Passes through to `inner`, keeping the data key buffers the materials carried. */
function capturing(inner: Keyring, seen: Captured, scan?: (m: EncryptionMaterials | DecryptionMaterials) => void): Keyring {
  return {
    async onEncrypt(materials, context) {
      const out = await inner.onEncrypt(materials, context)
      seen.encryptKeys.push(out.plaintextDataKey!)
      seen.copies.push(new Uint8Array(out.plaintextDataKey!))
      scan?.(out)
      return out
    },
    async onDecrypt(materials, edks, context) {
      const out = await inner.onDecrypt(materials, edks, context)
      seen.decryptKeys.push(out.plaintextDataKey!)
      seen.copies.push(new Uint8Array(out.plaintextDataKey!))
      scan?.(out)
      return out
    },
  }
}

interface BackendLog {
  /** HKDF outputs that became message encryption keys (not the commitment value, which the header carries). */
  derived: Uint8Array[]
  derivedCopies: Uint8Array[]
  /** Raw bytes handed to importAesKey. */
  imported: Uint8Array[]
  /** gcmOpen results (plaintext of frames, and unwrapped data keys). */
  opened: Uint8Array[]
  /** rsaDecrypt results (unwrapped data keys). */
  rsaOpened: Uint8Array[]
}

const COMMIT_LABEL = 'COMMITKEY'

function loggingBackend(log: BackendLog): CryptoBackend {
  return {
    ...nodeBackend,
    hkdf(hash, ikm, salt, outputs) {
      const keys = nodeBackend.hkdf(hash, ikm, salt, outputs)
      outputs.forEach(({ info }, i) => {
        if (Buffer.from(info).toString('latin1') === COMMIT_LABEL) return
        log.derived.push(keys[i]!)
        log.derivedCopies.push(new Uint8Array(keys[i]!))
      })
      return keys
    },
    importAesKey(raw) {
      log.imported.push(raw)
      return nodeBackend.importAesKey(raw)
    },
    gcmOpen(key, iv, aad, ciphertext, tag) {
      const out = nodeBackend.gcmOpen(key, iv, aad, ciphertext, tag)
      if (out) log.opened.push(out)
      return out
    },
    async rsaDecrypt(key, padding, ciphertext) {
      const out = await nodeBackend.rsaDecrypt(key, padding, ciphertext)
      log.rsaOpened.push(out)
      return out
    },
  }
}

const newLog = (): BackendLog => ({ derived: [], derivedCopies: [], imported: [], opened: [], rsaOpened: [] })
const newCapture = (): Captured => ({ encryptKeys: [], decryptKeys: [], copies: [] })

describe('zeroing after use', () => {
  const wrappingKey = aesKey(32)
  const raw = new RawAesKeyring({ keyNamespace: 'secrets', keyName: 'k', wrappingKey })

  it.each(ALL_SUITES.map((s) => [s.name, s.id] as const))('%s: data key and derived key are zero after one-shot and streaming encrypt and decrypt', async (_n, suiteId) => {
    const log = newLog()
    const policy = suiteId >= 0x0478 ? 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT'
    const client = createClient({ commitmentPolicy: policy, backend: loggingBackend(log) })
    const seen = newCapture()
    const keyring = capturing(raw, seen)
    const plaintext = patterned(300)
    const { ciphertext } = await client.encrypt(keyring, plaintext, { suiteId, frameLength: 128 })
    const streamed: Uint8Array[] = []
    await pipeline(Readable.from([plaintext]), client.encryptStream(keyring, { suiteId, frameLength: 128 }), async function* (source) {
      for await (const c of source) streamed.push(c as Uint8Array)
    })
    expect((await client.decrypt(keyring, ciphertext)).plaintext.length).toBe(300)
    const out: Uint8Array[] = []
    await pipeline(Readable.from([Buffer.concat(streamed)]), client.decryptStream(keyring), async function* (source) {
      for await (const c of source) out.push(c as Uint8Array)
    })
    expect(Buffer.concat(out).length).toBe(300)

    expect(seen.encryptKeys).toHaveLength(2)
    expect(seen.decryptKeys).toHaveLength(2)
    // The keys were real (not zero to begin with), and are zero now.
    for (const copy of seen.copies) expect(isZero(copy)).toBe(false)
    for (const key of [...seen.encryptKeys, ...seen.decryptKeys]) expect(isZero(key), 'data key').toBe(true)
    const suite = findSuite(suiteId)!
    expect(log.derived).toHaveLength(suite.kdf === 'hkdf' ? 4 : 0)
    for (const key of log.derived) expect(isZero(key), 'derived key').toBe(true)
    // Every AES key imported for a message (not the keyring's long-lived wrapping key) was wiped after import.
    const messageKeys = log.imported.filter((k) => !Buffer.from(k).equals(Buffer.from(wrappingKey)))
    expect(messageKeys).toHaveLength(4)
    for (const key of messageKeys) expect(isZero(key), 'imported message key').toBe(true)
  })

  it('keys are zero after a decrypt that fails on commitment or header authentication', async () => {
    for (const [suiteId, at] of [
      [0x0478, 'commitment'],
      [0x0178, 'header'],
    ] as const) {
      const seen = newCapture()
      const keyring = capturing(raw, seen)
      const { ciphertext } = await clientFor(suiteId).encrypt(raw, 'x', { suiteId })
      const tampered = new Uint8Array(ciphertext)
      // Byte 10 is in the message id: for v2 it salts the KDF (commitment fails), for v1 it is under the header tag.
      tampered[10]! ^= 1
      await expect(clientFor(suiteId).decrypt(keyring, tampered)).rejects.toMatchObject({ stage: at })
      expect(seen.decryptKeys).toHaveLength(1)
      expect(isZero(seen.decryptKeys[0]!)).toBe(true)
    }
  })

  it('a held final frame is wiped when the signature fails', async () => {
    const log = newLog()
    const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend: loggingBackend(log) })
    const { ciphertext } = await client.encrypt(raw, patterned(200), { suiteId: 0x0578, frameLength: 64 })
    const tampered = new Uint8Array(ciphertext)
    tampered[tampered.length - 4]! ^= 1
    log.opened.length = 0
    const err = await pipeline(Readable.from([tampered]), client.decryptStream(raw), async function* (source) {
      for await (const _ of source) yield
    }).catch((e) => e)
    expect(err).toMatchObject({ stage: 'signature' })
    // opened = [unwrapped data key, frames 1-3, final frame]; the final frame (8 bytes) was held, then wiped.
    const final = log.opened[log.opened.length - 1]!
    expect(final.length).toBe(200 - 3 * 64)
    expect(isZero(final)).toBe(true)
  })

  it('the data key in the RSA and multi-keyring paths is zero after use', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    const rsa = new RawRsaKeyring({ keyNamespace: 'secrets', keyName: 'rsa', padding: 'oaep-sha256', publicKey, privateKey })
    const seen = newCapture()
    const log = newLog()
    const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend: loggingBackend(log) })
    const keyring = capturing(new MultiKeyring({ generator: raw, children: [rsa] }), seen)
    const { ciphertext } = await client.encrypt(keyring, 'multi')
    await client.decrypt(capturing(rsa, seen), ciphertext)
    expect(seen.encryptKeys.length + seen.decryptKeys.length).toBe(2)
    for (const key of [...seen.encryptKeys, ...seen.decryptKeys]) expect(isZero(key)).toBe(true)
    // The backend's own RSA output buffer, which the keyring copies from, is wiped too.
    expect(log.rsaOpened).toHaveLength(1)
    expect(isZero(log.rsaOpened[0]!)).toBe(true)
  })
})

const kms = useLocalKms({ keys: [{ id: 'secret-key', regions: ['us-west-2'] }, { id: 'second-key', regions: ['us-west-2'] }] })
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY'
const arn = (id: string) => `arn:aws:kms:us-west-2:111122223333:key/${id}`

/** A real KMSClient with a recognisable secret, wrapped to keep the Plaintext buffers the SDK returns. */
function recordingProvider(plaintexts: Uint8Array[]): (region: string | undefined) => KmsClientLike {
  const client = new KMSClient({ ...kms().clientConfig(), credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: SECRET_ACCESS_KEY }, maxAttempts: 1 })
  return () => ({
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      const response = (await client.send(command as never, options)) as { Plaintext?: unknown }
      if (response.Plaintext instanceof Uint8Array) plaintexts.push(response.Plaintext)
      return response
    },
  })
}

describe('KMS data keys', () => {
  it('the SDK’s copy of the data key is wiped once the keyring holds its own, on encrypt and decrypt', async () => {
    const sdkPlaintexts: Uint8Array[] = []
    const seen = newCapture()
    const keyring = new KmsKeyring({ generatorKeyId: arn('secret-key'), keyIds: [arn('second-key')], clientProvider: recordingProvider(sdkPlaintexts) })
    const { ciphertext } = await allow.encrypt(capturing(keyring, seen), 'kms secret')
    await allow.decrypt(capturing(keyring, seen), ciphertext)
    expect(sdkPlaintexts).toHaveLength(2) // GenerateDataKey and Decrypt
    for (const copy of seen.copies) expect(isZero(copy)).toBe(false)
    for (const p of sdkPlaintexts) expect(isZero(p), 'SDK response Plaintext').toBe(true)
    for (const key of [...seen.encryptKeys, ...seen.decryptKeys]) expect(isZero(key)).toBe(true)
  })
})

describe('nothing secret in anything printable', () => {
  it('client, keyrings, materials, results, headers, streams and errors', async () => {
    const wrappingKey = aesKey(32)
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    const privateBody = privateKey.split('\n')[5]!
    const raw = new RawAesKeyring({ keyNamespace: 'secrets', keyName: 'k', wrappingKey })
    const rsa = new RawRsaKeyring({ keyNamespace: 'secrets', keyName: 'rsa', padding: 'oaep-sha256', publicKey, privateKey })
    const sdkPlaintexts: Uint8Array[] = []
    const clientProvider = recordingProvider(sdkPlaintexts)
    const kmsKeyrings = [
      new KmsKeyring({ generatorKeyId: arn('secret-key'), clientProvider }),
      new KmsKeyring({ keyIds: [arn('second-key')], client: new KMSClient({ ...kms().clientConfig(), credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: SECRET_ACCESS_KEY } }) }),
      new KmsDiscoveryKeyring({ clientProvider }),
      new KmsMrkKeyring({ keyId: arn('secret-key'), clientProvider }),
      new KmsMrkDiscoveryKeyring({ region: 'us-west-2', clientProvider }),
    ]
    const multi = new MultiKeyring({ generator: raw, children: [rsa, kmsKeyrings[0]!] })
    const secrets: (Uint8Array | string)[] = [wrappingKey, privateBody, SECRET_ACCESS_KEY]
    const printedMaterials: string[] = []
    const seen = newCapture()
    const log = newLog()
    const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT', backend: loggingBackend(log) })
    const keyring = capturing(multi, seen, (m) => printedMaterials.push(printed(m)))
    const secretText = 'PLAINTEXT-THAT-MUST-NOT-LEAK-0123456789'

    const printable: [string, unknown][] = [['client', client], ['raw', raw], ['rsa', rsa], ['multi', multi], ...kmsKeyrings.map((k, i) => [`kms ${i}`, k] as [string, unknown])]
    for (const suiteId of [0x0478, 0x0578]) {
      const encrypted = await client.encrypt(keyring, secretText, { suiteId, encryptionContext: { purpose: 'print' } })
      const decrypted = await client.decrypt(keyring, encrypted.ciphertext)
      printable.push(['encrypt result', encrypted], ['header', encrypted.header], ['decrypt result', { ...decrypted, plaintext: undefined }])
      const encryptStream = client.encryptStream(keyring, { suiteId })
      const decryptStream = client.decryptStream(keyring)
      await pipeline(Readable.from([secretText]), encryptStream, decryptStream, async function* (source) {
        for await (const _ of source) yield
      })
      printable.push(['encrypt stream', encryptStream], ['decrypt stream', decryptStream], ['stream header', await decryptStream.header])

      // Errors: tampered (authentication), wrong key (no matching key), limits, malformed, KMS failure.
      const tampered = new Uint8Array(encrypted.ciphertext)
      tampered[tampered.length - 150]! ^= 1
      const stranger = new RawAesKeyring({ keyNamespace: 'secrets', keyName: 'k', wrappingKey: aesKey(32) })
      printable.push(
        ['auth error', await client.decrypt(keyring, tampered).catch((e) => e)],
        ['no-key error', await client.decrypt(stranger, encrypted.ciphertext).catch((e) => e)],
        ['limit error', await createClient({ maxHeaderSize: 64 }).decrypt(keyring, encrypted.ciphertext).catch((e) => e)],
        ['truncated error', await client.decrypt(keyring, encrypted.ciphertext.subarray(0, 100)).catch((e) => e)],
      )
    }
    kms().addFault({ operation: 'Encrypt', kind: 'internal' })
    printable.push(['kms error', await client.encrypt(keyring, secretText).catch((e) => e)])
    kms().setEnabled(arn('second-key'), false)
    try {
      const { ciphertext } = await client.encrypt(new KmsKeyring({ generatorKeyId: arn('secret-key'), clientProvider }), secretText)
      printable.push(['kms decrypt error', await client.decrypt(kmsKeyrings[1]!, ciphertext).catch((e) => e)])
    } finally {
      kms().setEnabled(arn('second-key'), true)
    }
    // Materials, printed while their keys were still live.
    const bare = withEncryptionDataKey(
      createEncryptionMaterials({ suite: findSuite(0x0478)!, encryptionContext: {}, requiredEncryptionContextKeys: [], encryptedDataKeys: [], signingKey: undefined }),
      new Uint8Array(32).fill(0xab),
    )
    printable.push(['bare materials', bare])
    expect(inspect(bare, { showHidden: true })).toContain('[redacted]')

    for (const [, e] of printable.filter(([n]) => n.endsWith('error'))) expect(e).toBeInstanceOf(Error)
    expect(seen.copies.length).toBeGreaterThanOrEqual(8)
    const allSecrets = [...secrets, ...seen.copies, ...log.derivedCopies]
    for (const [name, value] of printable) {
      const text = printed(value)
      for (const secret of allSecrets) expectNoLeak(text, secret, name)
      if (name.endsWith('error')) expect(text.includes(secretText), `${name} shows plaintext`).toBe(false)
    }
    expect(printedMaterials.length).toBe(seen.copies.length)
    for (const text of printedMaterials) for (const secret of allSecrets) expectNoLeak(text, secret, 'materials')
  })
})

describe('the encryption context is authenticated, not secret', () => {
  it('is readable in the message bytes, and changing it fails authentication', async () => {
    const raw = new RawAesKeyring({ keyNamespace: 'secrets', keyName: 'k', wrappingKey: aesKey(32) })
    const { ciphertext } = await allow.encrypt(raw, 'x', { encryptionContext: { visible: 'to-anyone-who-has-the-bytes' } })
    const at = Buffer.from(ciphertext).indexOf('to-anyone-who-has-the-bytes')
    expect(at).toBeGreaterThan(0)
    const altered = new Uint8Array(ciphertext)
    altered[at]! ^= 0x20 // 't' -> 'T': still valid UTF-8, still a well-formed header
    // The raw AES keyring binds the context too, so the unwrap fails before the header tag is checked.
    await expect(allow.decrypt(raw, altered)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_(AUTHENTICATION_FAILED|NO_MATCHING_KEY)$/) })
  })
})
