import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { PlannedChange, RunRecord } from '#shared/sync/reconcile-run.ports.ts';
import { RunInProgressError, RunNotFoundError, RunStateError } from '#shared/sync/reconcile-run.ts';
import { operatorOf } from './operator-identity.ts';

export interface RunRoutesDeps {
  connectorIds(): Promise<string[]>;
  listRuns(options: { connectorId?: string; limit: number }): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  planPage(runId: string, page: number): Promise<PlannedChange[]>;
  /** `full`: an inbound source's change feed is read in a full round, not from its stored delta links. */
  startRun(connectorId: string, dryRun: boolean, full?: boolean): Promise<RunRecord>;
  approve(runId: string, by: string): Promise<RunRecord>;
  reject(runId: string, by: string): Promise<RunRecord>;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

const RunsQuerySchema = z.object({ connector: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(100).default(20) }).strict();
const RunQuerySchema = z.object({ planPages: z.coerce.number().int().min(0).max(50).default(10) }).strict();
const StartQuerySchema = z.object({ dryRun: z.enum(['true', 'false']).default('false'), full: z.enum(['true', 'false']).default('false') }).strict();

const RUN_PATH = /^\/runs\/([^/]+)(\/approve|\/reject)?$/;
const RECONCILE_PATH = /^\/connectors\/([^/]+)\/reconcile$/;

const badRequest = (error: z.ZodError) => json(400, { error: error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
const onlyMethod = (method: string, allowed: string) =>
  method === allowed ? undefined : json(405, { error: `${method} is not allowed here: use ${allowed}` });

/**
 * The reconciliation runs of the operators' API:
 *
 * - `GET /admin/runs?connector&limit`: runs newest first, with their state and counters;
 * - `GET /admin/runs/{id}?planPages`: one run and the first pages of its plan (the changes it
 *   sends or sent, the orphans it reports, the collisions);
 * - `POST /admin/runs/{id}/approve` and `/reject`: decide a run awaiting approval (409 otherwise);
 * - `POST /admin/connectors/{id}/reconcile?dryRun=true|false&full=true|false`: starts a run (202),
 *   or 409 while one of the connector's runs is under way; `full=true` reads an inbound source
 *   with a change feed in a full round.
 *
 * Undefined for every other path, which the caller routes on.
 */
export const routeRunRequest = async (event: APIGatewayProxyEvent, path: string, deps: RunRoutesDeps): Promise<APIGatewayProxyResult | undefined> => {
  const method = event.httpMethod.toUpperCase();
  const query = event.queryStringParameters ?? {};
  if (path === '/runs') {
    const wrong = onlyMethod(method, 'GET');
    if (wrong) return wrong;
    const parsed = RunsQuerySchema.safeParse(query);
    if (!parsed.success) return badRequest(parsed.error);
    return json(200, { runs: await deps.listRuns({ limit: parsed.data.limit, ...(parsed.data.connector ? { connectorId: parsed.data.connector } : {}) }) });
  }
  const run = RUN_PATH.exec(path);
  if (run) {
    const runId = decodeURIComponent(run[1] ?? '');
    const decision = run[2];
    if (!decision) {
      const wrong = onlyMethod(method, 'GET');
      if (wrong) return wrong;
      const parsed = RunQuerySchema.safeParse(query);
      if (!parsed.success) return badRequest(parsed.error);
      const found = await deps.getRun(runId);
      if (!found) return json(404, { error: `no run ${runId}` });
      const pages = Math.min(found.planPages, parsed.data.planPages);
      const plan = (await Promise.all(Array.from({ length: pages }, (_, page) => deps.planPage(runId, page)))).flat();
      return json(200, { run: found, plan, planComplete: pages === found.planPages });
    }
    const wrong = onlyMethod(method, 'POST');
    if (wrong) return wrong;
    try {
      const decided = decision === '/approve' ? await deps.approve(runId, operatorOf(event)) : await deps.reject(runId, operatorOf(event));
      return json(200, { run: decided });
    } catch (error) {
      if (error instanceof RunNotFoundError) return json(404, { error: error.message });
      if (error instanceof RunStateError) return json(409, { error: error.message });
      throw error;
    }
  }
  const reconcile = RECONCILE_PATH.exec(path);
  if (reconcile) {
    const connectorId = decodeURIComponent(reconcile[1] ?? '');
    const wrong = onlyMethod(method, 'POST');
    if (wrong) return wrong;
    const parsed = StartQuerySchema.safeParse(query);
    if (!parsed.success) return badRequest(parsed.error);
    if (!(await deps.connectorIds()).includes(connectorId)) return json(404, { error: `no connector ${connectorId}` });
    try {
      return json(202, { run: await deps.startRun(connectorId, parsed.data.dryRun === 'true', parsed.data.full === 'true') });
    } catch (error) {
      if (error instanceof RunInProgressError) return json(409, { error: error.message });
      throw error;
    }
  }
  return undefined;
};
