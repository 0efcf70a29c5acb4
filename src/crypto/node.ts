/**
 * The node:crypto backend: the fast path on Node (spec/backends.md#node).
 * Keys are imported once as KeyObjects; AES-GCM runs through OpenSSL.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createSign,
  createVerify,
  ECDH,
  generateKeyPairSync,
  createHash,
  hkdfSync,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomFillSync,
  timingSafeEqual,
  type CipherGCMTypes,
} from 'node:crypto'
import { MalformedMessageError, UnsupportedError } from '../errors.js'
import type { CurveName, HashName } from '../format/suites.js'
import type {
  AesKey,
  CryptoBackend,
  RsaPadding,
  RsaPrivateKey,
  RsaPublicKey,
  Signer,
  SigningKey,
  VerificationKey,
  Verifier,
} from './backend.js'

interface NodeAesKey extends AesKey {
  readonly keyObject: KeyObject
  readonly cipher: CipherGCMTypes
}
interface NodeSigningKey extends SigningKey {
  readonly privateKey: KeyObject
}
interface NodeVerificationKey extends VerificationKey {
  readonly publicKey: KeyObject
}
interface NodeRsaPublicKey extends RsaPublicKey {
  readonly keyObject: KeyObject
}
interface NodeRsaPrivateKey extends RsaPrivateKey {
  readonly keyObject: KeyObject
}

const GCM: Record<number, CipherGCMTypes> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' }
const OPENSSL_CURVE: Record<CurveName, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' }
const COORDINATE_LENGTH: Record<CurveName, number> = { 'P-256': 32, 'P-384': 48 }

function fromBase64Url(text: string): Buffer {
  return Buffer.from(text, 'base64url')
}

function compressPoint(jwk: { x?: string; y?: string }): Uint8Array {
  const x = fromBase64Url(jwk.x!)
  const y = fromBase64Url(jwk.y!)
  const out = new Uint8Array(1 + x.length)
  out[0] = 0x02 | (y[y.length - 1]! & 1)
  out.set(x, 1)
  return out
}

function rsaOptions(padding: RsaPadding): { padding: number; oaepHash?: string } {
  if (padding === 'pkcs1') return { padding: constants.RSA_PKCS1_PADDING }
  return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.slice('oaep-'.length) }
}

function asKeyObject(key: unknown, kind: 'public' | 'private'): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== kind) throw new TypeError(`expected an RSA ${kind} key, got a ${key.type} key`)
    if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`expected an RSA key, got ${key.asymmetricKeyType}`)
    return key
  }
  if (typeof key === 'string' || key instanceof Uint8Array) {
    const text = typeof key === 'string' ? key : Buffer.from(key).toString('utf8')
    // A private PEM given as the public key would silently derive one; the spec forbids that.
    if (kind === 'public' && text.includes('PRIVATE KEY')) throw new TypeError('publicKey must be a public key, not a private key')
    const object = kind === 'public' ? createPublicKey(text) : createPrivateKey(text)
    if (object.asymmetricKeyType !== 'rsa') throw new TypeError(`expected an RSA key, got ${object.asymmetricKeyType}`)
    return object
  }
  throw new TypeError(`an RSA ${kind} key must be PEM text or a KeyObject`)
}

export const nodeBackend: CryptoBackend = {
  name: 'node',

  randomBytes(length) {
    return randomFillSync(new Uint8Array(length))
  },

  importAesKey(raw) {
    const cipher = GCM[raw.length]
    if (!cipher) throw new RangeError(`AES keys are 16, 24 or 32 bytes, not ${raw.length}`)
    const key: NodeAesKey = { length: raw.length as 16 | 24 | 32, keyObject: createSecretKey(raw), cipher }
    return key
  },

  gcmSeal(key, iv, aad, plaintext, out, offset) {
    const k = key as NodeAesKey
    const cipher = createCipheriv(k.cipher, k.keyObject, iv, { authTagLength: 16 })
    cipher.setAAD(aad)
    const body = cipher.update(plaintext)
    out.set(body, offset)
    const rest = cipher.final()
    if (rest.length > 0) out.set(rest, offset + body.length)
    out.set(cipher.getAuthTag(), offset + plaintext.length)
  },

  gcmOpen(key, iv, aad, ciphertext, tag) {
    const k = key as NodeAesKey
    const decipher = createDecipheriv(k.cipher, k.keyObject, iv, { authTagLength: 16 })
    decipher.setAuthTag(tag)
    decipher.setAAD(aad)
    const plaintext = decipher.update(ciphertext)
    try {
      decipher.final()
    } catch {
      plaintext.fill(0)
      return undefined
    }
    return plaintext
  },

  hkdf(hash, ikm, salt, info, length) {
    return new Uint8Array(hkdfSync(hash, ikm, salt, info, length))
  },

  timingSafeEqual(a, b) {
    return a.length === b.length && timingSafeEqual(a, b)
  },

  digest(hash, data) {
    return createHash(hash).update(data).digest()
  },

  generateSigningKey(curve) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: OPENSSL_CURVE[curve] })
    const key: NodeSigningKey = { curve, publicKey: compressPoint(publicKey.export({ format: 'jwk' })), privateKey }
    return key
  },

  importVerificationKey(curve, compressedPoint) {
    let uncompressed: Buffer
    try {
      uncompressed = ECDH.convertKey(compressedPoint, OPENSSL_CURVE[curve], undefined, undefined, 'uncompressed') as Buffer
    } catch (cause) {
      throw new MalformedMessageError(`the signing public key in the encryption context is not a valid ${curve} point`, { cause })
    }
    const n = COORDINATE_LENGTH[curve]
    if (compressedPoint.length !== n + 1) throw new MalformedMessageError(`the signing public key is not a compressed ${curve} point`)
    const publicKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: curve,
        x: uncompressed.subarray(1, 1 + n).toString('base64url'),
        y: uncompressed.subarray(1 + n).toString('base64url'),
      },
      format: 'jwk',
    })
    const key: NodeVerificationKey = { curve, publicKey }
    return key
  },

  createSigner(key, hash): Signer {
    const sign = createSign(hash)
    return {
      update: (data) => void sign.update(data),
      sign: () => sign.sign((key as NodeSigningKey).privateKey),
    }
  },

  createVerifier(key, hash): Verifier {
    const verify = createVerify(hash)
    return {
      update: (data) => void verify.update(data),
      verify: (signature) => {
        try {
          return verify.verify((key as NodeVerificationKey).publicKey, signature)
        } catch {
          return false
        }
      },
    }
  },

  importRsaPublicKey(key) {
    const k: NodeRsaPublicKey = { kind: 'rsa-public', keyObject: asKeyObject(key, 'public') }
    return k
  },

  importRsaPrivateKey(key) {
    const k: NodeRsaPrivateKey = { kind: 'rsa-private', keyObject: asKeyObject(key, 'private') }
    return k
  },

  rsaEncrypt(key, padding, plaintext) {
    return publicEncrypt({ key: (key as NodeRsaPublicKey).keyObject, ...rsaOptions(padding) }, plaintext)
  },

  rsaDecrypt(key, padding, ciphertext) {
    try {
      return privateDecrypt({ key: (key as NodeRsaPrivateKey).keyObject, ...rsaOptions(padding) }, ciphertext)
    } catch (cause) {
      if (padding === 'pkcs1' && String((cause as Error).message).includes('CVE-2023-46809')) {
        throw new UnsupportedError(
          'this Node.js refuses RSA PKCS#1 v1.5 decryption (CVE-2023-46809, the Marvin attack). ' +
            'Re-wrap the data key with OAEP, or run node with --security-revert=CVE-2023-46809 to read legacy messages',
          { cause },
        )
      }
      throw cause
    }
  },
}

/** The SPKI PEM of an RSA private key's public half: for tools (the vector runner), never for keyrings. */
export function rsaPublicPemOf(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString()
}
