/**
 * Import jobs: a file is cut into chunks of rows, each chunk travels on a queue to the code that
 * applies it, and a job record counts what became of every row. The same service runs wherever
 * the file is: the CLI cuts a local file and hands its chunks to the admin API, the import
 * function cuts an object of the import bucket; both end in `processChunk` behind the queue.
 *
 * A killed import loses nothing: the job's row offset says how far the cutting got, a second
 * start of the same file (same fingerprint) resumes the job from there, and a chunk that is
 * applied twice (redelivered, or cut again) is counted once and changes nothing the second time.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { ChunkImporter } from './import-chunk.ts';
import type { ChunkQueue, ImportJobStore } from './import-job.ports.ts';
import type { ReadRecord } from './import-records.ts';
import { BUCKET_PREFIXES, type ObjectStore } from './object-store.port.ts';
import {
  type ChunkMessage,
  DEFAULT_CHUNK_ROWS,
  emptyCounters,
  type ImportJob,
  type ImportOptions,
  type ImportRecord,
  ImportRecordSchema,
  MAX_CHUNK_ROWS,
} from './transfer.types.ts';

/** An import job that does not exist, or is in no state for the request. */
export class ImportJobError extends AppError {
  constructor(
    code: keyof typeof ImportJobError.STATUS,
    message: string,
    readonly status: 400 | 404 | 409 | 413 = ImportJobError.STATUS[code],
  ) {
    super(code, message);
  }

  static readonly STATUS = {
    'transfer.jobNotFound': 404,
    'transfer.jobFinished': 409,
    'transfer.invalidChunk': 400,
    'transfer.chunkTooLarge': 413,
    'transfer.invalidSource': 400,
    'transfer.sourceNotFound': 404,
  } as const;
}

/** What one queue message may carry (SQS: 256 KiB), with room for its attributes. */
export const MAX_CHUNK_BYTES = 250_000;

/** The import bucket key of a chunk carried by reference. */
export const chunkObjectKey = (jobId: string, chunk: number) => `${BUCKET_PREFIXES.chunks}${jobId}/${String(chunk).padStart(6, '0')}.json`;

export interface ImportJobsDeps {
  jobs: ImportJobStore;
  queue: ChunkQueue;
  importer: ChunkImporter;
  clock: () => Date;
  newId: () => string;
  /**
   * The import bucket: a chunk whose message would pass MAX_CHUNK_BYTES (wide rows) is written
   * there and its message carries the key. Without one such a chunk is refused (413).
   */
  objects?: ObjectStore;
}

/** An object's whole content as UTF-8 text (a chunk or a mapping: small by their limits). */
export const readAll = async (body: AsyncIterable<Uint8Array>): Promise<string> => {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString('utf8');
};

export interface StartImport {
  source: string;
  /** What makes two starts the same import: the file's content digest and the options. */
  fingerprint: string;
  options: ImportOptions;
  chunkRows?: number;
  /** What the operator should know from the start (metadata no option answers to). */
  warnings?: string[];
}

export const makeImportJobs = (deps: ImportJobsDeps) => {
  const now = () => deps.clock().toISOString();

  const load = async (jobId: string): Promise<ImportJob> => {
    const job = await deps.jobs.get(jobId);
    if (!job) throw new ImportJobError('transfer.jobNotFound', `no import job ${jobId}`);
    return job;
  };

  const start = async (request: StartImport): Promise<{ job: ImportJob; resumed: boolean }> => {
    const chunkRows = request.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS) {
      throw new ImportJobError('transfer.invalidChunk', `chunkRows must be a whole number from 1 to ${MAX_CHUNK_ROWS}`);
    }
    const timestamp = now();
    return deps.jobs.createOrResume({
      jobId: deps.newId(),
      state: 'receiving',
      created: timestamp,
      updated: timestamp,
      source: request.source,
      fingerprint: request.fingerprint,
      options: request.options,
      chunkRows,
      rowOffset: 0,
      chunksDone: 0,
      counters: emptyCounters(),
      warnings: request.warnings ?? [],
    });
  };

  /**
   * The chunk's message: its rows, or, when they would not fit a queue message, the key of the
   * bucket object they were written to. Written again the same when a chunk is cut again.
   */
  const messageOf = async (jobId: string, chunk: number, records: ImportRecord[]): Promise<ChunkMessage> => {
    const message: ChunkMessage = { jobId, chunk, records };
    const bytes = Buffer.byteLength(JSON.stringify(message), 'utf8');
    if (bytes <= MAX_CHUNK_BYTES) return message;
    if (!deps.objects) {
      throw new ImportJobError(
        'transfer.chunkTooLarge',
        `chunk ${chunk} takes ${bytes} bytes, a queue message at most ${MAX_CHUNK_BYTES}: start the import with fewer rows per chunk`,
      );
    }
    const recordsKey = chunkObjectKey(jobId, chunk);
    await deps.objects.write(recordsKey, [JSON.stringify(records)], 'application/json');
    return { jobId, chunk, recordsKey };
  };

  /** The rows of a chunk message, read from the bucket when it carries them by reference. */
  const recordsOf = async (message: ChunkMessage): Promise<ImportRecord[]> => {
    if ('records' in message) return message.records;
    if (!deps.objects) throw new Error(`chunk ${message.chunk} of ${message.jobId} is in the import bucket, and this function has no bucket grant`);
    const parsed = ImportRecordSchema.array()
      .max(MAX_CHUNK_ROWS)
      .safeParse(JSON.parse(await readAll(await deps.objects.read(message.recordsKey))));
    if (!parsed.success) throw new ImportJobError('transfer.invalidChunk', `${message.recordsKey} holds no chunk of rows`);
    return parsed.data;
  };

  /**
   * Records an import that cannot start, its options being wrong, as a failed job that says why:
   * the operator finds it where imports are listed, and nothing runs on a default in its place.
   * Its id comes from the fingerprint, so the same refusal delivered twice is one job.
   */
  const refuse = async (request: StartImport, error: string): Promise<ImportJob> => {
    const timestamp = now();
    return deps.jobs.createFailed({
      jobId: `imp_${createHash('sha256').update(request.fingerprint).digest('hex').slice(0, 20)}`,
      state: 'failed',
      error,
      created: timestamp,
      updated: timestamp,
      source: request.source,
      fingerprint: request.fingerprint,
      options: request.options,
      chunkRows: request.chunkRows ?? DEFAULT_CHUNK_ROWS,
      rowOffset: 0,
      chunksDone: 0,
      counters: emptyCounters(),
      warnings: request.warnings ?? [],
    });
  };

  /** Queues one chunk of a job that is still receiving, and moves its row offset past it. */
  const enqueueChunk = async (jobId: string, chunk: number, records: ImportRecord[]): Promise<ImportJob> => {
    const job = await load(jobId);
    if (job.state === 'completed' || job.state === 'failed') throw new ImportJobError('transfer.jobFinished', `import job ${jobId} is ${job.state}`);
    if (records.length === 0 || records.length > job.chunkRows) {
      throw new ImportJobError('transfer.invalidChunk', `a chunk of job ${jobId} holds from 1 to ${job.chunkRows} rows, not ${records.length}`);
    }
    await deps.queue.send(await messageOf(jobId, chunk, records));
    const rowOffset = chunk * job.chunkRows + records.length;
    await deps.jobs.advance(jobId, rowOffset, now());
    return { ...job, rowOffset: Math.max(job.rowOffset, rowOffset) };
  };

  /** Every chunk is queued: the job waits for them to be counted (or is complete already). */
  const seal = async (jobId: string, totalChunks: number, warnings: string[]): Promise<ImportJob> => {
    await load(jobId);
    await deps.jobs.seal(jobId, totalChunks, warnings, now());
    await deps.jobs.completeIfDone(jobId, now());
    return load(jobId);
  };

  /** Applies one chunk and counts it into its job, once. */
  const processChunk = async (message: ChunkMessage): Promise<'applied' | 'again' | 'finished'> => {
    const job = await deps.jobs.get(message.jobId);
    if (!job || job.state === 'completed' || job.state === 'failed') return 'finished';
    const provision = job.options.provision && !job.options.dryRun;
    const result = await deps.importer.apply(await recordsOf(message), job.options, { trigger: 'import', jobId: job.jobId, provision });
    const counted = await deps.jobs.recordChunk(job.jobId, message.chunk, result, now());
    await deps.jobs.completeIfDone(job.jobId, now());
    return counted ? 'applied' : 'again';
  };

  return {
    start,
    refuse,
    enqueueChunk,
    seal,
    processChunk,
    get: load,
    rejected: (jobId: string, options: { limit: number; cursor?: string }) => deps.jobs.rejected(jobId, options),
    list: (options: { limit: number; cursor?: string }) => deps.jobs.list(options),
    fail: async (jobId: string, error: string) => deps.jobs.fail(jobId, error, now()),
  };
};

export type ImportJobs = ReturnType<typeof makeImportJobs>;

/**
 * Cuts a file's records into the job's chunks, from its row offset on: rows before it were
 * queued by an earlier start and are only read for their keys, so a userName (or the matched
 * externalId) that a file repeats is rejected however the import was interrupted. The chunk of a
 * row is fixed by its position (row index / chunkRows), so a chunk cut again is the same chunk,
 * and a complete cut counts every chunk of the file (rows / chunkRows, rounded up), those an
 * earlier cutter queued included: a cutter that resumes after the last, partial chunk was queued
 * seals the job with the same total as the cutter that queued it.
 */
export const cutIntoChunks = async (
  job: Pick<ImportJob, 'rowOffset' | 'chunkRows' | 'options'>,
  records: AsyncIterable<ReadRecord>,
  send: (chunk: number, records: ImportRecord[]) => Promise<void>,
  /** Asked after each chunk is sent: true stops the cutting there (the job's row offset says where). */
  stopAfterChunk: () => boolean = () => false,
): Promise<{ chunks: number; rows: number; complete: boolean }> => {
  const firstSeen = new Map<string, number>();
  const repeated = (key: string | undefined, row: number): number | undefined => {
    if (key === undefined) return undefined;
    const earlier = firstSeen.get(key);
    if (earlier === undefined) firstSeen.set(key, row);
    return earlier;
  };
  let position = 0;
  let batch: ImportRecord[] = [];
  let chunk = Math.floor(job.rowOffset / job.chunkRows);
  for await (const read of records) {
    let record = read.record;
    if (!('rejected' in record)) {
      const sameName = repeated(read.userName === undefined ? undefined : `u:${read.userName}`, record.row);
      const sameExternalId =
        job.options.match === 'externalId' ? repeated(read.externalId === undefined ? undefined : `e:${read.externalId}`, record.row) : undefined;
      const earlier = sameName ?? sameExternalId;
      if (earlier !== undefined) {
        const column = sameName !== undefined ? 'userName' : 'externalId';
        record = { row: record.row, rejected: { column, reason: `the file has this ${column} already, on row ${earlier}` } };
      }
    }
    position += 1;
    if (position <= job.rowOffset) continue;
    batch.push(record);
    if (batch.length === job.chunkRows) {
      await send(chunk, batch);
      chunk += 1;
      batch = [];
      if (stopAfterChunk()) return { chunks: chunk, rows: position, complete: false };
    }
  }
  if (batch.length > 0) await send(chunk, batch);
  return { chunks: Math.ceil(position / job.chunkRows), rows: position, complete: true };
};
