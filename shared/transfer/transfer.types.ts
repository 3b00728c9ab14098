/**
 * The vocabulary of imports and exports: options, the records a file is cut into, what becomes of
 * each row, and the job that carries an import through its chunks. Pure data.
 */
import * as z from 'zod';
import type { PatchOperation } from '../scim/patch.ts';
import { ImportMappingSchema } from './import-mapping.ts';

export const IMPORT_MODES = ['create', 'update', 'upsert'] as const;
export const MATCH_ATTRIBUTES = ['userName', 'externalId'] as const;
export const TRANSFER_FORMATS = ['csv', 'json', 'ndjson'] as const;

export type ImportMode = (typeof IMPORT_MODES)[number];
export type MatchAttribute = (typeof MATCH_ATTRIBUTES)[number];
export type TransferFormat = (typeof TRANSFER_FORMATS)[number];

export const ImportOptionsSchema = z.object({
  /** create: new users only; update: existing users only; upsert: either. */
  mode: z.enum(IMPORT_MODES).default('upsert'),
  /** How a row finds the hub user it is about. */
  match: z.enum(MATCH_ATTRIBUTES).default('userName'),
  /** False: connectors are not told of the imported changes (the hub's reconciliation still sees them). */
  provision: z.boolean().default(true),
  /** Validate and classify every row; write nothing. */
  dryRun: z.boolean().default(false),
});
export type ImportOptions = z.infer<typeof ImportOptionsSchema>;

/** The options as a request names some of them: no defaults, so what it leaves out can come from elsewhere (an upload's metadata). */
export const ImportOptionChoicesSchema = z.object({
  mode: z.enum(IMPORT_MODES).optional(),
  match: z.enum(MATCH_ATTRIBUTES).optional(),
  provision: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

/** Rows per chunk: one SQS message each, well under its 256 KB, and a Lambda run of seconds. */
export const DEFAULT_CHUNK_ROWS = 100;
export const MAX_CHUNK_ROWS = 500;

/** A row that was refused, and why: the operator fixes the file from this. */
export interface RejectedRow {
  /** The line of the file where the row starts (CSV, NDJSON) or the element's position (JSON array), from 1. */
  row: number;
  /** The column (CSV header) or attribute the reason is about, when there is one. */
  column?: string;
  reason: string;
}

/**
 * One row of the file, read and checked on its own, ready for the hub: either PATCH operations
 * (a CSV row: each column a path, RFC 7644 section 3.5.2) or a whole SCIM resource (JSON), with
 * the displayNames of the groups the user belongs to (undefined: memberships left as they are).
 * A row refused before it reaches the hub carries only its rejection.
 */
export type ImportRecord =
  | { row: number; operations: PatchOperation[]; groups?: string[] }
  | { row: number; resource: Record<string, unknown>; groups?: string[] }
  | { row: number; rejected: Omit<RejectedRow, 'row'> };

const PatchOperationRecordSchema = z.object({ op: z.enum(['add', 'replace', 'remove']), path: z.string().optional(), value: z.unknown().optional() });
export const ImportRecordSchema = z.union([
  z.object({ row: z.number().int().min(1), operations: z.array(PatchOperationRecordSchema), groups: z.array(z.string()).optional() }),
  z.object({ row: z.number().int().min(1), resource: z.record(z.string(), z.unknown()), groups: z.array(z.string()).optional() }),
  z.object({ row: z.number().int().min(1), rejected: z.object({ column: z.string().optional(), reason: z.string() }) }),
]);

export type RowOutcome = 'created' | 'updated' | 'unchanged' | 'rejected';

export interface ImportCounters {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  groupsCreated: number;
}

export const emptyCounters = (): ImportCounters => ({ rows: 0, created: 0, updated: 0, unchanged: 0, rejected: 0, groupsCreated: 0 });

/** What one chunk did: its counters and its rejected rows (all of them: a chunk is small). */
export interface ChunkResult {
  counters: ImportCounters;
  rejected: RejectedRow[];
}

/**
 * receiving: rows are being cut into chunks (rowOffset moves); processing: every chunk is queued,
 * some are still running; completed: every chunk is counted; failed: the source could not be read.
 */
export type ImportJobState = 'receiving' | 'processing' | 'completed' | 'failed';

export interface ImportJob {
  jobId: string;
  state: ImportJobState;
  created: string;
  updated: string;
  /** The file's name or the bucket key it was uploaded to. */
  source: string;
  /** The content and options it was started with: a second start of the same import resumes this job. */
  fingerprint: string;
  options: ImportOptions;
  chunkRows: number;
  /** Rows of the source cut into queued chunks so far: a resumed job reads on from here. */
  rowOffset: number;
  /** Chunks counted (each once, however often it was delivered). */
  chunksDone: number;
  /** Known once the whole source is cut. */
  totalChunks?: number;
  counters: ImportCounters;
  /** Columns the file has that no attribute answers to: ignored, and said so once. */
  warnings: string[];
  /** Why the job failed, when it did. */
  error?: string;
}

/**
 * The message a chunk travels in: the job it belongs to, its position, and its rows, or the key
 * of the import bucket object holding them when they would not fit a queue message.
 */
export const ChunkMessageSchema = z.union([
  z.object({ jobId: z.string().min(1), chunk: z.number().int().min(0), records: z.array(ImportRecordSchema).max(MAX_CHUNK_ROWS) }).strict(),
  z.object({ jobId: z.string().min(1), chunk: z.number().int().min(0), recordsKey: z.string().min(1).max(1024) }).strict(),
]);
export type ChunkMessage = z.infer<typeof ChunkMessageSchema>;

/** The import bucket object of an import job still to be cut into chunks, from the job's row offset on. */
export const CutMessageSchema = z
  .object({ kind: z.literal('cut'), jobId: z.string().min(1), key: z.string().min(1).max(1024), mapping: ImportMappingSchema.optional() })
  .strict();
export type CutMessage = z.infer<typeof CutMessageSchema>;

/** An export job to write to the import bucket. */
export const ExportMessageSchema = z.object({ kind: z.literal('export'), exportId: z.string().min(1) }).strict();
export type ExportMessage = z.infer<typeof ExportMessageSchema>;

/** Every message of the import queue. */
export const ImportQueueMessageSchema = z.union([ChunkMessageSchema, CutMessageSchema, ExportMessageSchema]);
export type ImportQueueMessage = z.infer<typeof ImportQueueMessageSchema>;

/** An export job: what to export, and once written, where. */
export interface ExportJob {
  exportId: string;
  state: 'running' | 'completed' | 'failed';
  created: string;
  updated: string;
  type: 'User' | 'Group';
  format: TransferFormat;
  filter?: string;
  attributes?: string[];
  /** The import bucket key of the file, once written. */
  key?: string;
  /** Resources written. */
  exported?: number;
  bytes?: number;
  error?: string;
}
