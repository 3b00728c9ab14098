import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { RunInProgressError, RunStateError } from '../../../shared/sync/reconcile-run.ts';
import { reconcileHarness } from '../../builders/reconcile.harness.ts';
import type { FakeTarget } from '../../builders/sync.fakes.ts';

const setup = (overrides: Record<string, unknown> = {}) => reconcileHarness(overrides);

const accountNamed = (target: FakeTarget, userName: string) => [...target.accounts].find(([, a]) => a.userName === userName);

describe('a reconciliation run', () => {
  it("meets every situation, and the lane's worker repairs what the policy says", async () => {
    // Prepare: provisioned users, then drift behind the hub's back.
    const t = setup();
    for (const id of ['same', 'drift', 'lost', 'leaver', 'taken']) t.hub.user(id, { name: { givenName: id } });
    await t.provision('same', 'drift', 'lost', 'leaver', 'taken');
    t.target.accounts.set(accountNamed(t.target, 'drift')?.[0] as string, { ...accountNamed(t.target, 'drift')?.[1], 'name.givenName': 'Changed' });
    t.target.accounts.delete(accountNamed(t.target, 'lost')?.[0] as string);
    t.hub.users.delete('leaver');
    t.hub.user('matched', { name: { givenName: 'matched' } });
    t.target.account({ userName: 'matched' });
    t.hub.user('newcomer', { name: { givenName: 'newcomer' } });
    t.target.account({ userName: 'stranger' });
    // Someone renamed "taken"'s account on the target, and made another under its name.
    const [takenId, taken] = accountNamed(t.target, 'taken') as [string, Record<string, unknown>];
    t.target.accounts.set(takenId, { ...taken, userName: 'taken-renamed' });
    t.target.account({ userName: 'taken' });
    // Act
    const started = await t.reconciliation.start(t.config, { trigger: 'on-demand', dryRun: false });
    await t.runPages();
    // Assess
    const run = await t.runs.get(started.runId);
    expect(run).toMatchObject({ state: 'done', targetAccounts: 7 });
    expect(run?.counters.situations).toEqual({ inSync: 1, drifted: 2, gone: 1, unlinked: 1, unmatched: 1, orphan: 1, collision: 1, outOfScope: 1 });
    await t.applyLane();
    expect(accountNamed(t.target, 'drift')?.[1]).toMatchObject({ 'name.givenName': 'drift' });
    expect(accountNamed(t.target, 'lost')?.[1]).toMatchObject({ active: true, externalId: 'lost' });
    expect(accountNamed(t.target, 'newcomer')).toBeDefined();
    expect((await t.links.get('app', 'user', 'matched'))?.targetId).toBe(accountNamed(t.target, 'matched')?.[0]);
    expect(t.target.accounts.get(takenId)).toMatchObject({ userName: 'taken', active: true });
    expect(accountNamed(t.target, 'leaver')?.[1]).toMatchObject({ active: false });
    expect(accountNamed(t.target, 'stranger')?.[1]).toMatchObject({ active: true });
    expect(t.runs.locks.size).toBe(0);
  });

  it('plans without changing anything in a dry run, and keeps the plan', async () => {
    // Prepare
    const t = setup({ reconcile: { orphans: 'delete' } });
    t.hub.user('ada');
    await t.provision('ada');
    t.target.account({ userName: 'stranger' });
    t.hub.user('bob');
    const before = structuredClone([...t.target.accounts]);
    const writes = t.target.writes().length;
    // Act
    const started = await t.reconciliation.start(t.config, { trigger: 'on-demand', dryRun: true });
    await t.runPages();
    // Assess
    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'done', dryRun: true, counters: { situations: { inSync: 1, orphan: 1, unmatched: 1 } } });
    expect([...t.target.accounts]).toEqual(before);
    expect(t.target.writes()).toHaveLength(writes);
    expect(t.lanes.queue.sends).toBe(0);
    expect((await t.runs.getPlanPage(started.runId, 0)).map((c) => [c.situation, c.action])).toEqual([['orphan', 'delete']]);
  });

  it('stops a run that would disable 30% of the accounts for approval, then applies it once approved', async () => {
    // Prepare: 28 provisioned accounts and 12 orphans (30% of 40) under the orphan policy disable.
    const t = setup({ reconcile: { orphans: 'disable', deletionThreshold: { percent: 20, minimum: 10 } } });
    for (let i = 0; i < 28; i++) t.hub.user(`u${String(i).padStart(2, '0')}`);
    await t.provision(...t.hub.users.keys());
    for (let i = 0; i < 12; i++) t.target.account({ userName: `orphan${i}` });
    // Act
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    // Assess: it waits, with an audit record saying why, and nothing went to the lane.
    const waiting = await t.runs.get(started.runId);
    expect(waiting).toMatchObject({ state: 'awaiting-approval', targetAccounts: 40, counters: { actions: { disable: 12 } } });
    expect(t.audit.of({ action: 'awaiting-approval' })[0]?.reason).toMatch(/12 of 40 accounts/);
    expect(t.lanes.queue.sends).toBe(0);
    await expect(t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false })).rejects.toBeInstanceOf(RunInProgressError);
    // Act: approve
    await t.reconciliation.approve(started.runId, 'operator');
    await t.runPages();
    await t.applyLane();
    // Assess
    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'done', decision: { by: 'operator', approved: true } });
    expect([...t.target.accounts.values()].filter((a) => a.active === false)).toHaveLength(12);
    // Each disabled orphan's audit record names the account, as the target knows it.
    expect(
      t.audit
        .of({ action: 'disable' })
        .map((r) => r.name)
        .sort(),
    ).toEqual(Array.from({ length: 12 }, (_, i) => `orphan${i}`).sort());
    await expect(t.reconciliation.approve(started.runId, 'operator')).rejects.toBeInstanceOf(RunStateError);
  });

  it('cancels a rejected run and frees the connector for the next one', async () => {
    const t = setup({ reconcile: { orphans: 'delete', deletionThreshold: { percent: 10, minimum: 1 } } });
    t.target.account({ userName: 'stranger' });
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();

    await t.reconciliation.reject(started.runId, 'operator');

    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'cancelled' });
    expect(t.lanes.queue.sends).toBe(0);
    await expect(t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false })).resolves.toMatchObject({ state: 'planning' });
  });

  it('counts a page delivered twice once, and sends its changes once', async () => {
    // Prepare
    const t = setup();
    for (let i = 0; i < 7; i++) t.hub.user(`u${i}`);
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    // Act: every page message is handled twice, as after a crash before its deletion.
    for (let message = t.pages.take(); message; message = t.pages.take()) {
      await t.reconciliation.handlePage(t.config, async () => t.target, message);
      await t.reconciliation.handlePage(t.config, async () => t.target, message);
    }
    // Assess
    const run = await t.runs.get(started.runId);
    expect(run).toMatchObject({ state: 'done', counters: { situations: { unmatched: 7 } } });
    expect(t.lanes.queue.waiting).toHaveLength(7);
    await t.applyLane();
    expect(t.target.calls.filter((c) => c.operation === 'createUser')).toHaveLength(7);
  });

  it('reads the target with list pages only, never one lookup per linked user', async () => {
    const t = setup();
    for (let i = 0; i < 9; i++) t.hub.user(`u${i}`);
    await t.provision(...t.hub.users.keys());
    const before = t.target.calls.length;

    await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();

    expect(t.target.calls.slice(before).map((c) => c.operation)).toEqual(['listUsers', 'listUsers', 'listUsers']);
  });
});

describe('the run lock', () => {
  it('is renewed by every page, and a run whose expired lock another run took stops', async () => {
    // Prepare
    const t = setup();
    for (let i = 0; i < 7; i++) t.hub.user(`u${i}`);
    const first = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.reconciliation.handlePage(t.config, async () => t.target, t.pages.take() as never);
    expect(t.runs.locks.get('app')?.expiresAt).toBe(t.now() + 60 * 60_000);
    // Act: the first run stalls past its lock, and a second run takes the connector.
    t.advance(2 * 60 * 60_000);
    const second = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: true });
    await t.runPages();
    // Assess
    expect(await t.runs.get(first.runId)).toMatchObject({ state: 'failed', reason: 'its lock expired and another run of the connector took it' });
    expect(await t.runs.get(second.runId)).toMatchObject({ state: 'done' });
  });
});

describe('a page that fails on every delivery', () => {
  it('fails its run with the error and frees the connector at once, not when the lock expires', async () => {
    // Prepare: the target's listing fails every time.
    const t = setup();
    t.hub.user('u0');
    t.target.failAlways('listUsers', new ConnectorError('retryable', 'the target answered 503'));
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    const page = t.pages.take();
    await expect(t.reconciliation.handlePage(t.config, async () => t.target, page as never)).rejects.toThrow('503');

    // Act: the queue's last delivery gives the page up.
    const abandoned = await t.reconciliation.abandonPage(page as never, new ConnectorError('retryable', 'the target answered 503'));

    // Assess
    expect(abandoned).toMatchObject({ state: 'failed', reason: 'page 0 of its target phase failed on every delivery: the target answered 503' });
    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'failed' });
    expect(t.runs.locks.get('app')).toBeUndefined();
    await expect(t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: true })).resolves.toMatchObject({ state: 'planning' });
  });

  it('changes nothing for a page its run has moved past', async () => {
    const t = setup();
    t.hub.user('u0');
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: true });
    const page = t.pages.take();
    await t.reconciliation.handlePage(t.config, async () => t.target, page as never);
    await t.runPages();

    await t.reconciliation.abandonPage(page as never, new Error('late'));

    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'done' });
  });
});

describe('the end of a run', () => {
  it('is finished by its last page delivered again when a crash cut it short: the lock is freed and the run recorded once', async () => {
    // Prepare: the lock's release fails once, after the run is marked done.
    const t = setup();
    t.hub.user('u0');
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: true });
    const release = t.runs.releaseLock.bind(t.runs);
    let failures = 1;
    t.runs.releaseLock = async (connectorId, runId) => {
      if (failures-- > 0) throw new Error('the table is unreachable');
      return release(connectorId, runId);
    };
    let last: ReturnType<typeof t.pages.take>;
    let error: unknown;
    for (let message = t.pages.take(); message && error === undefined; message = t.pages.take()) {
      last = message;
      await t.reconciliation
        .handlePage(t.config, async () => t.target, message)
        .catch((e: unknown) => {
          error = e;
        });
    }
    expect(String(error)).toContain('unreachable');
    expect(await t.runs.get(started.runId)).toMatchObject({ state: 'done' });
    expect(t.runs.locks.get('app')).toBeDefined();
    expect(t.audit.of({ action: 'reconcile' })).toHaveLength(0);

    // Act: the queue delivers the page again.
    await t.reconciliation.handlePage(t.config, async () => t.target, last as never);

    // Assess
    expect(t.runs.locks.get('app')).toBeUndefined();
    expect(t.audit.of({ action: 'reconcile' }).map((entry) => [entry.status, entry.time])).toEqual([['success', (await t.runs.get(started.runId))?.finished]]);
    await expect(t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: true })).resolves.toMatchObject({ state: 'planning' });
  });
});

describe('a reconciliation run over groups', () => {
  const targetGroupOf = async (t: ReturnType<typeof setup>, groupId: string) => {
    const link = await t.links.get('app', 'group', groupId);
    return link ? t.target.groups.get(link.targetId) : undefined;
  };
  const accountIdOf = (t: ReturnType<typeof setup>, userName: string) => accountNamed(t.target, userName)?.[0] as string;

  it('repairs renamed, missing and gone groups and their members through the lane, and then finds them in sync', async () => {
    // Prepare: provisioned groups, then drift made on the target behind the hub's back.
    const t = setup();
    for (const id of ['ada', 'bob', 'cy', 'dee']) t.hub.user(id);
    await t.provision('ada', 'bob', 'cy', 'dee');
    t.hub.group('eng', 'Engineering', ['ada', 'bob', 'cy']);
    t.hub.group('sales', 'Sales', ['dee']);
    t.hub.group('ops', 'Operations', ['cy']);
    await t.provisionGroups('eng', 'sales', 'ops');
    t.hub.group('new', 'Newcomers', ['ada']);
    const eng = (await targetGroupOf(t, 'eng')) as { members: Set<string> };
    eng.members.delete(accountIdOf(t, 'bob'));
    eng.members.add(accountIdOf(t, 'dee'));
    const stranger = t.target.account({ userName: 'stranger' });
    eng.members.add(stranger);
    ((await targetGroupOf(t, 'sales')) as { displayName: string }).displayName = 'Renamed';
    t.target.groups.delete((await t.links.get('app', 'group', 'ops'))?.targetId as string);
    // Act
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    // Assess: the run counts groups and members apart from accounts.
    const run = await t.runs.get(started.runId);
    expect(run?.state).toBe('done');
    expect(run?.counters.groups).toEqual({
      situations: { inSync: 1, drifted: 1, gone: 1, unmatched: 1 },
      actions: { none: 1, rename: 1, create: 2 },
    });
    expect(run?.counters.memberships).toEqual({ situations: { drifted: 4, orphan: 1 }, actions: { add: 3, remove: 1, report: 1 } });
    await t.applyLane();
    expect([...((await targetGroupOf(t, 'eng'))?.members ?? [])].sort()).toEqual(
      [accountIdOf(t, 'ada'), accountIdOf(t, 'bob'), accountIdOf(t, 'cy'), stranger].sort(),
    );
    expect((await targetGroupOf(t, 'sales'))?.displayName).toBe('Sales');
    expect([...((await targetGroupOf(t, 'ops'))?.members ?? [])]).toEqual([accountIdOf(t, 'cy')]);
    expect([...((await targetGroupOf(t, 'new'))?.members ?? [])]).toEqual([accountIdOf(t, 'ada')]);
    // Act: the next run finds nothing to change.
    const again = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    expect((await t.runs.get(again.runId))?.counters).toMatchObject({
      groups: { situations: { inSync: 4 } },
      memberships: { situations: { orphan: 1 }, actions: { report: 1 } },
    });
    expect(t.lanes.queue.waiting).toHaveLength(0);
  });

  it('adds a member who has no account yet, after the worker provisions it', async () => {
    const t = setup();
    t.hub.user('ada');
    t.hub.group('eng', 'Engineering', ['ada']);

    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    await t.applyLane();

    expect((await t.runs.get(started.runId))?.counters.memberships).toEqual({ situations: { unmatched: 1 }, actions: { add: 1 } });
    expect([...((await targetGroupOf(t, 'eng'))?.members ?? [])]).toEqual([accountIdOf(t, 'ada')]);
  });

  it('reads no group on a connector that manages none', async () => {
    const t = setup({ groups: { provision: false } });
    t.hub.user('ada');
    t.hub.group('eng', 'Engineering', ['ada']);

    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();

    expect((await t.runs.get(started.runId))?.counters.groups).toBeUndefined();
    expect(t.target.calls.map((c) => c.operation)).not.toContain('listGroupMembers');
  });
});

describe('a reconciliation run and temporary access', () => {
  it('keeps a user a live grant admits outside the scope, and deprovisions them once it ends', async () => {
    // Prepare: the scope takes engineers; a contractor has access by a grant for an hour.
    const t = setup({ scope: { filter: 'title eq "engineer"' } });
    for (let i = 0; i < 3; i++) t.hub.user(`eng${i}`, { title: 'engineer' });
    t.hub.user('temp', { title: 'contractor' });
    const expiresAt = new Date(t.now() + 60 * 60_000).toISOString();
    await t.grants.put({ connectorId: 'app', userId: 'temp', expiresAt, grantedAt: t.clock().toISOString() });
    await t.provision('eng0', 'eng1', 'eng2', 'temp');
    expect(accountNamed(t.target, 'temp')).toBeDefined();
    // Act
    const during = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    // Assess: in sync, so nothing counts toward the deletion threshold.
    expect((await t.runs.get(during.runId))?.counters).toMatchObject({ situations: { inSync: 4 }, actions: { none: 4 } });
    // Act: the grant ends.
    t.advance(2 * 60 * 60_000);
    const after = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    await t.applyLane();
    // Assess
    expect((await t.runs.get(after.runId))?.counters).toMatchObject({ situations: { inSync: 3, outOfScope: 1 }, actions: { disable: 1 } });
    expect(accountNamed(t.target, 'temp')?.[1]).toMatchObject({ active: false });
  });

  it('creates the account of a granted user the target lacks', async () => {
    const t = setup({ scope: { filter: 'title eq "engineer"' } });
    t.hub.user('temp', { title: 'contractor' });
    await t.grants.put({ connectorId: 'app', userId: 'temp', expiresAt: new Date(t.now() + 60_000).toISOString(), grantedAt: t.clock().toISOString() });

    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();

    expect((await t.runs.get(started.runId))?.counters.situations).toEqual({ unmatched: 1 });
  });
});
