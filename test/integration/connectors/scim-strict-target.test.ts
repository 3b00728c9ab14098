import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { createConnector } from '../../../shared/connectors/connector.factory.ts';
import { ScimConnectorSchema } from '../../../shared/connectors/connectors.schema.ts';
import { ScimConnector } from '../../../shared/connectors/scim/scim.connector.ts';
import type { AuditEntry, HubReader } from '../../../shared/sync/sync.ports.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { InMemoryLinkStore } from '../../builders/sync.fakes.ts';
import { type StrictScimTarget, type StrictTargetOptions, startStrictScimTarget } from '../../support/strict-scim-target.ts';

/**
 * The SCIM connector against targets that support less than everything, and say so in their
 * ServiceProviderConfig: what it sends, seen on the wire of a target that refuses the rest.
 */
const TOKEN = 'strict-target-token-0123';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let target: StrictScimTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

const startTarget = async (options: Omit<StrictTargetOptions, 'token'> = {}) => {
  target = await startStrictScimTarget({ token: TOKEN, ...options });
  return target;
};

const configFor = (t: StrictScimTarget, extra: Record<string, unknown> = {}) =>
  ScimConnectorSchema.parse({ id: 'strict', type: 'scim', baseUrl: t.url, bearerToken: TOKEN, ...extra });

const ada = { userName: 'ada@example.com', externalId: 'hub-ada', active: true, 'name.givenName': 'Ada', 'name.familyName': 'Lovelace' };

describe('a target without PATCH', () => {
  it.each([405, 501] as const)('gets the whole user by PUT for an update and a disable, and never a PATCH (PATCH answers %i)', async (refusal) => {
    // Prepare
    const t = await startTarget({ patch: false, patchRefusal: refusal });
    const connector = new ScimConnector(configFor(t), TOKEN);
    const created = await connector.createUser(ada);
    // Act
    await connector.updateUser(created.id, { set: { 'name.givenName': 'Augusta' }, unset: [] }, { ...ada, 'name.givenName': 'Augusta' });
    await connector.disableUser(created.id, { ...ada, 'name.givenName': 'Augusta' });
    // Assess
    const expected = (active: boolean) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: created.id,
      userName: 'ada@example.com',
      externalId: 'hub-ada',
      active,
      name: { givenName: 'Augusta', familyName: 'Lovelace' },
    });
    expect(t.calls().map(({ method, path, body, status }) => ({ method, path, body, status }))).toEqual([
      { method: 'POST', path: '/Users', body: expect.objectContaining({ userName: 'ada@example.com' }), status: 201 },
      { method: 'PUT', path: `/Users/${created.id}`, body: expected(true), status: 200 },
      { method: 'PUT', path: `/Users/${created.id}`, body: expected(false), status: 200 },
    ]);
    expect(t.users()).toEqual([{ ...expected(false), meta: { resourceType: 'User' } }]);
  });

  it('refuses a membership change with a clear, permanent error, before anything reaches /Groups', async () => {
    // Prepare
    const t = await startTarget({ patch: false });
    const connector = new ScimConnector(configFor(t), TOKEN);
    const user = await connector.createUser(ada);
    const group = await connector.createGroup('Engineering', 'hub-group-1');
    const before = t.requests.length;
    // Act
    const error = await connector.changeGroupMembers(group.id, { add: [user.id], remove: [] }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({
      kind: 'permanent',
      retryable: false,
      message: 'strict does not support PATCH: membership cannot change without replacing the whole list',
    });
    expect(t.requests.slice(before).filter((r) => r.path.startsWith('/Groups'))).toEqual([]);
    expect(t.groups()).toEqual([expect.objectContaining({ id: group.id, members: [] })]);
  });
});

describe('a target without filtering', () => {
  it('is never sent a filter: findUser answers "not found" without asking', async () => {
    // Prepare
    const t = await startTarget({ filter: false });
    const connector = new ScimConnector(configFor(t), TOKEN);
    await connector.createUser(ada);
    // Act
    const found = await connector.findUser('userName', 'ada@example.com');
    // Assess
    expect(found).toBeUndefined();
    expect(t.requests.filter((r) => r.path.includes('filter='))).toEqual([]);
    expect(t.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  /** The sync engine on this connector, with its state in memory: what the hub holds and which accounts it linked. */
  const syncOn = (connector: ScimConnector, t: StrictScimTarget) => {
    const hubUsers = new Map<string, Record<string, unknown>>([
      [
        'hub-ada',
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          id: 'hub-ada',
          userName: 'ada@example.com',
          name: { givenName: 'Ada', familyName: 'Lovelace' },
          active: true,
        },
      ],
    ]);
    const hub: HubReader = {
      getUser: async (id) => hubUsers.get(id),
      getGroup: async () => undefined,
      groupIdsOf: async () => [],
      membersAmong: async () => new Set(),
    };
    const links = new InMemoryLinkStore();
    const audit: AuditEntry[] = [];
    const sync = makeSync({ hub, links, audit: { record: async (entry) => void audit.push(entry) }, clock: () => new Date() });
    return { sync, ctx: { config: configFor(t), connector }, links, audit };
  };

  it('creates once per hub user; a user already on the target is found only through the 409 of a unique userName', async () => {
    // Prepare
    const t = await startTarget({ filter: false, uniqueUserName: true });
    const connector = new ScimConnector(configFor(t), TOKEN);
    const { sync, ctx, links } = syncOn(connector, t);
    // Act: the first sync creates; a redelivery finds the link and creates nothing
    const first = await sync.syncUser(ctx, 'hub-ada', { trigger: 'realtime' });
    const again = await sync.syncUser(ctx, 'hub-ada', { trigger: 'realtime' });
    // Assess
    expect(first).toMatchObject({ action: 'create', status: 'success' });
    expect(again).toMatchObject({ action: 'update', status: 'skipped', reason: 'no changes' });
    expect(t.users()).toHaveLength(1);
    // Act: the link is lost (or was never written: the worker stopped between create and link)
    links.links.clear();
    links.owners.clear();
    const error = await sync.syncUser(ctx, 'hub-ada', { trigger: 'realtime' }).catch((e: unknown) => e);
    // Assess: no second account, because the target refuses the userName; and no way to match
    // the existing one either, so the change fails for good, saying why, until an operator links it
    expect(t.users()).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'permanent' });
    expect(String((error as Error).message)).toContain('because it exists, and no matching attribute finds it');
    expect(
      t
        .calls()
        .filter((r) => r.method === 'POST')
        .map((r) => r.status),
    ).toEqual([201, 409]);
  });
});

describe('a target with a cap on members per request', () => {
  it('gets membership changes in chunks of membersPerRequest, each within its cap', async () => {
    // Prepare
    const t = await startTarget({ membersPerRequest: 3 });
    const connector = new ScimConnector(configFor(t, { membersPerRequest: 3 }), TOKEN);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await connector.createUser({ userName: `member-${i}@example.com`, active: true })).id);
    const group = await connector.createGroup('Crowd', 'hub-crowd');
    await connector.changeGroupMembers(group.id, { add: ids.slice(0, 2), remove: [] });
    const before = t.requests.length;
    // Act: five additions and two removals
    await connector.changeGroupMembers(group.id, { add: ids.slice(2), remove: ids.slice(0, 2) });
    // Assess
    const patches = t.requests.slice(before);
    expect(patches.map((r) => ({ method: r.method, path: r.path, status: r.status, body: r.body }))).toEqual([
      {
        method: 'PATCH',
        path: `/Groups/${group.id}`,
        status: 200,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: ids.slice(2, 5).map((value) => ({ value })) }] },
      },
      {
        method: 'PATCH',
        path: `/Groups/${group.id}`,
        status: 200,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: ids.slice(5, 7).map((value) => ({ value })) }] },
      },
      // Removals go in requests of their own, so one the target no longer has (noTarget) can be retried alone.
      {
        method: 'PATCH',
        path: `/Groups/${group.id}`,
        status: 200,
        body: { schemas: [PATCH_OP], Operations: ids.slice(0, 2).map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })) },
      },
    ]);
    expect(t.groups()).toEqual([expect.objectContaining({ id: group.id, members: ids.slice(2).map((value) => ({ value })) })]);
  });

  it('refuses a request over its cap, which is what a connector set above the cap meets', async () => {
    // Prepare
    const t = await startTarget({ membersPerRequest: 3 });
    const connector = new ScimConnector(configFor(t, { membersPerRequest: 4 }), TOKEN);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await connector.createUser({ userName: `over-${i}@example.com`, active: true })).id);
    const group = await connector.createGroup('Over', 'hub-over');
    // Act
    const error = await connector.changeGroupMembers(group.id, { add: ids, remove: [] }).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ kind: 'permanent', status: 400 });
    expect(String((error as Error).message)).toContain('at most 3 members per request, got 4');
  });
});

describe('a target with a short page', () => {
  it('answers at most maxResults resources, whatever count asks', async () => {
    // Prepare
    const t = await startTarget({ maxResults: 2 });
    const connector = new ScimConnector(configFor(t), TOKEN);
    for (let i = 0; i < 3; i++) await connector.createUser({ userName: `page-${i}@example.com`, active: true });
    // Act
    const response = await fetch(`${t.url}/Users?count=10`, { headers: { authorization: `Bearer ${TOKEN}` } });
    // Assess
    expect(await response.json()).toMatchObject({ totalResults: 3, itemsPerPage: 2, startIndex: 1 });
  });
});

describe('rateLimit, end to end', () => {
  /** The most requests that arrived within any window of `ms` milliseconds. */
  const busiestWindow = (times: number[], ms: number): number => {
    const sorted = [...times].sort((a, b) => a - b);
    let most = 0;
    for (let start = 0, end = 0; end < sorted.length; end++) {
      while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= ms) start++;
      most = Math.max(most, end - start + 1);
    }
    return most;
  };

  it('keeps every 1 s window of requests within the configured rate, the first second included', async () => {
    // Prepare: 5 requests per second, 16 calls made as fast as the caller can
    const t = await startTarget();
    const connector = await createConnector(configFor(t, { rateLimit: { requestsPerSecond: 5 } }));
    await connector.findUser('userName', 'warm-up@example.com');
    const before = t.requests.length;
    // Act
    await Promise.all(Array.from({ length: 16 }, (_, i) => connector.findUser('userName', `rate-${i}@example.com`)));
    // Assess: no window of one second holds more than the rate (this container's share of it,
    // one of the lane's two, is 2.5/s: two whole calls a second), and the calls keep going at
    // that share rather than stalling.
    const times = t.requests.slice(before).map((r) => r.at);
    expect(times).toHaveLength(16);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(5);
    expect(busiestWindow(times, 1000)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(10_000);
  });
});
