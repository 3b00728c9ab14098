import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { BreakerState } from '#shared/connectors/resilience/circuit-breaker.ts';
import type { RedriveResult } from '#shared/queues/dlq-redrive.ts';
import { InvalidCursor } from '#shared/directory/directory.errors.ts';
import type { DeadLetter } from '#shared/queues/dlq-peek.ts';
import { ConnectorError } from '#shared/connectors/connector.errors.ts';
import type { AuditQuery } from '#shared/store/audit.repository.ts';
import type { AccessGrant } from '#shared/sync/grant.ports.ts';
import { OnDemandBodySchema, onDemandRequestOf } from '#shared/sync/on-demand.schema.ts';
import { OnDemandError, type OnDemandRequest, type OnDemandResult } from '#shared/sync/on-demand.service.ts';
import type { AuditEntry, SyncTrigger } from '#shared/sync/sync.ports.ts';
import { type ImportRoutesDeps, routeImportRequest } from './import-routes.ts';
import { type OverviewDeps, routeOverviewRequest } from './overview-routes.ts';
import { type DirectoryRoutesDeps, routeDirectoryRequest } from './directory-routes.ts';
import { operatorOf } from './operator-identity.ts';
import { bodyOf } from './request-body.ts';
import { routeUploadRequest, type UploadRoutesDeps } from './upload-routes.ts';
import { type RunRoutesDeps, routeRunRequest } from './run-routes.ts';

export interface AdminDeps {
  queryAudit(query: AuditQuery): Promise<{ items: Array<AuditEntry & { id: string }>; next: string | undefined }>;
  connectorIds(): Promise<string[]>;
  breaker(connectorId: string): Promise<BreakerState>;
  deadLetterCount(connectorId: string): Promise<number>;
  /** Up to `limit` messages of the DLQ, left where they are. */
  peekDeadLetters(connectorId: string, limit: number): Promise<DeadLetter[]>;
  redrive(connectorId: string, max: number | undefined): Promise<RedriveResult>;
  /** Reconciliation runs (run-routes.ts); without them those routes answer 404. */
  runs?: Omit<RunRoutesDeps, 'connectorIds'>;
  /** On-demand provisioning of one user or group (shared/sync/on-demand.service.ts). */
  provision(request: OnDemandRequest): Promise<OnDemandResult>;
  /** Temporary access grants, of one connector or all, soonest to end first. */
  grants(connectorId: string | undefined): Promise<AccessGrant[]>;
  /** The console's overview (overview-routes.ts); without it that route answers 404. */
  overview?: Pick<OverviewDeps, 'counters' | 'lastRun' | 'hubTotals' | 'clock'>;
  /** Import jobs (import-routes.ts); without them those routes answer 404. */
  imports?: ImportRoutesDeps & UploadRoutesDeps;
  /** The console's directory (directory-routes.ts); without it those routes answer 404. */
  directory?: Pick<DirectoryRoutesDeps, 'directory' | 'link'>;
}

const AUDIT_STATUSES = ['success', 'failed', 'skipped', 'retrying', 'dead-lettered'] as const;
const AUDIT_TRIGGERS = ['realtime', 'schedule', 'on-demand', 'import'] as const satisfies readonly SyncTrigger[];

/** A paging cursor is opaque here: the store decides whether it is one it returned (InvalidCursor otherwise). */
const AuditCursorSchema = z.string().min(1).max(4096);

const AuditQuerySchema = z
  .object({
    connector: z.string().min(1).optional(),
    // One status or several, comma-separated: `failed,dead-lettered`.
    status: z
      .string()
      .transform((value) => value.split(','))
      .pipe(z.array(z.enum(AUDIT_STATUSES)).min(1))
      .optional(),
    action: z.string().min(1).optional(),
    trigger: z.enum(AUDIT_TRIGGERS).optional(),
    resource: z.string().min(1).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: AuditCursorSchema.optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });

const DeadLettersQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(10).default(10) }).strict();
const RedriveQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100_000).optional() }).strict();

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

const badRequest = (error: z.ZodError): APIGatewayProxyResult =>
  json(400, { error: error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });

const GrantsQuerySchema = z.object({ connector: z.string().min(1).optional() }).strict();

const CONNECTOR_PATH = /^\/connectors\/([^/]+)(\/dead-letters|\/redrive|\/provision)?$/;

const ON_DEMAND_STATUS: Record<OnDemandError['code'], number> = {
  'onDemand.notFound': 404,
  'onDemand.ambiguous': 409,
  'onDemand.disabled': 409,
  'onDemand.invalid': 400,
};

const provision = async (connectorId: string, event: APIGatewayProxyEvent, deps: AdminDeps): Promise<APIGatewayProxyResult> => {
  const body = bodyOf(event);
  if (body === undefined) return json(400, { error: 'body: not JSON' });
  const parsed = OnDemandBodySchema.safeParse(body);
  if (!parsed.success) return badRequest(parsed.error);
  try {
    return json(200, await deps.provision({ ...onDemandRequestOf(connectorId, parsed.data), operator: operatorOf(event) }));
  } catch (error) {
    if (error instanceof OnDemandError) return json(ON_DEMAND_STATUS[error.code], { error: error.message, code: error.code });
    // The target refused or failed: the hub did its part, the answer says whose fault it is.
    if (error instanceof ConnectorError) return json(502, { error: `the target failed: ${error.message}`, code: error.code });
    throw error;
  }
};

/**
 * The operators' API (behind IAM auth in AWS, the operator token locally):
 *
 * - `GET /admin/audit?connector&status&action&trigger&resource&from&to&limit&cursor`: the audit
 *   trail, newest first, paged by `nextCursor` (`status` may list several, comma-separated;
 *   `resource` matches an id or a name);
 * - `GET /admin/connectors`: every connector's circuit breaker and DLQ depth;
 * - `GET /admin/connectors/{id}`: one connector's;
 * - `GET /admin/connectors/{id}/dead-letters?limit`: the DLQ's messages, left in place;
 * - `POST /admin/connectors/{id}/redrive?limit`: moves dead letters back to the lane, within the
 *   request's time budget, and says how many remain;
 * - `POST /admin/connectors/{id}/provision` with `{"user"|"group", dryRun, deprovision, until}`:
 *   provisions one user or group now and answers with the steps and the diff (502 when the
 *   target fails);
 * - `GET /admin/grants?connector`: temporary access grants, soonest to end first.
 *
 * Bad parameters are a 400 naming them, an unknown connector a 404.
 */
export const routeAdminRequest = async (event: APIGatewayProxyEvent, deps: AdminDeps): Promise<APIGatewayProxyResult> => {
  // The CLI calls /admin/..., the console /operator/... (hub.topology.ts): the same routes behind another auth.
  const path = event.path.replace(/^.*?\/(?:admin|operator)(?=\/|$)/, '').replace(/\/+$/, '');
  const method = event.httpMethod.toUpperCase();
  const query = event.queryStringParameters ?? {};
  if (path === '/audit') {
    if (method !== 'GET') return json(405, { error: `${method} /admin/audit is not allowed: use GET` });
    const parsed = AuditQuerySchema.safeParse(query);
    if (!parsed.success) return badRequest(parsed.error);
    const q = parsed.data;
    let page: Awaited<ReturnType<AdminDeps['queryAudit']>>;
    try {
      page = await deps.queryAudit({
        connectorId: q.connector,
        status: q.status?.length === 1 ? q.status[0] : q.status,
        action: q.action,
        trigger: q.trigger,
        resourceId: q.resource,
        from: q.from,
        to: q.to,
        limit: q.limit,
        cursor: q.cursor,
      });
    } catch (error) {
      if (error instanceof InvalidCursor) return json(400, { error: 'cursor: not a cursor this endpoint returned' });
      throw error;
    }
    return json(200, { items: page.items, ...(page.next ? { nextCursor: page.next } : {}) });
  }
  if (path === '/grants') {
    if (method !== 'GET') return json(405, { error: `${method} /admin/grants is not allowed: use GET` });
    const parsed = GrantsQuerySchema.safeParse(query);
    if (!parsed.success) return badRequest(parsed.error);
    return json(200, { grants: await deps.grants(parsed.data.connector) });
  }
  if (path === '/connectors') {
    if (method !== 'GET') return json(405, { error: `${method} /admin/connectors is not allowed: use GET` });
    const ids = await deps.connectorIds();
    return json(200, { connectors: await Promise.all(ids.map((id) => connectorHealth(id, deps))) });
  }
  const connector = CONNECTOR_PATH.exec(path);
  if (connector) {
    const id = decodeURIComponent(connector[1] ?? '');
    const action = connector[2];
    if (!(await deps.connectorIds()).includes(id)) return json(404, { error: `no connector ${id}` });
    if (!action) {
      if (method !== 'GET') return json(405, { error: `${method} is not allowed here: use GET` });
      return json(200, await connectorHealth(id, deps));
    }
    if (action === '/dead-letters') {
      if (method !== 'GET') return json(405, { error: `${method} is not allowed here: use GET` });
      const parsed = DeadLettersQuerySchema.safeParse(query);
      if (!parsed.success) return badRequest(parsed.error);
      const [count, messages] = await Promise.all([deps.deadLetterCount(id), deps.peekDeadLetters(id, parsed.data.limit)]);
      return json(200, { connector: id, approximateCount: count, messages });
    }
    if (method !== 'POST') return json(405, { error: `${method} is not allowed here: use POST` });
    if (action === '/provision') return provision(id, event, deps);
    const parsed = RedriveQuerySchema.safeParse(query);
    if (!parsed.success) return badRequest(parsed.error);
    const result = await deps.redrive(id, parsed.data.limit);
    return json(200, { connector: id, ...result });
  }
  const overview = deps.overview
    ? await routeOverviewRequest(event, path, {
        ...deps.overview,
        connectorIds: deps.connectorIds,
        breaker: deps.breaker,
        deadLetterCount: deps.deadLetterCount,
      })
    : undefined;
  if (overview) return overview;
  const runs = deps.runs ? await routeRunRequest(event, path, { ...deps.runs, connectorIds: deps.connectorIds }) : undefined;
  if (runs) return runs;
  const upload = deps.imports ? await routeUploadRequest(event, path, deps.imports) : undefined;
  if (upload) return upload;
  const imports = deps.imports ? await routeImportRequest(event, path, deps.imports) : undefined;
  if (imports) return imports;
  const directory = deps.directory
    ? await routeDirectoryRequest(event, path, {
        ...deps.directory,
        connectorIds: deps.connectorIds,
        lastAudit: async (connectorId, resourceId) => (await deps.queryAudit({ connectorId, resourceId, limit: 1 })).items[0],
      })
    : undefined;
  if (directory) return directory;
  return json(404, { error: `no admin endpoint ${method} /admin${path}` });
};

const connectorHealth = async (id: string, deps: AdminDeps) => {
  const [breaker, deadLetters] = await Promise.all([deps.breaker(id), deps.deadLetterCount(id)]);
  return { id, breaker, deadLetters };
};
