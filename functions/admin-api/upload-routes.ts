import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { cutIntoChunks, ImportJobError, type ImportJobs } from '#shared/transfer/import-job.service.ts';
import { ImportFileError } from '#shared/transfer/import-mapping.ts';
import { readImportRecords } from '#shared/transfer/import-records.ts';
import { IMPORT_MODES, MATCH_ATTRIBUTES, TRANSFER_FORMATS } from '#shared/transfer/transfer.types.ts';

export type UploadRoutesDeps = Pick<ImportJobs, 'start' | 'enqueueChunk' | 'seal' | 'fail'>;

/**
 * The largest file the console uploads in one request: Lambda takes 6 MB of request, and the
 * rows must be cut and queued well inside API Gateway's 29 s. Larger files go through `ops
 * import`, which streams them.
 */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const UploadQuerySchema = z
  .object({
    source: z.string().min(1).max(1024),
    format: z.enum(TRANSFER_FORMATS),
    mode: z.enum(IMPORT_MODES).default('upsert'),
    match: z.enum(MATCH_ATTRIBUTES).default('userName'),
    provision: flag.default(true),
    dryRun: flag.default(false),
  })
  .strict();

/**
 * `POST /admin/imports/upload?source&format&mode&match&provision&dryRun` with the file as the
 * body (CSV, JSON or NDJSON, at most MAX_UPLOAD_BYTES): the console's import. The rows are read
 * and checked as `ops import` reads them, cut into the job's chunks and queued; the answer is
 * the job (201, or 200 when the same file with the same options resumes its unfinished job),
 * which the console follows through `GET /admin/imports/{id}` and its rejected rows. A file that
 * cannot be read at all is a 400 naming why.
 *
 * Undefined for every other path.
 */
export const routeUploadRequest = async (event: APIGatewayProxyEvent, path: string, deps: UploadRoutesDeps): Promise<APIGatewayProxyResult | undefined> => {
  if (path !== '/imports/upload') return undefined;
  const method = event.httpMethod.toUpperCase();
  if (method !== 'POST') return json(405, { error: `${method} is not allowed here: use POST` });
  const parsed = UploadQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
  const { source, format, ...options } = parsed.data;
  const file = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
  if (file.length === 0) return json(400, { error: 'body: the file is empty' });
  if (file.length > MAX_UPLOAD_BYTES) {
    return json(413, {
      error: `the file has ${file.length} bytes; the console takes at most ${MAX_UPLOAD_BYTES}: import larger files with npm run ops -- import`,
    });
  }
  // The same file with the same options is the same import: a second upload resumes it.
  const fingerprint = createHash('sha256')
    .update(file)
    .update(JSON.stringify({ options, mapping: null }))
    .digest('base64url');
  try {
    const started = await deps.start({ source, fingerprint, options });
    let job = started.job;
    if (job.state === 'receiving') {
      let warnings: string[] = job.warnings ?? [];
      try {
        const records = readImportRecords(Readable.from([file]), { format, mode: options.mode, match: options.match, onWarnings: (w) => (warnings = w) });
        const { chunks } = await cutIntoChunks(job, records, async (chunk, part) => {
          await deps.enqueueChunk(job.jobId, chunk, part);
        });
        job = await deps.seal(job.jobId, chunks, warnings);
      } catch (error) {
        if (!(error instanceof ImportFileError)) throw error;
        // Nothing of a file whose columns cannot be read is imported: the job says why.
        await deps.fail(job.jobId, error.message);
        return json(400, { error: `${source}: ${error.message}`, code: error.code, jobId: job.jobId });
      }
    }
    return json(started.resumed ? 200 : 201, { job, resumed: started.resumed });
  } catch (error) {
    if (error instanceof ImportJobError) return json(error.status, { error: error.message, code: error.code });
    throw error;
  }
};
