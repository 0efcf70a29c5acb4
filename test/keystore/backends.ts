/**
 * The DynamoDB servers the key store tests run against, each reached through the
 * real @aws-sdk/client-dynamodb: our local server, and dynalite (a DynamoDB
 * emulator no one here wrote), so our server is not the only judge.
 */
import { DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import type { DdbClientLike } from '../../src/index.js'
import { startLocalDynamoDb, type LocalDynamoDb } from '../../src/testing/index.js'

export interface DdbBackend {
  readonly name: 'local' | 'dynalite'
  readonly endpoint: string
  /** A real client; for dynalite, see `storeClient`. */
  client(extra?: Record<string, unknown>): DynamoDBClient
  /** The client a store gets. */
  storeClient(extra?: Record<string, unknown>): DdbClientLike
  /** Our server's handle (fault injection, call log); undefined for dynalite. */
  readonly local: LocalDynamoDb | undefined
  close(): Promise<void>
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }

export async function startBackend(name: 'local' | 'dynalite'): Promise<DdbBackend> {
  if (name === 'local') {
    const local = await startLocalDynamoDb()
    const client = (extra: Record<string, unknown> = {}) => new DynamoDBClient({ ...local.clientConfig(), ...extra })
    return { name, endpoint: local.endpoint, client, storeClient: client, local, close: () => local.close() }
  }
  const require = createRequire(import.meta.url)
  const server = require('dynalite')({ createTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = (extra: Record<string, unknown> = {}) => new DynamoDBClient({ region: 'us-west-2', endpoint, credentials, ...extra })
  return {
    name,
    endpoint,
    client,
    // dynalite has no TransactWriteItems (architect/dynalite#98): the store's transaction is sent as its
    // Puts in order, each with its own condition, which dynalite evaluates. Not atomic, but every
    // condition expression the store writes is judged by dynalite.
    storeClient(extra = {}) {
      const real = client(extra)
      return {
        async send(command: unknown) {
          if (!(command instanceof TransactWriteItemsCommand)) return real.send(command as never)
          for (const action of command.input.TransactItems ?? []) {
            if (!action.Put) throw new Error('only Put is translated for dynalite')
            await real.send(new PutItemCommand(action.Put))
          }
          return {}
        },
      }
    },
    local: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
