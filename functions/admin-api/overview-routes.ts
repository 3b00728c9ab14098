import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { BreakerState } from '#shared/connectors/resilience/circuit-breaker.ts';
import { emptyCounts, errorRateOf, hoursBetween, latencyQuantile, type OperationCounts, sumCounts } from '#shared/observability/operation-counters.ts';
import type { RunRecord } from '#shared/sync/reconcile-run.ports.ts';

export interface OverviewDeps {
  connectorIds(): Promise<string[]>;
  breaker(connectorId: string): Promise<BreakerState>;
  deadLetterCount(connectorId: string): Promise<number>;
  /** A connector's hourly operation counters (shared/store/audit.repository.ts), oldest first. */
  counters(connectorId: string, fromHour: string, toHour: string): Promise<OperationCounts[]>;
  /** The connector's newest reconciliation run, if it ever ran. */
  lastRun(connectorId: string): Promise<RunRecord | undefined>;
  hubTotals(): Promise<{ users: number; groups: number }>;
  clock(): Date;
}

const OverviewQuerySchema = z
  .object({
    hours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 31)
      .default(24),
  })
  .strict();

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

/** A quantile for JSON: null when nothing was measured or it lies beyond the histogram's last bound. */
const finite = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? null : value);

/**
 * `GET /admin/overview?hours=24`: the console's overview. Per connector, its operations per
 * hour by status (every hour of the range, zeros included), the range's error rate and
 * propagation latency p50 and p99 (from the counters' histogram, so an upper estimate to its
 * resolution), its circuit breaker, DLQ depth and last reconciliation run; and the hub's totals
 * of users and groups. Reads one counter item per connector, shard and hour: the cost grows
 * with the range, never with the number of operations.
 *
 * Undefined for every other path.
 */
export const routeOverviewRequest = async (event: APIGatewayProxyEvent, path: string, deps: OverviewDeps): Promise<APIGatewayProxyResult | undefined> => {
  if (path !== '/overview') return undefined;
  const method = event.httpMethod.toUpperCase();
  if (method !== 'GET') return json(405, { error: `${method} /admin/overview is not allowed: use GET` });
  const parsed = OverviewQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
  const to = deps.clock();
  const from = new Date(to.getTime() - (parsed.data.hours - 1) * 3_600_000);
  const hours = hoursBetween(from.toISOString(), to.toISOString());
  const fromHour = hours[0] as string;
  const toHour = hours[hours.length - 1] as string;
  const [ids, hub] = await Promise.all([deps.connectorIds(), deps.hubTotals()]);
  const connectors = await Promise.all(
    ids.map(async (id) => {
      const [counters, breaker, deadLetters, lastRun] = await Promise.all([
        deps.counters(id, fromHour, toHour),
        deps.breaker(id),
        deps.deadLetterCount(id),
        deps.lastRun(id),
      ]);
      const byHour = new Map(counters.map((c) => [c.hour, c]));
      const series = hours.map((hour) => byHour.get(hour) ?? emptyCounts(hour));
      const totals = sumCounts(`${fromHour}/${toHour}`, series);
      return {
        id,
        breaker,
        deadLetters,
        lastRun: lastRun ?? null,
        series: series.map(({ hour, total, byStatus }) => ({ hour, total, byStatus })),
        totals: {
          operations: totals.total,
          byStatus: totals.byStatus,
          byAction: totals.byAction,
          errorRate: errorRateOf(totals),
          latencyMeasured: totals.latency.reduce((a, b) => a + b, 0),
          latencyP50Ms: finite(latencyQuantile(totals.latency, 0.5)),
          latencyP99Ms: finite(latencyQuantile(totals.latency, 0.99)),
        },
      };
    }),
  );
  return json(200, { from: from.toISOString(), to: to.toISOString(), hours, hub, connectors });
};
