/**
 * `--wrapping-keys` specifications -> keyrings. One spec per flag, as
 * space-separated name=value pairs, like aws-encryption-cli:
 *   provider=aws-kms key=ARN [region=R] [endpoint=URL]    (provider defaults to aws-kms)
 *   provider=aws-kms discovery=true [discovery-partition=aws discovery-account=ID ...] [region=R]
 *   provider=NAMESPACE key=NAME file=PATH                 (raw AES key file: 16, 24 or 32 raw bytes, or base64)
 *   provider=NAMESPACE key=NAME file=PATH.pem [padding=oaep-sha256]   (raw RSA, PEM public and/or private)
 */
import { readFileSync } from 'node:fs'
import { defaultClientProvider, KmsDiscoveryKeyring, KmsKeyring, KmsMrkDiscoveryKeyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, type Keyring, type RsaPadding } from '../index.js'
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

function keyringFor(spec: string, mode: 'encrypt' | 'decrypt'): Keyring[] {
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
