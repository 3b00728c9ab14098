import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AdminDeps, routeAdminRequest } from '../../../functions/admin-api/admin-router.ts';
import { InvalidCursor } from '../../../shared/directory/directory.errors.ts';
import { initialBreaker } from '../../../shared/connectors/resilience/circuit-breaker.ts';
import type { AuditQuery } from '../../../shared/store/audit.repository.ts';

const request = (method: string, path: string, query: Record<string, string> = {}): APIGatewayProxyEvent =>
  ({ httpMethod: method, path, queryStringParameters: Object.keys(query).length ? query : null }) as unknown as APIGatewayProxyEvent;

/** The router on in-memory dependencies that record what they were asked. */
const routerWith = (overrides: Partial<AdminDeps> = {}) => {
  const calls: Array<[string, unknown]> = [];
  const deps: AdminDeps = {
    queryAudit: async (query) => {
      calls.push(['queryAudit', query]);
      return { items: [], next: 'next-page' };
    },
    connectorIds: async () => ['acme'],
    breaker: async () => initialBreaker(),
    deadLetterCount: async () => 2,
    peekDeadLetters: async (id, limit) => {
      calls.push(['peekDeadLetters', { id, limit }]);
      return [];
    },
    redrive: async (id, max) => {
      calls.push(['redrive', { id, max }]);
      return { moved: 2, remaining: 0, stoppedBy: 'empty' };
    },
    ...overrides,
  };
  const route = async (event: APIGatewayProxyEvent) => {
    const response = await routeAdminRequest(event, deps);
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };
  return { route, calls };
};

describe('the admin router', () => {
  it('passes audit filters to the store and hands back its cursor', async () => {
    // Prepare
    const { route, calls } = routerWith();
    // Act
    const answer = await route(request('GET', '/admin/audit', { connector: 'acme', status: 'failed', from: '2026-11-01T00:00:00Z', limit: '20', cursor: 'opaque' }));
    // Assess
    expect(answer).toEqual({ status: 200, body: { items: [], nextCursor: 'next-page' } });
    const query: AuditQuery = { connectorId: 'acme', status: 'failed', action: undefined, resourceId: undefined, from: '2026-11-01T00:00:00Z', to: undefined, limit: 20, cursor: 'opaque' };
    expect(calls).toEqual([['queryAudit', query]]);
  });

  it.each([
    ['an unknown status', { status: 'exploded' }],
    ['a limit over 500', { limit: '501' }],
    ['a time that is not ISO 8601', { from: 'yesterday' }],
    ['from after to', { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }],
    ['an unknown parameter', { user: 'ada' }],
  ])('answers 400 naming the problem for %s', async (_, query) => {
    const { route, calls } = routerWith();
    const answer = await route(request('GET', '/admin/audit', query));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual(expect.any(String));
    expect(calls).toEqual([]);
  });

  it('answers 400 for a cursor the store does not recognise', async () => {
    const { route } = routerWith({
      queryAudit: async () => {
        throw new InvalidCursor('forged');
      },
    });
    expect(await route(request('GET', '/admin/audit', { cursor: 'forged' }))).toEqual({ status: 400, body: { error: 'cursor: not a cursor this endpoint returned' } });
  });

  it('reports each connector and one connector with its breaker and DLQ depth', async () => {
    const { route } = routerWith();
    const health = { id: 'acme', breaker: initialBreaker(), deadLetters: 2 };
    expect(await route(request('GET', '/admin/connectors'))).toEqual({ status: 200, body: { connectors: [health] } });
    expect(await route(request('GET', '/admin/connectors/acme'))).toEqual({ status: 200, body: health });
  });

  it('lists dead letters in place and redrives within the asked limit', async () => {
    const { route, calls } = routerWith();
    expect(await route(request('GET', '/admin/connectors/acme/dead-letters', { limit: '5' }))).toEqual({ status: 200, body: { connector: 'acme', approximateCount: 2, messages: [] } });
    expect(await route(request('POST', '/admin/connectors/acme/redrive', { limit: '10' }))).toEqual({ status: 200, body: { connector: 'acme', moved: 2, remaining: 0, stoppedBy: 'empty' } });
    expect(calls).toEqual([
      ['peekDeadLetters', { id: 'acme', limit: 5 }],
      ['redrive', { id: 'acme', max: 10 }],
    ]);
  });

  it('answers 404 for an unknown connector or endpoint, and 405 for the wrong method', async () => {
    const { route, calls } = routerWith();
    expect((await route(request('POST', '/admin/connectors/nobody/redrive'))).status).toBe(404);
    expect((await route(request('GET', '/admin/nothing-here'))).status).toBe(404);
    expect((await route(request('GET', '/admin/connectors/acme/redrive'))).status).toBe(405);
    expect((await route(request('DELETE', '/admin/audit'))).status).toBe(405);
    expect(calls).toEqual([]);
  });
});
