import { describe, expect, it } from 'vitest';
import type { ChangeMessage } from '../../../shared/sync/change-message.ts';
import { type HubLookup, makeGrantExpiry, makeProvisionOnDemand, OnDemandError, parseUntil } from '../../../shared/sync/on-demand.service.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeTarget, InMemoryGrantStore, syncFixture } from '../../builders/sync.fakes.ts';

const NOW = new Date('2026-03-01T00:00:00.000Z');

/** On-demand provisioning over the in-memory hub, one SCIM-like target and a connector scoped to engineers. */
const setup = (config: Record<string, unknown> = {}) => {
  const fixture = syncFixture();
  const grants = new InMemoryGrantStore();
  const target = new FakeTarget();
  const sync = makeSync({ ...fixture, grants });
  const ctx = { config: connectorConfig({ scope: { filter: 'title eq "Engineer"' }, ...config }), connector: target };
  const queued: ChangeMessage[] = [];
  const lookup: HubLookup = {
    findUsers: async (ref) =>
      [...fixture.hub.users.values()]
        .filter((u) => u.id === ref || String(u.userName).toLowerCase() === ref.toLowerCase() || u.externalId === ref)
        .map((u) => ({ id: String(u.id), userName: String(u.userName) })),
    findGroups: async (ref) =>
      [...fixture.hub.groups.values()]
        .filter((g) => g.id === ref || g.displayName === ref)
        .map((g) => ({ id: String(g.id), displayName: String(g.displayName) })),
  };
  const provision = makeProvisionOnDemand({
    sync,
    hub: lookup,
    grants,
    clock: fixture.clock,
    connector: async (id) => (id === ctx.config.id ? ctx : undefined),
    enqueue: async (message) => void queued.push(message),
  });
  return { ...fixture, grants, target, provision, queued, ctx };
};

describe('parseUntil', () => {
  it.each([
    ['2h', '2026-03-01T02:00:00.000Z'],
    ['90m', '2026-03-01T01:30:00.000Z'],
    ['1h30m', '2026-03-01T01:30:00.000Z'],
    ['7d', '2026-03-08T00:00:00.000Z'],
    ['2026-03-01T18:00:00+02:00', '2026-03-01T16:00:00.000Z'],
  ])('reads %s', (until, expected) => {
    expect(parseUntil(until, NOW).toISOString()).toBe(expected);
  });

  it.each([
    ['tomorrow', 'neither an ISO time'],
    ['2026-03-01T18:00:00', 'neither an ISO time'],
    ['2026-02-28T00:00:00Z', 'not in the future'],
    ['91d', 'at most 90 days'],
  ])('refuses %s', (until, message) => {
    expect(() => parseUntil(until, NOW)).toThrow(message);
  });
});

describe('on-demand provisioning', () => {
  it('grants temporary access to a user outside the scope, creates the account, and settles through the lane', async () => {
    // Prepare
    const { hub, provision, grants, target, queued, audit } = setup();
    hub.user('u1', { userName: 'ada', title: 'Sales' });
    // Act
    const result = await provision({ connectorId: 'app', subject: { user: 'ADA' }, until: '2h' });
    // Assess
    expect(result).toMatchObject({ dryRun: false, situation: 'unmatched', outcome: { action: 'create', status: 'success' }, settle: 'queued' });
    expect(result.grant).toMatchObject({ connectorId: 'app', userId: 'u1', userName: 'ada', expiresAt: '2026-03-01T02:00:00.000Z' });
    expect(await grants.get('app', 'u1')).toEqual(result.grant);
    expect([...target.accounts.values()]).toEqual([expect.objectContaining({ userName: 'ada', active: true })]);
    expect(queued).toEqual([{ kind: 'user', connectorId: 'app', id: 'u1', trigger: 'on-demand' }]);
    expect(audit.of({ resourceId: 'u1' })).toEqual([expect.objectContaining({ trigger: 'on-demand', action: 'create', status: 'success' })]);
  });

  it('a dry run with until plans the create and writes nothing: no grant, no account, no audit, no message', async () => {
    const { hub, provision, grants, target, queued, audit } = setup();
    hub.user('u1', { userName: 'ada', title: 'Sales' });

    const result = await provision({ connectorId: 'app', subject: { user: 'u1' }, until: '2h', dryRun: true });

    expect(result).toMatchObject({ dryRun: true, outcome: { action: 'create' }, calls: [{ operation: 'createUser' }], settle: 'none' });
    expect(result.steps[0]).toBe('scope: in scope by temporary access until 2026-03-01T02:00:00.000Z');
    expect(await grants.list()).toEqual([]);
    expect(target.writes()).toEqual([]);
    expect(queued).toEqual([]);
    expect(audit.entries).toEqual([]);
  });

  it('deprovisions by the connector policy and revokes the grant, without settling through the lane', async () => {
    // Prepare
    const { hub, provision, grants, target, queued } = setup();
    hub.user('u1', { userName: 'ada', title: 'Sales' });
    await provision({ connectorId: 'app', subject: { user: 'ada' }, until: '2h' });
    queued.length = 0;
    // Act
    const result = await provision({ connectorId: 'app', subject: { user: 'ada' }, deprovision: true });
    // Assess
    expect(result).toMatchObject({ outcome: { action: 'disable', status: 'success' }, revokedGrant: { userId: 'u1' }, settle: 'none' });
    expect(result.changes).toEqual([{ attribute: 'active', old: true, new: false }]);
    expect(await grants.get('app', 'u1')).toBeUndefined();
    expect([...target.accounts.values()]).toEqual([expect.objectContaining({ active: false })]);
    expect(queued).toEqual([]);
  });

  it('plans against the account as the target holds it: a change made on the target shows as drift, target value -> hub value, and apply repairs it', async () => {
    // Prepare
    const { hub, provision, target } = setup();
    hub.user('u1', { userName: 'ada', title: 'Engineer', displayName: 'Ada Lovelace' });
    const created = await provision({ connectorId: 'app', subject: { user: 'ada' } });
    const targetId = created.outcome.targetId as string;
    Object.assign(target.accounts.get(targetId) ?? {}, { displayName: 'Countess', active: false });
    const writesBefore = target.writes().length;
    // Act
    const planned = await provision({ connectorId: 'app', subject: { user: 'ada' }, dryRun: true });
    const writesAfterDryRun = target.writes().length;
    const applied = await provision({ connectorId: 'app', subject: { user: 'ada' } });
    const again = await provision({ connectorId: 'app', subject: { user: 'ada' }, dryRun: true });
    // Assess
    expect(planned).toMatchObject({ situation: 'linked-drifted', outcome: { action: 'update', status: 'success', targetId } });
    expect(planned.changes).toEqual([
      { attribute: 'active', old: false, new: true },
      { attribute: 'displayName', old: 'Countess', new: 'Ada Lovelace' },
    ]);
    expect(planned.calls).toEqual([{ operation: 'updateUser', targetId, attributes: ['active', 'displayName'] }]);
    expect(writesAfterDryRun).toBe(writesBefore);
    expect(applied).toMatchObject({ situation: 'linked-drifted', outcome: { action: 'update', status: 'success' } });
    expect(target.accounts.get(targetId)).toMatchObject({ displayName: 'Ada Lovelace', active: true });
    expect(again).toMatchObject({ situation: 'linked-in-sync', outcome: { status: 'skipped', reason: 'no changes' } });
  });

  it('shows an account deleted on the target as linked but gone, and apply creates it again', async () => {
    // Prepare
    const { hub, provision, target } = setup();
    hub.user('u1', { userName: 'ada', title: 'Engineer' });
    const first = await provision({ connectorId: 'app', subject: { user: 'ada' } });
    target.accounts.delete(first.outcome.targetId as string);
    // Act
    const planned = await provision({ connectorId: 'app', subject: { user: 'ada' }, dryRun: true });
    const accountsAfterDryRun = target.accounts.size;
    const applied = await provision({ connectorId: 'app', subject: { user: 'ada' } });
    // Assess
    expect(planned).toMatchObject({ situation: 'linked-gone', outcome: { action: 'relink', targetId: first.outcome.targetId } });
    expect(planned.steps).toContain(`compare: target account ${first.outcome.targetId} is gone: linking again`);
    expect(accountsAfterDryRun).toBe(0);
    expect(applied).toMatchObject({ situation: 'unmatched', outcome: { action: 'create', status: 'success' } });
    expect([...target.accounts.values()]).toEqual([expect.objectContaining({ userName: 'ada', active: true })]);
  });

  it('shows a group renamed on the target as drift, with the name the target holds', async () => {
    // Prepare
    const { hub, provision, target } = setup();
    hub.group('g1', 'Engineering');
    const created = await provision({ connectorId: 'app', subject: { group: 'g1' } });
    const group = target.groups.get(created.outcome.targetId as string);
    if (group) group.displayName = 'Renamed Behind Our Back';
    // Act
    const planned = await provision({ connectorId: 'app', subject: { group: 'g1' }, dryRun: true });
    // Assess
    expect(planned).toMatchObject({ situation: 'linked-drifted', outcome: { action: 'rename', status: 'success' } });
    expect(planned.changes).toEqual([{ attribute: 'displayName', old: 'Renamed Behind Our Back', new: 'Engineering' }]);
    expect(group?.displayName).toBe('Renamed Behind Our Back');
  });

  it('provisions a group by its displayName', async () => {
    const { hub, provision, target } = setup();
    hub.group('g1', 'Engineering');

    const result = await provision({ connectorId: 'app', subject: { group: 'Engineering' } });

    expect(result).toMatchObject({ resource: { type: 'Group', id: 'g1', name: 'Engineering' }, outcome: { action: 'create', status: 'success' } });
    expect([...target.groups.values()].map((g) => g.displayName)).toEqual(['Engineering']);
  });

  it.each([
    ['an unknown connector', { connectorId: 'nope', subject: { user: 'ada' } }, 'onDemand.notFound'],
    ['an unknown user', { connectorId: 'app', subject: { user: 'nobody' } }, 'onDemand.notFound'],
    ['an externalId two users share', { connectorId: 'app', subject: { user: 'shared' } }, 'onDemand.ambiguous'],
    ['temporary access to a group', { connectorId: 'app', subject: { group: 'g1' }, until: '1h' }, 'onDemand.invalid'],
    ['until with deprovision', { connectorId: 'app', subject: { user: 'ada' }, until: '1h', deprovision: true }, 'onDemand.invalid'],
  ])('refuses %s, changing nothing', async (_case, request, code) => {
    const { hub, provision, target } = setup();
    hub.user('u1', { userName: 'ada', externalId: 'shared' });
    hub.user('u2', { userName: 'bob', externalId: 'shared' });
    hub.group('g1', 'Engineering');

    await expect(provision(request)).rejects.toMatchObject({ code });
    expect(target.writes()).toEqual([]);
  });

  it('refuses to change a disabled connector, but plans for it', async () => {
    const { hub, provision } = setup({ enabled: false });
    hub.user('u1', { userName: 'ada', title: 'Engineer' });

    await expect(provision({ connectorId: 'app', subject: { user: 'ada' } })).rejects.toBeInstanceOf(OnDemandError);
    expect(await provision({ connectorId: 'app', subject: { user: 'ada' }, dryRun: true })).toMatchObject({ outcome: { action: 'create' } });
  });
});

describe('grant expiry', () => {
  it('ends the grants whose time has come and leaves the others', async () => {
    // Prepare
    const grants = new InMemoryGrantStore();
    const grant = (userId: string, expiresAt: string) => ({ connectorId: 'app', userId, expiresAt, grantedAt: '2026-02-28T00:00:00.000Z' });
    await grants.put(grant('due', '2026-03-01T00:00:00.000Z'));
    await grants.put(grant('later', '2026-03-01T00:00:01.000Z'));
    // Act
    const { ended } = await makeGrantExpiry({ grants, clock: () => NOW })();
    // Assess
    expect(ended.map((g) => g.userId)).toEqual(['due']);
    expect((await grants.list()).map((g) => g.userId)).toEqual(['later']);
  });
});
