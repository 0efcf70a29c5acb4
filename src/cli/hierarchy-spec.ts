/**
 * The `provider=aws-kms-hierarchy` wrapping key spec (spec/hierarchy.md#command-line):
 *   provider=aws-kms-hierarchy table=T kms-key=ARN branch-key-id=ID [logical-name=N] [ttl=S] [endpoint=URL] [ddb-endpoint=URL]
 * A KmsHierarchicalKeyring over a BranchKeyStore; both directions use the branch key the spec names.
 */
import { BranchKeyStore, defaultClientProvider, KmsHierarchicalKeyring, type DdbClientLike } from '../index.js'
import { loadDdbSdk } from '../keyrings/hierarchy/ddb-client.js'
import { parseKeyArn } from '../keyrings/kms/arn.js'
import { endpointConfig, UsageError } from './usage.js'

const FIELDS = ['provider', 'table', 'kms-key', 'branch-key-id', 'logical-name', 'ttl', 'endpoint', 'ddb-endpoint']
const REQUIRED = ['table', 'kms-key', 'branch-key-id']
const DEFAULT_TTL_SECONDS = 600

export const HIERARCHY_SPEC_HELP = `  provider=aws-kms-hierarchy table=T kms-key=ARN branch-key-id=ID [logical-name=N] [ttl=S] [endpoint=URL] [ddb-endpoint=URL]
      a hierarchical keyring (docs/hierarchy.md): the branch key ID from the DynamoDB table T, whose
      items the KMS key ARN protects; both sides of a message name the same branch key
      logical-name the key store's logical name (default: the table name)
      ttl          seconds a fetched branch key is used (default ${DEFAULT_TTL_SECONDS})
      endpoint     KMS endpoint URL; ddb-endpoint DynamoDB endpoint URL (the local servers: envelope
                   kms-local, envelope ddb-local)`

/** A client that makes the real one (for the key's region, at `endpoint`) on its first request, so the SDK loads only when used. */
function lazyClient(make: () => Promise<DdbClientLike>): DdbClientLike {
  let client: Promise<DdbClientLike> | undefined
  return {
    async send(command, options) {
      client ??= make()
      return (await client).send(command, options)
    },
  }
}

export function hierarchyKeyringFromSpec(pairs: ReadonlyMap<string, readonly string[]>): KmsHierarchicalKeyring {
  for (const [name, values] of pairs) {
    if (!FIELDS.includes(name)) throw new UsageError(`--wrapping-keys: provider=aws-kms-hierarchy takes no ${name}= (its fields: ${FIELDS.join(', ')})`)
    if (values.length > 1) throw new UsageError(`--wrapping-keys: ${name} given more than once`)
    if (values[0] === '') throw new UsageError(`--wrapping-keys: ${name}= is empty`)
  }
  const field = (name: string) => pairs.get(name)?.[0]
  const missing = REQUIRED.filter((name) => field(name) === undefined)
  if (missing.length > 0) throw new UsageError(`--wrapping-keys: provider=aws-kms-hierarchy needs ${missing.map((m) => `${m}=`).join(' ')} (table=T kms-key=ARN branch-key-id=ID)`)
  const ttlText = field('ttl')
  const ttlSeconds = ttlText === undefined ? DEFAULT_TTL_SECONDS : /^\d{1,9}$/.test(ttlText) ? Number(ttlText) : 0
  if (ttlSeconds <= 0) throw new UsageError(`--wrapping-keys: ttl= takes a whole number of seconds > 0, got ${JSON.stringify(ttlText)}`)
  const kmsKeyArn = field('kms-key')!
  // A key ARN, not an alias: the store compares it with every item's kms-arn. Its region is the clients'.
  const arn = parseKeyArn(kmsKeyArn)
  if (!arn) throw new UsageError(`--wrapping-keys: kms-key= must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), got ${JSON.stringify(kmsKeyArn)}`)
  const region = arn.region
  const endpoint = field('endpoint')
  const ddbEndpoint = field('ddb-endpoint')
  try {
    // Without endpoints the store makes its own clients for the KMS key's region.
    const keyStore = new BranchKeyStore({
      tableName: field('table')!,
      logicalKeyStoreName: field('logical-name'),
      kmsKeyArn,
      ...(endpoint ? { kmsClient: lazyClient(async () => defaultClientProvider(endpointConfig(endpoint, region))(region)) } : {}),
      ...(ddbEndpoint ? { ddbClient: lazyClient(() => loadDdbSdk().then(({ DynamoDBClient }) => new DynamoDBClient(endpointConfig(ddbEndpoint, region)))) } : {}),
    })
    return new KmsHierarchicalKeyring({ keyStore, branchKeyId: field('branch-key-id')!, ttlSeconds })
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new UsageError(`--wrapping-keys: ${e.message}`)
    throw e
  }
}
