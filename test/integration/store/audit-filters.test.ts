import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../../shared/store/audit.repository.ts';
import type { AuditEntry } from '../../../shared/sync/sync.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

// Recent times: records expire by TTL, and DynamoDB Local deletes expired items.
const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 3_600_000;
const at = (minute: number) => new Date(start + minute * 60_000).toISOString();

const entry = (minute: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  time: at(minute),
  connectorId: (minute / 4) % 2 === 0 ? 'acme' : 'okta',
  resourceType: 'User',
  resourceId: `u-${(minute / 4) % 12}`,
  name: `user${(minute / 4) % 12}@example.com`,
  trigger: 'realtime',
  action: 'update',
  status: 'success',
  steps: [],
  ...overrides,
});

/**
 * The log's selective filters on DynamoDB Local: 60 records over four hours, of which a few
 * failed, ran on demand or touched one user. Each filtered page is read from the filter's own
 * copies, so DynamoDB examines about as many items as it returns, and paging by cursor walks
 * exactly the matching set, newest first.
 */
describe('audit filters answered by their own copies', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let audit: DynamoAuditLog;
  let scanned = 0;
  const all: AuditEntry[] = Array.from({ length: 60 }, (_, i) =>
    entry(i * 4, {
      ...(i % 20 === 7 ? { status: 'dead-lettered' as const, error: { code: 'connector.permanent', message: 'refused' } } : {}),
      ...(i % 20 === 8 ? { status: 'failed' as const } : {}),
      ...(i % 15 === 3 ? { trigger: 'on-demand' as const } : {}),
      ...(i % 30 === 11 ? { action: 'collision', status: 'skipped' as const } : {}),
    }),
  );

  /** Every record of a query, by its cursor, a small page at a time. */
  const walk = async (query: Parameters<DynamoAuditLog['query']>[0]) => {
    const found: Array<AuditEntry & { id: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await audit.query({ ...query, limit: 3, cursor });
      found.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return found;
  };
  const expected = (match: (e: AuditEntry) => boolean) =>
    all
      .filter(match)
      .map((e) => e.time)
      .reverse();

  beforeAll(async () => {
    table = await freshHubTable('audit-filters');
    const send = table.documents.send.bind(table.documents) as (command: unknown) => Promise<{ ScannedCount?: number }>;
    (table.documents as unknown as { send: typeof send }).send = async (command) => {
      const output = await send(command);
      scanned += output.ScannedCount ?? 0;
      return output;
    };
    audit = new DynamoAuditLog(table.documents, table.tableName, 90);
    for (let i = 0; i < all.length; i += 6) await Promise.all(all.slice(i, i + 6).map((e) => audit.record(e)));
  });
  afterAll(() => table.raw.destroy());

  it.each<[string, Parameters<DynamoAuditLog['query']>[0], (e: AuditEntry) => boolean]>([
    ['several statuses', { status: ['failed', 'dead-lettered'], limit: 3 }, (e) => e.status === 'failed' || e.status === 'dead-lettered'],
    ['a status on one connector', { status: 'dead-lettered', connectorId: 'okta', limit: 3 }, (e) => e.status === 'dead-lettered' && e.connectorId === 'okta'],
    ['a trigger', { trigger: 'on-demand', limit: 3 }, (e) => e.trigger === 'on-demand'],
    ['an action', { action: 'collision', limit: 3 }, (e) => e.action === 'collision'],
    ['a user by id', { resourceId: 'u-7', limit: 3 }, (e) => e.resourceId === 'u-7'],
    [
      'a user by name, in a time range',
      { resourceId: 'user7@example.com', from: at(40), to: at(200), limit: 3 },
      (e) => e.name === 'user7@example.com' && e.time >= at(40) && e.time <= at(200),
    ],
  ])('pages through %s reading only matching records', async (_, query, match) => {
    scanned = 0;
    const found = await walk(query);
    expect(found.map((r) => r.time)).toEqual(expected(match));
    expect(found.length).toBeGreaterThan(0);
    // Each page reads its records plus one to know there is a next page, per partition merged.
    expect(scanned).toBeLessThanOrEqual(found.length * 2 + 20);
  });

  it('keeps the common values on the hour walk, and refuses a cursor of the other kind', async () => {
    const success = await audit.query({ status: 'success', connectorId: 'acme', limit: 5 });
    expect(success.items.map((r) => r.status)).toEqual(Array(5).fill('success'));
    const filtered = await audit.query({ trigger: 'on-demand', limit: 1 });
    await expect(audit.query({ status: 'success', limit: 1, cursor: filtered.next })).rejects.toMatchObject({ code: 'directory.invalidCursor' });
    await expect(audit.query({ trigger: 'on-demand', limit: 1, cursor: success.next })).rejects.toMatchObject({ code: 'directory.invalidCursor' });
  });
});
