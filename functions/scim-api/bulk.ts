import * as z from 'zod';
import type { ResourceType } from '#shared/directory/directory.ports.ts';
import type { Directory, RequestContext } from '#shared/directory/directory.service.ts';
import { etagOf } from '#shared/directory/scim-resource.mapper.ts';
import { ScimError, scimErrors } from '#shared/scim/errors.ts';
import { jsonDepth } from '#shared/scim/json.ts';
import { MAX_JSON_DEPTH } from './http.ts';

const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

/**
 * Advertised in /ServiceProviderConfig and enforced. 100 operations at a few tens of
 * milliseconds each finish well inside API Gateway's 29 s; 1 MB stays far below Lambda's 6 MB.
 */
export const BULK_LIMITS = { maxOperations: 100, maxPayloadSize: 1_048_576 } as const;

/** The depth of one operation's `data`: the same limit as a request body of its own. */
const MAX_DATA_DEPTH = MAX_JSON_DEPTH;

const BulkOperationSchema = z.object({
  method: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(['POST', 'PUT', 'PATCH', 'DELETE'])),
  bulkId: z.string().optional(),
  version: z.string().optional(),
  path: z.string(),
  data: z.unknown().optional(),
});

const BulkRequestSchema = z.object({
  schemas: z.array(z.string()).refine((list) => list.includes(BULK_REQUEST_SCHEMA), `schemas must contain ${BULK_REQUEST_SCHEMA}`),
  failOnErrors: z.number().int().min(1).optional(),
  Operations: z.array(BulkOperationSchema),
});

type BulkOperation = z.infer<typeof BulkOperationSchema>;

export interface BulkDeps {
  directory: Directory;
  ctx: RequestContext;
}

interface OperationResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const BULK_REFERENCE = /bulkId:([^"/\s]+)/g;

const referencesOf = (operation: BulkOperation): string[] =>
  [...`${operation.path} ${JSON.stringify(operation.data ?? null)}`.matchAll(BULK_REFERENCE)].map((match) => match[1] ?? '');

const substitute = <T>(value: T, ids: Map<string, string>): T =>
  JSON.parse(JSON.stringify(value ?? null).replace(BULK_REFERENCE, (whole, bulkId: string) => ids.get(bulkId) ?? whole)) as T;

const parsePath = (path: string): { type: ResourceType; endpoint: string; id?: string } => {
  const match = /^\/?(Users|Groups)(?:\/([^/]+))?\/?$/i.exec(path);
  if (!match) throw scimErrors.invalidPath(`Bulk operation path "${path}" names no resource endpoint`);
  const endpoint = (match[1] ?? '').toLowerCase() === 'users' ? 'Users' : 'Groups';
  return { type: endpoint === 'Users' ? 'User' : 'Group', endpoint, ...(match[2] ? { id: match[2] } : {}) };
};

/**
 * RFC 7644 section 3.7: runs the operations in order, resolving `bulkId:` references to the ids
 * of resources created earlier in the request. An operation that refers to a later one waits
 * for it; references that never resolve (circular or unknown) fail with 409. Processing stops
 * once `failOnErrors` operations have failed.
 */
export const runBulk = async (body: unknown, deps: BulkDeps) => {
  const parsed = BulkRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw scimErrors.invalidSyntax(`Invalid BulkRequest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  }
  const request = parsed.data;
  if (request.Operations.length > BULK_LIMITS.maxOperations) {
    throw scimErrors.payloadTooLarge(`A bulk request may carry at most ${BULK_LIMITS.maxOperations} operations, not ${request.Operations.length}`);
  }
  const bulkIds = new Set<string>();
  for (const operation of request.Operations) {
    if (operation.method === 'POST' && !operation.bulkId) throw scimErrors.invalidValue('Every POST in a bulk request needs a bulkId');
    if (operation.bulkId) {
      if (bulkIds.has(operation.bulkId)) throw scimErrors.invalidValue(`bulkId "${operation.bulkId}" is used twice`);
      bulkIds.add(operation.bulkId);
    }
  }

  const created = new Map<string, string>();
  const failed = new Set<string>();
  const results = new Map<number, OperationResult>();
  let errors = 0;
  let pending = request.Operations.map((operation, index) => ({ operation, index }));

  const run = async (operation: BulkOperation): Promise<OperationResult> => {
    const base = { method: operation.method, ...(operation.bulkId ? { bulkId: operation.bulkId } : {}) };
    try {
      const target = parsePath(substitute(operation.path, created));
      const data = substitute(operation.data, created);
      const location = (id: string) => `${deps.ctx.baseUrl}/${target.endpoint}/${id}`;
      if (operation.method === 'POST') {
        if (target.id) throw scimErrors.invalidPath('A bulk POST path names the endpoint, not a resource');
        const result = await deps.directory.create(target.type, data, deps.ctx);
        const id = String(result.resource.id);
        if (operation.bulkId) created.set(operation.bulkId, id);
        return { ...base, location: location(id), version: etagOf(result.version), status: '201' };
      }
      if (!target.id) throw scimErrors.invalidPath(`A bulk ${operation.method} path must name a resource`);
      if (operation.method === 'DELETE') {
        await deps.directory.delete(target.type, target.id, operation.version);
        return { ...base, location: location(target.id), status: '204' };
      }
      const result =
        operation.method === 'PUT'
          ? await deps.directory.replace(target.type, target.id, data, operation.version, deps.ctx)
          : await deps.directory.patch(target.type, target.id, data, operation.version, deps.ctx);
      return { ...base, location: location(target.id), version: etagOf(result.version), status: '200' };
    } catch (error) {
      if (!(error instanceof ScimError)) throw error;
      if (operation.bulkId) failed.add(operation.bulkId);
      return { ...base, status: String(error.status), response: error.toBody() };
    }
  };

  while (pending.length > 0) {
    const waiting: typeof pending = [];
    let progressed = false;
    for (const entry of pending) {
      if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
      if (jsonDepth(entry.operation.data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH) {
        // Refused before anything recursive (reference search, substitution) walks it.
        const error = scimErrors.invalidSyntax(`The data of this operation nests deeper than ${MAX_DATA_DEPTH} levels`);
        if (entry.operation.bulkId) failed.add(entry.operation.bulkId);
        results.set(entry.index, {
          method: entry.operation.method,
          ...(entry.operation.bulkId ? { bulkId: entry.operation.bulkId } : {}),
          status: '400',
          response: error.toBody(),
        });
        errors++;
        progressed = true;
        continue;
      }
      const references = referencesOf(entry.operation);
      const broken = references.find((ref) => failed.has(ref) || !bulkIds.has(ref));
      if (broken !== undefined) {
        const error = new ScimError(409, 'invalidValue', `bulkId:${broken} does not resolve to a created resource`);
        if (entry.operation.bulkId) failed.add(entry.operation.bulkId);
        results.set(entry.index, {
          method: entry.operation.method,
          ...(entry.operation.bulkId ? { bulkId: entry.operation.bulkId } : {}),
          status: '409',
          response: error.toBody(),
        });
        errors++;
        progressed = true;
        continue;
      }
      if (references.some((ref) => !created.has(ref))) {
        waiting.push(entry);
        continue;
      }
      const result = await run(entry.operation);
      if (Number(result.status) >= 400) errors++;
      results.set(entry.index, result);
      progressed = true;
    }
    if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
    if (!progressed) {
      // Only circular references are left.
      for (const entry of waiting) {
        const error = new ScimError(409, 'invalidValue', 'Circular bulkId references cannot be resolved');
        results.set(entry.index, {
          method: entry.operation.method,
          ...(entry.operation.bulkId ? { bulkId: entry.operation.bulkId } : {}),
          status: '409',
          response: error.toBody(),
        });
      }
      break;
    }
    pending = waiting;
  }

  return {
    schemas: [BULK_RESPONSE_SCHEMA],
    Operations: [...results.entries()].sort(([a], [b]) => a - b).map(([, result]) => result),
  };
};
