/** `envelope ddb-local`: the built CLI starts the local DynamoDB server, serves the real SDK, and stops on SIGTERM. */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

describe('envelope ddb-local', () => {
  it('is listed in the usage and has its own --help', () => {
    expect(spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }).stdout).toContain('ddb-local')
    expect(spawnSync(process.execPath, [bin, 'ddb-local', '--help'], { encoding: 'utf8' }).stdout).toContain('--persist FILE')
    expect(spawnSync(process.execPath, [bin, 'ddb-local', '--port', 'x'], { encoding: 'utf8' }).status).toBe(2)
  })

  it('serves tables on the printed endpoint, persists them, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-ddb-cli-'))
    const persist = join(dir, 'tables.json')
    const child = spawn(process.execPath, [bin, 'ddb-local', '--port', '0', '--persist', persist])
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        let banner = ''
        child.stdout.on('data', (d: Buffer) => {
          banner += d.toString()
          const m = /listening on (http:\/\/\S+)/.exec(banner)
          if (m) resolve(m[1]!)
        })
        child.once('exit', (code) => reject(new Error(`ddb-local exited with ${code}: ${banner}`)))
      })
      const client = new DynamoDBClient({ region: 'us-west-2', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
      await client.send(
        new CreateTableCommand({
          TableName: 'cli-table',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        }),
      )
      expect((await client.send(new DescribeTableCommand({ TableName: 'cli-table' }))).Table?.TableStatus).toBe('ACTIVE')
      expect(statSync(persist).mode & 0o777).toBe(0o600)
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
  })
})
