/**
 * Imports of files uploaded to the import bucket: the same import jobs the CLI drives, with the
 * file read from the bucket as it streams. An upload under `imports/` starts one (the bucket's
 * notification), and so can an operator naming an uploaded key (the admin API). The file is cut
 * for as long as the run allows; the rest is carried on by a message on the import queue, from
 * the job's row offset, so a file of any size is cut in runs of bounded length, and a run that
 * dies is carried on by the job's resume.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ChunkQueue } from './import-job.ports.ts';
import { cutIntoChunks, ImportJobError, type ImportJobs } from './import-job.service.ts';
import { ImportFileError, type ImportMapping } from './import-mapping.ts';
import { formatOfFileName, readImportRecords } from './import-records.ts';
import { BUCKET_PREFIXES, type ObjectStore } from './object-store.port.ts';
import { type ImportJob, type ImportOptions, ImportOptionsSchema, MAX_CHUNK_ROWS } from './transfer.types.ts';

export interface ObjectImportsDeps {
  jobs: ImportJobs;
  objects: ObjectStore;
  queue: ChunkQueue;
}

/** What an import of an uploaded file may be told, beside the key. */
export interface ObjectImportRequest {
  options?: ImportOptions;
  chunkRows?: number;
  mapping?: ImportMapping;
}

/** Cutting stops while this much of the run is left, for the last chunk and the message that carries the rest on. */
const CUT_MARGIN_MS = 15_000;

/**
 * The options an upload carries as S3 user metadata (`x-amz-meta-mode`, `-match`, `-provision`,
 * `-dry-run`, `-chunk-rows`); absent ones take the defaults (upsert by userName, provisioned).
 */
export const importOptionsOfMetadata = (metadata: Record<string, string>): { options: ImportOptions; chunkRows?: number } => {
  const flag = (name: string) => (metadata[name] === undefined ? undefined : metadata[name]?.toLowerCase() === 'true');
  const parsed = ImportOptionsSchema.safeParse({ mode: metadata.mode, match: metadata.match, provision: flag('provision'), dryRun: flag('dry-run') });
  if (!parsed.success) {
    throw new ImportJobError(
      'transfer.invalidSource',
      `the upload's metadata: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const chunkRows = metadata['chunk-rows'] === undefined ? undefined : Number(metadata['chunk-rows']);
  if (chunkRows !== undefined && !(Number.isInteger(chunkRows) && chunkRows >= 1 && chunkRows <= MAX_CHUNK_ROWS)) {
    throw new ImportJobError('transfer.invalidSource', `the upload's metadata: chunk-rows must be a whole number from 1 to ${MAX_CHUNK_ROWS}`);
  }
  return { options: parsed.data, ...(chunkRows === undefined ? {} : { chunkRows }) };
};

export const makeObjectImports = (deps: ObjectImportsDeps) => {
  const formatOf = (key: string) => {
    const format = formatOfFileName(key);
    if (!key.startsWith(BUCKET_PREFIXES.imports) || !format) {
      throw new ImportJobError('transfer.invalidSource', `${key}: an import is a key under ${BUCKET_PREFIXES.imports} ending in .csv, .json or .ndjson`);
    }
    return format;
  };

  /**
   * Starts the import of an uploaded key, or resumes the unfinished job of the same content and
   * options; the options come from the request, else from the upload's metadata.
   */
  const start = async (key: string, request: ObjectImportRequest = {}): Promise<{ job: ImportJob; resumed: boolean }> => {
    formatOf(key);
    const object = await deps.objects.head(key);
    if (!object) throw new ImportJobError('transfer.sourceNotFound', `the import bucket has no ${key}`);
    const fromMetadata = request.options ? { options: request.options } : importOptionsOfMetadata(object.metadata);
    const chunkRows = request.chunkRows ?? fromMetadata.chunkRows;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ key, etag: object.etag, options: fromMetadata.options, chunkRows: chunkRows ?? null, mapping: request.mapping ?? null }))
      .digest('base64url');
    return deps.jobs.start({ source: key, fingerprint, options: fromMetadata.options, ...(chunkRows === undefined ? {} : { chunkRows }) });
  };

  /**
   * Cuts the job's file from its row offset into queued chunks while `timeLeftMs` allows, then
   * seals the job, or queues a message that carries the cutting on. A file that cannot be read
   * (a malformed header) fails the job, which says why.
   */
  const cut = async (
    jobId: string,
    key: string,
    mapping: ImportMapping | undefined,
    timeLeftMs: () => number,
  ): Promise<'sealed' | 'continued' | 'failed' | 'finished'> => {
    const job = await deps.jobs.get(jobId);
    if (job.state !== 'receiving') return 'finished';
    let warnings: string[] = [];
    try {
      const records = readImportRecords(Readable.from(await deps.objects.read(key)), {
        format: formatOf(key),
        mode: job.options.mode,
        match: job.options.match,
        ...(mapping ? { mapping } : {}),
        onWarnings: (found) => {
          warnings = found;
        },
      });
      const cutting = await cutIntoChunks(
        job,
        records,
        async (chunk, part) => {
          await deps.jobs.enqueueChunk(jobId, chunk, part);
        },
        () => timeLeftMs() < CUT_MARGIN_MS,
      );
      if (!cutting.complete) {
        await deps.queue.send({ kind: 'cut', jobId, key, ...(mapping ? { mapping } : {}) });
        return 'continued';
      }
      await deps.jobs.seal(jobId, cutting.chunks, warnings);
      return 'sealed';
    } catch (error) {
      // Nothing a second read could change: the operator fixes the file and uploads it again.
      if (error instanceof ImportFileError) {
        await deps.jobs.fail(jobId, error.message);
        return 'failed';
      }
      throw error;
    }
  };

  /** Starts (or resumes) the import of an uploaded key and queues its cutting: what an operator's request does. */
  const request = async (key: string, asked: ObjectImportRequest = {}): Promise<{ job: ImportJob; resumed: boolean }> => {
    const started = await start(key, asked);
    if (started.job.state === 'receiving')
      await deps.queue.send({ kind: 'cut', jobId: started.job.jobId, key, ...(asked.mapping ? { mapping: asked.mapping } : {}) });
    return started;
  };

  return { start, cut, request };
};

export type ObjectImports = ReturnType<typeof makeObjectImports>;
