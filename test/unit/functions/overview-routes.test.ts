import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { routeOverviewRequest } from '../../../functions/admin-api/overview-routes.ts';
import { initialBreaker } from '../../../shared/connectors/resilience/circuit-breaker.ts';
import { emptyCounts, LATENCY_BOUNDS_MS, latencyBucketOf, type OperationCounts } from '../../../shared/observability/operation-counters.ts';

const request = (query: Record<string, string> = {}): APIGatewayProxyEvent =>
  ({ httpMethod: 'GET', path: '/admin/overview', queryStringParameters: Object.keys(query).length ? query : null }) as unknown as APIGatewayProxyEvent;

const counts = (hour: string, byStatus: Record<string, number>, latencies: number[] = []): OperationCounts => {
  const c = emptyCounts(hour);
  c.byStatus = byStatus;
  c.total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  for (const ms of latencies) c.latency[latencyBucketOf(ms)] = (c.latency[latencyBucketOf(ms)] ?? 0) + 1;
  return c;
};

const deps = (stored: Record<string, OperationCounts[]>) => {
  const asked: Array<[string, string, string]> = [];
  return {
    asked,
    deps: {
      connectorIds: async () => Object.keys(stored),
      breaker: async () => initialBreaker(),
      deadLetterCount: async (id: string) => (id === 'acme' ? 3 : 0),
      counters: async (id: string, from: string, to: string) => {
        asked.push([id, from, to]);
        return stored[id] ?? [];
      },
      lastRun: async () => undefined,
      hubTotals: async () => ({ users: 42, groups: 7 }),
      clock: () => new Date('2026-11-29T21:30:00.000Z'),
    },
  };
};

describe('the overview route', () => {
  it('answers every hour of the range per connector, zeros included, with its totals, error rate and latency quantiles', async () => {
    const { deps: d, asked } = deps({
      acme: [counts('2026-11-29T19', { success: 8, 'dead-lettered': 2 }, [90, 95, 400]), counts('2026-11-29T21', { success: 10 }, [20])],
      quiet: [],
    });
    const answer = await routeOverviewRequest(request({ hours: '3' }), '/overview', d);
    expect(answer?.statusCode).toBe(200);
    const body = JSON.parse(answer?.body ?? '{}');
    expect(body.hours).toEqual(['2026-11-29T19', '2026-11-29T20', '2026-11-29T21']);
    expect(asked).toEqual([
      ['acme', '2026-11-29T19', '2026-11-29T21'],
      ['quiet', '2026-11-29T19', '2026-11-29T21'],
    ]);
    expect(body.hub).toEqual({ users: 42, groups: 7 });
    const [acme, quiet] = body.connectors;
    expect(acme.series.map((s: { total: number }) => s.total)).toEqual([10, 0, 10]);
    expect(acme.deadLetters).toBe(3);
    expect(acme.totals).toMatchObject({ operations: 20, errorRate: 0.1, latencyMeasured: 4, latencyP50Ms: 100, latencyP99Ms: 500 });
    expect(quiet.totals).toMatchObject({ operations: 0, errorRate: 0, latencyMeasured: 0, latencyP50Ms: null, latencyP99Ms: null });
  });

  it('reports a quantile beyond the last finite bound as null, with the measurement counted', async () => {
    const { deps: d } = deps({ slow: [counts('2026-11-29T21', { success: 1 }, [(LATENCY_BOUNDS_MS.at(-2) as number) + 1])] });
    const body = JSON.parse((await routeOverviewRequest(request({ hours: '1' }), '/overview', d))?.body ?? '{}');
    expect(body.connectors[0].totals).toMatchObject({ latencyMeasured: 1, latencyP99Ms: null });
  });

  it.each([[{ hours: '0' }], [{ hours: '10000' }], [{ hours: 'many' }], [{ connector: 'acme' }]])('answers 400 for %j', async (query) => {
    const answer = await routeOverviewRequest(request(query), '/overview', deps({}).deps);
    expect(answer?.statusCode).toBe(400);
  });

  it('leaves other paths to the other routes', async () => {
    expect(await routeOverviewRequest(request(), '/audit', deps({}).deps)).toBeUndefined();
  });
});
