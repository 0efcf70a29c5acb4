/**
 * The local DynamoDB server: its protocol answers (through the real
 * @aws-sdk/client-dynamodb where a client can say it) and its defences against
 * hostile requests (raw HTTP): Host allow-list, bounded bodies, bad JSON,
 * unknown targets, slow clients, and its persisted file.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalDynamoDb, type LocalDynamoDb } from '../../src/testing/index.js'

interface Reply {
  readonly status: number
  readonly body: any
}

const portOf = (ddb: LocalDynamoDb) => Number(new URL(ddb.endpoint).port)

function read(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined })
    })
    res.on('error', reject)
  })
}

function call(ddb: LocalDynamoDb, options: { host?: string; body?: string; target?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? JSON.stringify({ TableName: 'items' })
    const req = request({
      host: '127.0.0.1',
      port: portOf(ddb),
      method: 'POST',
      path: '/',
      setHost: options.host !== undefined,
      headers: {
        ...(options.host !== undefined ? { host: options.host } : {}),
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': options.target ?? 'DynamoDB_20120810.DescribeTable',
        'content-length': String(Buffer.byteLength(body)),
      },
    })
    req.on('response', (res) => read(res).then(resolve, reject))
    req.on('error', reject)
    req.end(body)
  })
}

const TYPE = 'com.amazonaws.dynamodb.v20120810#'
const keySchema = {
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' as const },
    { AttributeName: 'sk', AttributeType: 'S' as const },
  ],
}

let ddb: LocalDynamoDb
let client: DynamoDBClient
beforeAll(async () => {
  ddb = await startLocalDynamoDb()
  client = new DynamoDBClient({ ...ddb.clientConfig(), maxAttempts: 1 })
  await client.send(new CreateTableCommand({ TableName: 'items', ...keySchema, BillingMode: 'PAY_PER_REQUEST' }))
})
afterAll(() => ddb?.close())

const host = () => `127.0.0.1:${portOf(ddb)}`

describe('local DynamoDB: protocol', () => {
  it('CreateTable twice is ResourceInUseException; DescribeTable of a missing table is ResourceNotFoundException', async () => {
    await expect(client.send(new CreateTableCommand({ TableName: 'items', ...keySchema }))).rejects.toMatchObject({ name: 'ResourceInUseException' })
    await expect(client.send(new DescribeTableCommand({ TableName: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException)
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'items' }))
    expect(Table).toMatchObject({ TableName: 'items', TableStatus: 'ACTIVE', KeySchema: keySchema.KeySchema, BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } })
  })

  it('PutItem with attribute_not_exists refuses an existing item with ConditionalCheckFailedException', async () => {
    const put = (v: string) =>
      client.send(
        new PutItemCommand({
          TableName: 'items',
          Item: { pk: { S: 'a' }, sk: { S: '1' }, v: { S: v } },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      )
    await put('first')
    await expect(put('second')).rejects.toBeInstanceOf(ConditionalCheckFailedException)
    const { Item } = await client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' }, sk: { S: '1' } } }))
    expect(Item?.v).toEqual({ S: 'first' })
  })

  it('TransactWriteItems is all or nothing, with a reason per action', async () => {
    const enc = new Uint8Array([1, 2, 3])
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 't' }, sk: { S: 'ACTIVE' }, enc: { B: enc } } }))
    const transact = (old: Uint8Array, sk: string) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'items', Item: { pk: { S: 't' }, sk: { S: sk } }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } } },
            {
              Put: {
                TableName: 'items',
                Item: { pk: { S: 't' }, sk: { S: 'ACTIVE' }, enc: { B: new Uint8Array([9]) } },
                ConditionExpression: 'attribute_exists(#k) AND #e = :old',
                ExpressionAttributeNames: { '#k': 'pk', '#e': 'enc' },
                ExpressionAttributeValues: { ':old': { B: old } },
              },
            },
          ],
        }),
      )
    const e = await transact(new Uint8Array([7]), 'v1').catch((x) => x)
    expect(e).toBeInstanceOf(TransactionCanceledException)
    expect(e.CancellationReasons.map((r: { Code: string }) => r.Code)).toEqual(['None', 'ConditionalCheckFailed'])
    // The first Put, whose own condition held, was not written either.
    expect(ddb.getItem('items', { pk: { S: 't' }, sk: { S: 'v1' } })).toBeUndefined()
    await transact(enc, 'v1')
    expect(ddb.getItem('items', { pk: { S: 't' }, sk: { S: 'ACTIVE' } })?.enc).toEqual({ B: 'CQ==' })
    expect(ddb.getItem('items', { pk: { S: 't' }, sk: { S: 'v1' } })).toBeDefined()
  })

  it('Query by partition key, with begins_with on the sort key, in sort-key order', async () => {
    for (const sk of ['b:2', 'b:1', 'a:1']) await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'q' }, sk: { S: sk } } }))
    const out = await client.send(
      new QueryCommand({
        TableName: 'items',
        KeyConditionExpression: '#p = :p AND begins_with(#s, :b)',
        ExpressionAttributeNames: { '#p': 'pk', '#s': 'sk' },
        ExpressionAttributeValues: { ':p': { S: 'q' }, ':b': { S: 'b:' } },
      }),
    )
    expect(out.Items?.map((i) => i.sk?.S)).toEqual(['b:1', 'b:2'])
    await expect(
      client.send(new QueryCommand({ TableName: 'items', KeyConditionExpression: 'v = :p', ExpressionAttributeValues: { ':p': { S: 'q' } } })),
    ).rejects.toMatchObject({ name: 'ValidationException' })
  })

  it('refuses bad expressions, unused substitutions and malformed values with ValidationException', async () => {
    const put = (extra: object) => client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'x' }, sk: { S: 'y' } }, ...extra }))
    for (const extra of [
      { ConditionExpression: 'attribute_not_exists(#a', ExpressionAttributeNames: { '#a': 'pk' } },
      { ConditionExpression: 'attribute_not_exists(#a)', ExpressionAttributeNames: { '#a': 'pk', '#b': 'sk' } },
      { ConditionExpression: '#a = :v', ExpressionAttributeNames: { '#a': 'pk' } },
      { ConditionExpression: 'size(#a) = :v', ExpressionAttributeNames: { '#a': 'pk' }, ExpressionAttributeValues: { ':v': { N: '1' } } },
      { ConditionExpression: 'x'.repeat(5000) },
    ]) {
      await expect(put(extra), JSON.stringify(extra).slice(0, 80)).rejects.toMatchObject({ name: 'ValidationException' })
    }
    const bad = await call(ddb, { host: host(), target: 'DynamoDB_20120810.PutItem', body: JSON.stringify({ TableName: 'items', Item: { pk: { S: 'x' }, sk: { S: 'y' }, n: { N: 'NaN' } } }) })
    expect(bad).toMatchObject({ status: 400, body: { __type: `${TYPE}ValidationException` } })
    const missingKey = await call(ddb, { host: host(), target: 'DynamoDB_20120810.PutItem', body: JSON.stringify({ TableName: 'items', Item: { pk: { S: 'x' } } }) })
    expect(missingKey).toMatchObject({ status: 400, body: { __type: `${TYPE}ValidationException` } })
  })

  it('counts calls per operation and table, faults included', async () => {
    ddb.resetCalls()
    ddb.addFault({ operation: 'GetItem', kind: 'throttle' })
    await expect(client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' }, sk: { S: '1' } } }))).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    })
    await client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' }, sk: { S: '1' } } }))
    expect(ddb.countCalls({ operation: 'GetItem', table: 'items' })).toBe(2)
    expect(ddb.calls.map((c) => c.status)).toEqual([400, 200])
  })
})

describe('local DynamoDB: hostile requests', () => {
  it('refuses a Host that is not loopback with 403, before any handler runs', async () => {
    ddb.resetCalls()
    for (const h of ['attacker.example', `attacker.example:${portOf(ddb)}`, `127.0.0.1.attacker.example`, '[::2]']) {
      const reply = await call(ddb, { host: h })
      expect(reply.status, h).toBe(403)
      expect(reply.body.__type).toBe(`${TYPE}AccessDeniedException`)
    }
    expect(ddb.calls).toEqual([])
    expect((await call(ddb, { host: host() })).status).toBe(200)
  })

  it('refuses an oversize body with 413, by Content-Length or as it streams in', async () => {
    const small = await startLocalDynamoDb({ maxRequestBytes: 1024 })
    try {
      const body = JSON.stringify({ TableName: 'items' })
      expect((await call(small, { host: `127.0.0.1:${portOf(small)}`, body: body + ' '.repeat(1024 - body.length) })).body.__type).toBe(`${TYPE}ResourceNotFoundException`)
      expect((await call(small, { host: `127.0.0.1:${portOf(small)}`, body: body + ' '.repeat(1025 - body.length) })).status).toBe(413)
      const streamed = await new Promise<Reply>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: portOf(small), method: 'POST', path: '/', headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' } })
        req.on('response', (res) => read(res).then(resolve, reject).finally(() => req.destroy()))
        req.on('error', () => {})
        req.write(' '.repeat(600))
        req.write(' '.repeat(600))
      })
      expect(streamed).toEqual({ status: 413, body: { __type: `${TYPE}ValidationException`, message: 'request body larger than 1024 bytes' } })
    } finally {
      await small.close()
    }
  })

  it('answers bad JSON with SerializationException and an unknown target with UnknownOperationException', async () => {
    for (const body of ['{', '[]', 'null', '"text"']) {
      expect(await call(ddb, { host: host(), body })).toMatchObject({ status: 400, body: { __type: `${TYPE}SerializationException` } })
    }
    for (const target of ['DynamoDB_20120810.Scan', 'DynamoDB_20120810.__proto__', 'DynamoDB_20120810.constructor', 'TrentService.Decrypt', '']) {
      expect(await call(ddb, { host: host(), target }), target).toMatchObject({ status: 400, body: { __type: `${TYPE}UnknownOperationException` } })
    }
    expect(await call(ddb, { host: host(), target: 'DynamoDB_20120810.GetItem', body: JSON.stringify({ TableName: 'items', Key: { pk: 'x' } }) })).toMatchObject({
      status: 400,
      body: { __type: `${TYPE}ValidationException` },
    })
  })

  it('disconnects a client that stalls in its headers after requestTimeoutMs, and goes on serving', async () => {
    const slow = await startLocalDynamoDb({ requestTimeoutMs: 300 })
    try {
      const socket = connect(portOf(slow), '127.0.0.1')
      const received: Buffer[] = []
      socket.on('data', (d) => received.push(d))
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.DescribeTable\r\n')
      // The guard only stops a hang; the server must close the connection on its own.
      const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 20_000).unref())])
      socket.destroy()
      expect(outcome).toBe('closed')
      expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408/)
      expect((await call(slow, { host: `127.0.0.1:${portOf(slow)}` })).status).toBe(400)
    } finally {
      await slow.close()
    }
  })

  it('refuses option values that are not positive whole numbers', async () => {
    await expect(startLocalDynamoDb({ requestTimeoutMs: 0 })).rejects.toThrow(RangeError)
    await expect(startLocalDynamoDb({ maxRequestBytes: 1.5 })).rejects.toThrow(RangeError)
  })
})

describe('local DynamoDB: persisted file', () => {
  it('is written 0600 by rename, carries a format version, and a restarted server serves the same items', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-ddb-persist-'))
    const path = join(dir, 'tables.json')
    const first = await startLocalDynamoDb({ persistPath: path })
    const c = new DynamoDBClient({ ...first.clientConfig(), maxAttempts: 1 })
    await c.send(new CreateTableCommand({ TableName: 'keep', ...keySchema }))
    const before = statSync(path).ino
    await c.send(new PutItemCommand({ TableName: 'keep', Item: { pk: { S: 'p' }, sk: { S: 's' }, b: { B: new Uint8Array([0, 255]) }, n: { N: '1' } } }))
    await first.close()
    const after = statSync(path)
    expect(after.mode & 0o777).toBe(0o600)
    expect(after.ino).not.toBe(before)
    expect(readdirSync(dir)).toEqual(['tables.json'])
    const file = JSON.parse(readFileSync(path, 'utf8'))
    expect(file).toMatchObject({ format: 'envelope-sdk local DynamoDB', version: 1 })

    const second = await startLocalDynamoDb({ persistPath: path })
    try {
      const c2 = new DynamoDBClient({ ...second.clientConfig(), maxAttempts: 1 })
      const { Item } = await c2.send(new GetItemCommand({ TableName: 'keep', Key: { pk: { S: 'p' }, sk: { S: 's' } } }))
      expect(Item).toEqual({ pk: { S: 'p' }, sk: { S: 's' }, b: { B: new Uint8Array([0, 255]) }, n: { N: '1' } })
    } finally {
      await second.close()
    }
  })

  it('loads a version-1 file written by hand (mode 0644), rewrites it 0600, and refuses a newer version or a foreign file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-ddb-persist-'))
    const path = join(dir, 'tables.json')
    const v1 = {
      format: 'envelope-sdk local DynamoDB',
      version: 1,
      tables: [{ name: 'old', ...{ keySchema: keySchema.KeySchema, attributeDefinitions: keySchema.AttributeDefinitions }, billingMode: 'PAY_PER_REQUEST', created: 0, items: [{ pk: { S: 'p' }, sk: { S: 's' } }] }],
    }
    writeFileSync(path, JSON.stringify(v1))
    chmodSync(path, 0o644)
    const server = await startLocalDynamoDb({ persistPath: path })
    try {
      expect(server.items('old')).toEqual([{ pk: { S: 'p' }, sk: { S: 's' } }])
      expect(statSync(path).mode & 0o777).toBe(0o600)
    } finally {
      await server.close()
    }
    writeFileSync(path, JSON.stringify({ ...v1, version: 2 }))
    await expect(startLocalDynamoDb({ persistPath: path })).rejects.toThrow(/newer envelope-sdk/)
    writeFileSync(path, JSON.stringify({ keys: [] }))
    await expect(startLocalDynamoDb({ persistPath: path })).rejects.toThrow(/not a local DynamoDB file/)
  })
})
