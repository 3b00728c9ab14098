import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EntraFake, startEntraFake } from '../../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../../support/fakes/graph-contract.ts';

type Json = Record<string, unknown>;

/**
 * The fake Microsoft Graph holds the contract the Entra connector is tested against, so it is
 * tested itself: each behaviour of ../shared/contracts/README.md section 2 ("Behaviours a
 * faithful Graph fake must reproduce"), over raw HTTP, without the connector.
 */
describe.skipIf(!graphContractAvailable)('the fake Microsoft Graph (needs ../shared/contracts)', () => {
  let fake: EntraFake;
  let time = 1_000_000;
  let token = '';

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(path.startsWith('http') ? path : `${fake.graphBaseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: (text ? JSON.parse(text) : undefined) as Json };
  };
  const newToken = async () => {
    const response = await fetch(`${fake.url}/${fake.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: fake.clientId,
        client_secret: fake.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    return { status: response.status, json: (await response.json()) as Json };
  };
  const user = (name: string, extra: Json = {}) => ({
    accountEnabled: true,
    displayName: name,
    mailNickname: name,
    userPrincipalName: `${name}@${fake.domain}`,
    passwordProfile: { password: 'Xy7!long-enough', forceChangePasswordNextSignIn: true },
    ...extra,
  });
  const errorOf = (json: Json) => json.error as { code: string; message: string; details?: Json[] };

  beforeAll(async () => {
    fake = await startEntraFake({ now: () => time });
    token = String((await newToken()).json.access_token);
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('issues client-credentials tokens and refuses a wrong secret with invalid_client, an expired token with 401', async () => {
    const bad = await fetch(`${fake.url}/${fake.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: fake.clientId,
        client_secret: 'wrong',
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as Json).error).toBe('invalid_client');
    const lived = (await newToken()).json;
    expect(lived.expires_in).toBe(3599);
    const saved = token;
    token = String(lived.access_token);
    time += 3600_000;
    const expired = await call('GET', '/users');
    time -= 3600_000;
    token = saved;
    expect(expired.status).toBe(401);
    expect(errorOf(expired.json).code).toBe('InvalidAuthenticationToken');
  });

  it('creates a user with 201 and refuses a duplicate userPrincipalName with ObjectConflict', async () => {
    const created = await call('POST', '/users', user('behaviour1'));
    const again = await call('POST', '/users', user('behaviour1'));
    expect(created.status).toBe(201);
    expect(created.json.userPrincipalName).toBe(`behaviour1@${fake.domain}`);
    expect(again.status).toBe(400);
    expect(errorOf(again.json).code).toBe('Request_BadRequest');
    expect(errorOf(again.json).details).toEqual([expect.objectContaining({ code: 'ObjectConflict', target: 'userPrincipalName' })]);
  });

  it('enforces the required properties, the verified domain, declared and writable properties and their types', async () => {
    const { passwordProfile: _, ...withoutPassword } = user('required');
    const cases: Array<[Json, string]> = [
      [withoutPassword, "Property 'passwordProfile' is required"],
      [user('domain', { userPrincipalName: 'domain@unverified.example' }), 'verified domain'],
      [user('undeclared', { favouriteColour: 'blue' }), "Invalid property 'favouriteColour'."],
      [user('readonly', { createdDateTime: '2020-01-01T00:00:00Z' }), "Property 'createdDateTime' is read-only and cannot be set."],
      [user('navigation', { manager: { id: 'x' } }), "Property 'manager' is read-only"],
      [user('typed', { accountEnabled: 'yes' }), 'accountEnabled must be boolean'],
    ];
    for (const [body, message] of cases) {
      const answer = await call('POST', '/users', body);
      expect(answer.status, message).toBe(400);
      expect(errorOf(answer.json).message).toContain(message);
    }
  });

  it('updates with PATCH answering 204 and no body, deletes to deleted items, and restores from there', async () => {
    const id = String((await call('POST', '/users', user('lifecycle'))).json.id);
    const patched = await call('PATCH', `/users/${id}`, { accountEnabled: false });
    expect(patched.status).toBe(204);
    expect(patched.json).toBeUndefined();
    expect(fake.user(id)?.accountEnabled).toBe(false);
    expect((await call('DELETE', `/users/${id}`)).status).toBe(204);
    expect((await call('GET', `/users/${id}`)).status).toBe(404);
    expect((await call('GET', `/directory/deletedItems/${id}`)).json.userPrincipalName).toBe(`lifecycle@${fake.domain}`);
    const restored = await call('POST', `/directory/deletedItems/${id}/microsoft.graph.restore`);
    expect(restored.status).toBe(200);
    expect(fake.user(id)?.userPrincipalName).toBe(`lifecycle@${fake.domain}`);
  });

  it('answers an unknown id with 404 Request_ResourceNotFound in the error envelope', async () => {
    const answer = await call('PATCH', '/users/00000000-0000-4000-8000-000000000000', { givenName: 'X' });
    expect(answer.status).toBe(404);
    expect(errorOf(answer.json).code).toBe('Request_ResourceNotFound');
    expect((answer.json.error as Json).innerError).toEqual(expect.objectContaining({ 'request-id': expect.any(String) }));
  });

  it('creates security groups (201, required properties) and deletes them permanently', async () => {
    const missing = await call('POST', '/groups', { displayName: 'No flags' });
    expect(missing.status).toBe(400);
    const created = await call('POST', '/groups', { displayName: 'Crew', mailEnabled: false, mailNickname: 'crew', securityEnabled: true });
    expect(created.status).toBe(201);
    const id = String(created.json.id);
    expect((await call('DELETE', `/groups/${id}`)).status).toBe(204);
    expect((await call('GET', `/directory/deletedItems/${id}`)).status).toBe(404);
  });

  it('adds members by $ref (204, a second time 400, an unknown object 404) and by bind, at most 20, all or none', async () => {
    const group = fake.seedGroup('Members');
    const ids = Array.from({ length: 22 }, (_, i) => fake.seedUser(`member-${i}@${fake.domain}`));
    const ref = (id: string) => `${fake.graphBaseUrl}/directoryObjects/${id}`;
    expect((await call('POST', `/groups/${group}/members/$ref`, { '@odata.id': ref(ids[0] as string) })).status).toBe(204);
    const twice = await call('POST', `/groups/${group}/members/$ref`, { '@odata.id': ref(ids[0] as string) });
    expect(twice.status).toBe(400);
    expect(errorOf(twice.json).message).toContain('already exist');
    expect((await call('POST', `/groups/${group}/members/$ref`, { '@odata.id': ref('00000000-0000-4000-8000-00000000dead') })).status).toBe(404);
    const tooMany = await call('PATCH', `/groups/${group}`, { 'members@odata.bind': ids.slice(1, 22).map(ref) });
    expect(tooMany.status).toBe(400);
    const oneBad = await call('PATCH', `/groups/${group}`, { 'members@odata.bind': ids.slice(0, 3).map(ref) });
    expect(oneBad.status).toBe(400);
    expect(fake.members(group)).toEqual([ids[0]]);
    expect((await call('PATCH', `/groups/${group}`, { 'members@odata.bind': ids.slice(1, 21).map(ref) })).status).toBe(204);
    expect(fake.members(group)).toHaveLength(21);
    expect((await call('DELETE', `/groups/${group}/members/${ids[0]}/$ref`)).status).toBe(204);
    expect((await call('DELETE', `/groups/${group}/members/${ids[0]}/$ref`)).status).toBe(404);
  });

  it('pages with @odata.nextLink carrying every query option, $top 1 to 999, and advanced queries only with ConsistencyLevel eventual', async () => {
    for (let i = 0; i < 5; i++) fake.seedUser(`page-${i}@${fake.domain}`, { employeeId: `E-PAGE` });
    const first = await call('GET', '/users?$select=id,userPrincipalName&$top=2');
    expect(first.json.value).toHaveLength(2);
    const nextLink = String(first.json['@odata.nextLink']);
    expect(nextLink).toMatch(/\$skiptoken=/);
    expect(decodeURIComponent(nextLink)).toContain('$select=id,userPrincipalName');
    const second = await call('GET', nextLink);
    expect(second.json.value).toHaveLength(2);
    expect((await call('GET', '/users?$top=1000')).json.error).toEqual(expect.objectContaining({ message: expect.stringContaining('Invalid page size') }));
    const filter = `/users?$filter=${encodeURIComponent("employeeId eq 'E-PAGE'")}`;
    expect((await call('GET', filter)).status).toBe(400);
    const advanced = await call('GET', `${filter}&$count=true`, undefined, { ConsistencyLevel: 'eventual' });
    expect(advanced.json['@odata.count']).toBe(5);
    const unknown = await call('GET', `/users?$filter=${encodeURIComponent("shoeSize eq '9'")}`);
    expect(errorOf(unknown.json).code).toBe('Request_UnsupportedQuery');
  });

  it('throttles on the schedule a test sets and by its quotas, with Retry-After, and reports resource units on every response', async () => {
    fake.throttle(({ index }) => (index === 0 ? 7 : undefined));
    const throttled = await call('GET', '/users?$top=1');
    const next = await call('GET', '/users?$top=1');
    fake.throttle(undefined);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(next.status).toBe(200);
    expect(next.headers.get('x-ms-resource-unit')).toBe('1');
    const quoted = await startEntraFake({ now: () => time, quota: { writesPer150s: 2 } });
    try {
      const quotedToken = String(
        (
          (await (
            await fetch(`${quoted.url}/${quoted.tenantId}/oauth2/v2.0/token`, {
              method: 'POST',
              body: new URLSearchParams({
                grant_type: 'client_credentials',
                client_id: quoted.clientId,
                client_secret: quoted.clientSecret,
                scope: 'x/.default',
              }),
            })
          ).json()) as Json
        ).access_token,
      );
      const statuses: Array<[number, string | null]> = [];
      for (const name of ['q1', 'q2', 'q3']) {
        const response = await fetch(`${quoted.graphBaseUrl}/groups`, {
          method: 'POST',
          headers: { authorization: `Bearer ${quotedToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ displayName: name, mailEnabled: false, mailNickname: name, securityEnabled: true }),
        });
        statuses.push([response.status, response.headers.get('x-ms-throttle-information')]);
      }
      expect(statuses).toEqual([
        [201, null],
        [201, null],
        [429, 'WriteLimitExceeded'],
      ]);
    } finally {
      await quoted.stop();
    }
  });

  it('answers a $batch item by item: per-item status, 424 for a failed dependency, per-item 429, at most 20 items, unique ids', async () => {
    fake.throttle(({ path }) => (path.includes('throttle-me') ? 3 : undefined));
    const batch = await call('POST', '/$batch', {
      requests: [
        { id: '1', method: 'GET', url: '/users/00000000-0000-4000-8000-000000000000' },
        { id: '2', method: 'GET', url: '/users?$top=1', dependsOn: ['1'] },
      ],
    });
    const parallel = await call('POST', '/$batch', {
      requests: [
        { id: 'a', method: 'POST', url: '/users', body: user('batched'), headers: { 'content-type': 'application/json' } },
        { id: 'b', method: 'GET', url: '/users/throttle-me' },
      ],
    });
    fake.throttle(undefined);
    const byId = (json: Json) => Object.fromEntries((json.responses as Json[]).map((item) => [item.id, item]));
    expect(batch.status).toBe(200);
    expect(byId(batch.json)['1']?.status).toBe(404);
    expect(byId(batch.json)['2']?.status).toBe(424);
    expect(byId(parallel.json).a?.status).toBe(201);
    expect(byId(parallel.json).b).toEqual(expect.objectContaining({ status: 429, headers: expect.objectContaining({ 'retry-after': '3' }) }));
    const tooMany = await call('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' })) });
    const duplicate = await call('POST', '/$batch', {
      requests: [
        { id: 'X', method: 'GET', url: '/users' },
        { id: 'x', method: 'GET', url: '/users' },
      ],
    });
    expect([tooMany.status, duplicate.status]).toEqual([400, 400]);
  });

  it('hides a user from reads until the write has replicated', async () => {
    fake.replicationDelayMs = 5_000;
    try {
      const created = await call('POST', '/users', user('lagging'));
      const id = String(created.json.id);
      const filter = `/users?$filter=${encodeURIComponent(`userPrincipalName eq 'lagging@${fake.domain}'`)}`;
      expect((await call('GET', `/users/${id}`)).status).toBe(404);
      expect((await call('GET', filter)).json.value).toEqual([]);
      time += 5_000;
      expect((await call('GET', `/users/${id}`)).status).toBe(200);
      expect((await call('GET', filter)).json.value).toHaveLength(1);
    } finally {
      fake.replicationDelayMs = 0;
    }
  });

  it('refuses a call the app has no permission for with 403 Authorization_RequestDenied', async () => {
    fake.permissions.delete('Group.ReadWrite.All');
    try {
      const answer = await call('POST', '/groups', { displayName: 'Denied', mailEnabled: false, mailNickname: 'denied', securityEnabled: true });
      expect(answer.status).toBe(403);
      expect(errorOf(answer.json).code).toBe('Authorization_RequestDenied');
    } finally {
      fake.permissions.add('Group.ReadWrite.All');
    }
  });
});
