/** `envelope ddb-local`: runs the DynamoDB-compatible local server until interrupted. */
import { parseArgs } from 'node:util'
import { startLocalDynamoDb } from '../testing/ddb-server.js'
import { parsePort, UsageError } from './usage.js'

export const DDB_LOCAL_HELP = `usage: envelope ddb-local [--port N] [--host H] [--region R] [--persist FILE]

Serves the DynamoDB JSON 1.0 protocol on loopback for offline development and tests of the branch
key store (spec/hierarchy.md#local-dynamodb-server): CreateTable, DescribeTable, GetItem, PutItem,
DeleteItem, Query and TransactWriteItems with condition expressions; never for real data. Any
credentials are accepted; point an AWS SDK at the printed endpoint (e.g.
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:N). Pair it with envelope kms-local.

  --port N              listen port (default 4598; 0 picks a free one)
  --host H              listen address (default 127.0.0.1); requests are served only for Host
                        127.0.0.1, localhost, [::1] or H, with bodies up to 1 MiB
  --region R            the region in table ARNs (default us-west-2)
  --persist FILE        load tables from FILE and save them there (mode 0600) after every write`

export async function runDdbLocal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      persist: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(DDB_LOCAL_HELP)
    return 0
  }
  const port = parsePort(values.port, 4598)
  let ddb
  try {
    ddb = await startLocalDynamoDb({ port, host: values.host, region: values.region, persistPath: values.persist })
  } catch (e) {
    // A persisted file this version cannot read is a usage problem, not a crash.
    if (values.persist && !(e as NodeJS.ErrnoException).code) throw new UsageError(`--persist ${values.persist}: ${(e as Error).message}`)
    throw e
  }
  console.log(`local DynamoDB listening on ${ddb.endpoint} (region ${ddb.region})`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await ddb.close()
  return 0
}
