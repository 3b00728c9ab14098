import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursor, UniquenessConflict, VersionConflict } from '../../../shared/directory/directory.errors.ts';
import type { RecordIndexes, ResourceRecord } from '../../../shared/directory/directory.ports.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const now = '2026-01-01T00:00:00.000Z';
const user = (id: string, userName: string, extra: Partial<ResourceRecord> = {}): ResourceRecord => ({
  id,
  resourceType: 'User',
  version: 1,
  created: now,
  lastModified: now,
  data: { userName },
  ...extra,
});
const userIndexes = (userName: string, emails: string[] = []): RecordIndexes => ({
  uniques: [{ attribute: 'userName', value: userName.toLowerCase() }],
  emails,
});

describe('DynamoDirectoryStore', () => {
  let store: DynamoDirectoryStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;

  beforeAll(async () => {
    table = await freshHubTable('store');
    store = new DynamoDirectoryStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  it('creates a record with its indexes and finds it by each of them', async () => {
    await store.create(user('u1', 'Ada'), userIndexes('Ada', ['ada@example.com']));
    expect(await store.get('User', 'u1')).toMatchObject({ id: 'u1', version: 1, data: { userName: 'Ada' } });
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'ada' })).toBe('u1');
    expect(await store.findUserIdsByEmail('ada@example.com')).toEqual(['u1']);
  });

  it('refuses a second record with a taken unique key and writes nothing of it', async () => {
    await expect(store.create(user('u2', 'ADA'), userIndexes('ADA', ['other@example.com']))).rejects.toBeInstanceOf(UniquenessConflict);
    expect(await store.get('User', 'u2')).toBeUndefined();
    expect(await store.findUserIdsByEmail('other@example.com')).toEqual([]);
  });

  it('lets exactly one of many concurrent creates of the same userName win', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.create(user(`race-${i}`, 'racer'), userIndexes('racer'))));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const rejected = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(rejected.every((a) => a.reason instanceof UniquenessConflict)).toBe(true);
  });

  it('moves unique keys on replace and guards the version', async () => {
    await store.create(user('u3', 'grace'), userIndexes('grace'));
    const renamed = user('u3', 'grace.h', { version: 2 });
    await store.replace(renamed, 1, userIndexes('grace'), userIndexes('grace.h'));
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'grace' })).toBeUndefined();
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'grace.h' })).toBe('u3');
    await expect(store.replace(user('u3', 'x', { version: 3 }), 1, userIndexes('grace.h'), userIndexes('x'))).rejects.toBeInstanceOf(VersionConflict);
  });

  it('adds and removes members one item at a time and keeps the group version and count', async () => {
    const group: ResourceRecord = {
      id: 'g1',
      resourceType: 'Group',
      version: 1,
      created: now,
      lastModified: now,
      data: { displayName: 'Eng' },
      memberCount: 0,
    };
    await store.create(group, { uniques: [{ attribute: 'displayName', value: 'eng' }], emails: [] });
    const afterAdd = await store.changeMembers(
      'g1',
      {
        add: [
          { value: 'u1', type: 'User' },
          { value: 'u3', type: 'User' },
        ],
        remove: [],
      },
      { lastModified: now },
    );
    expect(afterAdd).toMatchObject({ version: 2, memberCount: 2 });
    // Adding an existing member again is a no-op: no version bump.
    const again = await store.changeMembers('g1', { add: [{ value: 'u1', type: 'User' }], remove: [] }, { lastModified: now });
    expect(again.version).toBe(2);
    expect(await store.groupIdsOf('u1')).toEqual(['g1']);
    const afterRemove = await store.changeMembers('g1', { add: [], remove: ['u1'] }, { lastModified: now, expectedVersion: 2 });
    expect(afterRemove).toMatchObject({ version: 3, memberCount: 1 });
    expect((await store.members('g1', { limit: 10 })).items).toEqual([{ value: 'u3', type: 'User' }]);
    await expect(store.changeMembers('g1', { add: [], remove: ['u3'] }, { lastModified: now, expectedVersion: 2 })).rejects.toBeInstanceOf(VersionConflict);
  });

  it('deletes a user with its indexes and memberships, freeing its userName', async () => {
    const record = await store.get('User', 'u3');
    await store.delete(record as ResourceRecord, userIndexes('grace.h'));
    expect(await store.get('User', 'u3')).toBeUndefined();
    expect(await store.groupIdsOf('u3')).toEqual([]);
    expect(await store.get('Group', 'g1')).toMatchObject({ memberCount: 0 });
    await store.create(user('u4', 'grace.h'), userIndexes('grace.h'));
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'grace.h' })).toBe('u4');
  });

  it('counts and lists in creation order with a cursor', async () => {
    const count = await store.count('User');
    const first = await store.list('User', { limit: 2 });
    expect(first.items).toHaveLength(2);
    const rest = await store.list('User', { limit: 100, cursor: first.next });
    expect(first.items.length + rest.items.length).toBe(count);
  });

  it('indexes externalId without making it unique, and moves and drops the index with the record', async () => {
    const withExt = (id: string, externalId: string): RecordIndexes => ({ ...userIndexes(id), externalId });
    await store.create(user('x1', 'x1'), withExt('x1', 'Ext-1'));
    await store.create(user('x2', 'x2'), withExt('x2', 'Ext-1'));
    expect((await store.findIdsByExternalId('User', 'Ext-1')).sort()).toEqual(['x1', 'x2']);
    // Exact match, scoped to the type.
    expect(await store.findIdsByExternalId('User', 'ext-1')).toEqual([]);
    expect(await store.findIdsByExternalId('Group', 'Ext-1')).toEqual([]);

    await store.replace(user('x1', 'x1', { version: 2 }), 1, withExt('x1', 'Ext-1'), withExt('x1', 'Ext-2'));
    expect(await store.findIdsByExternalId('User', 'Ext-1')).toEqual(['x2']);
    expect(await store.findIdsByExternalId('User', 'Ext-2')).toEqual(['x1']);

    await store.delete((await store.get('User', 'x2')) as ResourceRecord, withExt('x2', 'Ext-1'));
    expect(await store.findIdsByExternalId('User', 'Ext-1')).toEqual([]);
  });

  it("pages a group's members by cursor, one bounded Query a page, optionally of one type only", async () => {
    const group: ResourceRecord = {
      id: 'paged',
      resourceType: 'Group',
      version: 1,
      created: now,
      lastModified: now,
      data: { displayName: 'Paged' },
      memberCount: 0,
    };
    await store.create(group, { uniques: [{ attribute: 'displayName', value: 'paged' }], emails: [] });
    const users = ['pm1', 'pm2', 'pm3', 'pm4', 'pm5'];
    for (const id of users) await store.create(user(id, id), userIndexes(id));
    await store.changeMembers(
      'paged',
      { add: [...users.map((value) => ({ value, type: 'User' as const })), { value: 'g1', type: 'Group' }], remove: [] },
      { lastModified: now },
    );

    const read = async (type?: 'User') => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.members('paged', { limit: 2, cursor, type });
        expect(page.items.length).toBeLessThanOrEqual(2);
        pages.push(page.items.map((member) => member.value));
        cursor = page.next;
      } while (cursor && pages.length < 10);
      return pages.flat();
    };
    expect((await read()).sort()).toEqual(['g1', ...users].sort());
    expect((await read('User')).sort()).toEqual(users);
    // A cursor of another group's partition is not a position in this one.
    const other = (await store.members('g1', { limit: 1 })).next ?? Buffer.from(JSON.stringify({ pk: 'GROUP#g1', sk: 'MEMBER#x' })).toString('base64url');
    await expect(store.members('paged', { limit: 2, cursor: other })).rejects.toBeInstanceOf(InvalidCursor);
  });
});
