import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { ensureTable } from '../infra/local/table.ts';
import { makeDirectory } from '../shared/directory/directory.service.ts';
import { DynamoDirectoryStore } from '../shared/store/directory.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { emailKey, resourceKey, typeIndexKey, uniqueKey } from '../shared/store/hub-table.layout.ts';
import { DynamoImportJobStore } from '../shared/store/import-job.repository.ts';
import { exportResources } from '../shared/transfer/export.ts';
import { makeChunkImporter } from '../shared/transfer/import-chunk.ts';
import { cutIntoChunks, makeImportJobs } from '../shared/transfer/import-job.service.ts';
import { readImportRecords } from '../shared/transfer/import-records.ts';
import { type ChunkMessage, DEFAULT_CHUNK_ROWS, ImportOptionsSchema } from '../shared/transfer/transfer.types.ts';
import { hubTable } from '../shared/topology/table.spec.ts';

/**
 * Import and export: DynamoDB capacity units per imported user and per chunk (what an AWS bill
 * is made of), the import's rate as a share of raw DynamoDB Local writes of the same items on
 * this machine (aim: 70% or better), the export's rate next to the import's, and the resident
 * memory of reading and cutting a large file (it streams: memory stays flat with the row count).
 *
 * IMPORT_BENCH_ROWS (default 2 000) sizes the import against DynamoDB Local;
 * IMPORT_BENCH_FILE_ROWS (default 100 000) sizes the file that is read and cut without a table;
 * IMPORT_BENCH_SINGLE=false leaves out the run with one transaction per row (the before figure).
 */
const ROWS = Number(process.env.IMPORT_BENCH_ROWS ?? 2_000);
const FILE_ROWS = Number(process.env.IMPORT_BENCH_FILE_ROWS ?? 100_000);
const options = ImportOptionsSchema.parse({ provision: false });

const csvOf = (rows: number, prefix: string) => {
  const lines = ['userName,name.givenName,name.familyName,"emails[type eq ""work""].value",active,groups'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,Given${i},Family,${prefix}${i}@example.com,true,${i % 10 === 0 ? 'Bench' : ''}`);
  return `${lines.join('\n')}\n`;
};

const meteredClient = (endpoint: string) => {
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint });
  const meter = { read: 0, write: 0 };
  const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const entry of [consumed].flat() as Array<{ CapacityUnits?: number } | undefined>) {
        if (!entry) continue;
        if (READS.has(context.commandName ?? '')) meter.read += entry.CapacityUnits ?? 0;
        else meter.write += entry.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'consumedCapacityMeter' },
  );
  return { raw, meter };
};

/** The items one imported user is in the table, written with BatchWriteItem 25 at a time: the ceiling. */
const rawWrites = async (client: ReturnType<typeof createDocumentClient>, tableName: string, rows: number): Promise<number> => {
  const items: Array<Record<string, unknown>> = [];
  const created = new Date().toISOString();
  for (let i = 0; i < rows; i++) {
    const id = randomUUID();
    const userName = `raw${i}@example.com`;
    const data = { userName, name: { givenName: `Given${i}`, familyName: 'Family' }, emails: [{ type: 'work', value: userName }], active: true };
    items.push({
      ...resourceKey('User', id),
      ...typeIndexKey('User', created, id),
      id,
      resourceType: 'User',
      version: 1,
      created,
      lastModified: created,
      data,
    });
    items.push({ ...uniqueKey('User', { attribute: 'userName', value: userName }), owner: id });
    items.push({ ...emailKey(userName, id), userId: id });
  }
  const started = performance.now();
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  // As many writers as the import runs rows at once.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        let request: Record<string, unknown> | undefined = { [tableName]: (batches[next++] ?? []).map((Item) => ({ PutRequest: { Item } })) };
        while (request && Object.keys(request).length > 0) {
          const result = await client.send(new BatchWriteCommand({ RequestItems: request as never }));
          request = result.UnprocessedItems as Record<string, unknown> | undefined;
        }
      }
    }),
  );
  return rows / ((performance.now() - started) / 1000);
};

const importBench = async (endpoint: string, batchWrites: boolean) => {
  const tableName = `bench-import-${randomUUID().slice(0, 6)}`;
  const { raw, meter } = meteredClient(endpoint);
  await ensureTable(raw, hubTable, tableName);
  const documents = createDocumentClient(raw);
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
    meter.read = 0;
    meter.write = 0;
    const sent = { ...(store.batcher?.stats ?? { transactions: 0, units: 0 }) };
    const started = performance.now();
    // Two chunks at a time, as the import function's queue poller runs them locally.
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < chunks.length) await jobs.processChunk(chunks[next++] as ChunkMessage);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const stats = store.batcher?.stats;
    const rowsPerTransaction = stats ? (stats.units - sent.units) / Math.max(1, stats.transactions - sent.transactions) : 1;
    return { job: await jobs.get(job.jobId), rate: ROWS / seconds, read: meter.read, write: meter.write, chunks: cut.chunks, rowsPerTransaction };
  };

  const dry = await runImport('bench-dry-run-0000000', true);
  const first = await runImport('bench-first-run-00000');
  const again = await runImport('bench-second-run-0000');
  const rawRate = await rawWrites(documents, tableName, ROWS);

  meter.read = 0;
  let exported = 0;
  const exportStarted = performance.now();
  for await (const _text of exportResources(directory, { type: 'User', format: 'csv' }, (n) => (exported = n))) {
    // Written nowhere: the export's own cost is the measure.
  }
  const exportRate = exported / ((performance.now() - exportStarted) / 1000);
  const exportRead = meter.read;

  const perUser = (value: number) => (value / ROWS).toFixed(2);
  console.log(
    `\nimport of ${ROWS} users in chunks of ${DEFAULT_CHUNK_ROWS} rows (${first.chunks} chunk messages, 1 in 10 users in group Bench), ${batchWrites ? 'rows sharing transactions' : 'one transaction per row'}`,
  );
  console.log(`  transactions:   ${first.rowsPerTransaction.toFixed(1)} rows per user write transaction on the first run`);
  console.log(
    `  first run:      ${first.job.counters.created} created, ${first.job.counters.rejected} rejected; ${perUser(first.write)} WCU and ${perUser(first.read)} RCU per user`,
  );
  console.log(
    `  second run:     ${again.job.counters.unchanged} unchanged, ${again.job.counters.updated} updated, ${again.job.counters.rejected} rejected; ${perUser(again.write)} WCU and ${perUser(again.read)} RCU per user (writes: the job's own counters)`,
  );
  console.log(`  dry run:        ${dry.job.counters.created} would be created; ${perUser(dry.write)} WCU and ${perUser(dry.read)} RCU per user`);
  console.log(`  per chunk:      ${(first.write / first.chunks).toFixed(0)} WCU, ${(first.read / first.chunks).toFixed(0)} RCU`);
  console.log(`  rate:           import at ${((first.rate / rawRate) * 100).toFixed(0)}% of raw BatchWriteItem of the same items (aim: 70% or better)`);
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
  if (process.env.IMPORT_BENCH_SINGLE !== 'false') await importBench(dynamodb.endpoint, false);
  await importBench(dynamodb.endpoint, true);
} finally {
  await dynamodb.stop();
}
