/** `envelope kms-local`: runs the KMS-compatible local server until interrupted. */
import { parseArgs } from 'node:util'
import { startLocalKms } from '../testing/kms-server.js'
import { UsageError } from './usage.js'

export const KMS_LOCAL_HELP = `usage: envelope kms-local [--port N] [--host H] [--region R] [--persist FILE] [--key ID ...]

Serves the AWS KMS JSON 1.1 protocol on loopback for offline development. Any credentials are
accepted; point an AWS SDK at the printed endpoint (e.g. AWS_ENDPOINT_URL_KMS=http://127.0.0.1:N).

  --port N        listen port (default 4599; 0 picks a free one)
  --host H        listen address (default 127.0.0.1)
  --region R      default region (default us-west-2)
  --persist FILE  load keys from FILE and save them there on every change
  --key ID        create a key with this id (repeatable; mrk-… ids are multi-region); one random key by default`

export async function runKmsLocal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      persist: { type: 'string' },
      key: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(KMS_LOCAL_HELP)
    return 0
  }
  const port = values.port === undefined ? 4599 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a port number')
  const kms = await startLocalKms({ port, host: values.host, defaultRegion: values.region, persistPath: values.persist })
  const ids = values.key ?? (values.persist ? [] : [undefined])
  const arns = ids.map((id) => kms.createKey(id === undefined ? {} : { id }))
  console.log(`local KMS listening on ${kms.endpoint} (region ${kms.defaultRegion})`)
  for (const arn of arns) console.log(`key ${arn}`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await kms.close()
  return 0
}
