/**
 * `--wrapping-keys` specifications -> keyrings. One spec per flag, as
 * space-separated name=value pairs, like aws-encryption-cli. `provider=` is
 * required (a spec without it is an error, never a silent KMS key) and a field
 * the provider does not take is an error; KEY_SPEC_HELP lists them all.
 * ECDH keys have their own spec, `ecdh curve=... [sender=...] [recipient=...] [kms-key=...]`:
 *   ecdh curve=P-256 sender=PRIV recipient=PUB           (raw ECDH, static: either party, both ways)
 *   ecdh curve=P-256 recipient=PUB                        (raw ECDH, ephemeral sender: encrypt only)
 *   ecdh curve=P-256 recipient=PRIV                       (raw ECDH, discovery: decrypt only)
 *   ecdh curve=P-256 kms-key=ARN [recipient=PUB] [endpoint=URL]   (KMS ECDH: static with recipient, else discovery)
 * ECDH key files are PEM (PUBLIC KEY / PRIVATE KEY) or DER (SPKI / PKCS#8); other forms are refused
 * with the openssl command that converts them.
 */
import { readFileSync } from 'node:fs'
import {
  defaultClientProvider,
  InvalidKeyError,
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
import { HIERARCHY_SPEC_HELP, hierarchyKeyringFromSpec } from './hierarchy-spec.js'
import { KMS_RSA_SPEC_HELP, kmsRsaKeyringFromSpec } from './kms-rsa-spec.js'
import { endpointConfig, readNamedFile, UsageError } from './usage.js'
import { inCliTerms } from './words.js'

/** The fields each kind of provider takes; `provider=` itself is always allowed. */
const KMS_FIELDS = ['key', 'region', 'endpoint', 'discovery', 'discovery-partition', 'discovery-account']
const RAW_FIELDS = ['key', 'file', 'padding']

export const KEY_SPEC_HELP = `wrapping key specs (-w), space-separated name=value fields; provider= is required:
  provider=aws-kms key=ARN|ALIAS [key=...] [region=R] [endpoint=URL]
      key          KMS key ARN, alias ARN, or id/alias name (then region= says where); repeatable:
                   on encrypt the first key generates the data key, the others wrap it too
      region       region for key ids that are not ARNs, and the region of an MRK discovery keyring
      endpoint     KMS endpoint URL (e.g. the local server: envelope kms-local)
  provider=aws-kms discovery=true [discovery-partition=aws discovery-account=ID ...] [region=R]
      discovery    true: decrypt with any KMS key the caller may use (decrypt only)
      discovery-partition, discovery-account
                   limit discovery to these accounts (repeatable) in this partition (default aws)
  provider=NAMESPACE key=NAME file=PATH [padding=P]
      NAMESPACE    the key namespace (provider id) stored in the message; any name but aws-kms
      file         raw AES key (16, 24 or 32 bytes, raw or base64) or RSA PEM (public and/or private)
      padding      RSA only: oaep-sha1 | oaep-sha256 (default) | oaep-sha384 | oaep-sha512 | pkcs1
${KMS_RSA_SPEC_HELP}
${HIERARCHY_SPEC_HELP}
  ecdh curve=C [sender=FILE] [recipient=FILE] [kms-key=ARN] [endpoint=URL]   (no provider=; spec/ecdh.md)
      curve        P-256 | P-384 | P-521
      sender       your private key file (static scheme); recipient= is then the other party's public key
      recipient    alone: a public key file (ephemeral sender, encrypt only) or your private key file
                   (discovery, decrypt only)
      kms-key      your ECDH private key in KMS (KMS ECDH): with recipient= static, alone discovery
      key files    PEM PUBLIC KEY (SPKI) or PRIVATE KEY (PKCS#8), or their DER; a SEC1 "EC PRIVATE
                   KEY" converts with: openssl pkcs8 -topk8 -nocrypt -in sec1.pem -out key.pem
      endpoint     KMS endpoint URL, with kms-key=`

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
  const bytes = readNamedFile(path, 'key file', (p) => readFileSync(p))
  if ([16, 24, 32].includes(bytes.length)) return new Uint8Array(bytes)
  const decoded = Buffer.from(bytes.toString('utf8').trim(), 'base64')
  if ([16, 24, 32].includes(decoded.length)) return new Uint8Array(decoded)
  throw new UsageError(`${path}: an AES key file holds 16, 24 or 32 bytes (raw or base64)`)
}

function checkFields(pairs: Map<string, string[]>, provider: string, allowed: readonly string[]): void {
  for (const name of pairs.keys()) {
    if (name !== 'provider' && !allowed.includes(name)) {
      throw new UsageError(`--wrapping-keys: provider=${provider} takes no ${name}= (its fields: provider, ${allowed.join(', ')})`)
    }
  }
}

const ECDH_FIELDS = ['curve', 'sender', 'recipient', 'kms-key', 'endpoint']
const ECDH_CURVES = ['P-256', 'P-384', 'P-521']

/** How to turn what a key file holds into the PKCS#8 or SPKI form ECDH keys take (spec/ecdh.md#keys). */
const PEM_HINTS: Readonly<Record<string, string>> = {
  'EC PRIVATE KEY': 'holds a SEC1 "EC PRIVATE KEY"; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in FILE -out FILE.p8.pem',
  'ENCRYPTED PRIVATE KEY': 'holds a password-protected private key; write it unencrypted: openssl pkcs8 -nocrypt -in FILE -out FILE.p8.pem',
  CERTIFICATE: 'holds a certificate; take its public key: openssl x509 -pubkey -noout -in FILE > FILE.pub.pem',
}

/**
 * An ECDH key file: PEM text as a string, DER as bytes; and whether it holds a private key. The form is
 * read from the PEM label or the DER structure; anything that is neither a PUBLIC KEY (SPKI) nor a
 * PRIVATE KEY (PKCS#8) is an InvalidKeyError naming the file, with the command that converts it.
 */
function ecKeyFile(path: string): { key: string | Uint8Array; isPrivate: boolean } {
  const bytes = readNamedFile(path, 'key file', (p) => readFileSync(p))
  const refuse = (what: string) => new InvalidKeyError(`key file ${path} ${what.replaceAll('FILE', path)}`)
  // Keys are under a kilobyte; the PEM scan below is not meant for megabytes of someone else's file.
  if (bytes.length > MAX_EC_KEY_FILE) throw refuse(`is ${bytes.length} bytes, more than any EC key file (at most ${MAX_EC_KEY_FILE})`)
  const text = bytes.toString('latin1')
  if (text.includes('-----BEGIN')) {
    // openssl ecparam -genkey writes an EC PARAMETERS block before the key: it says nothing the key does not.
    const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)].filter((m) => m[1] !== 'EC PARAMETERS')
    if (blocks.length !== 1) throw refuse(blocks.length === 0 ? 'has no complete PEM key block' : 'holds more than one PEM block: give one key per file')
    const label = blocks[0]![1]!
    if (label === 'PUBLIC KEY' || label === 'PRIVATE KEY') return { key: blocks[0]![0], isPrivate: label === 'PRIVATE KEY' }
    throw refuse(PEM_HINTS[label] ?? `holds a PEM "${label}", not an EC key: ECDH keys are PEM PUBLIC KEY (SPKI) or PRIVATE KEY (PKCS#8), or their DER`)
  }
  const form = derKeyForm(bytes)
  if (form === 'sec1') throw refuse('holds a DER SEC1 EC private key; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -inform DER -in FILE -outform DER -out FILE.p8.der')
  if (form === undefined) throw refuse('is neither PEM nor a DER key: ECDH keys are PEM PUBLIC KEY (SPKI) or PRIVATE KEY (PKCS#8), or their DER')
  return { key: new Uint8Array(bytes), isPrivate: form === 'pkcs8' }
}

/** Largest ECDH key file read: a P-521 PKCS#8 PEM with an EC PARAMETERS block is under 1 KiB. */
const MAX_EC_KEY_FILE = 64 * 1024

/**
 * The form of a DER key from its first elements, bounds-checked (the keyring parses it fully):
 * SPKI is SEQUENCE { SEQUENCE algorithm, BIT STRING }, PKCS#8 SEQUENCE { INTEGER, SEQUENCE algorithm,
 * OCTET STRING }, SEC1 (RFC 5915) SEQUENCE { INTEGER 1, OCTET STRING, ... }.
 */
function derKeyForm(der: Uint8Array): 'spki' | 'pkcs8' | 'sec1' | undefined {
  /** The element at `at`: its tag, where its content starts and where the next element starts. */
  const element = (at: number): { tag: number; start: number; end: number } | undefined => {
    if (at + 2 > der.length) return undefined
    const first = der[at + 1]!
    const count = first & 0x80 ? first & 0x7f : 0
    if (count > 4 || at + 2 + count > der.length) return undefined
    let length = count === 0 ? first : 0
    for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!
    return { tag: der[at]!, start: at + 2 + count, end: at + 2 + count + length }
  }
  const outer = element(0)
  if (outer?.tag !== 0x30 || outer.end !== der.length) return undefined
  const first = element(outer.start)
  const second = first && element(first.end)
  if (!first || !second) return undefined
  if (first.tag === 0x30 && second.tag === 0x03) return 'spki'
  if (first.tag === 0x02 && second.tag === 0x30) return 'pkcs8'
  if (first.tag === 0x02 && second.tag === 0x04) return 'sec1'
  return undefined
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
    const clientProvider = defaultClientProvider(endpointConfig(endpoint))
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
  const provider = one(pairs, 'provider')
  if (!provider) {
    throw new UsageError(`--wrapping-keys ${JSON.stringify(spec)} has no provider=: use provider=aws-kms for AWS KMS keys, provider=aws-kms-rsa for a KMS RSA key, provider=aws-kms-hierarchy for a branch key, or provider=NAMESPACE with key= and file= for a raw AES or RSA key; ECDH specs start with ecdh (envelope ${mode} --help)`)
  }
  if (provider === 'aws-kms-rsa') return [kmsRsaKeyringFromSpec(pairs, mode)]
  if (provider === 'aws-kms-hierarchy') return [hierarchyKeyringFromSpec(pairs)]
  const keys = pairs.get('key') ?? []
  if (provider === 'aws-kms') {
    checkFields(pairs, provider, KMS_FIELDS)
    const endpoint = one(pairs, 'endpoint')
    const region = one(pairs, 'region')
    const discovery = one(pairs, 'discovery')
    if (discovery !== undefined && discovery !== 'true' && discovery !== 'false') throw new UsageError('--wrapping-keys: discovery= takes true or false')
    if (discovery === 'true') {
      if (mode === 'encrypt') throw new UsageError('--wrapping-keys: discovery=true only works for decrypt')
      if (keys.length > 0) throw new UsageError('--wrapping-keys: discovery=true takes no key= (give the keys in another -w)')
      const clientProvider = defaultClientProvider(endpointConfig(endpoint))
      const accounts = pairs.get('discovery-account')
      const partition = one(pairs, 'discovery-partition')
      if (partition !== undefined && !accounts) throw new UsageError('--wrapping-keys: discovery-partition= needs discovery-account=')
      const discoveryFilter = accounts ? { partition: partition ?? 'aws', accountIds: accounts } : undefined
      return [region ? new KmsMrkDiscoveryKeyring({ region, discoveryFilter, clientProvider }) : new KmsDiscoveryKeyring({ discoveryFilter, clientProvider })]
    }
    if (pairs.has('discovery-account') || pairs.has('discovery-partition')) throw new UsageError('--wrapping-keys: discovery-account= and discovery-partition= need discovery=true')
    if (keys.length === 0) throw new UsageError('--wrapping-keys: provider=aws-kms needs key=<ARN> (or discovery=true)')
    // region= is the default for key ids that are not ARNs; an ARN names its own region.
    const clientProvider = defaultClientProvider(endpointConfig(endpoint, region))
    return [new KmsKeyring({ generatorKeyId: mode === 'encrypt' ? keys[0] : undefined, keyIds: mode === 'encrypt' ? keys.slice(1) : keys, clientProvider })]
  }
  checkFields(pairs, provider, RAW_FIELDS)
  const file = one(pairs, 'file')
  if (keys.length !== 1 || !file) throw new UsageError(`--wrapping-keys: provider=${provider} needs exactly one key=<name> and file=<path>`)
  const text = readNamedFile(file, 'key file', (path) => readFileSync(path, 'utf8'))
  const padding = one(pairs, 'padding')
  if (text.includes('-----BEGIN')) {
    const isPrivate = text.includes('PRIVATE KEY')
    return [new RawRsaKeyring({ keyNamespace: provider, keyName: keys[0]!, padding: (padding ?? 'oaep-sha256') as RsaPadding, ...(isPrivate ? { privateKey: text } : { publicKey: text }) })]
  }
  if (padding !== undefined) throw new UsageError(`--wrapping-keys: padding= is for RSA keys, and ${file} is not a PEM file`)
  return [new RawAesKeyring({ keyNamespace: provider, keyName: keys[0]!, wrappingKey: rawAesKey(file) })]
}

/** One keyring for all specs: a multi-keyring whose first key generates the data key. */
export function keyringFromSpecs(specs: readonly string[], mode: 'encrypt' | 'decrypt'): Keyring {
  if (specs.length === 0) throw new UsageError('at least one --wrapping-keys is required')
  const keyrings = specs.flatMap((spec) => {
    try {
      return keyringFor(spec, mode)
    } catch (e) {
      // A keyring refusing an option the spec gave (a bad ARN, padding=) is a command-line mistake, in spec terms.
      if (e instanceof TypeError || e instanceof RangeError) throw new UsageError(`--wrapping-keys: ${inCliTerms(e.message, new Set())}`)
      throw e
    }
  })
  if (keyrings.length === 1) return keyrings[0]!
  return new MultiKeyring({ generator: mode === 'encrypt' ? keyrings[0] : undefined, children: mode === 'encrypt' ? keyrings.slice(1) : keyrings })
}
