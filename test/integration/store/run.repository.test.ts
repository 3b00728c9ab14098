import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunStore } from '../../../shared/store/run.repository.ts';
import type { RunRecord } from '../../../shared/sync/reconcile-run.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const run = (runId: string, connectorId: string, created: string, extra: Partial<RunRecord> = {}): RunRecord => ({
  runId,
  connectorId,
  state: 'planning',
  trigger: 'schedule',
  dryRun: false,
  phase: 'target',
  page: 0,
  planPages: 0,
  targetAccounts: 0,
  counters: { situations: {}, actions: {} },
  created,
  updated: created,
  ...extra,
});

describe('DynamoRunStore', () => {
  let store: DynamoRunStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let now = Date.parse('2026-03-01T00:00:00Z');

  beforeAll(async () => {
    table = await freshHubTable('runs');
    store = new DynamoRunStore(table.documents, table.tableName, () => now);
  });
  afterAll(() => table.raw.destroy());

  it("lets one run hold a connector's lock until it releases it or the lock expires", async () => {
    expect(await store.acquireLock('acme', 'r1', now + 60_000)).toBe(true);
    expect(await store.acquireLock('acme', 'r2', now + 60_000)).toBe(false);
    await store.releaseLock('acme', 'r2');
    expect(await store.acquireLock('acme', 'r2', now + 60_000)).toBe(false);
    now += 61_000;
    expect(await store.acquireLock('acme', 'r2', now + 60_000)).toBe(true);
    await store.releaseLock('acme', 'r2');
    expect(await store.acquireLock('acme', 'r3', now + 60_000)).toBe(true);
  });

  it('moves a run past a page once: the second writer of the same page is refused', async () => {
    // Prepare
    const first = run('adv', 'acme', '2026-03-01T00:00:00.000Z');
    await store.create(first);
    const moved = { ...first, page: 1, counters: { situations: { inSync: 3 }, actions: { none: 3 } } };
    // Act
    const results = [await store.advance(first, moved), await store.advance(first, { ...moved, counters: { situations: { inSync: 6 }, actions: {} } })];
    // Assess
    expect(results).toEqual([true, false]);
    expect(await store.get('adv')).toMatchObject({ page: 1, counters: { situations: { inSync: 3 } } });
  });

  it('lists runs newest first, all together and per connector', async () => {
    await store.create(run('l1', 'beta', '2026-03-02T00:00:00.000Z'));
    await store.create(run('l2', 'gamma', '2026-03-03T00:00:00.000Z'));
    await store.create(run('l3', 'beta', '2026-03-04T00:00:00.000Z'));

    expect((await store.list({ connectorId: 'beta', limit: 10 })).map((r) => r.runId)).toEqual(['l3', 'l1']);
    expect((await store.list({ limit: 2 })).map((r) => r.runId)).toEqual(['l3', 'l2']);
  });

  it('keeps plan pages and the hub users a run accounted for', async () => {
    await store.putPlanPage('plan', 0, [{ situation: 'orphan', action: 'report', targetId: 't1', reason: 'no hub user' }]);
    const many = Array.from({ length: 130 }, (_, i) => `u${i}`);
    await store.markAccounted('plan', many);

    expect(await store.getPlanPage('plan', 0)).toEqual([{ situation: 'orphan', action: 'report', targetId: 't1', reason: 'no hub user' }]);
    expect(await store.getPlanPage('plan', 1)).toEqual([]);
    expect(await store.accountedAmong('plan', ['u0', 'u129', 'stranger'])).toEqual(new Set(['u0', 'u129']));
  });
});
