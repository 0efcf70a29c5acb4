/**
 * The CMS EnvelopedData AWS KMS returns as `CiphertextForRecipient`
 * (spec/nitro.md#ciphertext-for-recipient): BER, with indefinite lengths, one
 * KeyTransRecipientInfo v2 (subject key identifier) using RSAES-OAEP with
 * SHA-256 and MGF1-SHA-256, and AES-256-CBC content. Exactly that shape is
 * accepted; anything else is refused, within fixed bounds. Loaded only on the
 * recipient path (dynamic import), so other users never pay for it.
 */
import { RecipientError } from '../errors.js'

/** What the enclave needs to open it: the RSA-wrapped content key, the CBC IV and the content. */
export interface EnvelopedData {
  readonly subjectKeyIdentifier: Uint8Array
  readonly encryptedKey: Uint8Array
  readonly iv: Uint8Array
  readonly encryptedContent: Uint8Array
}

/** Far above a data key's envelope (about 500 bytes) and far below anything that could hurt. */
export const MAX_CMS_SIZE = 16 * 1024
const MAX_DEPTH = 12
const MAX_CONTENT_CHUNKS = 64

const SEQUENCE = 0x30
const SET = 0x31
const INTEGER = 0x02
const OCTET_STRING = 0x04
const NULL = 0x05
const OID = 0x06
const CONTEXT_0_CONSTRUCTED = 0xa0
const CONTEXT_1_CONSTRUCTED = 0xa1
const CONTEXT_0_PRIMITIVE = 0x80

const oid = (...bytes: number[]) => Uint8Array.from(bytes)
const ID_ENVELOPED_DATA = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03) // 1.2.840.113549.1.7.3
const ID_DATA = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01) // 1.2.840.113549.1.7.1
const ID_RSAES_OAEP = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07) // 1.2.840.113549.1.1.7
const ID_MGF1 = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08) // 1.2.840.113549.1.1.8
const ID_SHA256 = oid(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01) // 2.16.840.1.101.3.4.2.1
const ID_AES256_CBC = oid(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a) // 2.16.840.1.101.3.4.1.42

/** One BER element: primitive ones keep their content, constructed ones their children. */
interface Node {
  readonly tag: number
  readonly offset: number
  readonly content?: Uint8Array
  readonly children?: readonly Node[]
}

function fail(message: string, offset?: number): never {
  throw new RecipientError('malformed-cms', offset === undefined ? message : `${message} (at byte ${offset})`)
}

/** Reads one element at `offset`, not past `limit`; returns it and where the next one starts. */
function readNode(bytes: Uint8Array, offset: number, limit: number, depth: number): { node: Node; next: number } {
  if (depth > MAX_DEPTH) fail('nested too deeply', offset)
  if (offset + 2 > limit) fail('truncated', offset)
  const tag = bytes[offset]!
  // Single-byte tags only: every tag of this structure is one.
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tag', offset)
  const constructed = (tag & 0x20) !== 0
  const first = bytes[offset + 1]!
  let start = offset + 2
  if (first === 0x80) {
    // Indefinite length (BER): constructed only, children up to an end-of-contents 00 00.
    if (!constructed) fail('indefinite length on a primitive element', offset)
    const children: Node[] = []
    let at = start
    for (;;) {
      if (at + 2 > limit) fail('missing end-of-contents', at)
      if (bytes[at] === 0 && bytes[at + 1] === 0) return { node: { tag, offset, children }, next: at + 2 }
      const child = readNode(bytes, at, limit, depth + 1)
      children.push(child.node)
      at = child.next
    }
  }
  let length = first
  if (first & 0x80) {
    const count = first & 0x7f
    if (count > 3 || start + count > limit) fail('bad length', offset)
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!
    if (length < 0x80 || bytes[start] === 0) fail('non-minimal length', offset)
    start += count
  }
  const end = start + length
  if (end > limit) fail('truncated', offset)
  if (!constructed) return { node: { tag, offset, content: bytes.subarray(start, end) }, next: end }
  const children: Node[] = []
  let at = start
  while (at < end) {
    const child = readNode(bytes, at, end, depth + 1)
    children.push(child.node)
    at = child.next
  }
  return { node: { tag, offset, children }, next: end }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function children(node: Node | undefined, tag: number, what: string, count: number | readonly number[]): readonly Node[] {
  if (!node || node.tag !== tag || !node.children) fail(`expected ${what}`, node?.offset)
  const allowed = typeof count === 'number' ? [count] : count
  if (!allowed.includes(node.children.length)) fail(`${what} has ${node.children.length} elements`, node.offset)
  return node.children
}

function primitive(node: Node | undefined, tag: number, what: string): Uint8Array {
  if (!node || node.tag !== tag || !node.content) fail(`expected ${what}`, node?.offset)
  return node.content
}

function expectOid(node: Node | undefined, value: Uint8Array, what: string): void {
  if (!equal(primitive(node, OID, what), value)) fail(`unexpected ${what}`, node?.offset)
}

function expectVersion(node: Node | undefined, version: number, what: string): void {
  const v = primitive(node, INTEGER, what)
  if (v.length !== 1 || v[0] !== version) fail(`${what} is not ${version}`, node?.offset)
}

/** AlgorithmIdentifier sha256, with the NULL parameters or none (RFC 4055 allows both). */
function expectSha256(node: Node | undefined, what: string): void {
  const parts = children(node, SEQUENCE, what, [1, 2])
  expectOid(parts[0], ID_SHA256, what)
  if (parts[1] && (parts[1].tag !== NULL || parts[1].content?.length !== 0)) fail(`${what} parameters are not NULL`, parts[1].offset)
}

/** RSAES-OAEP with SHA-256, MGF1-SHA-256 and the default (empty) label: the only key transport KMS uses. */
function expectOaepSha256(node: Node | undefined): void {
  const [algorithm, params] = children(node, SEQUENCE, 'key encryption algorithm', 2)
  expectOid(algorithm, ID_RSAES_OAEP, 'key encryption algorithm')
  // No [2] pSource: a label would change what the key was wrapped under.
  const [hash, mask] = children(params, SEQUENCE, 'RSAES-OAEP parameters', 2)
  expectSha256(children(hash, CONTEXT_0_CONSTRUCTED, 'OAEP hash', 1)[0], 'OAEP hash')
  const [mgf, mgfHash] = children(children(mask, CONTEXT_1_CONSTRUCTED, 'OAEP mask generation', 1)[0], SEQUENCE, 'OAEP mask generation', 2)
  expectOid(mgf, ID_MGF1, 'OAEP mask generation function')
  expectSha256(mgfHash, 'MGF1 hash')
}

/** encryptedContent [0] IMPLICIT OCTET STRING: primitive, or (BER) constructed from OCTET STRING chunks. */
function encryptedContent(node: Node | undefined): Uint8Array {
  if (node?.tag === CONTEXT_0_PRIMITIVE && node.content) return node.content.slice()
  const chunks = node?.tag === CONTEXT_0_CONSTRUCTED ? node.children : undefined
  if (!chunks || chunks.length === 0 || chunks.length > MAX_CONTENT_CHUNKS) fail('expected encrypted content', node?.offset)
  const parts = chunks.map((c) => primitive(c, OCTET_STRING, 'encrypted content chunk'))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Parses KMS's CiphertextForRecipient; every byte must belong to the structure. */
export function parseEnvelopedData(bytes: Uint8Array): EnvelopedData {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail('empty')
  if (bytes.length > MAX_CMS_SIZE) fail(`${bytes.length} bytes, more than ${MAX_CMS_SIZE}`)
  const { node: contentInfo, next } = readNode(bytes, 0, bytes.length, 0)
  if (next !== bytes.length) fail('trailing bytes', next)
  const [contentType, explicit] = children(contentInfo, SEQUENCE, 'ContentInfo', 2)
  expectOid(contentType, ID_ENVELOPED_DATA, 'content type')
  // No originatorInfo and no unprotectedAttrs: KMS sends neither.
  const [version, recipientInfos, encryptedContentInfo] = children(children(explicit, CONTEXT_0_CONSTRUCTED, 'content', 1)[0], SEQUENCE, 'EnvelopedData', 3)
  expectVersion(version, 2, 'EnvelopedData version')
  const [ktri] = children(recipientInfos, SET, 'recipientInfos', 1)
  const [ktriVersion, rid, keyAlgorithm, encryptedKey] = children(ktri, SEQUENCE, 'KeyTransRecipientInfo', 4)
  // Version 2 means the recipient is named by subject key identifier [0].
  expectVersion(ktriVersion, 2, 'KeyTransRecipientInfo version')
  const ski = primitive(rid, CONTEXT_0_PRIMITIVE, 'subject key identifier')
  if (ski.length === 0 || ski.length > 64) fail('subject key identifier length', rid!.offset)
  expectOaepSha256(keyAlgorithm)
  const wrapped = primitive(encryptedKey, OCTET_STRING, 'encrypted key')
  if (wrapped.length === 0 || wrapped.length > 1024) fail('encrypted key length', encryptedKey!.offset)
  const [dataType, contentAlgorithm, content] = children(encryptedContentInfo, SEQUENCE, 'EncryptedContentInfo', 3)
  expectOid(dataType, ID_DATA, 'encrypted content type')
  const [cbc, ivNode] = children(contentAlgorithm, SEQUENCE, 'content encryption algorithm', 2)
  expectOid(cbc, ID_AES256_CBC, 'content encryption algorithm')
  const iv = primitive(ivNode, OCTET_STRING, 'AES-CBC IV')
  if (iv.length !== 16) fail('AES-CBC IV is not 16 bytes', ivNode!.offset)
  const ciphertext = encryptedContent(content)
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) fail('encrypted content is not whole AES blocks', content!.offset)
  return { subjectKeyIdentifier: ski.slice(), encryptedKey: wrapped.slice(), iv: iv.slice(), encryptedContent: ciphertext }
}
