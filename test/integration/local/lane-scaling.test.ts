import { resolve } from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { type LocalHub, startLocalHub } from '../../../infra/local/runner.ts';
import { hubTable } from '../../../shared/topology/table.spec.ts';
import type { Topology } from '../../../shared/topology/topology.types.ts';
import { eventually } from '../../support/eventually.ts';
import { uniqueTableName } from '../../support/names.ts';
import { batches } from './fixtures/slow-consumer/handler.ts';
import { testDynamoDbEndpoint } from '../../support/dynamodb.ts';

const topology: Topology = {
  functions: [
    {
      name: 'slow-consumer',
      description: 'records batches, 150 ms each',
      entry: 'test/integration/local/fixtures/slow-consumer/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 10,
      grants: [],
      triggers: [{ kind: 'queue', queue: 'lane', batchSize: 10, reportBatchItemFailures: true }],
    },
  ],
  queues: [{ name: 'lane', perConnector: true, fifo: true, visibilityTimeoutSeconds: 30, maxReceiveCount: 3, retentionDays: 1 }],
};

const GROUPS = 30;
const PER_GROUP = 4;
const MAX_CONCURRENCY = 4;

describe('a local connector lane scales as Lambda does on a FIFO queue', () => {
  let hub: LocalHub;

  beforeAll(async () => {
    hub = await startLocalHub({
      topology,
      table: hubTable,
      tableName: uniqueTableName('lane-scaling'),
      projectRoot: resolve(import.meta.dirname, '../../..'),
      port: 0,
      dataDir: undefined,
      connectorIds: ['acme', 'busy'],
      environment: {},
      endpoints: { dynamodb: testDynamoDbEndpoint() },
      laneConcurrency: MAX_CONCURRENCY,
    });
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it('runs batches side by side up to the maximum concurrency, never two of one group at once, in order within each group', async () => {
    // Prepare: 4 changes for each of 30 resources, interleaved as a fan-out would send them
    const lane = hub.queues.find((q) => q.connectorId === 'acme');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    const messages = Array.from({ length: PER_GROUP }, (_, n) => Array.from({ length: GROUPS }, (_, g) => ({ group: `g${g}`, n }))).flat();
    // Act
    for (let i = 0; i < messages.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: lane?.url,
          Entries: messages
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), MessageBody: String(m.n), MessageGroupId: m.group, MessageDeduplicationId: `${m.group}-${m.n}` })),
        }),
      );
    }
    await eventually(() => expect(batches().flatMap((b) => b.messages)).toHaveLength(GROUPS * PER_GROUP), 30_000);
    sqs.destroy();

    // Assess: order within each group
    const all = [...batches()].sort((a, b) => a.start - b.start);
    for (let g = 0; g < GROUPS; g++) {
      const seen = all.flatMap((b) => b.messages.filter((m) => m.group === `g${g}`).map((m) => Number(m.body)));
      expect(seen).toEqual([0, 1, 2, 3]);
    }
    // Assess: batches sharing a group never overlap in time
    for (const [i, a] of all.entries()) {
      for (const b of all.slice(i + 1)) {
        const overlap = a.start < b.end && b.start < a.end;
        const shared = a.messages.some((m) => b.messages.some((n) => n.group === m.group));
        if (overlap) expect(shared).toBe(false);
      }
    }
    // Assess: more than one batch at a time, never more than the maximum
    const poller = hub.queuePollers.find((p) => p.queueName === lane?.name);
    expect(poller?.peakConcurrency).toBeGreaterThan(1);
    expect(poller?.peakConcurrency).toBeLessThanOrEqual(MAX_CONCURRENCY);
  });

  it("hands out a busy group in batches of ten, in order, as SQS does (one group's thousand memberships make 100 batches, not 1 000)", async () => {
    // Prepare: 25 changes of one resource, on a lane of their own
    const lane = hub.queues.find((q) => q.connectorId === 'busy');
    const sqs = new SQSClient({ ...localAwsConfig, endpoint: hub.endpoints.sqs });
    // Act
    for (let i = 0; i < 25; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: lane?.url,
          Entries: Array.from({ length: Math.min(10, 25 - i) }, (_, j) => ({
            Id: String(j),
            MessageBody: String(i + j),
            MessageGroupId: 'crowd',
            MessageDeduplicationId: `crowd-${i + j}`,
          })),
        }),
      );
    }
    const crowd = () => batches().filter((b) => b.messages.some((m) => m.group === 'crowd'));
    await eventually(() => expect(crowd().flatMap((b) => b.messages)).toHaveLength(25), 30_000);
    sqs.destroy();

    // Assess: after the first receive (which may find only the first messages sent), full batches of ten, in order
    const received = crowd().sort((a, b) => a.start - b.start);
    expect(received.flatMap((b) => b.messages.map((m) => Number(m.body)))).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(received.slice(1, -1).map((b) => b.messages.length)).toEqual(received.slice(1, -1).map(() => 10));
    expect(received.length).toBeLessThanOrEqual(4);
  });
});
