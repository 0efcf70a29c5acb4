/**
 * KMS for the conformance runner (spec/conformance.md#kms): the keyring each
 * KMS key description asks for, with clients pointed at one endpoint, usually
 * the local KMS (`envelope kms-local --keys-manifest`, docs/kms-local.md).
 */
import { KmsKeyring, KmsMrkDiscoveryKeyring, KmsMrkKeyring, defaultClientProvider, type DiscoveryFilter, type Keyring, type KmsClientProvider } from '../index.js'
import { parseKeyArn, regionOf } from '../keyrings/kms/arn.js'
import { callKms } from '../keyrings/kms/client.js'
import { callContext } from '../keyrings/kms/calls.js'
import type { KeyEntry, KmsHooks } from './keys.js'
import { kmsRsaKeyrings } from './kms-rsa.js'
import { kmsEcdhKeyrings } from './kms-ecdh.js'

export interface KmsHooksOptions {
  /** The KMS endpoint, e.g. `http://127.0.0.1:4599`. Default: the SDK's own (AWS KMS). */
  readonly endpoint?: string
  /** Builds the client for a region; when given, `endpoint`, `credentials` and `defaultRegion` are unused. */
  readonly clientProvider?: KmsClientProvider
  /**
   * Static credentials. Default: placeholders when `endpoint` is on loopback
   * (the local KMS accepts any), else the SDK's default chain.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  /** Region for identifiers that name none (bare key ids, alias names). Default: AWS_REGION, else us-west-2. */
  readonly defaultRegion?: string
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i

function isLoopback(endpoint: string): boolean {
  try {
    return LOOPBACK.test(new URL(endpoint).hostname)
  } catch {
    return false
  }
}

/**
 * One KMSClient per region at `endpoint`, created on first use.
 * @example
 * ```ts
 * const clientProvider = endpointClientProvider({ endpoint: kms.endpoint })
 * ```
 * @throws never.
 */
export function endpointClientProvider(options: Omit<KmsHooksOptions, 'clientProvider'>): KmsClientProvider {
  const { endpoint, defaultRegion } = options
  if (endpoint !== undefined) new URL(endpoint) // throws TypeError on a malformed URL
  const credentials = options.credentials ?? (endpoint !== undefined && isLoopback(endpoint) ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined)
  return defaultClientProvider({
    region: defaultRegion ?? process.env.AWS_REGION ?? 'us-west-2',
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials ? { credentials: { ...credentials } } : {}),
  })
}

function discoveryFilterOf(description: any): DiscoveryFilter | undefined {
  const filter = description['aws-kms-discovery-filter']
  if (filter === undefined) return undefined
  return { partition: filter.partition, accountIds: filter['account-ids'] }
}

function kmsKeyOf(description: any, key: KeyEntry | undefined): KeyEntry | string {
  if (!key) return `a ${description.type} description needs a key`
  if (key.type !== 'aws-kms') return `key ${key.name} is of type ${JSON.stringify(key.type)}, not aws-kms`
  return key
}

/**
 * Runner hooks that build real KMS keyrings: `aws-kms` → KmsKeyring with the
 * key as generator (strict: decrypts only EDKs naming that key ARN);
 * `aws-kms-mrk-aware` → KmsMrkKeyring; `aws-kms-mrk-aware-discovery` →
 * KmsMrkDiscoveryKeyring in `default-mrk-region` with the description's
 * discovery filter (decrypt only).
 * @example
 * ```ts
 * const results = await runDecryptManifest('manifest.json', { kms: kmsHooks({ endpoint: local.endpoint }) })
 * ```
 * @throws never.
 */
export function kmsHooks(options: KmsHooksOptions = {}): KmsHooks {
  const clientProvider = options.clientProvider ?? endpointClientProvider(options)
  const fallbackRegion = options.defaultRegion ?? process.env.AWS_REGION ?? 'us-west-2'
  const kmsRsa = kmsRsaKeyrings(clientProvider)
  const kmsEcdh = kmsEcdhKeyrings(clientProvider)
  return {
    keyring(description: any, key: KeyEntry | undefined, usage: 'encrypt' | 'decrypt'): Keyring | string {
      switch (description.type) {
        case 'aws-kms': {
          const k = kmsKeyOf(description, key)
          return typeof k === 'string' ? k : new KmsKeyring({ generatorKeyId: k.keyId, clientProvider })
        }
        case 'aws-kms-mrk-aware': {
          const k = kmsKeyOf(description, key)
          return typeof k === 'string' ? k : new KmsMrkKeyring({ keyId: k.keyId, clientProvider })
        }
        case 'aws-kms-mrk-aware-discovery': {
          if (usage === 'encrypt') return 'an aws-kms-mrk-aware-discovery keyring names no key, so it cannot encrypt'
          const region = description['default-mrk-region']
          if (typeof region !== 'string' || region.length === 0) return 'aws-kms-mrk-aware-discovery needs a default-mrk-region'
          return new KmsMrkDiscoveryKeyring({ region, discoveryFilter: discoveryFilterOf(description), clientProvider })
        }
        case 'aws-kms-rsa':
          return kmsRsa(description, key, usage)
        case 'aws-kms-ecdh':
          return kmsEcdh(description, key, usage)
        default:
          return `KMS description type ${JSON.stringify(description.type)} is not supported by envelope-sdk`
      }
    },
    async resolveKeyArn(keyId: string): Promise<string> {
      if (parseKeyArn(keyId)) return keyId
      const ctx = callContext({ clientProvider })
      const response = await callKms<any>(ctx, regionOf(keyId) ?? fallbackRegion, keyId, ({ DescribeKeyCommand }) => new DescribeKeyCommand({ KeyId: keyId }))
      const arn: unknown = response?.KeyMetadata?.Arn
      if (typeof arn !== 'string' || !parseKeyArn(arn)) throw new Error(`DescribeKey ${keyId} returned ${JSON.stringify(arn)}, not a key ARN`)
      return arn
    },
  }
}
