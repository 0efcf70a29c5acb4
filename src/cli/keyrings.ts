/**
 * `--wrapping-keys` specifications -> keyrings. One spec per flag, as
 * space-separated name=value pairs, like aws-encryption-cli:
 *   provider=aws-kms key=ARN [region=R] [endpoint=URL]    (provider defaults to aws-kms)
 *   provider=aws-kms discovery=true [discovery-partition=aws discovery-account=ID ...] [region=R]
 *   provider=NAMESPACE key=NAME file=PATH                 (raw AES key file: 16, 24 or 32 raw bytes, or base64)
 *   provider=NAMESPACE key=NAME file=PATH.pem [padding=oaep-sha256]   (raw RSA, PEM public and/or private)
 *   ecdh curve=P-256 sender=PRIV recipient=PUB           (raw ECDH, static: either party, both ways)
 *   ecdh curve=P-256 recipient=PUB                        (raw ECDH, ephemeral sender: encrypt only)
 *   ecdh curve=P-256 recipient=PRIV                       (raw ECDH, discovery: decrypt only)
 *   ecdh curve=P-256 kms-key=ARN [recipient=PUB] [endpoint=URL]   (KMS ECDH: static with recipient, else discovery)
 * ECDH key files are PEM (PUBLIC KEY / PRIVATE KEY) or DER (SPKI / PKCS#8).
 */
import { readFileSync } from 'node:fs'
import {
  defaultClientProvider,
  KmsDiscoveryKeyring,
  KmsEcdhKeyring,
  KmsKeyring,
  KmsMrkDiscoveryKeyring,
  MultiKeyring,
  RawAesKeyring,
  RawEcdhKeyring,
  RawRsaKeyring,
  type EcdhCurve,
  type Keyring,
  type RsaPadding,
} from '../index.js'
import { UsageError } from './usage.js'
import { kmsRsaKeyringFromSpec } from './kms-rsa-spec.js'

function parseSpec(spec: string): Map<string, string[]> {
  const pairs = new Map<string, string[]>()
  for (const part of spec.trim().split(/\s+/)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new UsageError(`--wrapping-keys: expected name=value, got ${JSON.stringify(part)}`)
    const name = part.slice(0, eq)
    pairs.set(name, [...(pairs.get(name) ?? []), part.slice(eq + 1)])
  }
  return pairs
}

function one(pairs: Map<string, string[]>, name: string): string | undefined {
  const values = pairs.get(name)
  if (values && values.length > 1) throw new UsageError(`--wrapping-keys: ${name} given more than once`)
  return values?.[0]
}

function rawAesKey(path: string): Uint8Array {
  const bytes = readFileSync(path)
  if ([16, 24, 32].includes(bytes.length)) return new Uint8Array(bytes)
  const decoded = Buffer.from(bytes.toString('utf8').trim(), 'base64')
  if ([16, 24, 32].includes(decoded.length)) return new Uint8Array(decoded)
  throw new UsageError(`${path}: an AES key file holds 16, 24 or 32 bytes (raw or base64)`)
}

const ECDH_FIELDS = ['curve', 'sender', 'recipient', 'kms-key', 'endpoint']
const ECDH_CURVES = ['P-256', 'P-384', 'P-521']

/** An ECDH key file: PEM text as a string, DER as bytes; and whether it holds a private key. */
function ecKeyFile(path: string): { key: string | Uint8Array; isPrivate: boolean } {
  const bytes = readFileSync(path)
  const text = bytes.toString('latin1')
  if (text.includes('-----BEGIN')) return { key: text, isPrivate: text.includes('PRIVATE KEY') }
  // DER: PKCS#8 opens with SEQUENCE { INTEGER version, ...}, SPKI with SEQUENCE { SEQUENCE algorithm, ...}.
  const lengthBytes = bytes[1]! & 0x80 ? 1 + (bytes[1]! & 0x7f) : 1
  return { key: new Uint8Array(bytes), isPrivate: bytes[1 + lengthBytes] === 0x02 }
}

function ecdhKeyring(spec: string, mode: 'encrypt' | 'decrypt'): Keyring {
  const pairs = parseSpec(spec.trim().slice('ecdh'.length))
  const unknown = [...pairs.keys()].filter((name) => !ECDH_FIELDS.includes(name))
  if (unknown.length > 0) throw new UsageError(`--wrapping-keys: ecdh does not take ${unknown.join(', ')} (fields: ${ECDH_FIELDS.join(', ')})`)
  const curve = one(pairs, 'curve')
  if (!curve || !ECDH_CURVES.includes(curve)) throw new UsageError(`--wrapping-keys: ecdh needs curve=${ECDH_CURVES.join('|')}`)
  const senderPath = one(pairs, 'sender')
  const recipientPath = one(pairs, 'recipient')
  const kmsKey = one(pairs, 'kms-key')
  const endpoint = one(pairs, 'endpoint')
  const c = curve as EcdhCurve
  if (kmsKey !== undefined) {
    if (senderPath !== undefined) throw new UsageError('--wrapping-keys: ecdh with kms-key takes no sender= (the KMS key is this party\'s private key)')
    const clientProvider = defaultClientProvider(endpoint ? { endpoint } : {})
    if (recipientPath === undefined) {
      if (mode === 'encrypt') throw new UsageError('--wrapping-keys: ecdh kms-key=ARN without recipient= is discovery, which only decrypts')
      return new KmsEcdhKeyring({ curve: c, scheme: { kind: 'discovery', recipientKmsKeyId: kmsKey }, clientProvider })
    }
    return new KmsEcdhKeyring({ curve: c, scheme: { kind: 'static', senderKmsKeyId: kmsKey, recipientPublicKey: ecKeyFile(recipientPath).key }, clientProvider })
  }
  if (endpoint !== undefined) throw new UsageError('--wrapping-keys: endpoint= goes with kms-key=')
  if (recipientPath === undefined) throw new UsageError('--wrapping-keys: ecdh needs recipient=<key file> (or kms-key=<ARN>)')
  const recipient = ecKeyFile(recipientPath)
  if (senderPath !== undefined) {
    const sender = ecKeyFile(senderPath)
    if (!sender.isPrivate || recipient.isPrivate) throw new UsageError('--wrapping-keys: ecdh sender= is your private key file and recipient= the other party\'s public key file')
    return new RawEcdhKeyring({ curve: c, scheme: { kind: 'static', senderPrivateKey: sender.key, recipientPublicKey: recipient.key } })
  }
  if (recipient.isPrivate) {
    if (mode === 'encrypt') throw new UsageError('--wrapping-keys: ecdh recipient=<private key> alone is discovery, which only decrypts; encrypt to the public key')
    return new RawEcdhKeyring({ curve: c, scheme: { kind: 'discovery', recipientPrivateKey: recipient.key } })
  }
  if (mode === 'decrypt') throw new UsageError('--wrapping-keys: ecdh recipient=<public key> alone is an ephemeral sender, which cannot decrypt; give the recipient private key')
  return new RawEcdhKeyring({ curve: c, scheme: { kind: 'ephemeral', recipientPublicKey: recipient.key } })
}

function keyringFor(spec: string, mode: 'encrypt' | 'decrypt'): Keyring[] {
  if (/^\s*ecdh(\s|$)/.test(spec)) return [ecdhKeyring(spec, mode)]
  const pairs = parseSpec(spec)
  const provider = one(pairs, 'provider') ?? 'aws-kms'
  const keys = pairs.get('key') ?? []
  if (provider === 'aws-kms-rsa') return [kmsRsaKeyringFromSpec(pairs, mode)]
  if (provider === 'aws-kms') {
    const endpoint = one(pairs, 'endpoint')
    const region = one(pairs, 'region')
    const clientProvider = defaultClientProvider(endpoint ? { endpoint } : {})
    if (one(pairs, 'discovery') === 'true') {
      if (mode === 'encrypt') throw new UsageError('--wrapping-keys: discovery=true only works for decrypt')
      const accounts = pairs.get('discovery-account')
      const partition = one(pairs, 'discovery-partition')
      const discoveryFilter = accounts ? { partition: partition ?? 'aws', accountIds: accounts } : undefined
      return [region ? new KmsMrkDiscoveryKeyring({ region, discoveryFilter, clientProvider }) : new KmsDiscoveryKeyring({ discoveryFilter, clientProvider })]
    }
    if (keys.length === 0) throw new UsageError('--wrapping-keys: provider=aws-kms needs key=<ARN> (or discovery=true)')
    return [new KmsKeyring({ generatorKeyId: mode === 'encrypt' ? keys[0] : undefined, keyIds: mode === 'encrypt' ? keys.slice(1) : keys, clientProvider })]
  }
  const file = one(pairs, 'file')
  if (keys.length !== 1 || !file) throw new UsageError(`--wrapping-keys: provider=${provider} needs exactly one key=<name> and file=<path>`)
  const text = readFileSync(file, 'utf8')
  if (text.includes('-----BEGIN')) {
    const padding = (one(pairs, 'padding') ?? 'oaep-sha256') as RsaPadding
    const isPrivate = text.includes('PRIVATE KEY')
    return [new RawRsaKeyring({ keyNamespace: provider, keyName: keys[0]!, padding, ...(isPrivate ? { privateKey: text } : { publicKey: text }) })]
  }
  return [new RawAesKeyring({ keyNamespace: provider, keyName: keys[0]!, wrappingKey: rawAesKey(file) })]
}

/** One keyring for all specs: a multi-keyring whose first key generates the data key. */
export function keyringFromSpecs(specs: readonly string[], mode: 'encrypt' | 'decrypt'): Keyring {
  if (specs.length === 0) throw new UsageError('at least one --wrapping-keys is required')
  const keyrings = specs.flatMap((s) => keyringFor(s, mode))
  if (keyrings.length === 1) return keyrings[0]!
  return new MultiKeyring({ generator: mode === 'encrypt' ? keyrings[0] : undefined, children: mode === 'encrypt' ? keyrings.slice(1) : keyrings })
}
