import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { Directory } from '#shared/directory/directory.service.ts';
import type { ResourceType, WriteOrigin } from '#shared/directory/directory.ports.ts';
import { ScimError, scimErrors } from '#shared/scim/errors.ts';
import { jsonDepth } from '#shared/scim/json.ts';
import type { AuditEntry, Link } from '#shared/sync/sync.ports.ts';
import { exportResources } from '#shared/transfer/export.ts';
import { TRANSFER_FORMATS } from '#shared/transfer/transfer.types.ts';
import { operatorOf } from './operator-identity.ts';

export interface DirectoryRoutesDeps {
  /** The SCIM API's own use cases on the same table: provisioning follows every write. */
  directory: Directory;
  connectorIds(): Promise<string[]>;
  /** The resource's link on one connector (its target id, status and when it was last pushed). */
  link(connectorId: string, kind: 'user' | 'group', hubId: string): Promise<Link | undefined>;
  /** The newest audit record of the resource on one connector (an indexed, bounded read). */
  lastAudit(connectorId: string, resourceId: string): Promise<(AuditEntry & { id: string }) | undefined>;
}

/** Where the directory's SCIM representation points `meta.location`: the console links by id instead. */
const CONTEXT_BASE = '';
/** What one write may send: the SCIM API's own bulk payload size is larger; a console form never comes near. */
const MAX_BODY_BYTES = 1_048_576;
const MAX_JSON_DEPTH = 32;

const TYPES: Record<string, ResourceType> = { users: 'User', groups: 'Group' };
const PATH = /^\/directory\/(users|groups)(?:\/([^/]+))?$/;

const ListQuerySchema = z
  .object({
    filter: z.string().max(2000).optional(),
    // RFC 9865: an empty cursor asks for the first page.
    cursor: z.string().max(4096).default(''),
    count: z.coerce.number().int().min(1).max(200).default(25),
  })
  .strict();
const WriteQuerySchema = z.object({}).strict();
const ExportQuerySchema = z.object({ type: z.enum(['users', 'groups']), format: z.enum(TRANSFER_FORMATS), filter: z.string().max(2000).optional() }).strict();

/**
 * What one export answer may hold: Lambda's response is at most 6 MB, and its body travels
 * inside a JSON envelope. A larger export is refused with a 413 before it is sent, pointing to
 * `ops export`, which streams any size to a file.
 */
export const MAX_EXPORT_BYTES = 5 * 1024 * 1024;
const EXPORT_TYPES: Record<string, string> = { csv: 'text/csv; charset=utf-8', json: 'application/json', ndjson: 'application/x-ndjson' };

/**
 * `GET /admin/directory/export?type&format&filter`: users or groups as CSV, JSON or NDJSON, the
 * very text `ops export` writes (so it imports back unchanged), read page by page from the
 * directory and stopped as soon as it outgrows MAX_EXPORT_BYTES.
 */
const exportFile = async (event: APIGatewayProxyEvent, deps: DirectoryRoutesDeps): Promise<APIGatewayProxyResult> => {
  const parsed = ExportQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) return queryError(parsed.error);
  const { type, format, filter } = parsed.data;
  const parts: string[] = [];
  let bytes = 0;
  let exported = 0;
  const request = { type: TYPES[type] as ResourceType, format, ...(filter?.trim() ? { filter: filter.trim() } : {}) };
  for await (const part of exportResources(deps.directory, request, (count) => (exported = count))) {
    bytes += Buffer.byteLength(part, 'utf8');
    if (bytes > MAX_EXPORT_BYTES) {
      return errorOf(
        new ScimError(
          413,
          undefined,
          `The export passed ${MAX_EXPORT_BYTES} bytes after ${exported} ${type}: export it with npm run ops -- export ${type} --format ${format}`,
        ),
      );
    }
    parts.push(part);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    statusCode: 200,
    headers: {
      'Content-Type': EXPORT_TYPES[format] as string,
      'Content-Disposition': `attachment; filename="${type}-${stamp}.${format}"`,
      'Cache-Control': 'no-store',
    },
    body: parts.join(''),
  };
};

const scimJson = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/scim+json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

const errorOf = (error: ScimError) => scimJson(error.status, { ...error.toBody(), error: error.message });

const queryError = (error: z.ZodError) => errorOf(scimErrors.invalidValue(error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')));

const bodyOf = (event: APIGatewayProxyEvent): unknown => {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw scimErrors.payloadTooLarge(`The request body is larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') throw scimErrors.invalidSyntax('The request has no body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ScimError(400, 'invalidSyntax', `The request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw scimErrors.invalidSyntax(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return parsed;
};

const ifMatchOf = (event: APIGatewayProxyEvent): string | undefined =>
  Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'if-match')?.[1] ?? undefined;

/**
 * Per connector, where the resource is provisioned: the link (target id, status, when it was
 * last pushed) and the newest audit record (what happened last, and whether it worked).
 */
const provisioningOf = async (type: ResourceType, id: string, deps: DirectoryRoutesDeps) => {
  const kind = type === 'User' ? 'user' : 'group';
  const ids = await deps.connectorIds();
  return Promise.all(
    ids.map(async (connector) => {
      const [link, last] = await Promise.all([deps.link(connector, kind, id), deps.lastAudit(connector, id)]);
      return {
        connector,
        linked: link !== undefined,
        ...(link ? { targetId: link.targetId, linkStatus: link.status, lastSync: link.updated } : {}),
        ...(last
          ? {
              last: {
                time: last.time,
                action: last.action,
                status: last.status,
                trigger: last.trigger,
                ...(last.actor ? { actor: last.actor } : {}),
                ...(last.reason ? { reason: last.reason } : {}),
                ...(last.error ? { error: last.error.message } : {}),
              },
            }
          : {}),
      };
    }),
  );
};

/**
 * The console's directory: operators search, read and change users and groups through the
 * directory's own SCIM use cases (so the same validation, uniqueness and If-Match apply, and
 * the table's stream provisions every change onward), each write stamped with the operator,
 * whom the audit records of its provisioning then name.
 *
 * - `GET /admin/directory/users|groups?filter&cursor&count`: a SCIM ListResponse, cursor paged
 *   (RFC 9865), the filter answered by the directory's indexes or its capped evaluation;
 * - `POST /admin/directory/users|groups`: create (201), body a SCIM resource;
 * - `GET /admin/directory/users|groups/{id}`: `{resource, version, provisioning}`, where
 *   `provisioning` says per connector the linked target id, the link's status and last sync,
 *   and the newest audit record;
 * - `PUT`, `PATCH` (a SCIM PatchOp: deactivate, edit, membership changes) and `DELETE` on one,
 *   each honouring `If-Match`.
 *
 * Errors are RFC 7644 section 3.12 bodies (with `error` too, as the rest of the admin API
 * answers); bad input is a 4xx. Undefined for every other path.
 */
export const routeDirectoryRequest = async (
  event: APIGatewayProxyEvent,
  path: string,
  deps: DirectoryRoutesDeps,
): Promise<APIGatewayProxyResult | undefined> => {
  if (path === '/directory/export') {
    if (event.httpMethod.toUpperCase() !== 'GET') return errorOf(scimErrors.methodNotAllowed(`${event.httpMethod} is not allowed here: use GET`));
    try {
      return await exportFile(event, deps);
    } catch (error) {
      if (error instanceof ScimError) return errorOf(error);
      throw error;
    }
  }
  const match = PATH.exec(path);
  if (!match) return undefined;
  const type = TYPES[match[1] as string] as ResourceType;
  const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  const method = event.httpMethod.toUpperCase();
  const origin: WriteOrigin = { trigger: 'realtime', actor: operatorOf(event), provision: true };
  const ctx = { baseUrl: CONTEXT_BASE, strictUnknownAttributes: false, origin };
  const query = event.queryStringParameters ?? {};
  try {
    if (id === undefined) {
      if (method === 'GET') {
        const parsed = ListQuerySchema.safeParse(query);
        if (!parsed.success) return queryError(parsed.error);
        const { filter, cursor, count } = parsed.data;
        const trimmed = filter?.trim();
        return scimJson(200, await deps.directory.list(type, { cursor, count, ...(trimmed ? { filter: trimmed } : {}) }, ctx));
      }
      if (method !== 'POST') return errorOf(scimErrors.methodNotAllowed(`${method} is not allowed here: use GET or POST`));
      const parsed = WriteQuerySchema.safeParse(query);
      if (!parsed.success) return queryError(parsed.error);
      const created = await deps.directory.create(type, bodyOf(event), ctx);
      return scimJson(201, { resource: created.resource, version: created.version });
    }
    if (method === 'GET') {
      const found = await deps.directory.get(type, id, {}, ctx);
      return scimJson(200, { resource: found.resource, version: found.version, provisioning: await provisioningOf(type, id, deps) });
    }
    if (Object.keys(query).length > 0) return queryError(WriteQuerySchema.safeParse(query).error as z.ZodError);
    if (method === 'PUT' || method === 'PATCH') {
      const body = bodyOf(event);
      const written =
        method === 'PUT'
          ? await deps.directory.replace(type, id, body, ifMatchOf(event), ctx)
          : await deps.directory.patch(type, id, body, ifMatchOf(event), ctx);
      return scimJson(200, { resource: written.resource, version: written.version });
    }
    if (method === 'DELETE') {
      await deps.directory.delete(type, id, ifMatchOf(event));
      return scimJson(204, undefined);
    }
    return errorOf(scimErrors.methodNotAllowed(`${method} is not allowed here: use GET, PUT, PATCH or DELETE`));
  } catch (error) {
    if (error instanceof ScimError) return errorOf(error);
    throw error;
  }
};
