import { resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaTimeoutError } from '../../../infra/local/lambda-runtime.ts';
import { type LocalHub, startLocalHub } from '../../../infra/local/runner.ts';
import { hubTable } from '../../../shared/topology/table.spec.ts';
import type { Topology } from '../../../shared/topology/topology.types.ts';
import { uniqueTableName } from '../../support/names.ts';
import { testDynamoDbEndpoint } from '../../support/dynamodb.ts';

const topology: Topology = {
  functions: [
    {
      name: 'probe',
      description: 'reports the container it ran in',
      entry: 'test/integration/local/fixtures/container-probe/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 2,
      grants: [{ resource: 'table', access: 'read' }],
      triggers: [{ kind: 'queue', queue: 'lane', batchSize: 10, reportBatchItemFailures: true }],
    },
  ],
  queues: [{ name: 'lane', perConnector: true, fifo: true, visibilityTimeoutSeconds: 30, maxReceiveCount: 3, retentionDays: 1 }],
};

interface Probe {
  threadId: number;
  seen: number;
  started: number;
  ended: number;
  tableName: string | null;
}

describe('connector lanes in containers of their own, as Lambda runs them', () => {
  let hub: LocalHub;
  const tableName = uniqueTableName('lane-containers');
  const invoke = (event: unknown) => hub.functions.get('probe')?.invoke(event) as Promise<Probe>;

  beforeAll(async () => {
    hub = await startLocalHub({
      topology,
      table: hubTable,
      tableName,
      projectRoot: resolve(import.meta.dirname, '../../..'),
      port: 0,
      dataDir: undefined,
      connectorIds: ['acme'],
      environment: {},
      endpoints: { dynamodb: testDynamoDbEndpoint() },
      laneConcurrency: 2,
      laneContainers: true,
    });
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('runs each event in a thread of its own with its grants, at most the lane concurrency at once, one event per container', async () => {
    // Act: four events at once for a lane of concurrency 2
    const probes = await Promise.all([1, 2, 3, 4].map(() => invoke({ wait: 300 })));
    // Assess
    const threads = new Set(probes.map((p) => p.threadId));
    expect(threads.has(threadId)).toBe(false);
    expect(threads.size).toBe(2);
    for (const thread of threads) {
      // A warm container may take several while the second one starts cold, never two at once.
      const runs = probes.filter((p) => p.threadId === thread).sort((a, b) => a.started - b.started);
      for (let i = 1; i < runs.length; i++) expect((runs[i] as Probe).started).toBeGreaterThanOrEqual((runs[i - 1] as Probe).ended);
    }
    expect(probes.every((p) => p.tableName === tableName)).toBe(true);
  });

  it('hands a thrown error back with its type and message', async () => {
    await expect(invoke({ fail: 'the target refused' })).rejects.toMatchObject({ name: 'TypeError', message: 'the target refused' });
  });

  it('discards a container whose event timed out, and runs the next event in a fresh one', async () => {
    // Prepare: the threads in use before
    const before = new Set((await Promise.all([invoke({ wait: 100 }), invoke({ wait: 100 })])).map((p) => p.threadId));
    // Act
    const timedOut = await Promise.allSettled([invoke({ wait: 5_000 }), invoke({ wait: 5_000 })]);
    const after = await invoke({});
    // Assess
    expect(timedOut.every((r) => r.status === 'rejected' && r.reason instanceof LambdaTimeoutError)).toBe(true);
    expect(before.has(after.threadId)).toBe(false);
    expect(after.seen).toBe(1);
  });
});
