import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { ensureTable } from '../infra/local/table.ts';
import { makeDirectory } from '../shared/directory/directory.service.ts';
import { DynamoDirectoryStore } from '../shared/store/directory.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { emailKey, membershipIndexKey, membershipKey, resourceKey, typeIndexKey, uniqueKey } from '../shared/store/hub-table.layout.ts';
import { DynamoImportJobStore } from '../shared/store/import-job.repository.ts';
import { exportResources } from '../shared/transfer/export.ts';
import { makeChunkImporter } from '../shared/transfer/import-chunk.ts';
import { cutIntoChunks, makeImportJobs } from '../shared/transfer/import-job.service.ts';
import { readImportRecords } from '../shared/transfer/import-records.ts';
import { type ChunkMessage, DEFAULT_CHUNK_ROWS, ImportOptionsSchema } from '../shared/transfer/transfer.types.ts';
import { hubTable } from '../shared/topology/table.spec.ts';

/**
 * Import and export: DynamoDB capacity units and requests per imported user (what an AWS bill
 * is made of), the import's rate as a share of raw DynamoDB Local writes of the same items on
 * this machine (aim: 70% or better), the export's rate next to the import's, and the resident
 * memory of reading and cutting a large file (it streams: memory stays flat with the row count).
 *
 * "Raw" is the ceiling an import could reach on this DynamoDB Local: every item a first import
 * writes for its users (the user, its userName guard, its email index item, and for one user in
 * ten the membership item of group Bench), with unconditional BatchWriteItem calls of 25 items,
 * into a fresh table, at the best of several writer counts (1 to 16 requests in flight). The
 * import does more than that for the same items (conditions, transactions, the per-chunk job
 * record, the group's PATCH, SCIM validation), so the ratio is an honest upper-bound comparison,
 * not a flattering one. Between the two, the same items in bare conditional transactions (each
 * user whole, its user item and guard conditioned on not existing) show what any import keeping
 * the rules (a row all or nothing, exact uniqueness) could reach on DynamoDB Local.
 * DynamoDB Local's own CPU time (its Java process, read from /proc) is printed per user for each:
 * on a loaded machine its SQLite thread is what they all wait on.
 *
 * IMPORT_BENCH_ROWS (default 2 000) sizes the import against DynamoDB Local;
 * IMPORT_BENCH_FILE_ROWS (default 100 000) sizes the file that is read and cut without a table;
 * IMPORT_BENCH_SINGLE=false leaves out the run with one transaction per row.
 */
const ROWS = Number(process.env.IMPORT_BENCH_ROWS ?? 2_000);
const FILE_ROWS = Number(process.env.IMPORT_BENCH_FILE_ROWS ?? 100_000);
const options = ImportOptionsSchema.parse({ provision: false });
const inBench = (i: number) => i % 10 === 0;

const csvOf = (rows: number, prefix: string) => {
  const lines = ['userName,name.givenName,name.familyName,"emails[type eq ""work""].value",active,groups'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,Given${i},Family,${prefix}${i}@example.com,true,${inBench(i) ? 'Bench' : ''}`);
  return `${lines.join('\n')}\n`;
};

/** Capacity units and requests by kind (GetItem, Query, TransactWriteItems...) as DynamoDB Local reports them. */
const meteredClient = (endpoint: string) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint });
  const meter = { read: 0, write: 0, requests: new Map<string, number>() };
  const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      meter.requests.set(command, (meter.requests.get(command) ?? 0) + 1);
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const entry of [consumed].flat() as Array<{ CapacityUnits?: number } | undefined>) {
        if (!entry) continue;
        if (READS.has(command)) meter.read += entry.CapacityUnits ?? 0;
        else meter.write += entry.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'consumedCapacityMeter' },
  );
  const reset = () => {
    meter.read = 0;
    meter.write = 0;
    meter.requests.clear();
  };
  return { raw, meter, reset };
};

/** Requests per user by kind, most frequent first: `GetItem 1.00, TransactWriteItems 0.05`. */
const requestsPerUser = (requests: Map<string, number>, users: number) =>
  [...requests]
    .sort((a, b) => b[1] - a[1])
    .map(([command, count]) => `${command.replace(/Command$/, '')} ${(count / users).toFixed(2)}`)
    .join(', ');

/** CPU seconds a process has used (user + system), from /proc; undefined where there is none. */
const cpuSecondsOf = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 (utime, stime) after the command name, in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};

const freshTable = async (endpoint: string) => {
  const tableName = `bench-import-${randomUUID().slice(0, 6)}`;
  const metered = meteredClient(endpoint);
  await ensureTable(metered.raw, hubTable, tableName);
  return { tableName, ...metered, documents: createDocumentClient(metered.raw) };
};

/** Each user's items as a first import writes them: the user, its userName guard, its email index item, for one in ten a membership. */
const usersItems = (prefix: string): Array<Array<Record<string, unknown>>> => {
  const groupId = randomUUID();
  const created = new Date().toISOString();
  return Array.from({ length: ROWS }, (_, i) => {
    const id = randomUUID();
    const userName = `${prefix}${i}@example.com`;
    const data = { userName, name: { givenName: `Given${i}`, familyName: 'Family' }, emails: [{ type: 'work', value: userName }], active: true };
    return [
      { ...resourceKey('User', id), ...typeIndexKey('User', created, id), id, resourceType: 'User', version: 1, created, lastModified: created, data },
      { ...uniqueKey('User', { attribute: 'userName', value: userName }), owner: id },
      { ...emailKey(userName, id), userId: id },
      ...(inBench(i) ? [{ ...membershipKey(groupId, id), ...membershipIndexKey(groupId, id), groupId, value: id, type: 'User' }] : []),
    ];
  });
};

/** Sends `requests` with `writers` of them in flight; answers users per second and DynamoDB Local's CPU seconds per user. */
const timed = async <T>(javaPid: number | undefined, requests: T[], writers: number, send: (request: T) => Promise<void>) => {
  const javaBefore = cpuSecondsOf(javaPid);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < requests.length) await send(requests[next++] as T);
    }),
  );
  const rate = ROWS / ((performance.now() - started) / 1000);
  const javaAfter = cpuSecondsOf(javaPid);
  return { rate, javaPerUser: javaBefore === undefined || javaAfter === undefined ? undefined : (javaAfter - javaBefore) / ROWS, writers };
};

/**
 * The items a first import writes for its users, with BatchWriteItem 25 at a time into a fresh
 * table, at the best of several writer counts: the ceiling.
 */
const rawWrites = async (endpoint: string, javaPid: number | undefined) => {
  let best = { rate: 0, javaPerUser: undefined as number | undefined, writers: 0 };
  for (const writers of [1, 2, 4, 8, 16]) {
    const { tableName, documents } = await freshTable(endpoint);
    const items = usersItems('raw').flat();
    const batches: Array<Array<Record<string, unknown>>> = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    const run = await timed(javaPid, batches, writers, async (batch) => {
      let request: Record<string, unknown> | undefined = { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) };
      while (request && Object.keys(request).length > 0) {
        const result = await documents.send(new BatchWriteCommand({ RequestItems: request as never }));
        request = result.UnprocessedItems as Record<string, unknown> | undefined;
      }
    });
    if (run.rate > best.rate) best = run;
  }
  return best;
};

/**
 * The same items with what all-or-nothing rows and exact uniqueness need and nothing else: each
 * user whole in a TransactWriteItems of up to 100 items, its user item and userName guard
 * conditioned on not existing. What any import that keeps those rules could reach here.
 */
const transactionalWrites = async (endpoint: string, javaPid: number | undefined) => {
  const { tableName, documents } = await freshTable(endpoint);
  const transactions: Array<Array<Record<string, unknown>>> = [[]];
  for (const user of usersItems('tx')) {
    if ((transactions.at(-1)?.length ?? 0) + user.length > 100) transactions.push([]);
    transactions.at(-1)?.push(...user);
  }
  return timed(javaPid, transactions, 2, async (items) => {
    await documents.send(
      new TransactWriteCommand({
        TransactItems: items.map((Item) => ({
          Put: {
            TableName: tableName,
            Item,
            ...(String(Item.pk).startsWith('EMAIL#') || 'groupId' in Item ? {} : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        })),
      }),
    );
  });
};

const importBench = async (endpoint: string, javaPid: number | undefined, batchWrites: boolean) => {
  const raw = await rawWrites(endpoint, javaPid);
  const transactional = await transactionalWrites(endpoint, javaPid);
  const { tableName, meter, reset, documents } = await freshTable(endpoint);
  // As the import function wires it (shared/provisioning/import-jobs.wiring.ts), or one transaction per row.
  const store = new DynamoDirectoryStore(documents, tableName, { batchWrites });
  const directory = makeDirectory({ store, clock: () => new Date(), newId: randomUUID, onUnknownAttributes: () => undefined });
  const chunks: ChunkMessage[] = [];
  const jobs = makeImportJobs({
    jobs: new DynamoImportJobStore(documents, tableName),
    // The queue's part is SQS's: here each chunk is applied as the import function would.
    queue: { send: async (message) => void ('chunk' in message && chunks.push(message)) },
    importer: makeChunkImporter({ directory, store }),
    clock: () => new Date(),
    newId: () => `imp_${randomUUID().slice(0, 8)}`,
  });
  const csv = csvOf(ROWS, 'user');
  const runImport = async (fingerprint: string, dryRun = false) => {
    chunks.length = 0;
    const { job } = await jobs.start({ source: 'bench.csv', fingerprint, options: { ...options, dryRun } });
    const cut = await cutIntoChunks(
      job,
      readImportRecords(Readable.from([csv]), { format: 'csv', mode: options.mode, match: options.match }),
      async (chunk, records) => {
        await jobs.enqueueChunk(job.jobId, chunk, records);
      },
    );
    await jobs.seal(job.jobId, cut.chunks, []);
    reset();
    const sent = { ...(store.batcher?.stats ?? { transactions: 0, units: 0 }) };
    const javaBefore = cpuSecondsOf(javaPid);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // Two chunks at a time, as the import function's queue poller runs them locally.
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < chunks.length) await jobs.processChunk(chunks[next++] as ChunkMessage);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const javaAfter = cpuSecondsOf(javaPid);
    const stats = store.batcher?.stats;
    const rowsPerTransaction = stats ? (stats.units - sent.units) / Math.max(1, stats.transactions - sent.transactions) : 1;
    return {
      job: await jobs.get(job.jobId),
      rate: ROWS / seconds,
      read: meter.read,
      write: meter.write,
      requests: new Map(meter.requests),
      chunks: cut.chunks,
      rowsPerTransaction,
      nodePerUser: (cpu.user + cpu.system) / 1e6 / ROWS,
      javaPerUser: javaBefore === undefined || javaAfter === undefined ? undefined : (javaAfter - javaBefore) / ROWS,
    };
  };

  const dry = await runImport('bench-dry-run-0000000', true);
  const first = await runImport('bench-first-run-00000');
  const again = await runImport('bench-second-run-0000');

  reset();
  let exported = 0;
  const exportStarted = performance.now();
  for await (const _text of exportResources(directory, { type: 'User', format: 'csv' }, (n) => (exported = n))) {
    // Written nowhere: the export's own cost is the measure.
  }
  const exportRate = exported / ((performance.now() - exportStarted) / 1000);
  const exportRead = meter.read;

  const perUser = (value: number) => (value / ROWS).toFixed(2);
  const ms = (seconds: number | undefined) => (seconds === undefined ? 'n/a' : `${(seconds * 1000).toFixed(2)} ms`);
  console.log(
    `\nimport of ${ROWS} users in chunks of ${DEFAULT_CHUNK_ROWS} rows (${first.chunks} chunk messages, 1 in 10 users in group Bench), ${batchWrites ? 'rows sharing transactions' : 'one transaction per row'}`,
  );
  console.log(`  transactions:   ${first.rowsPerTransaction.toFixed(1)} rows per user write transaction on the first run`);
  console.log(
    `  first run:      ${first.job.counters.created} created, ${first.job.counters.rejected} rejected; ${perUser(first.write)} WCU and ${perUser(first.read)} RCU per user`,
  );
  console.log(`                  requests per user: ${requestsPerUser(first.requests, ROWS)}`);
  console.log(
    `  second run:     ${again.job.counters.unchanged} unchanged, ${again.job.counters.updated} updated, ${again.job.counters.rejected} rejected; ${perUser(again.write)} WCU and ${perUser(again.read)} RCU per user (writes: the job's own counters)`,
  );
  console.log(`                  requests per user: ${requestsPerUser(again.requests, ROWS)}`);
  console.log(`  dry run:        ${dry.job.counters.created} would be created; ${perUser(dry.write)} WCU and ${perUser(dry.read)} RCU per user`);
  console.log(`  per chunk:      ${(first.write / first.chunks).toFixed(0)} WCU, ${(first.read / first.chunks).toFixed(0)} RCU`);
  console.log(
    `  CPU per user:   DynamoDB Local ${ms(first.javaPerUser)} importing, ${ms(transactional.javaPerUser)} in bare conditional transactions, ${ms(raw.javaPerUser)} raw; the import's own process ${ms(first.nodePerUser)}`,
  );
  console.log(
    `  rate:           import at ${((first.rate / raw.rate) * 100).toFixed(0)}% of raw BatchWriteItem of the same items (raw at its best with ${raw.writers} writers; aim: 70% or better)`,
  );
  console.log(
    `                  bare conditional transactions of the same items at ${((transactional.rate / raw.rate) * 100).toFixed(0)}% of raw: the ceiling of all-or-nothing rows with exact uniqueness on DynamoDB Local`,
  );
  console.log(`  export (CSV):   ${(exportRate / first.rate).toFixed(1)}x the import's rate; ${(exportRead / ROWS).toFixed(2)} RCU per user`);
};

/** Reading and cutting a large CSV with nothing else: resident memory stays flat as rows grow. */
const memoryBench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-bench-'));
  try {
    const file = join(dir, 'users.csv');
    writeFileSync(file, csvOf(FILE_ROWS, 'mem'));
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    let chunks = 0;
    const cut = await cutIntoChunks(
      { rowOffset: 0, chunkRows: DEFAULT_CHUNK_ROWS, options },
      readImportRecords(createReadStream(file), { format: 'csv', mode: options.mode, match: options.match }),
      async () => {
        chunks++;
        if (chunks % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      },
    );
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `\nreading and cutting a ${FILE_ROWS}-row CSV: ${cut.chunks} chunks; peak resident memory ${(peak / 1024 / 1024).toFixed(0)} MB (${((peak - base) / 1024 / 1024).toFixed(0)} MB above the process at rest; aim: under 200 MB in all)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

// The memory first, in a process that has imported nothing yet: what `ops import` holds for a large file.
await memoryBench();
const dynamodb = await startDynamoDbLocal();
try {
  // Before and after: rows written one transaction each, then sharing transactions as the import function writes them.
  if (process.env.IMPORT_BENCH_SINGLE !== 'false') await importBench(dynamodb.endpoint, dynamodb.pid, false);
  await importBench(dynamodb.endpoint, dynamodb.pid, true);
} finally {
  await dynamodb.stop();
}
