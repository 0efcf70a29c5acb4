/**
 * AES-GCM keys and operations on @noble/ciphers' `gcm`, which the caller hands
 * in: noble.ts imports it, and the node:crypto backend loads it only where
 * node:crypto lacks aes-192-gcm (Deno), since noble's AES builds its tables
 * when its module loads (spec/backends.md#node).
 */
import type { gcm as nobleGcm } from '@noble/ciphers/aes.js'
import type { AesKey } from './backend.js'
import { Redacted, type PublicFacts } from './redacted.js'

const TAG_LENGTH = 16

/** The raw key in a private field. noble expands it per call: a cipher object is bound to one nonce. */
export class RawAesKey extends Redacted implements AesKey {
  readonly length: 16 | 24 | 32
  readonly #key: Uint8Array

  constructor(raw: Uint8Array) {
    super()
    if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) throw new RangeError(`AES keys are 16, 24 or 32 bytes, not ${raw.length}`)
    this.length = raw.length
    this.#key = Uint8Array.prototype.slice.call(raw)
  }

  #wiped = false

  static bytes(key: RawAesKey): Uint8Array {
    // A wiped key is all zeros: sealing with it must fail, not succeed under a known key.
    if (key.#wiped) throw new TypeError('this AES key was wiped when its message ended')
    return key.#key
  }

  wipe(): void {
    this.#key.fill(0)
    this.#wiped = true
  }

  protected publicFacts(): readonly [string, PublicFacts] {
    return ['AesKey', { length: this.length }]
  }
}

/** ciphertext ‖ tag as one array: a view when the two already sit side by side (they do in a message). */
function joinTag(ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  if (ciphertext.buffer === tag.buffer && ciphertext.byteOffset + ciphertext.length === tag.byteOffset) {
    return new Uint8Array(ciphertext.buffer, ciphertext.byteOffset, ciphertext.length + tag.length)
  }
  const joined = new Uint8Array(ciphertext.length + tag.length)
  joined.set(ciphertext, 0)
  joined.set(tag, ciphertext.length)
  return joined
}

/** The synchronous AES-GCM operations of the pure-JS backend, on `gcm`. */
export const nobleAesOn = (gcm: typeof nobleGcm) => ({
  importAesKey(raw: Uint8Array): AesKey {
    return new RawAesKey(raw)
  },

  gcmSeal(key: AesKey, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const sealed = gcm(RawAesKey.bytes(key as RawAesKey), iv, aad).encrypt(plaintext)
    out.set(sealed, offset)
  },

  gcmOpen(key: AesKey, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array | undefined {
    if (tag.length !== TAG_LENGTH) return undefined
    const raw = RawAesKey.bytes(key as RawAesKey)
    try {
      // noble checks the tag before it decrypts anything.
      return gcm(raw, iv, aad).decrypt(joinTag(ciphertext, tag))
    } catch {
      return undefined
    }
  },
})
