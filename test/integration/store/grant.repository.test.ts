import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoGrantStore } from '../../../shared/store/grant.repository.ts';
import { grantKey } from '../../../shared/store/hub-table.layout.ts';
import type { AccessGrant } from '../../../shared/sync/grant.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

// Ends in the future: DynamoDB Local deletes items whose TTL has passed, as DynamoDB does.
const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000;
/** `T01:00` of a day two days ahead, as an ISO time. */
const at = (time: string) => new Date(day + Date.parse(`1970-01-01T${time}:00.000Z`)).toISOString();

const grant = (connectorId: string, userId: string, expiresAt: string): AccessGrant => ({
  connectorId,
  userId,
  userName: `${userId}@example.com`,
  expiresAt,
  grantedAt: at('00:00'),
});

describe('DynamoGrantStore', () => {
  let store: DynamoGrantStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;

  beforeAll(async () => {
    table = await freshHubTable('grants');
    store = new DynamoGrantStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  it('stores a grant with the TTL attribute at its end, and reads it back without the table keys', async () => {
    // Act
    await store.put(grant('acme', 'u1', at('02:00')));
    // Assess
    const raw = await table.documents.send(new GetCommand({ TableName: table.tableName, Key: grantKey('acme', 'u1') }));
    expect(raw.Item?.ttl).toBe(Date.parse(at('02:00')) / 1000);
    expect(await store.get('acme', 'u1')).toEqual(grant('acme', 'u1', at('02:00')));
  });

  it('lists grants soonest to end first, of one connector when asked, and finds those due by a Query up to now', async () => {
    // Prepare
    await store.put(grant('okta', 'u2', at('01:00')));
    await store.put(grant('acme', 'u3', at('03:00')));
    // Act
    const all = await store.list();
    const acme = await store.list('acme');
    const due = await store.expiredAt(new Date(at('02:00')), 10);
    // Assess: an end exactly at now is due.
    expect(all.map((g) => g.userId)).toEqual(['u2', 'u1', 'u3']);
    expect(acme.map((g) => g.userId)).toEqual(['u1', 'u3']);
    expect(due.map((g) => g.userId)).toEqual(['u2', 'u1']);
  });

  it('deletes an expired grant only while it still ends when it did: an extended grant stays', async () => {
    // Prepare
    const old = grant('acme', 'u4', at('00:30'));
    await store.put(old);
    await store.put({ ...old, expiresAt: at('23:59') });
    // Act
    const deleted = await store.deleteIfUnchanged(old);
    // Assess
    expect(deleted).toBe(false);
    expect(await store.get('acme', 'u4')).toMatchObject({ expiresAt: at('23:59') });
    expect(await store.deleteIfUnchanged({ ...old, expiresAt: at('23:59') })).toBe(true);
    expect(await store.get('acme', 'u4')).toBeUndefined();
  });
});
