import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { AuditQuery } from '#shared/store/audit.repository.ts';
import type { AuditEntry } from '#shared/sync/sync.ports.ts';
import type { BreakerState } from '#shared/connectors/resilience/circuit-breaker.ts';

export interface AdminDeps {
  queryAudit(query: AuditQuery): Promise<{ items: Array<AuditEntry & { id: string }>; next: string | undefined }>;
  connectorIds(): Promise<string[]>;
  breaker(connectorId: string): Promise<BreakerState>;
  deadLetterCount(connectorId: string): Promise<number>;
  redrive(connectorId: string, max?: number): Promise<number>;
}

const AuditQuerySchema = z.object({
  connector: z.string().min(1).optional(),
  status: z.enum(['success', 'failed', 'skipped', 'retrying', 'dead-lettered']).optional(),
  action: z.string().min(1).optional(),
  resource: z.string().min(1).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * The operators' API (behind IAM auth in AWS): the audit trail with filters and paging,
 * each connector's health (circuit breaker, DLQ depth) and the DLQ redrive.
 */
export const routeAdminRequest = async (event: APIGatewayProxyEvent, deps: AdminDeps): Promise<APIGatewayProxyResult> => {
  const path = event.path.replace(/^.*?\/admin/, '');
  const method = event.httpMethod.toUpperCase();
  if (path === '/audit' && method === 'GET') {
    const parsed = AuditQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success) return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const q = parsed.data;
    const page = await deps.queryAudit({
      connectorId: q.connector,
      status: q.status,
      action: q.action,
      resourceId: q.resource,
      from: q.from,
      to: q.to,
      limit: q.limit,
      cursor: q.cursor,
    });
    return json(200, { items: page.items, ...(page.next ? { nextCursor: page.next } : {}) });
  }
  if (path === '/connectors' && method === 'GET') {
    const ids = await deps.connectorIds();
    const connectors = await Promise.all(
      ids.map(async (id) => ({ id, breaker: await deps.breaker(id), deadLetters: await deps.deadLetterCount(id) })),
    );
    return json(200, { connectors });
  }
  const redrive = /^\/connectors\/([a-z0-9-]+)\/redrive$/.exec(path);
  if (redrive && method === 'POST') {
    const id = redrive[1] ?? '';
    if (!(await deps.connectorIds()).includes(id)) return json(404, { error: `no connector ${id}` });
    const max = Number(event.queryStringParameters?.limit ?? Number.NaN);
    return json(200, { connector: id, moved: await deps.redrive(id, Number.isInteger(max) && max > 0 ? max : undefined) });
  }
  return json(404, { error: `no admin endpoint ${method} ${path}` });
};
