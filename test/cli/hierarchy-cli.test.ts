/**
 * `envelope encrypt|decrypt -w "provider=aws-kms-hierarchy …"` with the built binary
 * (dist/cli/main.js) against the local DynamoDB and KMS servers: the CLI's messages decrypt with
 * the library's KmsHierarchicalKeyring and the other way round; the spec's fields are checked strictly.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BranchKeyStore, createClient, KmsHierarchicalKeyring } from '../../src/index.js'
import { startLocalDynamoDb, startLocalKms, type LocalDynamoDb, type LocalKms } from '../../src/testing/index.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
// NODE_NO_WARNINGS: the SDK warns on stderr about Node 20's support window.
const ENV = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-west-2', NODE_NO_WARNINGS: '1' }

let dir: string
let kms: LocalKms
let ddb: LocalDynamoDb
let kmsKeyArn: string
let store: BranchKeyStore
let branchKeyId: string

/** The CLI in a child process; asynchronous, since the servers it talks to run in this process's event loop. */
function envelope(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir, env: ENV, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

beforeAll(async () => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-hierarchy-cli-'))
  kms = await startLocalKms()
  ddb = await startLocalDynamoDb()
  kmsKeyArn = kms.createKey({ id: 'branch-kek', aliases: ['alias/branch-kek'] })
  store = new BranchKeyStore({ tableName: 'Keys', kmsKeyArn, ddbClient: new DynamoDBClient(ddb.clientConfig()), kmsClient: new KMSClient(kms.clientConfig()) })
  await store.createTable()
  branchKeyId = (await store.createKey()).branchKeyId
})
afterAll(async () => {
  await ddb?.close()
  await kms?.close()
})

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('envelope encrypt/decrypt -w provider=aws-kms-hierarchy', () => {
  const spec = (extra = '') => `provider=aws-kms-hierarchy table=Keys kms-key=${kmsKeyArn} branch-key-id=${branchKeyId} endpoint=${kms.endpoint} ddb-endpoint=${ddb.endpoint} ${extra}`.trim()

  it('round-trips through the CLI, and with the library keyring both ways', async () => {
    writeFileSync(join(dir, 'data.txt'), 'tenant data')
    kms.resetCalls()
    const enc = await envelope(['encrypt', '-i', 'data.txt', '-o', 'data.enc', '-w', spec('ttl=30'), '--metadata-output', 'meta.jsonl', '-c', 'tenant=a'])
    expect(enc.stderr).toBe('')
    expect(enc.code).toBe(0)
    const meta = JSON.parse(readFileSync(join(dir, 'meta.jsonl'), 'utf8').trim())
    expect(meta.header.encryptedDataKeys.map((k: { providerId: string }) => k.providerId)).toEqual(['aws-kms-hierarchy'])
    // The branch key came from the table through one KMS Decrypt.
    expect(kms.countCalls({ operation: 'Decrypt' })).toBe(1)
    const dec = await envelope(['decrypt', '-i', 'data.enc', '-o', 'data.out', '-w', spec()])
    expect(dec.stderr).toBe('')
    expect(dec.code).toBe(0)
    expect(readFileSync(join(dir, 'data.out'), 'utf8')).toBe('tenant data')

    const keyring = new KmsHierarchicalKeyring({ keyStore: store, branchKeyId, ttlSeconds: 60 })
    const client = createClient()
    expect(text((await client.decrypt(keyring, readFileSync(join(dir, 'data.enc')))).plaintext)).toBe('tenant data')
    writeFileSync(join(dir, 'lib.enc'), (await client.encrypt(keyring, 'from the library')).ciphertext)
    const fromLib = await envelope(['decrypt', '-i', 'lib.enc', '-o', 'lib.out', '-w', spec()])
    expect(fromLib.code).toBe(0)
    expect(readFileSync(join(dir, 'lib.out'), 'utf8')).toBe('from the library')
  })

  it('a branch key the table does not have is a typed failure, exit 1', async () => {
    writeFileSync(join(dir, 'small.txt'), 'x')
    const r = await envelope(['encrypt', '-i', 'small.txt', '-o', 'small.enc', '-w', spec().replace(branchKeyId, 'no-such-key')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ERR_BRANCH_KEY_NOT_FOUND: the ACTIVE item of branch key no-such-key is not in table Keys')
    expect(existsSync(join(dir, 'small.enc'))).toBe(false)
  })

  it('checks the spec strictly: required fields, unknown and repeated fields, ttl, a key ARN', async () => {
    writeFileSync(join(dir, 'small.txt'), 'x')
    const run = (s: string) => envelope(['encrypt', '-i', 'small.txt', '-o', 'small.enc', '-w', s])
    const cases: [string, string][] = [
      [`provider=aws-kms-hierarchy table=Keys kms-key=${kmsKeyArn}`, 'needs branch-key-id='],
      ['provider=aws-kms-hierarchy branch-key-id=x', 'needs table= kms-key='],
      [spec('region=us-east-1'), 'takes no region='],
      [spec('ttl=1 ttl=2'), 'ttl given more than once'],
      [spec('ttl=0'), 'ttl= takes a whole number of seconds > 0'],
      [spec('ttl=1.5'), 'ttl= takes a whole number of seconds > 0'],
      [spec('logical-name='), 'logical-name= is empty'],
      [spec().replace(kmsKeyArn, 'alias/branch-kek'), 'kms-key= must be a KMS key ARN'],
    ]
    for (const [s, message] of cases) {
      const r = await run(s)
      expect(r.code, s).toBe(2)
      expect(r.stderr, s).toContain(message)
    }
    expect((await envelope(['encrypt', '--help'])).stdout).toContain('provider=aws-kms-hierarchy table=T kms-key=ARN branch-key-id=ID')
  })
})
