/**
 * The three blocks of a Bleichenbacher oracle (issue 14 item 1), each put in place of the EDK of a
 * real message, and how a backend's decrypts of them end: shared by test/unit/rsa-pkcs1.test.ts (the
 * backends in this process) and test/package/rsa-pkcs1-revert.test.ts (node:crypto under the
 * revert flag, in a child process).
 */
import { constants, publicEncrypt, randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import { createClient, RawRsaKeyring, type CryptoBackend } from '../../src/index.js'
import { rsaKeyPair } from './keys.js'

/** One key pair and its crafted blocks; `messages()` makes the real and tampered messages anew. */
export function pkcs1Oracle() {
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

  return { privateKey: pair.privateKey, messages, outcomes, expectNoOracle }
}
