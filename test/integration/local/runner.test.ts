import { resolve } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { type LocalHub, startLocalHub } from '../../../infra/local/runner.ts';
import { hubTable } from '../../../shared/topology/table.spec.ts';
import type { Topology } from '../../../shared/topology/topology.types.ts';
import { consumed } from '../../fixtures/functions/flaky-consumer/handler.ts';
import { recorded } from '../../fixtures/functions/recorder/handler.ts';
import { eventually } from '../../support/eventually.ts';
import { uniqueTableName } from '../../support/names.ts';
import { testDynamoDbEndpoint } from '../../support/dynamodb.ts';

const fixtureTopology: Topology = {
  functions: [
    {
      name: 'recorder',
      description: 'records stream batches',
      entry: 'test/fixtures/functions/recorder/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 10,
      grants: [],
      triggers: [
        {
          kind: 'stream',
          filters: [{ dynamodb: { Keys: { sk: { S: ['USER', { prefix: 'MEMBER#' }] } } } }],
          batchSize: 10,
          maxBatchingWindowSeconds: 0,
          maxRetryAttempts: 2,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          startingPosition: 'TRIM_HORIZON',
        },
      ],
    },
    {
      name: 'flaky-consumer',
      description: 'fails poison messages',
      entry: 'test/fixtures/functions/flaky-consumer/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 10,
      grants: [],
      triggers: [{ kind: 'queue', queue: 'lane', batchSize: 10, reportBatchItemFailures: true }],
    },
    {
      name: 'env-probe',
      description: 'reports the granted variables it was given',
      entry: 'test/fixtures/functions/env-probe/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 10,
      grants: [{ resource: 'table', access: 'read' }],
      triggers: [{ kind: 'invoke' }],
    },
  ],
  queues: [{ name: 'lane', perConnector: true, fifo: true, visibilityTimeoutSeconds: 1, maxReceiveCount: 3, retentionDays: 4 }],
};

describe('local runner', () => {
  let hub: LocalHub;
  const tableName = uniqueTableName('runner');

  beforeAll(async () => {
    hub = await startLocalHub({
      topology: fixtureTopology,
      table: hubTable,
      tableName,
      projectRoot: resolve(import.meta.dirname, '../../..'),
      port: 0,
      dataDir: undefined,
      connectorIds: ['acme'],
      environment: {},
      endpoints: { dynamodb: testDynamoDbEndpoint() },
      streamIdleMs: 50,
    });
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it('answers /health with 200 once every part is up', async () => {
    const response = await fetch(`${hub.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', parts: { dynamodb: 'ok', sqs: 'ok', stream: 'ok', queues: 'ok' } });
  });

  it('delivers a table write to the stream-triggered function as a well-formed, filtered event', async () => {
    // Prepare
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
    // Act: one item the filter drops, one it keeps
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'TOKEN#1' }, sk: { S: 'TOKEN' } } }));
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'USER#u1' }, sk: { S: 'USER' }, userName: { S: 'ada' } } }));
    // Assess
    const event = await eventually(() => {
      const found = (recorded().events as DynamoDBStreamEvent[]).find((e) => e.Records.some((r) => r.dynamodb?.Keys?.pk?.S === 'USER#u1'));
      if (!found) throw new Error('not yet delivered');
      return found;
    });
    const record = event.Records.find((r) => r.dynamodb?.Keys?.pk?.S === 'USER#u1');
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: hub.streamArn,
      dynamodb: { NewImage: { userName: { S: 'ada' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    // Lambda sends epoch seconds, not milliseconds and not a Date.
    const created = record?.dynamodb?.ApproximateCreationDateTime ?? 0;
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(60);
    const allKeys = (recorded().events as DynamoDBStreamEvent[]).flatMap((e) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S));
    expect(allKeys).not.toContain('TOKEN#1');
    client.destroy();
  });

  it('retries a failing record, bisecting, then hands it to the on-failure destination', async () => {
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb });
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'fail-1' }, sk: { S: 'MEMBER#x' } } }));
    const failure = await eventually(() => {
      const found = hub.streamFailures.find((f) => f.records.some((r) => r.dynamodb?.Keys?.pk?.S === 'fail-1'));
      if (!found) throw new Error('not given up yet');
      return found;
    });
    expect(failure.function).toBe('recorder');
    // The first try plus maxRetryAttempts (2) retries.
    const deliveries = (recorded().events as DynamoDBStreamEvent[]).filter((e) => e.Records.some((r) => r.dynamodb?.Keys?.pk?.S === 'fail-1'));
    expect(deliveries).toHaveLength(3);
    client.destroy();
  });

  it('leaves failed messages on the queue and moves them to the DLQ after maxReceiveCount', async () => {
    const queue = hub.queues.find((q) => q.connectorId === 'acme');
    expect(queue?.name).toBe('lane-acme.fifo');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: 'poison', MessageGroupId: 'g1', MessageDeduplicationId: 'p1' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: 'fine', MessageGroupId: 'g2', MessageDeduplicationId: 'f1' }));

    const dead = await eventually(async () => {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue?.dlqUrl, MaxNumberOfMessages: 10 }));
      const message = received.Messages?.find((m) => m.Body === 'poison');
      if (!message) throw new Error('not dead-lettered yet');
      return message;
    }, 20_000);
    expect(dead.Body).toBe('poison');
    const poisonTries = consumed().filter((c) => c.body === 'poison');
    expect(poisonTries.map((c) => c.receiveCount)).toEqual(['1', '2', '3']);
    expect(consumed().filter((c) => c.body === 'fine')).toHaveLength(1);
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue?.url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
    sqs.destroy();
  });
  it('gives a function the variables of its own grants only, and none after its cold start', async () => {
    // Act
    const probe = (await hub.functions.get('env-probe')?.invoke({})) as { atColdStart: Record<string, string>; atInvocation: string[] };
    // Assess: a table read grant gives the table's name, not the lanes' URLs the consumer's grants would
    expect(probe.atColdStart).toEqual({ TABLE_NAME: tableName });
    expect(hub.functions.get('flaky-consumer')?.environment).toEqual({});
    expect(probe.atInvocation).toEqual([]);
  });

  it('answers /health with 503 naming the part that is down', async () => {
    const failing = await startLocalHub({
      topology: { functions: [], queues: [] },
      table: hubTable,
      tableName: uniqueTableName('runner-health'),
      projectRoot: resolve(import.meta.dirname, '../../..'),
      port: 0,
      dataDir: undefined,
      connectorIds: [],
      environment: {},
      endpoints: { dynamodb: testDynamoDbEndpoint() },
      healthChecks: {
        cognito: async () => {
          throw new Error('connection refused');
        },
      },
    });
    try {
      const response = await fetch(`${failing.url}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'unavailable', failing: ['cognito: connection refused'], parts: { dynamodb: 'ok' } });
    } finally {
      await failing.stop();
    }
  });
});
