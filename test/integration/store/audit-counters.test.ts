import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, latencyQuantile } from '../../../shared/observability/operation-counters.ts';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import { counterPartitions } from '../../../shared/store/hub-table.layout.ts';
import type { AuditEntry } from '../../../shared/sync/sync.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

// Recent hours: records and counters expire by TTL, and DynamoDB Local deletes expired items.
const hour0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
const at = (hour: number, minute: number) => new Date(hour0 + hour * 3_600_000 + minute * 60_000).toISOString();
const hourOf = (hour: number) => at(hour, 0).slice(0, 13);

const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
  time: at(0, 0),
  connectorId: 'acme',
  resourceType: 'User',
  resourceId: 'u-1',
  name: 'ada',
  trigger: 'realtime',
  action: 'create',
  status: 'success',
  steps: ['create'],
  ...overrides,
});

describe('audit records with their time-bucketed counters', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let audit: DynamoAuditLog;

  beforeAll(async () => {
    table = await freshHubTable('audit-counters');
    audit = new DynamoAuditLog(table.documents, table.tableName, 90);
    const writes: AuditEntry[] = [
      ...Array.from({ length: 10 }, (_, i) => entry({ time: at(0, i), resourceId: `u-${i}`, latencyMs: 80 + i })),
      entry({ time: at(0, 30), status: 'dead-lettered', action: 'sync', resourceId: 'u-9', error: { code: 'connector.permanent', message: 'no' } }),
      entry({ time: at(2, 5), status: 'retrying', action: 'sync', resourceId: 'u-8', latencyMs: 4_000, trigger: 'schedule' }),
      entry({ time: at(2, 6), status: 'failed', action: 'quarantine', resourceType: 'Connector', resourceId: 'acme', name: undefined }),
      entry({ time: at(2, 7), connectorId: 'other', status: 'failed' }),
    ];
    // Concurrently, as workers write them: the counters' transactions meet on shared items.
    await Promise.all(writes.map((w) => audit.record(w)));
  });
  afterAll(() => table.raw.destroy());

  it('counts every record in its connector and hour, by status and by action', async () => {
    const counters = await audit.counters('acme', hourOf(0), hourOf(3));
    expect(counters.map((c) => c.hour)).toEqual([hourOf(0), hourOf(2)]);
    const [first, third] = counters;
    expect(first?.total).toBe(11);
    expect(first?.byStatus).toEqual({ success: 10, 'dead-lettered': 1 });
    expect(first?.byAction).toEqual({ create: 10, sync: 1 });
    expect(third?.byStatus).toEqual({ retrying: 1, failed: 1 });
    expect((await audit.counters('other', hourOf(0), hourOf(3))).map((c) => c.total)).toEqual([1]);
  });

  it('keeps a latency histogram whose quantiles bound the measured latencies', async () => {
    const [first, third] = await audit.counters('acme', hourOf(0), hourOf(3));
    // 80..89 ms all fall in the bucket up to 100 ms.
    expect(first?.latency[LATENCY_BOUNDS_MS.indexOf(100)]).toBe(10);
    expect(latencyQuantile(first?.latency ?? [], 0.99)).toBe(100);
    expect(latencyQuantile(third?.latency ?? [], 0.5)).toBe(5_000);
  });

  it('reads one item per shard and hour, however many records the hour holds', async () => {
    const items = await Promise.all(
      counterPartitions('acme').map(
        async (pk) =>
          (
            await table.documents.send(
              new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }),
            )
          ).Items ?? [],
      ),
    );
    const perShardAndHour = items.flat().map((item) => `${item.pk}|${item.sk}`);
    expect(new Set(perShardAndHour).size).toBe(perShardAndHour.length);
    expect(perShardAndHour.length).toBeLessThanOrEqual(2 * counterPartitions('acme').length);
  });

  it('filters the log by several statuses, by trigger, and by a resource’s name or id', async () => {
    const ids = async (query: Parameters<DynamoAuditLog['query']>[0]) => (await audit.query(query)).items.map((i) => `${i.status}:${i.resourceId}`).sort();
    expect(await ids({ connectorId: 'acme', status: ['failed', 'dead-lettered'], limit: 50 })).toEqual(['dead-lettered:u-9', 'failed:acme']);
    expect(await ids({ trigger: 'schedule', limit: 50 })).toEqual(['retrying:u-8']);
    expect(await ids({ connectorId: 'acme', resourceId: 'u-9', limit: 50 })).toEqual(['dead-lettered:u-9', 'success:u-9']);
    expect((await ids({ resourceId: 'ada', status: 'failed', limit: 50 })).sort()).toEqual(['failed:u-1']);
  });
});
