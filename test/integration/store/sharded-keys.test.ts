import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursor } from '../../../shared/directory/directory.errors.ts';
import type { ResourceRecord } from '../../../shared/directory/directory.ports.ts';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { typeIndexKey } from '../../../shared/store/hub-table.layout.ts';
import type { AuditEntry } from '../../../shared/sync/sync.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const user = (id: string, created: string): ResourceRecord => ({
  id,
  resourceType: 'User',
  version: 1,
  created,
  lastModified: created,
  data: { userName: id },
});

describe('keys spread over partitions', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let store: DynamoDirectoryStore;
  let audit: DynamoAuditLog;

  beforeAll(async () => {
    table = await freshHubTable('sharded');
    store = new DynamoDirectoryStore(table.documents, table.tableName);
    // Records expire by TTL after the retention period, which DynamoDB Local enforces: a long
    // one keeps these fixed times in the past alive.
    audit = new DynamoAuditLog(table.documents, table.tableName, 36_500);
  });
  afterAll(() => table.raw.destroy());

  describe('the by-type listing', () => {
    // 45 users over 15 creation times: three share each time, so the id breaks ties.
    const users = Array.from({ length: 45 }, (_, i) =>
      user(`u-${String(i).padStart(2, '0')}`, `2026-01-01T00:00:${String(Math.floor(i / 3)).padStart(2, '0')}.000Z`),
    );

    beforeAll(async () => {
      for (const record of [...users].reverse()) await store.create(record, { uniques: [{ attribute: 'userName', value: record.id }], emails: [] });
    });

    it('spreads users over several index partitions', () => {
      expect(new Set(users.map((record) => typeIndexKey('User', record.created, record.id).gsi1pk)).size).toBeGreaterThan(8);
    });

    it.each([3, 7, 45, 100])('pages every user once, in creation order, %i at a time', async (limit) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list('User', { limit, cursor });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((record) => record.id));
        cursor = page.next;
        pages++;
      } while (cursor && pages < 100);
      expect(seen).toEqual(users.map((record) => record.id));
    });

    it('hands out records without their keys', async () => {
      const page = await store.list('User', { limit: 1 });
      expect(Object.keys(page.items[0] ?? {}).sort()).toEqual(['created', 'data', 'id', 'lastModified', 'resourceType', 'version']);
    });

    it('refuses a cursor it did not make', async () => {
      const foreign = Buffer.from(JSON.stringify({ gsi1pk: 'TYPE#User', gsi1sk: 'x' })).toString('base64url');
      await expect(store.list('User', { limit: 5, cursor: foreign })).rejects.toBeInstanceOf(InvalidCursor);
    });
  });

  describe('the audit log', () => {
    const entry = (connectorId: string, time: string, status: 'success' | 'failed', n: number): AuditEntry => ({
      time,
      connectorId,
      resourceType: 'User',
      resourceId: `r${n}`,
      trigger: 'realtime',
      action: 'create',
      status,
      steps: [],
    });
    // Three hours, two connectors, every fourth record a failure.
    const entries = Array.from({ length: 24 }, (_, n) =>
      entry(
        n % 2 === 0 ? 'acme' : 'globex',
        `2026-03-01T${String(10 + Math.floor(n / 8)).padStart(2, '0')}:${String(n).padStart(2, '0')}:00.000Z`,
        n % 4 === 3 ? 'failed' : 'success',
        n,
      ),
    );
    const newestFirst = (list: AuditEntry[]) => [...list].sort((a, b) => (a.time < b.time ? 1 : -1)).map((e) => e.resourceId);

    const readAll = async (query: Omit<Parameters<DynamoAuditLog['query']>[0], 'cursor'>) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await audit.query({ ...query, cursor });
        expect(page.items.length).toBeLessThanOrEqual(query.limit);
        for (const item of page.items) {
          expect(item).not.toHaveProperty('pk');
          expect(item).not.toHaveProperty('gsi1pk');
          expect(item).not.toHaveProperty('ttl');
        }
        ids.push(...page.items.map((item) => item.resourceId));
        cursor = page.next;
        pages++;
      } while (cursor && pages < 100);
      return ids;
    };

    beforeAll(async () => {
      for (const e of entries) await audit.record(e);
    });

    it('reads one connector newest first across hour buckets, page by page', async () => {
      expect(await readAll({ connectorId: 'acme', limit: 3 })).toEqual(newestFirst(entries.filter((e) => e.connectorId === 'acme')));
    });

    it('reads every connector newest first across hour buckets and index shards', async () => {
      expect(await readAll({ limit: 5 })).toEqual(newestFirst(entries));
      expect(await readAll({ limit: 100 })).toEqual(newestFirst(entries));
    });

    it('keeps to the asked time range, also when given with an offset', async () => {
      const inRange = entries.filter((e) => e.time >= '2026-03-01T10:05:00.000Z' && e.time <= '2026-03-01T11:12:00.000Z');
      expect(await readAll({ from: '2026-03-01T10:05:00.000Z', to: '2026-03-01T11:12:00.000Z', limit: 4 })).toEqual(newestFirst(inRange));
      expect(await readAll({ from: '2026-03-01T12:05:00+02:00', to: '2026-03-01T13:12:00+02:00', limit: 4 })).toEqual(newestFirst(inRange));
    });

    it('filters by status while still filling pages', async () => {
      const failed = entries.filter((e) => e.status === 'failed');
      expect(await readAll({ status: 'failed', limit: 2 })).toEqual(newestFirst(failed));
      expect(await readAll({ connectorId: 'globex', status: 'failed', limit: 4 })).toEqual(newestFirst(failed.filter((e) => e.connectorId === 'globex')));
    });

    it('refuses a cursor it did not make', async () => {
      await expect(audit.query({ limit: 2, cursor: Buffer.from(JSON.stringify({ pk: 'AUDIT#acme' })).toString('base64url') })).rejects.toBeInstanceOf(
        InvalidCursor,
      );
    });
  });
});
