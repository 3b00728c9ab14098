import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { routeDirectoryRequest } from '../../../functions/admin-api/directory-routes.ts';
import { LOCAL_OPERATOR } from '../../../functions/admin-api/operator-identity.ts';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import type { AuditEntry, Link } from '../../../shared/sync/sync.ports.ts';
import { InMemoryDirectoryStore } from '../../builders/in-memory-directory.store.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Event = { method: string; path: string; query?: Record<string, string>; body?: unknown; headers?: Record<string, string>; authorizer?: unknown };

const event = ({ method, path, query = {}, body, headers = {}, authorizer }: Event): APIGatewayProxyEvent =>
  ({
    httpMethod: method,
    path: `/admin${path}`,
    headers,
    queryStringParameters: Object.keys(query).length ? query : null,
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: { identity: {}, ...(authorizer ? { authorizer } : {}) },
  }) as unknown as APIGatewayProxyEvent;

/** The routes on the directory's real use cases over the in-memory store; one connector `acme` with a link and an audit record. */
const setup = () => {
  const store = new InMemoryDirectoryStore();
  let ids = 0;
  const directory = makeDirectory({ store, clock: () => new Date('2026-11-30T01:00:00Z'), newId: () => `id-${++ids}`, onUnknownAttributes: () => undefined });
  const links = new Map<string, Link>();
  const audit: Array<AuditEntry & { id: string }> = [];
  const route = async (request: Event) => {
    const response = await routeDirectoryRequest(event(request), request.path, {
      directory,
      connectorIds: async () => ['acme', 'other'],
      link: async (connectorId, kind, hubId) => links.get(`${connectorId}#${kind}#${hubId}`),
      lastAudit: async (connectorId, resourceId) => audit.find((entry) => entry.connectorId === connectorId && entry.resourceId === resourceId),
    });
    return response ? { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined } : undefined;
  };
  return { route, store, links, audit };
};

describe('the console directory routes', () => {
  it('creates a user stamped with the operator, finds it by filter and shows where it is provisioned', async () => {
    const { route, store, links, audit } = setup();
    const created = await route({
      method: 'POST',
      path: '/directory/users',
      body: { schemas: [USER_SCHEMA], userName: 'ada@example.com', name: { givenName: 'Ada', familyName: 'Lovelace' } },
      authorizer: { claims: { email: 'ops@example.com' } },
    });
    expect(created?.status).toBe(201);
    const id = created?.body.resource.id as string;
    expect((await store.get('User', id))?.origin).toEqual({ trigger: 'realtime', actor: 'ops@example.com', provision: true });

    const found = await route({ method: 'GET', path: '/directory/users', query: { filter: 'userName eq "ADA@example.com"', count: '10' } });
    expect(found?.status).toBe(200);
    expect(found?.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    links.set(`acme#user#${id}`, {
      connectorId: 'acme',
      kind: 'user',
      hubId: id,
      targetId: 't-9',
      status: 'active',
      pushed: {},
      hash: 'h',
      origin: 'created',
      updated: '2026-11-30T01:00:02Z',
    });
    audit.push({
      id: 'a1',
      time: '2026-11-30T01:00:02Z',
      connectorId: 'acme',
      resourceType: 'User',
      resourceId: id,
      trigger: 'realtime',
      actor: 'ops@example.com',
      action: 'create',
      status: 'success',
      steps: [],
    });
    const opened = await route({ method: 'GET', path: `/directory/users/${id}` });
    expect(opened?.body.provisioning).toEqual([
      {
        connector: 'acme',
        linked: true,
        targetId: 't-9',
        linkStatus: 'active',
        lastSync: '2026-11-30T01:00:02Z',
        last: { time: '2026-11-30T01:00:02Z', action: 'create', status: 'success', trigger: 'realtime', actor: 'ops@example.com' },
      },
      { connector: 'other', linked: false },
    ]);
  });

  it('deactivates with a PATCH honouring If-Match, changes memberships and deletes, naming the local operator', async () => {
    const { route, store } = setup();
    const user = (await route({ method: 'POST', path: '/directory/users', body: { schemas: [USER_SCHEMA], userName: 'grace' } }))?.body.resource;
    const group = (await route({ method: 'POST', path: '/directory/groups', body: { displayName: 'Engineers' } }))?.body.resource;

    const stale = await route({
      method: 'PATCH',
      path: `/directory/users/${user.id}`,
      headers: { 'If-Match': 'W/"7"' },
      body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] },
    });
    expect(stale?.status).toBe(412);
    const deactivated = await route({
      method: 'PATCH',
      path: `/directory/users/${user.id}`,
      headers: { 'If-Match': 'W/"1"' },
      body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] },
    });
    expect(deactivated?.body.resource.active).toBe(false);
    expect((await store.get('User', user.id))?.origin).toEqual({ trigger: 'realtime', actor: LOCAL_OPERATOR, provision: true });

    const joined = await route({
      method: 'PATCH',
      path: `/directory/groups/${group.id}`,
      body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] },
    });
    expect(joined?.body.resource.members).toEqual([expect.objectContaining({ value: user.id })]);

    expect((await route({ method: 'DELETE', path: `/directory/groups/${group.id}` }))?.status).toBe(204);
    expect((await route({ method: 'GET', path: `/directory/groups/${group.id}` }))?.status).toBe(404);
  });

  it.each<[string, Event, number, string]>([
    ['a missing userName', { method: 'POST', path: '/directory/users', body: { schemas: [USER_SCHEMA] } }, 400, 'invalidValue'],
    ['a body that is not JSON', { method: 'POST', path: '/directory/users', body: '{"userName":' }, 400, 'invalidSyntax'],
    ['an unknown query parameter', { method: 'GET', path: '/directory/users', query: { sort: 'x' } }, 400, 'invalidValue'],
    ['a count out of range', { method: 'GET', path: '/directory/groups', query: { count: '5000' } }, 400, 'invalidValue'],
    ['a filter that does not parse', { method: 'GET', path: '/directory/users', query: { filter: 'userName eq' } }, 400, 'invalidFilter'],
    ['an unknown user', { method: 'GET', path: '/directory/users/nobody' }, 404, ''],
    ['a method it does not take', { method: 'PUT', path: '/directory/users' }, 405, ''],
  ])('answers %s with a SCIM error, never a 5xx', async (_, request, status, scimType) => {
    const { route } = setup();
    const response = await route(request);
    expect(response?.status).toBe(status);
    expect(response?.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) });
    if (scimType) expect(response?.body.scimType).toBe(scimType);
    expect(response?.body.error).toEqual(response?.body.detail);
  });

  it('leaves other paths to the rest of the admin API', async () => {
    const { route } = setup();
    expect(await route({ method: 'GET', path: '/directory' })).toBeUndefined();
    expect(await route({ method: 'GET', path: '/audit' })).toBeUndefined();
  });
});
