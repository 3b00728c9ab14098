import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';
import { createEntraConnector, type EntraConnector, REPLICATION_WAIT_MS } from '../../../shared/connectors/entra/entra.connector.ts';
import { EntraConnectorSchema } from '../../../shared/connectors/entra/entra.schema.ts';
import { withResilience } from '../../../shared/connectors/resilience/resilient.connector.ts';
import { type EntraFake, startEntraFake } from '../../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../../support/fakes/graph-contract.ts';

type Json = Record<string, unknown>;

const RESOURCE_ID = '11111111-2222-4333-8444-555555555555';
const APP_ROLE_ID = '66666666-7777-4888-9999-000000000000';

/**
 * What the Entra connector does beyond the shared contract, against the fake Microsoft Graph:
 * the requests it sends (one PATCH per update, members bound 20 at a time in $batch calls), the
 * manager reference, app roles, throttling storms, an expired token, replication lag after a
 * create, a missing permission, advanced queries and delta queries. The fake's clock is the
 * test's, so lag and token expiry need no waiting.
 */
describe.skipIf(!graphContractAvailable)('entra connector on the fake Microsoft Graph (needs ../shared/contracts)', () => {
  let fake: EntraFake;
  let time = Date.now();
  let connector: EntraConnector;
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const entry = (extra: Json = {}) => EntraConnectorSchema.parse(fake.connectorEntry({ id: 'entra-test', ...extra }));
  const build = (extra: Json = {}) => createEntraConnector(entry(extra), { sleep, containers: 1 });
  const newUser = (name: string, extra: Json = {}) => ({ userPrincipalName: name, givenName: 'Ada', surname: 'Lovelace', active: true, ...extra });
  const callsSince = (start: number) => fake.calls.slice(start);
  const failureOf = async (run: () => Promise<unknown>) => {
    const error = await run().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
    return error;
  };

  beforeAll(async () => {
    fake = await startEntraFake({ now: () => time });
    connector = await build();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    waits.length = 0;
    fake.throttle(undefined);
  });

  it('creates a user with what Graph requires: the domain completed, an alias, a generated password to change at first sign-in', async () => {
    const start = fake.calls.length;
    const account = await connector.createUser(newUser('ada.lovelace', { mailNickname: 'ada.lovelace@example.com' }));
    const [post] = callsSince(start).filter((call) => call.method === 'POST');
    const body = post?.body as Json;
    expect(body).toEqual(
      expect.objectContaining({
        accountEnabled: true,
        userPrincipalName: `ada.lovelace@${fake.domain}`,
        mailNickname: 'ada.lovelace',
        displayName: 'Ada Lovelace',
      }),
    );
    expect(body.passwordProfile).toEqual({ password: expect.stringMatching(/^.{20}$/), forceChangePasswordNextSignIn: true });
    expect(fake.user(account.id)?.userPrincipalName).toBe(`ada.lovelace@${fake.domain}`);
  });

  it('updates one attribute with exactly one PATCH carrying only it', async () => {
    const { id } = await connector.createUser(newUser('one-patch'));
    const start = fake.calls.length;
    await connector.updateUser(id, { set: { jobTitle: 'Analyst' }, unset: [] });
    expect(callsSince(start).map((call) => [call.method, call.path, call.body])).toEqual([['PATCH', `/users/${id}`, { jobTitle: 'Analyst' }]]);
  });

  it('sets the manager from a userPrincipalName, changes it with the PATCH in one $batch, and clears it', async () => {
    const manager = await connector.createUser(newUser('boss'));
    const report = await connector.createUser(newUser('report', { manager: 'boss' }));
    expect(fake.user(report.id)?.manager).toBe(manager.id);
    const start = fake.calls.length;
    const other = fake.seedUser(`other-boss@${fake.domain}`);
    await connector.updateUser(report.id, { set: { department: 'Research', manager: other }, unset: [] });
    expect(fake.httpCalls).toBeGreaterThan(0);
    expect(callsSince(start).map((call) => [call.method, call.batch !== undefined])).toEqual([
      ['PATCH', true],
      ['PUT', true],
    ]);
    expect(fake.user(report.id)).toEqual(expect.objectContaining({ department: 'Research', manager: other }));
    await connector.updateUser(report.id, { set: {}, unset: ['manager'] });
    expect(fake.user(report.id)?.manager).toBeUndefined();
  });

  it('disables with accountEnabled false, and deletes into deleted items', async () => {
    const { id } = await connector.createUser(newUser('leaver'));
    await connector.disableUser(id);
    expect(fake.user(id)?.accountEnabled).toBe(false);
    await connector.deleteUser(id);
    expect(fake.user(id)).toBeUndefined();
    expect(fake.deletedUser(id)?.userPrincipalName).toBe(`leaver@${fake.domain}`);
  });

  it('adds 1 000 members in three $batch calls of PATCHes binding at most 20 each, and removes 40 in two', async () => {
    const group = await connector.createGroup('Thousand', 'hub-group-thousand');
    const ids = Array.from({ length: 1000 }, (_, i) => fake.seedUser(`bulk-${i}@${fake.domain}`));
    const start = fake.calls.length;
    const http = fake.httpCalls;
    await connector.changeGroupMembers(group.id, { add: ids, remove: [] });
    const patches = callsSince(start).filter((call) => call.method === 'PATCH');
    expect(fake.members(group.id)).toHaveLength(1000);
    expect(fake.httpCalls - http).toBe(3);
    expect(patches).toHaveLength(50);
    expect(Math.max(...patches.map((call) => ((call.body as Json)['members@odata.bind'] as string[]).length))).toBe(20);
    const before = fake.httpCalls;
    await connector.changeGroupMembers(group.id, { add: [], remove: ids.slice(0, 40) });
    expect(fake.httpCalls - before).toBe(2);
    expect(fake.members(group.id)).toHaveLength(960);
  });

  it('adds members that are partly there already: the refused bind is redone member by member', async () => {
    const group = await connector.createGroup('Partly', 'hub-group-partly');
    const ids = Array.from({ length: 5 }, (_, i) => fake.seedUser(`partly-${i}@${fake.domain}`));
    await connector.changeGroupMembers(group.id, { add: ids.slice(0, 2), remove: [] });
    await connector.changeGroupMembers(group.id, { add: ids, remove: [] });
    expect(fake.members(group.id)).toEqual([...ids].sort());
  });

  it('renames a group in place and manages a group an administrator made, found by its id', async () => {
    const made = await connector.createGroup('Before', 'hub-group-rename-here');
    const member = fake.seedUser(`renamed-member@${fake.domain}`);
    await connector.changeGroupMembers(made.id, { add: [member], remove: [] });
    const renamed = await connector.renameGroup(made.id, 'After', 'hub-group-rename-here');
    expect(renamed.id).toBe(made.id);
    expect(fake.group(made.id)?.displayName).toBe('After');
    expect(fake.members(made.id)).toEqual([member]);
    const existing = fake.seedGroup('Finance (made by an administrator)');
    expect(await connector.findGroup({ id: existing })).toEqual({ id: existing, displayName: 'Finance (made by an administrator)' });
    await connector.changeGroupMembers(existing, { add: [member], remove: [] });
    expect(fake.members(existing)).toEqual([member]);
  });

  it('adopts its own group when a create is retried, and gives created groups the configured app role', async () => {
    const withRole = await build({ groupAppRole: { resourceId: RESOURCE_ID, appRoleId: APP_ROLE_ID } });
    const first = await withRole.createGroup('Role holders', 'hub-group-roles');
    const again = await withRole.createGroup('Role holders', 'hub-group-roles');
    expect(again.id).toBe(first.id);
    expect(fake.allGroups().filter((group) => group.displayName === 'Role holders')).toHaveLength(1);
    expect(fake.appRolesOf(first.id)).toEqual([expect.objectContaining({ resourceId: RESOURCE_ID, appRoleId: APP_ROLE_ID })]);
  });

  it('comes through a throttling storm: every call is retried after the Retry-After Graph gave, nothing is created twice', async () => {
    const resilient: Connector = withResilience(await build(), { sleep, inlineRetries: 3 });
    fake.throttle(({ index }) => (index % 2 === 0 ? 1 : undefined));
    for (let i = 0; i < 5; i++) await resilient.createUser(newUser(`storm-${i}`));
    fake.throttle(undefined);
    expect(waits.filter((ms) => ms === 1000).length).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 5; i++) expect(fake.allUsers().filter((user) => user.userPrincipalName === `storm-${i}@${fake.domain}`)).toHaveLength(1);
  });

  it('re-sends only the throttled items of a $batch, after their Retry-After', async () => {
    const group = await connector.createGroup('Batch storm', 'hub-group-batch-storm');
    const ids = Array.from({ length: 60 }, (_, i) => fake.seedUser(`batch-storm-${i}@${fake.domain}`));
    let throttledOnce = false;
    fake.throttle(({ method, path }) => {
      if (method === 'PATCH' && path === `/groups/${group.id}` && !throttledOnce) {
        throttledOnce = true;
        return 2;
      }
      return undefined;
    });
    const start = fake.calls.length;
    await connector.changeGroupMembers(group.id, { add: ids, remove: [] });
    const patches = callsSince(start).filter((call) => call.method === 'PATCH');
    expect(waits).toEqual([2000]);
    expect(patches.map((call) => call.status)).toEqual([429, 204, 204, 204]);
    expect(fake.members(group.id)).toHaveLength(60);
  });

  it('gets a new token when Graph refuses an expired one, and otherwise reuses its token', async () => {
    const tokensBefore = fake.tokenRequests;
    const { id } = await connector.createUser(newUser('token-user'));
    await connector.findUser('userPrincipalName', 'token-user');
    expect(fake.tokenRequests).toBe(tokensBefore);
    fake.expireTokens();
    await connector.updateUser(id, { set: { givenName: 'Augusta' }, unset: [] });
    expect(fake.tokenRequests).toBe(tokensBefore + 1);
    expect(fake.user(id)?.givenName).toBe('Augusta');
  });

  it('never creates a user twice while replication hides it: retryable with a short wait, then a conflict the engine can match', async () => {
    fake.replicationDelayMs = 10_000;
    try {
      await connector.createUser(newUser('lagging'));
      expect(await connector.findUser('userPrincipalName', 'lagging')).toBeUndefined();
      const hidden = await failureOf(() => connector.createUser(newUser('lagging')));
      expect({ kind: hidden.kind, retryAfterMs: hidden.retryAfterMs }).toEqual({ kind: 'retryable', retryAfterMs: REPLICATION_WAIT_MS });
      time += 10_000;
      const visible = await failureOf(() => connector.createUser(newUser('lagging')));
      expect(visible.kind).toBe('conflict');
      expect((await connector.findUser('userPrincipalName', 'lagging'))?.attributes.userPrincipalName).toBe(`lagging@${fake.domain}`);
      expect(fake.allUsers().filter((user) => user.userPrincipalName === `lagging@${fake.domain}`)).toHaveLength(1);
    } finally {
      fake.replicationDelayMs = 0;
    }
  });

  it('reports a missing Graph permission as permanent, naming the permission to grant', async () => {
    fake.permissions.delete('User.ReadWrite.All');
    try {
      const error = await failureOf(() => connector.createUser(newUser('denied')));
      expect(error.kind).toBe('permanent');
      expect(error.message).toContain('User.ReadWrite.All');
    } finally {
      fake.permissions.add('User.ReadWrite.All');
    }
  });

  it('finds users by mail with $filter and by employeeId as an advanced query', async () => {
    const { id } = await connector.createUser(newUser('findable', { mail: "o'neil@example.com", employeeId: 'E-1042' }));
    expect((await connector.findUser('mail', "o'neil@example.com"))?.id).toBe(id);
    expect((await connector.findUser('employeeId', 'E-1042'))?.id).toBe(id);
    expect(await connector.findUser('employeeId', 'E-0000')).toBeUndefined();
  });

  it('reads changes with delta queries: every user on the first round, then only what changed', async () => {
    const pages = async (cursor?: string) => {
      const changed: string[] = [];
      const removed: string[] = [];
      let next = cursor;
      for (;;) {
        const page = await connector.userChanges(next);
        changed.push(...page.changed.map((account) => String(account.attributes.userPrincipalName)));
        removed.push(...page.removed);
        if (page.deltaLink) return { changed, removed, deltaLink: page.deltaLink };
        next = page.next;
      }
    };
    const first = await pages();
    expect(first.changed.length).toBe(fake.allUsers().length);
    const { id } = await connector.createUser(newUser('delta-new'));
    const gone = await connector.createUser(newUser('delta-gone'));
    await connector.deleteUser(gone.id);
    const second = await pages(first.deltaLink);
    expect(second.changed).toEqual([`delta-new@${fake.domain}`]);
    expect(second.removed).toEqual([gone.id]);
    expect(id).toBeTruthy();
  });

  it('reads group changes with delta queries: every group and member first, then only the groups and members that changed', async () => {
    const round = async (cursor?: string) => {
      const changed = new Map<string, { displayName?: string; added: string[]; removed: string[] }>();
      const removed: string[] = [];
      let next = cursor;
      for (;;) {
        const page = await connector.groupChanges(next);
        for (const group of page.changed) {
          const seen = changed.get(group.id) ?? { added: [], removed: [] };
          changed.set(group.id, {
            ...seen,
            ...(group.displayName ? { displayName: group.displayName } : {}),
            added: [...seen.added, ...group.membersAdded],
            removed: [...seen.removed, ...group.membersRemoved],
          });
        }
        removed.push(...page.removed);
        if (page.deltaLink) return { changed, removed, deltaLink: page.deltaLink };
        next = page.next;
      }
    };
    const [a, b, c] = ['gd-a', 'gd-b', 'gd-c'].map((name) => fake.seedUser(`${name}@${fake.domain}`)) as [string, string, string];
    const kept = await connector.createGroup('Delta Kept', 'hub-delta-kept');
    await connector.changeGroupMembers(kept.id, { add: [a, b], remove: [] });
    const dropped = await connector.createGroup('Delta Dropped', 'hub-delta-dropped');
    const quiet = await connector.createGroup('Delta Quiet', 'hub-delta-quiet');

    const first = await round();
    expect(first.changed.get(kept.id)).toMatchObject({ displayName: 'Delta Kept', removed: [] });
    expect(first.changed.get(kept.id)?.added.sort()).toEqual([a, b].sort());
    expect(first.changed.has(quiet.id)).toBe(true);

    await connector.changeGroupMembers(kept.id, { add: [c], remove: [a] });
    await connector.renameGroup(dropped.id, 'Delta Renamed', 'hub-delta-dropped');
    const renamed = await round(first.deltaLink);
    await connector.deleteGroup(dropped.id);
    const second = await round(renamed.deltaLink);

    expect([...renamed.changed.keys()].sort()).toEqual([kept.id, dropped.id].sort());
    expect(renamed.changed.get(kept.id)).toEqual({ displayName: 'Delta Kept', added: [c], removed: [a] });
    expect(renamed.changed.get(dropped.id)).toEqual({ displayName: 'Delta Renamed', added: [], removed: [] });
    expect(second).toMatchObject({ removed: [dropped.id] });
    expect(second.changed.size).toBe(0);
  });
});
