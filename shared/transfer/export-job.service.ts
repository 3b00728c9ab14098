/**
 * Exports to the import bucket: an operator asks for one (the admin API), the import function
 * writes the file under `exports/` as the directory's pages stream out, and the job hands back
 * a download URL that needs no credentials, for a while. The request answers at once; a large
 * export is written by the function, never inside the 29 s of an API call.
 */
import type { Directory } from '../directory/directory.service.ts';
import { ScimError } from '../scim/errors.ts';
import { type ExportRequest, exportResources } from './export.ts';
import { ImportJobError } from './import-job.service.ts';
import type { ChunkQueue, ExportJobStore } from './import-job.ports.ts';
import { BUCKET_PREFIXES, type ObjectStore } from './object-store.port.ts';
import type { ExportJob, TransferFormat } from './transfer.types.ts';

/** How long a download URL works. */
export const DOWNLOAD_URL_SECONDS = 3600;

const CONTENT_TYPES: Record<TransferFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
};

export interface ExportJobsDeps {
  exports: ExportJobStore;
  queue: ChunkQueue;
  objects: ObjectStore;
  clock: () => Date;
  newId: () => string;
  /** The directory the export reads (only where exports are written). */
  directory?: Directory;
}

export const makeExportJobs = (deps: ExportJobsDeps) => {
  const now = () => deps.clock().toISOString();

  /** Records an export job and queues it; the job answers at once, in state `running`. */
  const request = async (asked: Omit<ExportRequest, 'pageSize'>): Promise<ExportJob> => {
    const timestamp = now();
    const job: ExportJob = {
      exportId: deps.newId(),
      state: 'running',
      created: timestamp,
      updated: timestamp,
      type: asked.type,
      format: asked.format,
      ...(asked.filter ? { filter: asked.filter } : {}),
      ...(asked.attributes?.length ? { attributes: asked.attributes } : {}),
    };
    await deps.exports.create(job);
    await deps.queue.send({ kind: 'export', exportId: job.exportId });
    return job;
  };

  /** The job, with a fresh download URL once its file is written. */
  const get = async (exportId: string): Promise<ExportJob & { url?: string; urlExpiresInSeconds?: number }> => {
    const job = await deps.exports.get(exportId);
    if (!job) throw new ImportJobError('transfer.jobNotFound', `no export job ${exportId}`);
    if (job.state !== 'completed' || !job.key) return job;
    return { ...job, url: await deps.objects.downloadUrl(job.key, DOWNLOAD_URL_SECONDS), urlExpiresInSeconds: DOWNLOAD_URL_SECONDS };
  };

  /**
   * Writes the job's file: the object appears whole or not at all, so a run that dies leaves
   * nothing, and the message delivered again writes it again. A filter the directory refuses
   * ends the job as failed, saying why.
   */
  const run = async (exportId: string): Promise<'written' | 'failed' | 'finished'> => {
    const job = await deps.exports.get(exportId);
    if (job?.state !== 'running') return 'finished';
    if (!deps.directory) throw new Error('exports are written where the directory is wired');
    const key = `${BUCKET_PREFIXES.exports}${exportId}.${job.format}`;
    let exported = 0;
    try {
      const { size } = await deps.objects.write(
        key,
        exportResources(
          deps.directory,
          { type: job.type, format: job.format, ...(job.filter ? { filter: job.filter } : {}), ...(job.attributes ? { attributes: job.attributes } : {}) },
          (count) => {
            exported = count;
          },
        ),
        CONTENT_TYPES[job.format],
      );
      await deps.exports.finish(exportId, { state: 'completed', key, exported, bytes: size, updated: now() });
      return 'written';
    } catch (error) {
      if (error instanceof ScimError && error.status < 500) {
        await deps.exports.finish(exportId, { state: 'failed', error: error.message, updated: now() });
        return 'failed';
      }
      throw error;
    }
  };

  return { request, get, run };
};

export type ExportJobs = ReturnType<typeof makeExportJobs>;
