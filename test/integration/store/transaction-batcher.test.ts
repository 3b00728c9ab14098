import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniquenessConflict } from '../../../shared/directory/directory.errors.ts';
import type { RecordIndexes, ResourceRecord } from '../../../shared/directory/directory.ports.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const now = '2026-01-01T00:00:00.000Z';
const user = (id: string, userName: string): ResourceRecord => ({ id, resourceType: 'User', version: 1, created: now, lastModified: now, data: { userName } });
const indexes = (userName: string, emails: string[] = []): RecordIndexes => ({ uniques: [{ attribute: 'userName', value: userName.toLowerCase() }], emails });

/** Writes of a bulk import sharing transactions on DynamoDB Local: each row whole, a refused row alone. */
describe('DynamoDirectoryStore with batched writes', () => {
  let store: DynamoDirectoryStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  const stats = () => ({ ...(store.batcher?.stats ?? { transactions: 0, units: 0 }) });

  beforeAll(async () => {
    table = await freshHubTable('batcher');
    store = new DynamoDirectoryStore(table.documents, table.tableName, { batchWrites: true });
  });
  afterAll(() => table.raw.destroy());

  it('writes creates that arrive together in shared transactions, each with all its items, and counts them', async () => {
    const before = stats();

    await Promise.all(Array.from({ length: 30 }, (_, i) => store.create(user(`b${i}`, `bulk${i}`), indexes(`bulk${i}`, [`bulk${i}@example.com`]))));

    const after = stats();
    expect(after.units - before.units).toBe(30);
    // Three items a row and one counter update: at most 33 rows in a transaction of 100 items.
    expect(after.transactions - before.transactions).toBeLessThanOrEqual(3);
    expect(await store.findIdByUnique('User', { attribute: 'userName', value: 'bulk29' })).toBe('b29');
    expect(await store.findUserIdsByEmail('bulk7@example.com')).toEqual(['b7']);
    expect(await store.count('User')).toBe(30);
  });

  it('refuses a row whose userName is taken, writing nothing of it, and writes its neighbours', async () => {
    await store.create(user('taken', 'taken'), indexes('taken'));

    const outcomes = await Promise.allSettled([
      store.create(user('n1', 'neighbour1'), indexes('neighbour1')),
      store.create(user('clash', 'TAKEN'), indexes('TAKEN', ['clash@example.com'])),
      store.create(user('n2', 'neighbour2'), indexes('neighbour2')),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(UniquenessConflict);
    expect(await store.get('User', 'clash')).toBeUndefined();
    expect(await store.findUserIdsByEmail('clash@example.com')).toEqual([]);
    expect(await store.get('User', 'n2')).toMatchObject({ data: { userName: 'neighbour2' } });
    expect(await store.count('User')).toBe(33);
  });

  it('lets exactly one of several creates of one userName in the same batch win', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => store.create(user(`same${i}`, 'same'), indexes('same'))));

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason instanceof UniquenessConflict)).toBe(true);
  });

  it('refuses the loser of two creates of one name only once the winner is written, so its owner can be read', async () => {
    const group = (id: string): ResourceRecord => ({ id, resourceType: 'Group', version: 1, created: now, lastModified: now, data: { displayName: 'Bench' } });
    const guard = { attribute: 'displayName' as const, value: 'bench' };

    const outcomes = await Promise.all(
      ['g1', 'g2'].map((id) =>
        store.create(group(id), { uniques: [guard], emails: [] }).then(
          () => ({ id, won: true, owner: id }),
          async () => ({ id, won: false, owner: await store.findIdByUnique('Group', guard) }),
        ),
      ),
    );

    const winner = outcomes.find((outcome) => outcome.won);
    expect(outcomes.filter((outcome) => outcome.won)).toHaveLength(1);
    expect(outcomes.find((outcome) => !outcome.won)?.owner).toBe(winner?.id);
  });
});
