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
import * as z from 'zod';
import type { ChunkQueue } from './import-job.ports.ts';
import { cutIntoChunks, ImportJobError, type ImportJobs, readAll } from './import-job.service.ts';
import { ImportFileError, type ImportMapping, ImportMappingSchema } from './import-mapping.ts';
import { formatOfFileName, readImportRecords } from './import-records.ts';
import { BUCKET_PREFIXES, type ObjectStore } from './object-store.port.ts';
import { IMPORT_MODES, type ImportJob, type ImportOptions, ImportOptionsSchema, MATCH_ATTRIBUTES, MAX_CHUNK_ROWS } from './transfer.types.ts';

export interface ObjectImportsDeps {
  jobs: ImportJobs;
  objects: ObjectStore;
  queue: ChunkQueue;
}

/** What an import of an uploaded file may be told, beside the key; what it leaves out comes from the upload's metadata. */
export interface ObjectImportRequest {
  options?: Partial<ImportOptions>;
  chunkRows?: number;
  /** The mapping itself, or the import bucket key of its JSON (under mappings/). */
  mapping?: ImportMapping | string;
}

/** An import of an uploaded key, started, resumed or refused (a failed job that says why), with the mapping it is cut with. */
export interface StartedObjectImport {
  job: ImportJob;
  resumed: boolean;
  mapping?: ImportMapping;
}

/** Cutting stops while this much of the run is left, for the last chunk and the message that carries the rest on. */
const CUT_MARGIN_MS = 15_000;
/** A mapping file is a few headers: anything larger is not one. */
const MAX_MAPPING_BYTES = 256 * 1024;

/**
 * The upload metadata an import reads (S3 `x-amz-meta-<name>`, names lowercased by S3), with the
 * values the CLI's flags take: `mode`, `match`, `dry-run` and `no-provision` (true or false),
 * `mapping` (the bucket key of a mapping JSON under mappings/), and `provision` and `chunk-rows`.
 */
export const IMPORT_METADATA = ['mode', 'match', 'dry-run', 'no-provision', 'provision', 'mapping', 'chunk-rows'] as const;

const TrueOrFalse = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
  .transform((value) => value === 'true');
const ImportMetadataSchema = z.object({
  mode: z.enum(IMPORT_MODES, { error: `must be one of ${IMPORT_MODES.join(', ')}` }).optional(),
  match: z.enum(MATCH_ATTRIBUTES, { error: `must be one of ${MATCH_ATTRIBUTES.join(', ')}` }).optional(),
  'dry-run': TrueOrFalse.optional(),
  'no-provision': TrueOrFalse.optional(),
  provision: TrueOrFalse.optional(),
  mapping: z.string().min(1).max(1024).optional(),
  'chunk-rows': z
    .string()
    .regex(/^\d+$/, `must be a whole number from 1 to ${MAX_CHUNK_ROWS}`)
    .transform(Number)
    .pipe(
      z.number().int().min(1, `must be a whole number from 1 to ${MAX_CHUNK_ROWS}`).max(MAX_CHUNK_ROWS, `must be a whole number from 1 to ${MAX_CHUNK_ROWS}`),
    )
    .optional(),
});

/** What an upload's metadata asks for, option by option, and what is wrong with it (by metadata name). */
export interface ImportMetadata {
  options: Partial<ImportOptions>;
  chunkRows?: number;
  mapping?: string;
  problems: Array<{ name: (typeof IMPORT_METADATA)[number]; reason: string }>;
  /** Metadata no import option answers to: left alone, and said so on the job. */
  warnings: string[];
}

/** Reads the import options of an upload's metadata, as the CLI reads its flags: a value it does not take is a problem, never a default. */
export const importMetadataOf = (metadata: Record<string, string>): ImportMetadata => {
  const lowered = Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
  const problems: ImportMetadata['problems'] = [];
  const values: z.infer<typeof ImportMetadataSchema> = {};
  for (const name of IMPORT_METADATA) {
    if (lowered[name] === undefined) continue;
    const parsed = ImportMetadataSchema.shape[name].safeParse(lowered[name]);
    if (parsed.success) Object.assign(values, { [name]: parsed.data });
    else problems.push({ name, reason: `'${lowered[name]}' ${parsed.error.issues[0]?.message ?? 'is not a value it takes'}` });
  }
  if (values.provision !== undefined && values['no-provision'] !== undefined && values.provision === values['no-provision']) {
    problems.push({ name: 'no-provision', reason: `'${lowered['no-provision']}' contradicts provision '${lowered.provision}'` });
  }
  const provision = values['no-provision'] === undefined ? values.provision : !values['no-provision'];
  const unknown: string[] = [];
  for (const name of Object.keys(lowered).filter((name) => !(IMPORT_METADATA as readonly string[]).includes(name))) {
    // `dryrun`, `dry_run`: an option misspelt would otherwise run the import without it.
    const meant = IMPORT_METADATA.find((option) => option.replaceAll('-', '') === name.replaceAll(/[-_]/g, ''));
    if (meant) problems.push({ name: meant, reason: `is spelt '${meant}', not '${name}'` });
    else unknown.push(name);
  }
  return {
    options: {
      ...(values.mode === undefined ? {} : { mode: values.mode }),
      ...(values.match === undefined ? {} : { match: values.match }),
      ...(values['dry-run'] === undefined ? {} : { dryRun: values['dry-run'] }),
      ...(provision === undefined ? {} : { provision }),
    },
    ...(values['chunk-rows'] === undefined ? {} : { chunkRows: values['chunk-rows'] }),
    ...(values.mapping === undefined ? {} : { mapping: values.mapping }),
    problems,
    warnings: unknown.map((name) => `metadata '${name}' is not an import option (${IMPORT_METADATA.join(', ')}): ignored`),
  };
};

/** Which metadata name sets each option of a request (a request's own option outweighs the metadata's). */
const METADATA_OF_OPTION: Record<keyof ImportOptions, Array<(typeof IMPORT_METADATA)[number]>> = {
  mode: ['mode'],
  match: ['match'],
  dryRun: ['dry-run'],
  provision: ['provision', 'no-provision'],
};

export const makeObjectImports = (deps: ObjectImportsDeps) => {
  const formatOf = (key: string) => {
    const format = formatOfFileName(key);
    if (!key.startsWith(BUCKET_PREFIXES.imports) || !format) {
      throw new ImportJobError('transfer.invalidSource', `${key}: an import is a key under ${BUCKET_PREFIXES.imports} ending in .csv, .json or .ndjson`);
    }
    return format;
  };

  /** A mapping JSON of the import bucket; a reason when there is none to use. */
  const readMapping = async (key: string): Promise<ImportMapping | string> => {
    if (!key.startsWith(BUCKET_PREFIXES.mappings) || !key.endsWith('.json')) return `'${key}' is not a key under ${BUCKET_PREFIXES.mappings} ending in .json`;
    const object = await deps.objects.head(key);
    if (!object) return `the import bucket has no ${key}`;
    if (object.size > MAX_MAPPING_BYTES) return `${key} has ${object.size} bytes; a mapping has at most ${MAX_MAPPING_BYTES}`;
    let json: unknown;
    try {
      json = JSON.parse(await readAll(await deps.objects.read(key)));
    } catch {
      return `${key} is not JSON`;
    }
    const parsed = ImportMappingSchema.safeParse(json);
    if (!parsed.success) return `${key} is not a mapping: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'mapping'}: ${i.message}`).join('; ')}`;
    return parsed.data;
  };

  /**
   * Starts the import of an uploaded key, or resumes the unfinished job of the same content and
   * options. Each option comes from the request, else from the upload's metadata, else its
   * default. An option the metadata gives wrong (and the request does not give), or a mapping
   * that cannot be read, makes a failed job that says why: nothing is imported on a default.
   */
  const start = async (key: string, request: ObjectImportRequest = {}): Promise<StartedObjectImport> => {
    formatOf(key);
    const object = await deps.objects.head(key);
    if (!object) throw new ImportJobError('transfer.sourceNotFound', `the import bucket has no ${key}`);
    const metadata = importMetadataOf(object.metadata);
    const asked = request.options ?? {};
    const given = new Set<string>([
      ...Object.entries(METADATA_OF_OPTION).flatMap(([option, names]) => (asked[option as keyof ImportOptions] === undefined ? [] : names)),
      ...(request.chunkRows === undefined ? [] : ['chunk-rows']),
      ...(request.mapping === undefined ? [] : ['mapping']),
    ]);
    const problems = metadata.problems.filter((problem) => !given.has(problem.name)).map((problem) => `metadata ${problem.name}: ${problem.reason}`);
    const options = ImportOptionsSchema.parse({ ...metadata.options, ...asked });
    const chunkRows = request.chunkRows ?? metadata.chunkRows;
    const mappingSource = request.mapping ?? metadata.mapping;
    const read = typeof mappingSource === 'string' ? await readMapping(mappingSource) : mappingSource;
    if (typeof read === 'string') problems.push(`${request.mapping === undefined ? 'metadata ' : ''}mapping: ${read}`);
    const mapping = typeof read === 'string' ? undefined : read;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ key, etag: object.etag, options, chunkRows: chunkRows ?? null, mapping: mapping ?? null, problems }))
      .digest('base64url');
    const source = { source: key, fingerprint, options, ...(chunkRows === undefined ? {} : { chunkRows }), warnings: metadata.warnings };
    if (problems.length > 0) return { job: await deps.jobs.refuse(source, `the import of ${key} cannot start: ${problems.join('; ')}`), resumed: false };
    const started = await deps.jobs.start(source);
    return { ...started, ...(mapping ? { mapping } : {}) };
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
      // The job's own warnings (its upload's metadata) come first.
      await deps.jobs.seal(jobId, cutting.chunks, [...new Set([...job.warnings, ...warnings])]);
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
  const request = async (key: string, asked: ObjectImportRequest = {}): Promise<StartedObjectImport> => {
    const started = await start(key, asked);
    if (started.job.state === 'receiving')
      await deps.queue.send({ kind: 'cut', jobId: started.job.jobId, key, ...(started.mapping ? { mapping: started.mapping } : {}) });
    return started;
  };

  return { start, cut, request };
};

export type ObjectImports = ReturnType<typeof makeObjectImports>;
