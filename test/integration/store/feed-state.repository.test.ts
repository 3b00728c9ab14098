import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFeedStore } from '../../../shared/store/feed-state.repository.ts';
import type { FeedState } from '../../../shared/sync/reconcile-run.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const state = (connectorId: string, runId: string, runCreated: string): FeedState => ({
  connectorId,
  users: `https://graph.microsoft.com/v1.0/users/delta?$deltatoken=${runId}`,
  groups: `https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=${runId}`,
  accounts: 3,
  groupCount: 1,
  settings: 'settings-hash',
  runId,
  runCreated,
  updated: runCreated,
});

describe('DynamoFeedStore', () => {
  let store: DynamoFeedStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;

  beforeAll(async () => {
    table = await freshHubTable('feeds');
    store = new DynamoFeedStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  it("keeps one connector's delta links, replaced by a later run's and never by an earlier run's", async () => {
    // Prepare
    const second = state('entra', 'run-2', '2026-03-02T00:00:00.000Z');
    // Act: the second run stores its links; the first run's late write comes after; then a third run's.
    const before = await store.get('entra');
    await store.put(second);
    await store.put(state('entra', 'run-1', '2026-03-01T00:00:00.000Z'));
    const kept = await store.get('entra');
    const third = state('entra', 'run-3', '2026-03-03T00:00:00.000Z');
    await store.put(third);
    // Assess
    expect(before).toBeUndefined();
    expect(kept).toEqual(second);
    expect(await store.get('entra')).toEqual(third);
    expect(await store.get('other')).toBeUndefined();
  });
});
