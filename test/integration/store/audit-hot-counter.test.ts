import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditCountPendingError, DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import type { AuditEntry } from '../../../shared/sync/sync.ports.ts';
import { freshHubTable, interceptedClient } from '../../support/dynamodb.ts';

const time = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000 + 60_000).toISOString();
const hour = time.slice(0, 13);

const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  time,
  connectorId: 'hot',
  resourceType: 'User',
  resourceId: 'u-1',
  name: 'ada',
  trigger: 'realtime',
  action: 'update',
  status: 'failed',
  steps: [],
  error: { code: 'connector.permanent', message: 'refused' },
  ...overrides,
});

/**
 * DynamoDB Local serialises transactions, so a counter that other writers keep busy is played
 * by the client: while `hot` is set, every transaction that touches an operation counter is
 * cancelled with `TransactionConflict`, exactly as DynamoDB answers one that met another
 * transaction on the same item. Everything else reaches DynamoDB Local.
 */
const hotCounterClient = () => {
  const state = { hot: false };
  const client = interceptedClient((command, input) => {
    const items = (input as { TransactItems?: Array<Record<string, { Key?: { pk?: { S?: string } } }>> }).TransactItems ?? [];
    if (!state.hot || command !== 'TransactWriteItemsCommand' || !items.some((item) => item.Update?.Key?.pk?.S?.startsWith('COUNTER#'))) return undefined;
    return Promise.reject(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: items.map((item) => ({ Code: item.Update ? 'TransactionConflict' : 'None' })),
      }),
    );
  });
  return { ...client, state };
};

describe('audit records beside a hot counter (DynamoDB Local)', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let hot: ReturnType<typeof hotCounterClient>;
  let audit: DynamoAuditLog;

  beforeAll(async () => {
    table = await freshHubTable('audit-hot-counter');
    hot = hotCounterClient();
    // Two tries of the counting transaction keep the test free of long backoffs.
    audit = new DynamoAuditLog(hot.documents, table.tableName, 90, 2);
  });
  afterAll(() => {
    hot.raw.destroy();
    table.raw.destroy();
  });

  it('keeps the record when its counter conflicts past every retry, and counts it once when recorded again', async () => {
    // Prepare
    const failure = entry();
    hot.state.hot = true;

    // Act
    const error = await audit.record(failure).then(
      () => undefined,
      (rejected: unknown) => rejected,
    );
    hot.state.hot = false;

    // Assess: the counting failed, the record did not.
    const found = await audit.query({ connectorId: 'hot', resourceId: 'ada', limit: 10 });
    expect(found.items.map((item) => [item.resourceId, item.status, item.name])).toEqual([['u-1', 'failed', 'ada']]);
    expect(error).toBeInstanceOf(AuditCountPendingError);
    expect(await audit.counters('hot', hour, hour)).toEqual([]);

    // Act: the counter has cooled down; the same entry is recorded again, twice (a retried call).
    await audit.record(failure);
    await audit.record(failure);

    // Assess: still one record, counted once.
    expect((await audit.query({ connectorId: 'hot', limit: 10 })).items).toHaveLength(1);
    const [counts] = await audit.counters('hot', hour, hour);
    expect(counts?.total).toBe(1);
    expect(counts?.byStatus).toEqual({ failed: 1 });
  });

  it('counts distinct operations of the same resource apart', async () => {
    // Prepare
    const later = new Date(Date.parse(time) + 1).toISOString();

    // Act
    await Promise.all([audit.record(entry({ connectorId: 'twice' })), audit.record(entry({ connectorId: 'twice', time: later }))]);

    // Assess
    const [counts] = await audit.counters('twice', hour, hour);
    expect(counts?.total).toBe(2);
    expect((await audit.query({ connectorId: 'twice', limit: 10 })).items).toHaveLength(2);
  });
});
