import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { SingleBar } from 'cli-progress';
import { makeDirectory } from '#shared/directory/directory.service.ts';
import { objectStoreOf } from '#shared/objects/object-store.wiring.ts';
import { wireImportJobs } from '#shared/provisioning/import-jobs.wiring.ts';
import { DynamoDirectoryStore } from '#shared/store/directory.repository.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { exportResources } from '#shared/transfer/export.ts';
import { type ImportMapping, ImportMappingSchema } from '#shared/transfer/import-mapping.ts';
import { cutIntoChunks } from '#shared/transfer/import-job.service.ts';
import { formatOfFileName, readImportRecords } from '#shared/transfer/import-records.ts';
import {
  type ImportJob,
  type ImportOptions,
  ImportOptionsSchema,
  type ImportRecord,
  type RejectedRow,
  TRANSFER_FORMATS,
  type TransferFormat,
} from '#shared/transfer/transfer.types.ts';
import { callLocalAdmin, type HubConnection } from './local-hub-connection.ts';
import { stageHubQueueName } from './stage-queue-names.ts';

export const transferUsage = `  npm run ops -- import <file.csv|file.json|file.ndjson> [--dry-run] [--mode create|update|upsert]
                 [--match userName|externalId] [--no-provision] [--mapping map.json]
      import users (and the groups they name) from a file, in chunks through an import job; a
      second run of the same file resumes an unfinished job and otherwise changes nothing
  npm run ops -- export users|groups --format csv|json|ndjson [--filter '<SCIM filter>'] [--attributes a,b] [--output file]
      write users or groups to a file (stdout without --output), page by page`;

/** The job API an import is driven through: the local admin API, or the stage's table and queue. */
interface ImportJobsApi {
  start(body: Record<string, unknown>): Promise<{ job: ImportJob; resumed: boolean }>;
  chunk(jobId: string, chunk: number, records: ImportRecord[]): Promise<void>;
  seal(jobId: string, chunks: number, warnings: string[]): Promise<ImportJob>;
  get(jobId: string): Promise<ImportJob>;
  rejected(jobId: string, cursor: string | undefined): Promise<{ rejected: RejectedRow[]; nextCursor?: string }>;
}

const jobPath = (jobId: string) => `/imports/${encodeURIComponent(jobId)}`;

const importJobsApi = async (hub: HubConnection): Promise<ImportJobsApi> => {
  if (hub.kind === 'local') {
    return {
      start: async (body) => (await callLocalAdmin(hub, 'POST', '/imports', {}, body)) as { job: ImportJob; resumed: boolean },
      chunk: async (jobId, chunk, records) => {
        await callLocalAdmin(hub, 'POST', `${jobPath(jobId)}/chunks`, {}, { chunk, records });
      },
      seal: async (jobId, chunks, warnings) =>
        ((await callLocalAdmin(hub, 'POST', `${jobPath(jobId)}/seal`, {}, { chunks, warnings })) as { job: ImportJob }).job,
      get: async (jobId) => ((await callLocalAdmin(hub, 'GET', jobPath(jobId))) as { job: ImportJob }).job,
      rejected: async (jobId, cursor) =>
        (await callLocalAdmin(hub, 'GET', `${jobPath(jobId)}/rejected`, { limit: '100', cursor })) as { rejected: RejectedRow[]; nextCursor?: string },
    };
  }
  // Against a stage: the same job service, with the operator's credentials, on its table and import queue.
  const queueName = stageHubQueueName(process.env.STAGE_NAME ?? 'prod', 'import');
  const queueUrl = (await hub.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl ?? '';
  // IMPORT_BUCKET (the stack's ImportBucketName output) lets chunks of wide rows travel by reference, as the admin API's do.
  const bucket = process.env.IMPORT_BUCKET;
  const { jobs } = wireImportJobs({
    documents: createDocumentClient(hub.dynamodb),
    tableName: hub.tableName,
    sqs: hub.sqs,
    queueUrl,
    ...(bucket ? { objects: objectStoreOf(bucket) } : {}),
  });
  return {
    start: async (body) => {
      const { source, fingerprint, ...options } = body as { source: string; fingerprint: string } & ImportOptions;
      return jobs.start({ source, fingerprint, options: ImportOptionsSchema.parse(options) });
    },
    chunk: async (jobId, chunk, records) => {
      await jobs.enqueueChunk(jobId, chunk, records);
    },
    seal: (jobId, chunks, warnings) => jobs.seal(jobId, chunks, warnings),
    get: (jobId) => jobs.get(jobId),
    rejected: async (jobId, cursor) => {
      const page = await jobs.rejected(jobId, { limit: 100, ...(cursor ? { cursor } : {}) });
      return { rejected: page.items, ...(page.next ? { nextCursor: page.next } : {}) };
    },
  };
};

/** The file's SHA-256 with the options: a second start of the same import is the same job. */
export const fingerprintOf = async (file: string, options: ImportOptions, mapping: string | undefined): Promise<string> => {
  const hash = createHash('sha256');
  for await (const part of createReadStream(file)) hash.update(part as Buffer);
  hash.update(JSON.stringify({ options, mapping: mapping ?? null }));
  return hash.digest('base64url');
};

/** How long the command follows a job in which no chunk is counted before it hands back. */
const STALL_MS = 5 * 60_000;

export interface ImportCommandOptions {
  dryRun: boolean;
  mode?: string;
  match?: string;
  provision: boolean;
  mapping?: string;
  /** How often the job is read while it runs (ms). */
  pollMs?: number;
}

const summaryOf = (job: ImportJob): string => {
  const c = job.counters;
  const verb = job.options.dryRun ? 'would be ' : '';
  return `${job.jobId} ${job.state}${job.options.dryRun ? ' (dry run: nothing written)' : ''}: ${c.rows} rows, ${c.created} ${verb}created, ${c.updated} ${verb}updated, ${c.unchanged} unchanged, ${c.rejected} rejected; ${c.groupsCreated} group(s) ${verb}created`;
};

/**
 * `ops import`: reads the file as it streams, cuts it into the job's chunks and hands them to
 * the job API, then follows the job until every chunk is counted: a progress bar on a terminal,
 * a line every few seconds otherwise, and a summary with the rejected rows at the end.
 * Exit code 0 when every row went in (or would), 1 when some were rejected.
 */
export const runImport = async (
  hub: HubConnection,
  file: string,
  flags: ImportCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> => {
  const format = formatOfFileName(file);
  if (!format) throw new Error(`${file}: the name must end in .csv, .json or .ndjson`);
  const parsedOptions = ImportOptionsSchema.safeParse({ mode: flags.mode, match: flags.match, provision: flags.provision, dryRun: flags.dryRun });
  if (!parsedOptions.success) throw new Error(parsedOptions.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const options = parsedOptions.data;
  const mappingText = flags.mapping ? readFileSync(flags.mapping, 'utf8') : undefined;
  let mapping: ImportMapping | undefined;
  if (mappingText !== undefined) {
    const parsed = ImportMappingSchema.safeParse(JSON.parse(mappingText));
    if (!parsed.success) throw new Error(`${flags.mapping}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    mapping = parsed.data;
  }
  const api = await importJobsApi(hub);
  const fingerprint = await fingerprintOf(file, options, mappingText);
  const { job, resumed } = await api.start({ source: basename(file), fingerprint, ...options });
  if (resumed) err.write(`resuming ${job.jobId} from row ${job.rowOffset}\n`);

  const tty = Boolean((err as NodeJS.WriteStream).isTTY);
  const bar = tty
    ? new SingleBar({ format: 'import [{bar}] {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}', stream: err, hideCursor: true })
    : undefined;
  const started = Date.now();
  let lastLine = 0;
  const show = (current: ImportJob, queued: number) => {
    const rate = ((current.counters.rows / Math.max(0.001, (Date.now() - started) / 1000)) | 0).toString();
    if (bar) {
      bar.setTotal(Math.max(queued, current.counters.rows, 1));
      bar.update(current.counters.rows, { rate });
    } else if (Date.now() - lastLine > 5_000 || current.state === 'completed') {
      lastLine = Date.now();
      err.write(`${current.jobId}: ${current.counters.rows}/${queued} rows applied, ${rate} rows/s\n`);
    }
  };
  bar?.start(1, 0, { rate: '0' });

  let warnings: string[] = job.warnings ?? [];
  let queued = job.rowOffset;
  let current = job;
  if (job.state === 'receiving') {
    const records = readImportRecords(createReadStream(file), {
      format,
      mode: options.mode,
      match: options.match,
      ...(mapping ? { mapping } : {}),
      onWarnings: (w) => (warnings = w),
    });
    const { chunks, rows } = await cutIntoChunks(job, records, async (chunk, part) => {
      await api.chunk(job.jobId, chunk, part);
      queued = chunk * job.chunkRows + part.length;
      if (bar) bar.setTotal(Math.max(queued, 1));
    });
    queued = rows;
    for (const warning of warnings) err.write(`${bar ? '\n' : ''}warning: ${warning}\n`);
    current = await api.seal(job.jobId, chunks, warnings);
  }
  const pollMs = flags.pollMs ?? 500;
  let lastProgress = { rows: current.counters.rows, at: Date.now() };
  while (current.state !== 'completed' && current.state !== 'failed') {
    show(current, queued);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    current = await api.get(job.jobId);
    if (current.counters.rows !== lastProgress.rows) lastProgress = { rows: current.counters.rows, at: Date.now() };
    else if (Date.now() - lastProgress.at > STALL_MS) {
      bar?.stop();
      err.write(
        `${current.jobId}: no chunk counted for ${STALL_MS / 60_000} minutes (${current.chunksDone} of ${current.totalChunks ?? '?'}); it goes on in the background. A chunk that keeps failing ends in the import queue's DLQ; run the same command again to follow the job.\n`,
      );
      return 1;
    }
  }
  show(current, queued);
  bar?.stop();
  out.write(`${summaryOf(current)}\n`);
  if (current.state === 'failed') err.write(`failed: ${current.error ?? 'unknown'}\n`);
  let cursor: string | undefined;
  let shown = 0;
  do {
    const page = await api.rejected(job.jobId, cursor);
    for (const row of page.rejected) {
      out.write(`  row ${row.row}${row.column ? ` (${row.column})` : ''}: ${row.reason}\n`);
      shown += 1;
    }
    cursor = page.nextCursor;
  } while (cursor && shown < 1000);
  if (cursor) out.write(`  ... more rejected rows: GET /admin/imports/${job.jobId}/rejected\n`);
  return current.state === 'completed' && current.counters.rejected === 0 ? 0 : 1;
};

export interface ExportCommandOptions {
  format?: string;
  filter?: string;
  attributes?: string;
  output?: string;
}

/**
 * `ops export`: pages of the directory's list use case, in this process, on the hub's table
 * (found through DATA_DIR locally, TABLE_NAME in AWS), written out as they arrive.
 */
export const runExport = async (
  hub: HubConnection,
  what: string | undefined,
  flags: ExportCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> => {
  const type = what === 'users' ? 'User' : what === 'groups' ? 'Group' : undefined;
  if (!type) throw new Error('export users or export groups');
  const format = flags.format as TransferFormat | undefined;
  if (!format || !TRANSFER_FORMATS.includes(format)) throw new Error(`--format must be one of ${TRANSFER_FORMATS.join(', ')}`);
  const directory = makeDirectory({
    store: new DynamoDirectoryStore(createDocumentClient(hub.dynamodb), hub.tableName),
    clock: () => new Date(),
    newId: () => {
      throw new Error('an export writes nothing');
    },
    onUnknownAttributes: () => undefined,
  });
  const attributes = flags.attributes
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  let exported = 0;
  const chunks = exportResources(
    directory,
    { type, format, ...(flags.filter ? { filter: flags.filter } : {}), ...(attributes?.length ? { attributes } : {}) },
    (n) => {
      exported = n;
    },
  );
  const target: Writable = flags.output ? createWriteStream(flags.output) : (out as Writable);
  await pipeline(chunks, target, { end: Boolean(flags.output) });
  if (flags.output) process.stderr.write(`exported ${exported} ${what} to ${flags.output}\n`);
  return 0;
};
