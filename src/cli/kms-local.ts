/** `envelope kms-local`: runs the KMS-compatible local server until interrupted. */
import { readFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import { parseArgs } from 'node:util'
import { startLocalKms, type LocalKeySpec, type LocalKeySpecName } from '../testing/kms-server.js'
import { provisionManifestKeys } from '../testing/provision.js'
import { parsePort, UsageError } from './usage.js'

export const KMS_LOCAL_HELP = `usage: envelope kms-local [--port N] [--host H] [--region R] [--persist FILE] [--key ID[:SPEC] ...]
                         [--keys-manifest PATH ...]

Serves the AWS KMS JSON 1.1 protocol on loopback for offline development and tests; never for real
data. Guide: docs/kms-local.md in the installed package (node_modules/envelope-sdk/docs/kms-local.md)
or https://github.com/envelope-sdk/envelope-sdk/blob/main/docs/kms-local.md. Any credentials are accepted; point an AWS SDK at the printed endpoint
(e.g. AWS_ENDPOINT_URL_KMS=http://127.0.0.1:N), or run vectors with --kms-endpoint.

  --port N              listen port (default 4599; 0 picks a free one)
  --host H              listen address (default 127.0.0.1); requests are served only for Host
                        127.0.0.1, localhost, [::1] or H, with bodies up to 1 MiB
  --region R            default region (default us-west-2)
  --persist FILE        load keys from FILE and save them there (mode 0600) on every change
  --key ID[:SPEC]       create a key with this id (repeatable; mrk-… ids are multi-region) and key
                        spec: SYMMETRIC_DEFAULT (default), RSA_2048, RSA_3072, RSA_4096 (encryption),
                        ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 (key agreement);
                        e.g. --key app-key --key rsa-1:RSA_2048 --key ecdh-1:ECC_NIST_P256
  --keys-manifest PATH  create the aws-kms keys of a test-vector keys manifest (v1-v3), or of the
                        keys manifest a test manifest names: the same ARNs, aliases, MRK replicas in
                        every region the manifest names, encrypt-only keys that refuse Decrypt, and
                        new RSA key pairs for aws-kms-rsa keys (repeatable)
With neither --key nor --keys-manifest (nor --persist), one random key is created.`

/** The keys manifest at `path`, or the one a test manifest there names in its `keys` field. */
function readKeysManifest(path: string): unknown {
  const json = JSON.parse(readFileSync(path, 'utf8'))
  if (json?.manifest?.type === 'keys') return json
  if (typeof json?.keys === 'string' && json.keys.startsWith('file://')) {
    return JSON.parse(readFileSync(resolvePath(dirname(path), json.keys.slice('file://'.length)), 'utf8'))
  }
  throw new UsageError(`${path} is neither a keys manifest nor a manifest that names one`)
}

/** `ID` or `ID:SPEC` (key ids have no colon; ARNs are not accepted here). */
function keyOption(value: string): LocalKeySpec {
  const colon = value.indexOf(':')
  if (colon < 0) return { id: value }
  return { id: value.slice(0, colon), keySpec: value.slice(colon + 1) as LocalKeySpecName }
}

export async function runKmsLocal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      persist: { type: 'string' },
      key: { type: 'string', multiple: true },
      'keys-manifest': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(KMS_LOCAL_HELP)
    return 0
  }
  const port = parsePort(values.port, 4599)
  const manifests = (values['keys-manifest'] ?? []).map((path) => [path, readKeysManifest(path)] as const)
  const kms = await startLocalKms({ port, host: values.host, defaultRegion: values.region, persistPath: values.persist })
  const ids = values.key ?? (values.persist || manifests.length > 0 ? [] : [undefined])
  let arns: string[]
  try {
    arns = ids.map((id) => {
      const spec = id === undefined ? {} : keyOption(id)
      const arn = kms.createKey(spec)
      return spec.keySpec === undefined || spec.keySpec === 'SYMMETRIC_DEFAULT' ? arn : `${arn} (${spec.keySpec})`
    })
  } catch (e) {
    await kms.close()
    throw new UsageError(`--key: ${(e as Error).message}`)
  }
  console.log(`local KMS listening on ${kms.endpoint} (region ${kms.defaultRegion})`)
  for (const arn of arns) console.log(`key ${arn}`)
  for (const [path, json] of manifests) {
    let provisioned
    try {
      provisioned = provisionManifestKeys(kms, json)
    } catch (e) {
      await kms.close()
      throw new UsageError(`${path}: ${(e as Error).message}`)
    }
    for (const k of provisioned) {
      const use = k.encrypt && k.decrypt ? '' : k.encrypt ? ' (encrypt only)' : k.decrypt ? ' (decrypt only)' : ' (no use)'
      const replicas = k.regions.length > 1 ? ` (replicas in ${k.regions.join(', ')})` : ''
      const spec = k.keySpec === 'SYMMETRIC_DEFAULT' ? '' : ` (${k.keySpec})`
      console.log(`key ${k.name}: ${k.arn}${k.alias ? ` as ${k.alias}` : ''}${spec}${use}${replicas}`)
    }
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await kms.close()
  return 0
}
