import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { InvalidCursor } from '#shared/directory/directory.errors.ts';
import type { ExportJobs } from '#shared/transfer/export-job.service.ts';
import { ImportJobError, type ImportJobs } from '#shared/transfer/import-job.service.ts';
import { ImportMappingSchema } from '#shared/transfer/import-mapping.ts';
import type { ObjectImports } from '#shared/transfer/import-object.service.ts';
import { ImportOptionChoicesSchema, ImportOptionsSchema, ImportRecordSchema, MAX_CHUNK_ROWS, TRANSFER_FORMATS } from '#shared/transfer/transfer.types.ts';
import { bodyOf } from './request-body.ts';

export type ImportRoutesDeps = Pick<ImportJobs, 'start' | 'enqueueChunk' | 'seal' | 'get' | 'rejected' | 'list'> & {
  /** Imports of uploaded keys and exports to the import bucket; without a bucket those requests answer 404. */
  uploads?: Pick<ObjectImports, 'request'>;
  exports?: Pick<ExportJobs, 'request' | 'get'>;
};

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});
const badRequest = (error: z.ZodError) => json(400, { error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });

const StartBodySchema = z
  .object({
    source: z.string().min(1).max(1024),
    fingerprint: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'a digest of the file and the options, 16 to 128 of [A-Za-z0-9_-]'),
    chunkRows: z.number().int().min(1).max(MAX_CHUNK_ROWS).optional(),
  })
  .extend(ImportOptionsSchema.shape)
  .strict();
/** Options left out come from the upload's metadata (x-amz-meta-mode, -match, -dry-run, -no-provision, -mapping), else their defaults. */
const StartFromKeyBodySchema = z
  .object({
    key: z.string().min(1).max(1024),
    chunkRows: z.number().int().min(1).max(MAX_CHUNK_ROWS).optional(),
    // The mapping itself, or the import bucket key of its JSON.
    mapping: z.union([ImportMappingSchema, z.string().min(1).max(1024)]).optional(),
  })
  .extend(ImportOptionChoicesSchema.shape)
  .strict();
const ExportBodySchema = z
  .object({
    type: z.enum(['users', 'groups']),
    format: z.enum(TRANSFER_FORMATS),
    filter: z.string().min(1).max(4096).optional(),
    attributes: z.array(z.string().min(1).max(300)).max(100).optional(),
  })
  .strict();
const EXPORT_PATH = /^\/exports\/([^/]+)$/;
const ChunkBodySchema = z.object({ chunk: z.number().int().min(0), records: z.array(ImportRecordSchema).min(1).max(MAX_CHUNK_ROWS) }).strict();
const SealBodySchema = z.object({ chunks: z.number().int().min(0), warnings: z.array(z.string().max(500)).max(200).default([]) }).strict();
const PageQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.string().min(1).max(4096).optional() }).strict();

const IMPORT_PATH = /^\/imports\/([^/]+)(\/chunks|\/seal|\/rejected)?$/;

const allow = (method: string, allowed: string) => (method === allowed ? undefined : json(405, { error: `${method} is not allowed here: use ${allowed}` }));

/**
 * The import jobs of the operators' API: the same job API the CLI drives locally and the import
 * function drives from the bucket.
 *
 * - `POST /admin/imports` with `{source, fingerprint, mode, match, provision, dryRun, chunkRows}`:
 *   a new job (201), or the unfinished job of the same import (200, `resumed: true`) with the row
 *   offset to read on from;
 * - `GET /admin/imports?limit&cursor`: jobs, newest first;
 * - `GET /admin/imports/{id}`: the job, its state and counters;
 * - `POST /admin/imports/{id}/chunks` with `{chunk, records}`: queues a chunk (202);
 * - `POST /admin/imports/{id}/seal` with `{chunks, warnings}`: every chunk is queued;
 * - `GET /admin/imports/{id}/rejected?limit&cursor`: the rejected rows, by row;
 * - `POST /admin/imports` with `{key, mode, match, provision, dryRun, chunkRows, mapping}`: imports
 *   a file uploaded to the import bucket under `imports/` (202; 200 with `resumed: true` for the
 *   unfinished job of the same content and options), cut by the import function. Options left
 *   out come from the upload's metadata; `mapping` is a mapping or the key of one under
 *   `mappings/`. Options that cannot be used make a failed job, answered with a 400 that says why;
 * - `POST /admin/exports` with `{type: users|groups, format, filter, attributes}`: an export
 *   written to the import bucket by the import function (202);
 * - `GET /admin/exports/{id}`: the export job, with a download URL once written.
 *
 * Undefined for every other path, which the caller routes on.
 */
export const routeImportRequest = async (event: APIGatewayProxyEvent, path: string, deps: ImportRoutesDeps): Promise<APIGatewayProxyResult | undefined> => {
  const method = event.httpMethod.toUpperCase();
  const query = event.queryStringParameters ?? {};
  try {
    if (path === '/imports') {
      if (method === 'GET') {
        const parsed = PageQuerySchema.safeParse(query);
        if (!parsed.success) return badRequest(parsed.error);
        const page = await deps.list(parsed.data);
        return json(200, { jobs: page.items, ...(page.next ? { nextCursor: page.next } : {}) });
      }
      const wrong = allow(method, 'POST');
      if (wrong) return wrong;
      const body = bodyOf(event);
      if (body === undefined) return json(400, { error: 'body: not JSON' });
      if (typeof body === 'object' && body !== null && 'key' in body) {
        if (!deps.uploads) return json(404, { error: 'this hub has no import bucket' });
        const fromKey = StartFromKeyBodySchema.safeParse(body);
        if (!fromKey.success) return badRequest(fromKey.error);
        const { key, chunkRows, mapping, ...options } = fromKey.data;
        const started = await deps.uploads.request(key, { options, ...(chunkRows === undefined ? {} : { chunkRows }), ...(mapping ? { mapping } : {}) });
        // Options that cannot be used (the upload's metadata, or the mapping named): the failed job says why.
        if (started.job.state === 'failed') return json(400, { error: started.job.error, code: 'transfer.invalidOptions', job: started.job });
        return json(started.resumed ? 200 : 202, { job: started.job, resumed: started.resumed });
      }
      const parsed = StartBodySchema.safeParse(body);
      if (!parsed.success) return badRequest(parsed.error);
      const { source, fingerprint, chunkRows, ...options } = parsed.data;
      const started = await deps.start({ source, fingerprint, options, ...(chunkRows === undefined ? {} : { chunkRows }) });
      return json(started.resumed ? 200 : 201, started);
    }
    if (path === '/exports' || EXPORT_PATH.test(path)) return await routeExport(event, path, method, deps.exports);
    const match = IMPORT_PATH.exec(path);
    if (!match) return undefined;
    const jobId = decodeURIComponent(match[1] ?? '');
    const action = match[2];
    if (!action) return allow(method, 'GET') ?? json(200, { job: await deps.get(jobId) });
    if (action === '/rejected') {
      const wrong = allow(method, 'GET');
      if (wrong) return wrong;
      const parsed = PageQuerySchema.safeParse(query);
      if (!parsed.success) return badRequest(parsed.error);
      await deps.get(jobId);
      const page = await deps.rejected(jobId, parsed.data);
      return json(200, { rejected: page.items, ...(page.next ? { nextCursor: page.next } : {}) });
    }
    const wrong = allow(method, 'POST');
    if (wrong) return wrong;
    const body = bodyOf(event);
    if (body === undefined) return json(400, { error: 'body: not JSON' });
    if (action === '/chunks') {
      const parsed = ChunkBodySchema.safeParse(body);
      if (!parsed.success) return badRequest(parsed.error);
      return json(202, { job: await deps.enqueueChunk(jobId, parsed.data.chunk, parsed.data.records) });
    }
    const parsed = SealBodySchema.safeParse(body);
    if (!parsed.success) return badRequest(parsed.error);
    return json(200, { job: await deps.seal(jobId, parsed.data.chunks, parsed.data.warnings) });
  } catch (error) {
    if (error instanceof ImportJobError) return json(error.status, { error: error.message, code: error.code });
    if (error instanceof InvalidCursor) return json(400, { error: 'cursor: not a cursor this endpoint returned' });
    throw error;
  }
};

const routeExport = async (event: APIGatewayProxyEvent, path: string, method: string, exports: ImportRoutesDeps['exports']): Promise<APIGatewayProxyResult> => {
  if (!exports) return json(404, { error: 'this hub has no import bucket' });
  const match = EXPORT_PATH.exec(path);
  if (match) return allow(method, 'GET') ?? json(200, { export: await exports.get(decodeURIComponent(match[1] ?? '')) });
  const wrong = allow(method, 'POST');
  if (wrong) return wrong;
  const body = bodyOf(event);
  if (body === undefined) return json(400, { error: 'body: not JSON' });
  const parsed = ExportBodySchema.safeParse(body);
  if (!parsed.success) return badRequest(parsed.error);
  const { type, ...rest } = parsed.data;
  return json(202, { export: await exports.request({ type: type === 'users' ? 'User' : 'Group', ...rest }) });
};
