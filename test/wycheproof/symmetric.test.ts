/**
 * Wycheproof AES-GCM and HKDF through each backend's own interface (importAesKey, gcmSeal, gcmOpen,
 * hkdf), the functions the frame loop and key derivation call. The WebCrypto backend routes these to
 * pure JS (spec/backends.md#why-symmetric-stays-synchronous); it runs anyway, to pin that routing.
 */
import { describe, expect, it } from 'vitest'
import type { CryptoBackend } from '../../src/crypto/backend.js'
import { BACKENDS } from '../support/backends.js'
import { hexToBytes } from '../support/helpers.js'
import { describeError, expectation, readWycheproof, Tally, toHex } from './support.js'

/**
 * Every suite uses a 12-byte IV and a 16-byte tag (spec/algorithm-suites.md), and gcmOpen takes no
 * other IV size from a message: vectors with another IV size test a GHASH-derived IV the library
 * never builds, so they are skipped and counted.
 */
const IV_SKIP = 'IV not 12 bytes: no suite uses it'

function runGcm(backend: CryptoBackend): Tally {
  const tally = new Tally()
  for (const group of readWycheproof('aes_gcm_test.json').testGroups) {
    for (const test of group.tests) {
      if (group.ivSize !== 96) {
        tally.skip(IV_SKIP)
        continue
      }
      const want = expectation(test)
      if (group.tagSize !== 128 || want === undefined) {
        tally.fail(test, `unexpected tag size ${group.tagSize} or no decision`)
        continue
      }
      tally.ran(test)
      try {
        const key = backend.importAesKey(hexToBytes(test.key))
        const [iv, aad, msg, ct, tag] = [hexToBytes(test.iv), hexToBytes(test.aad), hexToBytes(test.msg), hexToBytes(test.ct), hexToBytes(test.tag)]
        const opened = backend.gcmOpen(key, iv, aad, ct, tag)
        if (want === 'accept') {
          if (toHex(opened) !== test.msg) tally.fail(test, `opened to ${toHex(opened)}`)
          const sealed = new Uint8Array(msg.length + 16)
          backend.gcmSeal(key, iv, aad, msg, sealed, 0)
          if (toHex(sealed) !== test.ct + test.tag) tally.fail(test, `sealed to ${toHex(sealed)}`)
        } else if (want === 'reject' && opened !== undefined) {
          // undefined is gcmOpen's rejection; its callers raise AuthenticationError.
          tally.fail(test, 'accepted')
        }
      } catch (error) {
        tally.fail(test, `threw ${describeError(error)}`)
      }
    }
  }
  return tally
}

/** File, hash, and how many valid / invalid tests it holds (none skipped). */
const HKDF = [
  ['hkdf_sha256_test.json', 'sha256', 83, 3],
  ['hkdf_sha384_test.json', 'sha384', 80, 3],
  ['hkdf_sha512_test.json', 'sha512', 80, 3],
] as const

/**
 * The only invalid HKDF vectors ask for more than 255 HashLen bytes. Output lengths come from the
 * suite table, never from a message, so asking for too many is a programmer error: a RangeError
 * (src/errors.ts), the same on every backend, and never a truncated or wrapped-around key.
 */
function runHkdf(backend: CryptoBackend, file: string, hash: 'sha256' | 'sha384' | 'sha512'): Tally {
  const tally = new Tally()
  for (const group of readWycheproof(file).testGroups) {
    for (const test of group.tests) {
      const want = expectation(test)
      if (want === undefined) {
        tally.fail(test, 'no decision')
        continue
      }
      tally.ran(test)
      let okm: Uint8Array | undefined
      try {
        okm = backend.hkdf(hash, hexToBytes(test.ikm), hexToBytes(test.salt), [{ info: hexToBytes(test.info), length: test.size }])[0]
      } catch (error) {
        if (want === 'accept' || !(error instanceof RangeError)) tally.fail(test, `threw ${describeError(error)}`)
        continue
      }
      if (want === 'reject') tally.fail(test, `derived ${okm?.length} bytes`)
      else if (toHex(okm) !== test.okm) tally.fail(test, `derived ${toHex(okm)}`)
    }
  }
  return tally
}

describe.each(BACKENDS)('Wycheproof on the %s backend', (_name, backend) => {
  it('aes_gcm_test.json: every 12-byte-IV vector', () => {
    const tally = runGcm(backend)
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid: 116, invalid: 81, acceptable: 0 }, skipped: { [IV_SKIP]: 119 } })
  })

  it.each(HKDF)('%s', (file, hash, valid, invalid) => {
    const tally = runHkdf(backend, file, hash)
    expect(tally.failures).toEqual([])
    expect(tally.summary()).toEqual({ run: { valid, invalid, acceptable: 0 }, skipped: {} })
  })
})
