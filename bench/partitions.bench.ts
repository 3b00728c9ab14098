import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDirectory } from '../shared/directory/directory.service.ts';
import { DynamoAuditLog } from '../shared/store/audit.repository.ts';
import { DynamoDirectoryStore } from '../shared/store/directory.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { GSI1, TABLE_KEYS } from '../shared/store/hub-table.layout.ts';

/**
 * Writes per partition key during a large import. 100 000 users go through the real directory
 * and store code (SCIM create, as an IdP's initial sync sends them) and each is provisioned to
 * two connectors, each provisioning leaving an audit record, all at IMPORT_RATE users a second.
 * The DynamoDB client records every write request instead of sending it (an import of new users
 * reads nothing), with the simulated time of the write; the bench then reports, per table key
 * and per gsi1 key, the most writes and write capacity units any one second put on it.
 * One partition key takes about 1 000 WCU a second; the bench fails above that.
 */
// PARTITIONS_USERS runs a smaller import (per-operation figures do not depend on the volume).
const USERS = Number(process.env.PARTITIONS_USERS ?? 100_000);
const IMPORT_RATE = 3_000;
const CONNECTORS = ['scim-app', 'cognito'];
const PARTITION_LIMIT_WCU = 1_000;
// Starts ten seconds before an hour, so the audit buckets of two hours are exercised.
const START = Date.parse('2026-03-01T09:59:50.000Z');

let now = START;
/** Per key and second: [writes, WCU]. */
const perSecond = { table: new Map<string, [number, number]>(), gsi1: new Map<string, [number, number]>() };
const totals = { table: 0, gsi1: 0 };
/** WCU as DynamoDB bills them, by what the write was for: creating the user or auditing its provisioning. */
let phase: 'create' | 'audit' = 'create';
const billed = { create: { table: 0, gsi1: 0 }, audit: { table: 0, gsi1: 0 } };
/** KB of the audit records and counter items written, to price the same writes in one transaction (the earlier layout). */
const auditSizes = { records: 0, counters: 0 };

/** DynamoDB bills a write per KB of item (rounded up), twice within a transaction; an index write per KB. */
const kb = (item: Record<string, unknown>) => Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item)) / 1024));
const count = (where: 'table' | 'gsi1', key: string, wcu: number) => {
  const slot = `${key}|${Math.floor((now - START) / 1000)}`;
  const entry = perSecond[where].get(slot) ?? [0, 0];
  entry[0] += 1;
  entry[1] += wcu;
  perSecond[where].set(slot, entry);
  totals[where]++;
  billed[phase][where] += wcu;
};
// The recorder sits before the document client marshals: items are plain objects here.
type Item = Record<string, unknown>;
const recordWrite = (kind: 'Put' | 'Update' | 'Delete', input: { Item?: Item; Key?: Item }, transactional: boolean) => {
  const size = input.Item ? kb(input.Item) : 1;
  const key = String((input.Item ?? input.Key)?.[TABLE_KEYS.pk]);
  if (phase === 'audit' && kind === 'Put' && key.startsWith('AUDIT#') && input.Item?.[GSI1.pk] !== undefined) auditSizes.records += size;
  if (phase === 'audit' && kind === 'Update' && key.startsWith('COUNTER#')) auditSizes.counters += size;
  count('table', key, size * (transactional ? 2 : 1));
  // An item written with gsi1 keys is written to the index too (projection ALL).
  const indexKey = kind === 'Put' ? input.Item?.[GSI1.pk] : undefined;
  if (typeof indexKey === 'string') count('gsi1', indexKey, size);
};

const raw = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
raw.middlewareStack.add(
  (_next, context) => async (args) => {
    const input = args.input as Record<string, unknown>;
    switch (context.commandName) {
      case 'TransactWriteItemsCommand':
        for (const entry of input.TransactItems as Array<Record<string, { Item?: Item; Key?: Item }>>) {
          for (const kind of ['Put', 'Update', 'Delete'] as const) if (entry[kind]) recordWrite(kind, entry[kind], true);
        }
        break;
      case 'PutItemCommand':
        recordWrite('Put', input as { Item: Item }, false);
        break;
      default:
        throw new Error(`the import was not expected to send ${context.commandName}`);
    }
    return { output: { $metadata: {} }, response: {} } as never;
  },
  { step: 'initialize', name: 'recordWrites' },
);
const documents = createDocumentClient(raw);
const tableName = 'bench-partitions';
let sequence = 0;
const directory = makeDirectory({
  store: new DynamoDirectoryStore(documents, tableName),
  clock: () => new Date(now),
  newId: () => `00000000-0000-4000-8000-${String(sequence++).padStart(12, '0')}`,
  onUnknownAttributes: () => undefined,
});
const audit = new DynamoAuditLog(documents, tableName, 90);
const ctx = { baseUrl: 'https://hub.example/scim/v2', strictUnknownAttributes: false };

const started = performance.now();
for (let i = 0; i < USERS; i++) {
  now = START + Math.floor((i * 1000) / IMPORT_RATE);
  phase = 'create';
  const created = await directory.create(
    'User',
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `user${i}@example.com`,
      externalId: `ext-${i}`,
      name: { givenName: 'Imported', familyName: `User ${i}` },
      emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
      active: true,
    },
    ctx,
  );
  phase = 'audit';
  for (const connectorId of CONNECTORS) {
    await audit.record({
      time: new Date(now).toISOString(),
      connectorId,
      resourceType: 'User',
      resourceId: String(created.resource.id),
      trigger: 'import',
      action: 'create',
      status: 'success',
      steps: ['create'],
    });
  }
}
const seconds = USERS / IMPORT_RATE;

/** Per key: its busiest second, in writes and in WCU. */
const peaks = (where: 'table' | 'gsi1') => {
  const byKey = new Map<string, { writes: number; wcu: number; total: number }>();
  for (const [slot, [writes, wcu]] of perSecond[where]) {
    const key = slot.slice(0, slot.lastIndexOf('|'));
    const peak = byKey.get(key) ?? { writes: 0, wcu: 0, total: 0 };
    peak.writes = Math.max(peak.writes, writes);
    peak.wcu = Math.max(peak.wcu, wcu);
    peak.total += writes;
    byKey.set(key, peak);
  }
  return [...byKey].sort(([, a], [, b]) => b.wcu - a.wcu || b.writes - a.writes);
};
/** A sharded key's family (its shard suffix dropped): what one unsharded key would have taken. */
const families = (where: 'table' | 'gsi1') => {
  const byFamily = new Map<string, number>();
  for (const [slot, [writes]] of perSecond[where]) {
    const key = slot.slice(0, slot.lastIndexOf('|'));
    if (!/#\d+$/.test(key) || !/^(TYPE|COUNT|AUDIT)#/.test(key)) continue;
    const family = `${key.replace(/#\d+$/, '').replace(/#\d{4}-\d{2}-\d{2}T\d{2}$/, '')}`;
    const second = slot.slice(slot.lastIndexOf('|') + 1);
    byFamily.set(`${family}|${second}`, (byFamily.get(`${family}|${second}`) ?? 0) + writes);
  }
  const peak = new Map<string, number>();
  for (const [slot, writes] of byFamily) {
    const family = slot.slice(0, slot.lastIndexOf('|'));
    peak.set(family, Math.max(peak.get(family) ?? 0, writes));
  }
  return [...peak].sort(([, a], [, b]) => b - a);
};

console.log(
  `\n## Writes per partition key: ${USERS.toLocaleString('en')} users imported at ${IMPORT_RATE.toLocaleString('en')}/s (${seconds.toFixed(1)} s), each provisioned to ${CONNECTORS.length} connectors with an audit record`,
);
console.log(
  `(store and directory code run against a client that records writes instead of sending them; ${((performance.now() - started) / 1000).toFixed(1)} s to compute)`,
);
console.log(`writes recorded: table ${totals.table.toLocaleString('en')}, gsi1 ${totals.gsi1.toLocaleString('en')}`);
const perUser = (where: 'create' | 'audit') =>
  `${(billed[where].table / USERS).toFixed(1)} WCU in the table + ${(billed[where].gsi1 / USERS).toFixed(1)} in gsi1`;
console.log(
  `WCU per user as DynamoDB bills them (2 per KB per item in a transaction): created with an email and an externalId ${perUser('create')}; its ${CONNECTORS.length} audit records ${perUser('audit')}`,
);
const operations = USERS * CONNECTORS.length;
console.log(
  `WCU per audited operation: ${(billed.audit.table / operations).toFixed(1)} in the table + ${(billed.audit.gsi1 / operations).toFixed(1)} in gsi1 ` +
    `(the record on its own, then its counted guard and counter in one transaction); the record and its counter in one transaction, as before: ` +
    `${((2 * (auditSizes.records + auditSizes.counters)) / operations).toFixed(1)} in the table + ${(billed.audit.gsi1 / operations).toFixed(1)} in gsi1`,
);
let worst = 0;
for (const where of ['table', 'gsi1'] as const) {
  const rows = peaks(where);
  console.log(`\n### ${where}: the busiest keys (${rows.length.toLocaleString('en')} keys written)`);
  console.log(`${'key'.padEnd(52)} ${'writes'.padStart(8)} ${'peak writes/s'.padStart(14)} ${'peak WCU/s'.padStart(11)}`);
  for (const [key, peak] of rows.slice(0, 10)) {
    console.log(`${key.padEnd(52)} ${String(peak.total).padStart(8)} ${String(peak.writes).padStart(14)} ${String(peak.wcu).padStart(11)}`);
  }
  worst = rows.reduce((max, [, peak]) => Math.max(max, peak.wcu), worst);
  console.log(`sharded families, all shards and hours together (what one unsharded key would take):`);
  for (const [family, writes] of families(where)) console.log(`  ${family.padEnd(50)} ${String(writes).padStart(8)} writes/s`);
}
console.log(`\nbusiest key: ${worst} WCU/s, limit ${PARTITION_LIMIT_WCU} WCU/s per partition key: ${worst <= PARTITION_LIMIT_WCU ? 'within' : 'OVER'}`);
raw.destroy();
if (worst > PARTITION_LIMIT_WCU) process.exit(1);
