/**
 * Our local DynamoDB server against dynalite, call by call: the same sequence
 * of CreateTable, PutItem, GetItem, DeleteItem and Query requests (conditions
 * that hold and that fail, bad substitutions, missing tables) through the real
 * SDK, and the same answers: items returned, or the error's name.
 * TransactWriteItems is not compared: dynalite does not have it.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type DdbBackend } from './backends.js'

const T = 'diff-table'
const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } })
const bytes = (...b: number[]) => new Uint8Array(b)

/** Each step is one request; the outcome is what a caller sees. */
const STEPS: ((c: DynamoDBClient) => Promise<unknown>)[] = [
  (c) =>
    c.send(
      new CreateTableCommand({
        TableName: T,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
  (c) => c.send(new DescribeTableCommand({ TableName: T })).then((r) => [r.Table?.KeySchema, r.Table?.AttributeDefinitions]),
  (c) => c.send(new DescribeTableCommand({ TableName: 'missing-table' })),
  (c) => c.send(new CreateTableCommand({ TableName: T, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: { ...key('a', '1'), enc: { B: bytes(1, 2) }, n: { N: '1' } }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: { ...key('a', '1'), enc: { B: bytes(9) } }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } })),
  // The rotation lock: exists AND enc = old, first with a stale value, then with the right one.
  (c) =>
    c.send(
      new PutItemCommand({
        TableName: T,
        Item: { ...key('a', '1'), enc: { B: bytes(3) } },
        ConditionExpression: 'attribute_exists(#k) AND #e = :old',
        ExpressionAttributeNames: { '#k': 'pk', '#e': 'enc' },
        ExpressionAttributeValues: { ':old': { B: bytes(1, 3) } },
      }),
    ),
  (c) =>
    c.send(
      new PutItemCommand({
        TableName: T,
        Item: { ...key('a', '1'), enc: { B: bytes(3) } },
        ConditionExpression: 'attribute_exists(#k) AND #e = :old',
        ExpressionAttributeNames: { '#k': 'pk', '#e': 'enc' },
        ExpressionAttributeValues: { ':old': { B: bytes(1, 2) } },
      }),
    ),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('b', '1'), ConditionExpression: 'attribute_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('b', '1'), ConditionExpression: 'attribute_not_exists(#k) OR NOT (#k = :v)', ExpressionAttributeNames: { '#k': 'pk' }, ExpressionAttributeValues: { ':v': { S: 'b' } } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('b', '1'), ConditionExpression: '#k <> :v', ExpressionAttributeNames: { '#k': 'pk' }, ExpressionAttributeValues: { ':v': { S: 'b' } } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('b', '2'), ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk', '#unused': 'x' } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('b', '2'), ConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': 'pk' } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: { pk: { S: 'only-hash' } } })),
  (c) => c.send(new PutItemCommand({ TableName: 'missing-table', Item: key('x', 'y') })),
  (c) => c.send(new GetItemCommand({ TableName: T, Key: key('a', '1') })).then((r) => r.Item),
  (c) => c.send(new GetItemCommand({ TableName: T, Key: key('a', 'nope') })).then((r) => r.Item ?? 'absent'),
  (c) => c.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'a' } } })),
  (c) => c.send(new GetItemCommand({ TableName: T, Key: { ...key('a', '1'), extra: { S: 'x' } } })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('q', 'b:2') })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('q', 'a:1') })),
  (c) => c.send(new PutItemCommand({ TableName: T, Item: key('q', 'b:1') })),
  (c) =>
    c
      .send(new QueryCommand({ TableName: T, KeyConditionExpression: '#p = :p', ExpressionAttributeNames: { '#p': 'pk' }, ExpressionAttributeValues: { ':p': { S: 'q' } } }))
      .then((r) => r.Items),
  (c) =>
    c
      .send(
        new QueryCommand({
          TableName: T,
          KeyConditionExpression: '#p = :p AND begins_with(#s, :b)',
          ExpressionAttributeNames: { '#p': 'pk', '#s': 'sk' },
          ExpressionAttributeValues: { ':p': { S: 'q' }, ':b': { S: 'b:' } },
          ScanIndexForward: false,
        }),
      )
      .then((r) => r.Items),
  (c) => c.send(new DeleteItemCommand({ TableName: T, Key: key('q', 'a:1'), ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } })),
  (c) => c.send(new DeleteItemCommand({ TableName: T, Key: key('q', 'a:1') })),
  (c) => c.send(new GetItemCommand({ TableName: T, Key: key('q', 'a:1') })).then((r) => r.Item ?? 'absent'),
]

async function outcomes(backend: DdbBackend): Promise<unknown[]> {
  const client = backend.client({ maxAttempts: 1 })
  const out: unknown[] = []
  for (const step of STEPS) {
    out.push(
      await step(client).then(
        (value) => ({ ok: value === undefined || (typeof value === 'object' && value !== null && '$metadata' in value) ? true : value }),
        (e: Error) => ({ error: e.name }),
      ),
    )
  }
  return out
}

describe('local DynamoDB answers as dynalite does', () => {
  let ours: DdbBackend
  let theirs: DdbBackend
  beforeAll(async () => {
    ours = await startBackend('local')
    theirs = await startBackend('dynalite')
  })
  afterAll(async () => {
    await ours?.close()
    await theirs?.close()
  })

  it('for the same sequence of requests', async () => {
    const expected = await outcomes(theirs)
    // The sequence exercises both outcomes: some requests succeed, some fail.
    expect(expected.filter((o) => (o as { error?: string }).error).length).toBeGreaterThan(5)
    expect(await outcomes(ours)).toEqual(expected)
  })
})
