/**
 * The ports of import jobs: where the job record lives (the hub table, in shared/store) and how
 * chunks travel to the code that applies them (SQS). Nothing here knows either.
 */
import type { ChunkResult, ExportJob, ImportJob, ImportQueueMessage, RejectedRow } from './transfer.types.ts';

export interface ImportJobStore {
  /**
   * Writes a new job, unless an unfinished job with the same fingerprint exists: that one is
   * returned instead (a second start of the same import resumes it).
   */
  createOrResume(job: ImportJob): Promise<{ job: ImportJob; resumed: boolean }>;
  get(jobId: string): Promise<ImportJob | undefined>;
  /** Moves the row offset forward to `rowOffset` (never back: a slower duplicate cutter changes nothing). */
  advance(jobId: string, rowOffset: number, updated: string): Promise<void>;
  /** Every chunk is queued: the job knows its total and moves on to processing (a finished job is left as it is). */
  seal(jobId: string, totalChunks: number, warnings: string[], updated: string): Promise<void>;
  /**
   * Counts a chunk's result into the job, once: the chunk's item and the job's counters in one
   * transaction, conditioned on the chunk's item not existing. False when it was counted before.
   */
  recordChunk(jobId: string, chunk: number, result: ChunkResult, updated: string): Promise<boolean>;
  /** Marks the job completed if every chunk is counted; true when this call completed it. */
  completeIfDone(jobId: string, updated: string): Promise<boolean>;
  fail(jobId: string, error: string, updated: string): Promise<void>;
  /**
   * Writes a job that failed before it started (its options were wrong), unless one with its id
   * exists: that one is returned. It holds no import, so a corrected start is a new job.
   */
  createFailed(job: ImportJob & { state: 'failed'; error: string }): Promise<ImportJob>;
  /** The rejected rows, by chunk, from a cursor. */
  rejected(jobId: string, options: { limit: number; cursor?: string }): Promise<{ items: RejectedRow[]; next: string | undefined }>;
  /** Jobs, newest first. */
  list(options: { limit: number; cursor?: string }): Promise<{ items: ImportJob[]; next: string | undefined }>;
}

/** The import queue: chunks, the rest of a file still to cut, exports to write. */
export interface ChunkQueue {
  send(message: ImportQueueMessage): Promise<void>;
}

export interface ExportJobStore {
  create(job: ExportJob): Promise<void>;
  get(exportId: string): Promise<ExportJob | undefined>;
  /** Records how the job ended; a job that ended already is left as it is. */
  finish(exportId: string, outcome: Pick<ExportJob, 'state' | 'key' | 'exported' | 'bytes' | 'error' | 'updated'>): Promise<void>;
}
