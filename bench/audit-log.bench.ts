import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { ensureTable } from '../infra/local/table.ts';
import { hoursBetween, LATENCY_BOUNDS_MS, latencyBucketOf } from '../shared/observability/operation-counters.ts';
import { type AuditQuery, DynamoAuditLog } from '../shared/store/audit.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { auditFilterKey, auditFiltersOf, auditHourKey, auditHourOf, auditKey, counterKey } from '../shared/store/hub-table.layout.ts';
import { hubTable } from '../shared/topology/table.spec.ts';
import { percentile } from './support/percentile.ts';

/**
 * `npm run bench -- audit-log`: the console's log and overview over a seeded table. Seeds
 * AUDIT_BENCH_RECORDS audit records (default 20 000; the aim is a filtered page over
 * 1 000 000 in under 300 ms) over three connectors and the last 48 hours, with their hour
 * markers and hourly counters in the layout the repository writes, then asks the questions the
 * console asks. Per question: records returned, items DynamoDB read for them, read capacity
 * units, and the median time of five runs. The selective filters run twice on the same table:
 * through the hour walk, as before the filter copies existed, and through the copies. The claim is in the units and the items read per
 * record returned; the time depends on the machine.
 */
const RECORDS = Number(process.env.AUDIT_BENCH_RECORDS ?? 20_000);
const CONNECTORS = ['acme', 'okta', 'entra'];
const HOURS = 48;
const RUNS = 5;

const pick = (i: number, table: Array<[string, number]>): string => {
  const at = (i * 7919) % 1000;
  let sum = 0;
  for (const [value, perMille] of table) {
    sum += perMille;
    if (at < sum) return value;
  }
  return table[table.length - 1]?.[0] as string;
};

const sequentially = async <T>(steps: Array<() => Promise<T>>): Promise<T[]> => {
  const results: T[] = [];
  for (const step of steps) results.push(await step());
  return results;
};

const main = async () => {
  const dynamodb = await startDynamoDbLocal();
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint: dynamodb.endpoint });
  const documents = createDocumentClient(raw);
  const tableName = 'bench-audit-log';
  try {
    await ensureTable(raw, hubTable, tableName);
    const now = Date.now();
    const start = now - HOURS * 3_600_000;
    const ttl = Math.floor(now / 1000) + 90 * 86_400;
    const items: Array<Record<string, unknown>> = [];
    const counters = new Map<string, Record<string, unknown>>();
    const hours = new Set<string>();
    const seedStarted = performance.now();
    const flush = async (all: boolean) => {
      const batches: Array<Array<Record<string, unknown>>> = [];
      while (items.length >= 25 || (all && items.length > 0)) batches.push(items.splice(0, 25));
      await Promise.all(
        batches.map(async (batch) => {
          let request: Record<string, unknown[]> | undefined = { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) };
          while (request && Object.keys(request).length > 0) {
            const answer = await documents.send(new BatchWriteCommand({ RequestItems: request as never }));
            request = answer.UnprocessedItems as Record<string, unknown[]> | undefined;
          }
        }),
      );
    };
    for (let i = 0; i < RECORDS; i++) {
      const connectorId = CONNECTORS[i % CONNECTORS.length] as string;
      const time = new Date(start + Math.floor((i / RECORDS) * HOURS * 3_600_000)).toISOString();
      const id = `rec${String(i).padStart(8, '0')}`;
      const status = pick(i, [
        ['success', 970],
        ['retrying', 20],
        ['dead-lettered', 10],
      ]);
      const trigger = pick(i * 31, [
        ['realtime', 900],
        ['schedule', 80],
        ['on-demand', 20],
      ]);
      const latencyMs = trigger === 'realtime' ? 200 + ((i * 37) % 1800) : undefined;
      const hour = auditHourOf(time);
      const record = {
        id,
        ttl,
        time,
        connectorId,
        resourceType: 'User',
        resourceId: `u${i % 5000}`,
        name: `user${i % 5000}@example.com`,
        trigger,
        action: i % 10 === 0 ? 'create' : 'update',
        status,
        steps: ['scope: in scope', 'compare: 1 attribute differs', 'action: update name.givenName'],
        changes: [{ attribute: 'name.givenName', old: 'Ada', new: 'Augusta' }],
        ...(latencyMs !== undefined ? { latencyMs } : {}),
      };
      items.push({ ...auditKey(connectorId, time, id), ...record });
      // The copies the repository writes in the record's transaction, for the selective filters.
      for (const filter of auditFiltersOf(record)) items.push({ ...auditFilterKey(filter, connectorId, time, id), ...record });
      hours.add(`${connectorId}|${hour}`);
      const key = counterKey(connectorId, hour, id);
      const counter = counters.get(`${key.pk}|${key.sk}`) ?? { ...key, ttl, n: 0 };
      const add = (name: string) => {
        counter[name] = Number(counter[name] ?? 0) + 1;
      };
      add('n');
      add(`s_${status}`);
      add(`a_${i % 10 === 0 ? 'create' : 'update'}`);
      if (latencyMs !== undefined) add(`l_${latencyBucketOf(latencyMs)}`);
      counters.set(`${key.pk}|${key.sk}`, counter);
      if (items.length >= 25 * 16) await flush(false);
    }
    const markers = new Map<string, Record<string, unknown>>();
    for (const entry of hours) {
      const [connectorId, hour] = entry.split('|') as [string, string];
      for (const marker of [auditHourKey(connectorId, hour), auditHourKey(undefined, hour)]) markers.set(`${marker.pk}|${marker.sk}`, { ...marker, ttl });
    }
    items.push(...markers.values());
    items.push(...counters.values());
    await flush(true);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // Every read from here on is metered.
    let rcu = 0;
    let scanned = 0;
    const send = documents.send.bind(documents) as (command: { input: Record<string, unknown> }) => Promise<Record<string, unknown>>;
    (documents as unknown as { send: typeof send }).send = async (command) => {
      command.input.ReturnConsumedCapacity = 'TOTAL';
      const output = await send(command);
      for (const entry of [output.ConsumedCapacity].flat() as Array<{ CapacityUnits?: number } | undefined>) rcu += entry?.CapacityUnits ?? 0;
      scanned += Number(output.ScannedCount ?? 0);
      return output;
    };
    const audit = new DynamoAuditLog(documents, tableName, 90);
    // The same table read as before the filter copies: every filter walks the hours.
    const hourWalk = new DynamoAuditLog(documents, tableName, 90, undefined, { filterCopies: false });
    const measure = async (name: string, ask: () => Promise<number>) => {
      const times: number[] = [];
      let returned = 0;
      let units = 0;
      let read = 0;
      for (let run = 0; run < RUNS; run++) {
        rcu = 0;
        scanned = 0;
        const t = performance.now();
        returned = await ask();
        times.push(performance.now() - t);
        units = rcu;
        read = scanned;
      }
      return { name, returned, read, units, ms: percentile(times, 50) };
    };
    const page =
      (query: Omit<AuditQuery, 'limit'>, log = audit) =>
      async () =>
        (await log.query({ ...query, limit: 50 })).items.length;
    const selective: Array<[string, Omit<AuditQuery, 'limit'>]> = [
      ['one connector, dead-lettered (1 %)', { connectorId: 'acme', status: 'dead-lettered' }],
      ['failed or dead-lettered, all connectors', { status: ['failed', 'dead-lettered'] }],
      ['trigger on-demand (2 %)', { trigger: 'on-demand' }],
      ['action create (10 %)', { action: 'create' }],
      ['one user by name, last 6 hours', { resourceId: 'user4242@example.com', from: new Date(now - 6 * 3_600_000).toISOString() }],
      ['one user by id, all time', { resourceId: 'u4242' }],
    ];
    const hourRange = hoursBetween(new Date(now - 23 * 3_600_000).toISOString(), new Date(now).toISOString());
    const results = [
      await measure('newest page, no filter', page({})),
      await measure('one connector', page({ connectorId: 'acme' })),
      ...(await sequentially(
        selective.map(
          ([name, query]) =>
            () =>
              measure(`${name}: hour walk (before)`, page(query, hourWalk)),
        ),
      )),
      ...(await sequentially(
        selective.map(
          ([name, query]) =>
            () =>
              measure(`${name}: filter copies`, page(query)),
        ),
      )),
      await measure('overview counters: 3 connectors x 24 hours', async () => {
        const all = await Promise.all(CONNECTORS.map((c) => audit.counters(c, hourRange[0] as string, hourRange[hourRange.length - 1] as string)));
        return all.flat().length;
      }),
    ];
    console.log(
      `audit log over ${RECORDS.toLocaleString('en')} records, ${CONNECTORS.length} connectors, ${HOURS} hours (seeded in ${seedSeconds.toFixed(0)} s)`,
    );
    const header = ['question', 'returned', 'items read', 'read per returned', 'RCU', `ms (median of ${RUNS})`];
    const rows = results.map((r) => [
      r.name,
      String(r.returned),
      String(r.read),
      r.returned ? (r.read / r.returned).toFixed(1) : '-',
      r.units.toFixed(1),
      r.ms.toFixed(0),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
    console.log([line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
    console.log('\nread capacity per page of 50, before (hour walk) and after (filter copies):');
    for (const [name] of selective) {
      const before = results.find((r) => r.name === `${name}: hour walk (before)`);
      const after = results.find((r) => r.name === `${name}: filter copies`);
      if (!before || !after) continue;
      const ratio = after.units > 0 ? (before.units / after.units).toFixed(1) : '-';
      console.log(
        `  ${name}: ${before.units.toFixed(1)} -> ${after.units.toFixed(1)} RCU (${ratio}x fewer); items read per record returned ${before.returned ? (before.read / before.returned).toFixed(1) : '-'} -> ${after.returned ? (after.read / after.returned).toFixed(1) : '-'}`,
      );
    }
    console.log(`latency histogram: ${LATENCY_BOUNDS_MS.length} buckets per counter item; a chart reads one item per connector, shard and hour`);
  } finally {
    raw.destroy();
    await dynamodb.stop();
  }
};

await main();
