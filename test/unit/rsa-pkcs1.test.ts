/**
 * RSA PKCS#1 v1.5. Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809)
 * unless started with --security-revert=CVE-2023-46809; Node 24 (OpenSSL with
 * implicit rejection) allows it and has no such flag. Where node refuses, we
 * raise a typed error naming the remedy; where it allows (with the flag on 20,
 * in a child process), the path works and interoperates with the peer both ways.
 */
import { execFileSync } from 'node:child_process'
import { constants, publicEncrypt, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createClient, RawRsaKeyring, UnsupportedError, type CryptoBackend } from '../../src/index.js'
import { nodeBackend } from '../../src/crypto/node.js'
import { nobleBackend } from '../../src/crypto/noble.js'
import { createWebCryptoBackend } from '../../src/crypto/webcrypto.js'
import { nodeRefusesPkcs1, pkcs1NodeArgs } from '../support/helpers.js'
import { rsaKeyPair } from '../support/keys.js'

const client = createClient({ commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
const refuses = nodeRefusesPkcs1()

describe('RSA PKCS#1 v1.5', () => {
  it('where node refuses the padding (Node 20 without the flag): a typed error that names the CVE and the remedy; elsewhere it decrypts', async () => {
    const keyring = new RawRsaKeyring({ keyNamespace: 'rsa', keyName: 'legacy', padding: 'pkcs1', ...rsaKeyPair() })
    const { ciphertext } = await client.encrypt(keyring, 'legacy data')
    if (!refuses) {
      expect(new TextDecoder().decode((await client.decrypt(keyring, ciphertext)).plaintext)).toBe('legacy data')
      return
    }
    const err = await client.decrypt(keyring, ciphertext).catch((e) => e)
    expect(err).toBeInstanceOf(UnsupportedError)
    expect(err.code).toBe('ERR_UNSUPPORTED')
    expect(err.message).toContain('CVE-2023-46809')
    expect(err.message).toContain('--security-revert=CVE-2023-46809')
    expect(err.message).toMatch(/OAEP/)
  })

  it('where node allows it (Node 20 with --security-revert=CVE-2023-46809; child process on the built package): decrypts ours and the peer’s', () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'dist/ missing: npm test builds it first (npm run build)').toBe(true)
    const script = fileURLToPath(new URL('../support/pkcs1-child.mjs', import.meta.url))
    const output = execFileSync(process.execPath, [...pkcs1NodeArgs(), script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({ ours: 'ok', peerToOurs: 'ok', oursToPeer: 'ok', suites: 11 })
  })
})

/**
 * The three blocks of a Bleichenbacher oracle (issue 14 item 1), each put in
 * place of the EDK of a real message: every backend must fail all three the
 * same way (same class, code, message, stage), the node backend included,
 * under the revert flag that lets it decrypt PKCS#1 v1.5 at all.
 */
describe('RSA PKCS#1 v1.5: no padding oracle on any backend', () => {
  const pair = rsaKeyPair()
  const k = 256
  /** 00 02 PS 00 M, or with type byte 01: run through the raw public operation, so any block can be made. */
  function craft(message: Uint8Array, type = 2): Uint8Array {
    const block = new Uint8Array(k)
    block[1] = type
    block.fill(0x5a, 2, k - message.length - 1)
    block.set(message, k - message.length)
    return new Uint8Array(publicEncrypt({ key: pair.publicKey, padding: constants.RSA_NO_PADDING }, block))
  }
  const blocks = {
    'not conforming (type 01)': craft(new Uint8Array(randomBytes(32)), 1),
    'conforming, 31-byte payload': craft(new Uint8Array(randomBytes(31))),
    'conforming, 32-byte payload': craft(new Uint8Array(randomBytes(32))),
  }

  async function messages(): Promise<Record<string, string>> {
    const keyring = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'pkcs1', publicKey: pair.publicKey })
    const out: Record<string, string> = {}
    for (const [suiteId, policy] of [
      [0x0478, 'REQUIRE_ENCRYPT_ALLOW_DECRYPT'],
      [0x0178, 'FORBID_ENCRYPT_ALLOW_DECRYPT'],
    ] as const) {
      const { ciphertext } = await createClient({ commitmentPolicy: policy }).encrypt(keyring, 'secret', { suiteId })
      // providerInfo "rsa" (uint16 length 3), then the 256-byte EDK ciphertext (uint16 length 0x0100).
      const at = Buffer.from(ciphertext).indexOf(Buffer.from([0, 3, 0x72, 0x73, 0x61, 1, 0])) + 7
      expect(at).toBeGreaterThan(7)
      out[`${suiteId} untouched`] = Buffer.from(ciphertext).toString('base64')
      for (const [name, block] of Object.entries(blocks)) {
        const tampered = new Uint8Array(ciphertext)
        tampered.set(block, at)
        out[`${suiteId} ${name}`] = Buffer.from(tampered).toString('base64')
      }
    }
    return out
  }

  async function outcomes(backend: CryptoBackend, all: Record<string, string>): Promise<Record<string, unknown>> {
    const keyring = new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'rsa', padding: 'pkcs1', privateKey: pair.privateKey })
    const client = createClient({ backend, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
    const out: Record<string, unknown> = {}
    for (const [name, base64] of Object.entries(all)) {
      out[name] = await client.decrypt(keyring, Buffer.from(base64, 'base64')).then(
        () => 'decrypted',
        (e) => JSON.parse(JSON.stringify({ class: e.constructor.name, code: e.code, message: e.message, stage: e.stage, attempts: e.attempts })),
      )
    }
    return out
  }

  function expectNoOracle(result: Record<string, unknown>): void {
    for (const suite of ['1144', '376']) {
      expect(result[`${suite} untouched`], 'control: the real message decrypts').toBe('decrypted')
      const failures = Object.keys(blocks).map((name) => result[`${suite} ${name}`])
      expect(failures[0]).toMatchObject({ class: 'AuthenticationError', code: 'ERR_AUTHENTICATION_FAILED' })
      expect(failures[1]).toEqual(failures[0])
      expect(failures[2]).toEqual(failures[0])
    }
  }

  it('pure JS and WebCrypto (+ pure JS for PKCS#1): the three blocks fail alike, at header authentication', async () => {
    const all = await messages()
    const noble = await outcomes(nobleBackend, all)
    expectNoOracle(noble)
    expect(await outcomes(createWebCryptoBackend(), all)).toEqual(noble)
  })

  it('node:crypto where it allows the padding (child process on the built package): the same outcomes as pure JS', async () => {
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
    expect(existsSync(dist), 'dist/ missing: npm test builds it first (npm run build)').toBe(true)
    const all = await messages()
    const script = fileURLToPath(new URL('../support/pkcs1-oracle-child.mjs', import.meta.url))
    const output = execFileSync(process.execPath, [...pkcs1NodeArgs(), script], {
      encoding: 'utf8',
      input: JSON.stringify({ privateKey: pair.privateKey, messages: all }),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const node = JSON.parse(output.trim().split('\n').at(-1)!)
    expectNoOracle(node)
    expect(node).toEqual(await outcomes(nobleBackend, all))
  })

  it('node:crypto where it refuses the padding: one environment error for every message, good or crafted; elsewhere the outcomes of pure JS', async () => {
    const all = await messages()
    const node = await outcomes(nodeBackend, all)
    if (!refuses) {
      expectNoOracle(node)
      expect(node).toEqual(await outcomes(nobleBackend, all))
      return
    }
    const errors = new Set(Object.values(node).map((o) => JSON.stringify(o)))
    expect(errors.size).toBe(1)
    expect(JSON.parse([...errors][0]!)).toMatchObject({ class: 'UnsupportedError', code: 'ERR_UNSUPPORTED' })
  })
})
