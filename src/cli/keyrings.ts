/**
 * `--wrapping-keys` specifications -> keyrings. One spec per flag, as
 * space-separated name=value pairs, like aws-encryption-cli. `provider=` is
 * required (a spec without it is an error, never a silent KMS key) and a field
 * the provider does not take is an error; KEY_SPEC_HELP lists them all.
 */
import { readFileSync } from 'node:fs'
import { defaultClientProvider, KmsDiscoveryKeyring, KmsKeyring, KmsMrkDiscoveryKeyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, type Keyring, type RsaPadding } from '../index.js'
import { readNamedFile, UsageError } from './usage.js'

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
      padding      RSA only: oaep-sha1 | oaep-sha256 (default) | oaep-sha384 | oaep-sha512 | pkcs1`

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

function keyringFor(spec: string, mode: 'encrypt' | 'decrypt'): Keyring[] {
  const pairs = parseSpec(spec)
  const provider = one(pairs, 'provider')
  if (!provider) {
    throw new UsageError(`--wrapping-keys ${JSON.stringify(spec)} has no provider=: use provider=aws-kms for AWS KMS keys, or provider=NAMESPACE with key= and file= for a raw AES or RSA key (envelope ${mode} --help)`)
  }
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
      const clientProvider = defaultClientProvider(endpoint ? { endpoint } : {})
      const accounts = pairs.get('discovery-account')
      const partition = one(pairs, 'discovery-partition')
      if (partition !== undefined && !accounts) throw new UsageError('--wrapping-keys: discovery-partition= needs discovery-account=')
      const discoveryFilter = accounts ? { partition: partition ?? 'aws', accountIds: accounts } : undefined
      return [region ? new KmsMrkDiscoveryKeyring({ region, discoveryFilter, clientProvider }) : new KmsDiscoveryKeyring({ discoveryFilter, clientProvider })]
    }
    if (pairs.has('discovery-account') || pairs.has('discovery-partition')) throw new UsageError('--wrapping-keys: discovery-account= and discovery-partition= need discovery=true')
    if (keys.length === 0) throw new UsageError('--wrapping-keys: provider=aws-kms needs key=<ARN> (or discovery=true)')
    // region= is the default for key ids that are not ARNs; an ARN names its own region.
    const clientProvider = defaultClientProvider({ ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) })
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
  const keyrings = specs.flatMap((s) => keyringFor(s, mode))
  if (keyrings.length === 1) return keyrings[0]!
  return new MultiKeyring({ generator: mode === 'encrypt' ? keyrings[0] : undefined, children: mode === 'encrypt' ? keyrings.slice(1) : keyrings })
}
