import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AdminDeps, routeAdminRequest } from '../../../functions/admin-api/admin-router.ts';
import { InvalidCursor } from '../../../shared/directory/directory.errors.ts';
import { initialBreaker } from '../../../shared/connectors/resilience/circuit-breaker.ts';
import type { AuditQuery } from '../../../shared/store/audit.repository.ts';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { OnDemandError } from '../../../shared/sync/on-demand.service.ts';
import { LOCAL_OPERATOR } from '../../../functions/admin-api/operator-identity.ts';

const request = (method: string, path: string, query: Record<string, string> = {}, body?: string): APIGatewayProxyEvent =>
  ({ httpMethod: method, path, queryStringParameters: Object.keys(query).length ? query : null, body: body ?? null }) as unknown as APIGatewayProxyEvent;

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
    provision: async (request) => {
      calls.push(['provision', request]);
      return {
        connectorId: request.connectorId,
        dryRun: request.dryRun ?? false,
        resource: { type: 'User', id: 'u1', name: 'ada' },
        steps: ['scope: in scope'],
        calls: [],
        changes: [],
        outcome: { action: 'create', status: 'success' },
        settle: 'none',
        durationMs: 1,
      };
    },
    grants: async (connectorId) => {
      calls.push(['grants', connectorId]);
      return [];
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
    const answer = await route(
      request('GET', '/admin/audit', { connector: 'acme', status: 'failed', from: '2026-11-01T00:00:00Z', limit: '20', cursor: 'opaque' }),
    );
    // Assess
    expect(answer).toEqual({ status: 200, body: { items: [], nextCursor: 'next-page' } });
    const query: AuditQuery = {
      connectorId: 'acme',
      status: 'failed',
      action: undefined,
      resourceId: undefined,
      from: '2026-11-01T00:00:00Z',
      to: undefined,
      limit: 20,
      cursor: 'opaque',
    };
    expect(calls).toEqual([['queryAudit', query]]);
  });

  it('passes several statuses, a trigger and a resource name to the store', async () => {
    const { route, calls } = routerWith();
    const answer = await route(request('GET', '/admin/audit', { status: 'failed,dead-lettered', trigger: 'on-demand', resource: 'ada' }));
    expect(answer.status).toBe(200);
    expect(calls).toEqual([['queryAudit', { status: ['failed', 'dead-lettered'], trigger: 'on-demand', resourceId: 'ada', limit: 50 }]]);
  });

  it.each([
    ['an unknown status', { status: 'exploded' }],
    ['an unknown status among several', { status: 'failed,exploded' }],
    ['an unknown trigger', { trigger: 'telepathy' }],
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
    expect(await route(request('GET', '/admin/audit', { cursor: 'forged' }))).toEqual({
      status: 400,
      body: { error: 'cursor: not a cursor this endpoint returned' },
    });
  });

  it('reports each connector and one connector with its breaker and DLQ depth', async () => {
    const { route } = routerWith();
    const health = { id: 'acme', breaker: initialBreaker(), deadLetters: 2 };
    expect(await route(request('GET', '/admin/connectors'))).toEqual({ status: 200, body: { connectors: [health] } });
    expect(await route(request('GET', '/admin/connectors/acme'))).toEqual({ status: 200, body: health });
  });

  it('lists dead letters in place and redrives within the asked limit', async () => {
    const { route, calls } = routerWith();
    expect(await route(request('GET', '/admin/connectors/acme/dead-letters', { limit: '5' }))).toEqual({
      status: 200,
      body: { connector: 'acme', approximateCount: 2, messages: [] },
    });
    expect(await route(request('POST', '/admin/connectors/acme/redrive', { limit: '10' }))).toEqual({
      status: 200,
      body: { connector: 'acme', moved: 2, remaining: 0, stoppedBy: 'empty' },
    });
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

describe('the admin router: on-demand provisioning', () => {
  it('passes a provision request with its options to the use case', async () => {
    // Prepare
    const { route, calls } = routerWith();
    // Act
    const response = await route(request('POST', '/admin/connectors/acme/provision', {}, JSON.stringify({ user: 'ada', dryRun: true, until: '2h' })));
    // Assess
    expect(response.status).toBe(200);
    expect(calls).toContainEqual([
      'provision',
      { connectorId: 'acme', subject: { user: 'ada' }, dryRun: true, deprovision: false, until: '2h', operator: LOCAL_OPERATOR },
    ]);
  });

  it.each([
    ['no subject', '{}'],
    ['both a user and a group', '{"user":"ada","group":"eng"}'],
    ['an unknown field', '{"user":"ada","force":true}'],
    ['a body that is not JSON', '{user'],
    ['dryRun as text', '{"user":"ada","dryRun":"yes"}'],
  ])('answers 400 to %s, and never reaches the use case', async (_case, body) => {
    const { route, calls } = routerWith();

    const response = await route(request('POST', '/admin/connectors/acme/provision', {}, body));

    expect(response.status).toBe(400);
    expect(calls.filter(([name]) => name === 'provision')).toEqual([]);
  });

  it.each([
    [new OnDemandError('onDemand.notFound', 'no user "x"'), 404],
    [new OnDemandError('onDemand.ambiguous', 'two users'), 409],
    [new OnDemandError('onDemand.invalid', 'until: bad'), 400],
    [new ConnectorError('permanent', 'the target said no'), 502],
  ])('answers %s with %i and its message', async (error, status) => {
    const { route } = routerWith({ provision: async () => Promise.reject(error) });

    const response = await route(request('POST', '/admin/connectors/acme/provision', {}, '{"user":"x"}'));

    expect(response).toMatchObject({ status, body: { error: expect.stringContaining(error.message) } });
  });

  it('404s a provision on an unknown connector and 405s a GET of it', async () => {
    const { route } = routerWith();

    expect((await route(request('POST', '/admin/connectors/nope/provision', {}, '{"user":"ada"}'))).status).toBe(404);
    expect((await route(request('GET', '/admin/connectors/acme/provision'))).status).toBe(405);
  });

  it('lists grants, of one connector when asked', async () => {
    const { route, calls } = routerWith();

    expect(await route(request('GET', '/admin/grants', { connector: 'acme' }))).toEqual({ status: 200, body: { grants: [] } });
    expect(calls).toContainEqual(['grants', 'acme']);
    expect((await route(request('GET', '/admin/grants', { bogus: '1' }))).status).toBe(400);
  });
});

describe("the admin router: the console's routes", () => {
  /** A console call as API Gateway passes it on after the operators' pool authorizer accepted an access token. */
  const fromConsole = (method: string, path: string, body?: string, claims: Record<string, string> = { sub: 'c1e2', username: 'grace' }) =>
    ({ ...request(method, path, {}, body), requestContext: { authorizer: { claims } } }) as unknown as APIGatewayProxyEvent;

  it('answers /operator/... as /admin/...', async () => {
    // Prepare
    const { route } = routerWith();
    // Act
    const [console, cli] = await Promise.all([route(fromConsole('GET', '/operator/connectors')), route(request('GET', '/admin/connectors'))]);
    // Assess
    expect(console).toEqual({ status: 200, body: { connectors: [expect.objectContaining({ id: 'acme', deadLetters: 2 })] } });
    expect(console).toEqual(cli);
  });

  it('names the signed-in operator in an on-demand provisioning, which its audit records carry', async () => {
    // Prepare
    const { route, calls } = routerWith();
    // Act
    await route(fromConsole('POST', '/operator/connectors/acme/provision', '{"user":"ada"}'));
    // Assess
    expect(calls).toContainEqual(['provision', expect.objectContaining({ subject: { user: 'ada' }, operator: 'grace' })]);
  });
});
