import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { MEMBERSHIP_PART, makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../../builders/sync.fakes.ts';

const realtime = { trigger: 'realtime' as const };
const cognito = { type: 'cognito', userPoolId: 'pool', region: 'eu-west-1', baseUrl: undefined, bearerToken: undefined };

/** A hub, a sync engine over it, and one target behind a connector of the given document entry. */
const setup = (config: Record<string, unknown> = {}, target = new FakeTarget()) => {
  const fixture = syncFixture();
  const sync = makeSync(fixture);
  const ctx = { config: connectorConfig(config), connector: target };
  return { ...fixture, sync, ctx, target };
};

describe('sync engine: scope', () => {
  it('provisions a user the scope filter admits and skips one it does not', async () => {
    const { hub, sync, ctx, target } = setup({ scope: { filter: 'title eq "Engineer"' } });
    hub.user('ada', { title: 'Engineer' });
    hub.user('bob', { title: 'Sales' });

    expect((await sync.syncUser(ctx, 'ada', realtime)).action).toBe('create');
    expect(await sync.syncUser(ctx, 'bob', realtime)).toMatchObject({ action: 'none', status: 'skipped' });
    expect([...target.accounts.values()].map((a) => a.userName)).toEqual(['ada']);
  });

  it('provisions members of a scoped group only', async () => {
    const { hub, sync, ctx, target } = setup({ scope: { groups: ['eng'] } });
    hub.user('ada');
    hub.user('bob');
    hub.group('eng', 'Engineering', ['ada']);

    await sync.syncUser(ctx, 'ada', realtime);
    await sync.syncUser(ctx, 'bob', realtime);

    expect([...target.accounts.values()].map((a) => a.userName)).toEqual(['ada']);
  });

  it.each([
    ['disable', { active: false }],
    ['delete', undefined],
  ])('a user removed from the last scoped group gets the deprovision policy (%s)', async (deprovision, expected) => {
    const { hub, sync, ctx, target, links } = setup({ scope: { groups: ['eng', 'ops'] }, deprovision });
    hub.user('ada');
    hub.group('eng', 'Engineering', ['ada']);
    hub.group('ops', 'Operations', ['ada']);
    await sync.syncMembers(ctx, 'eng', ['ada'], realtime);
    await sync.syncMembers(ctx, 'ops', ['ada'], realtime);
    const accountId = (await links.get('app', 'user', 'ada'))?.targetId as string;

    hub.leave('eng', 'ada');
    await sync.syncMembers(ctx, 'eng', ['ada'], realtime);
    // Still in ops: the account stays enabled.
    expect(target.accounts.get(accountId)).toMatchObject({ active: true });

    hub.leave('ops', 'ada');
    await sync.syncMembers(ctx, 'ops', ['ada'], realtime);
    if (expected) expect(target.accounts.get(accountId)).toMatchObject(expected);
    else expect(target.accounts.has(accountId)).toBe(false);
    expect([...target.groups.values()].every((g) => g.members.size === 0)).toBe(true);
  });

  it('a user added to a scoped group is provisioned, and re-enabled when they come back', async () => {
    const { hub, sync, ctx, target, links } = setup({ scope: { groups: ['eng'] } });
    hub.user('ada');
    hub.group('eng', 'Engineering');
    await sync.syncGroup(ctx, 'eng', realtime);

    hub.join('eng', 'ada');
    await sync.syncMembers(ctx, 'eng', ['ada'], realtime);
    const accountId = (await links.get('app', 'user', 'ada'))?.targetId as string;
    expect(target.accounts.get(accountId)).toMatchObject({ userName: 'ada', active: true });
    const groupId = (await links.get('app', 'group', 'eng'))?.targetId as string;
    expect([...(target.groups.get(groupId)?.members ?? [])]).toEqual([accountId]);

    hub.leave('eng', 'ada');
    await sync.syncMembers(ctx, 'eng', ['ada'], realtime);
    expect(target.accounts.get(accountId)).toMatchObject({ active: false });

    hub.join('eng', 'ada');
    await sync.syncMembers(ctx, 'eng', ['ada'], realtime);
    expect(target.accounts.get(accountId)).toMatchObject({ active: true });
    expect([...(target.groups.get(groupId)?.members ?? [])]).toEqual([accountId]);
  });
});

describe('sync engine: matching', () => {
  it('links an existing account found by a matching attribute instead of creating one', async () => {
    const { hub, sync, ctx, target } = setup();
    const existing = target.account({ userName: 'ada', displayName: 'Old' });
    hub.user('ada', { displayName: 'Ada' });

    const outcome = await sync.syncUser(ctx, 'ada', realtime);

    expect(outcome).toMatchObject({ action: 'link', targetId: existing });
    expect(target.accounts.size).toBe(1);
    expect(target.accounts.get(existing)).toMatchObject({ displayName: 'Ada' });
  });

  it('matches again after the target answers 409 to a create', async () => {
    const { hub, sync, ctx, target } = setup();
    hub.user('ada');
    // The account appears between the match (none) and the create, which answers 409.
    let made = '';
    const create = target.createUser.bind(target);
    target.createUser = async (attributes) => {
      made = target.account({ userName: 'ada' });
      return create(attributes);
    };

    const outcome = await sync.syncUser(ctx, 'ada', realtime);

    expect(outcome).toMatchObject({ action: 'link', targetId: made });
    expect(target.calls.filter((c) => c.operation === 'createUser')).toHaveLength(1);
  });

  it('never links an account linked to another hub user: a collision naming both, nothing changed', async () => {
    const { hub, sync, ctx, target, audit } = setup({ ...cognito, matching: ['username', 'email'] }, new FakeTarget('pool', 'username'));
    hub.user('ada', { emails: [{ value: 'shared@example.com', primary: true }] });
    hub.user('bob', { emails: [{ value: 'shared@example.com', primary: true }] });
    await sync.syncUser(ctx, 'ada', realtime);
    const writes = target.writes().length;

    const outcome = await sync.syncUser(ctx, 'bob', realtime);

    expect(outcome).toMatchObject({ action: 'collision', status: 'skipped', collidesWith: 'ada' });
    expect(target.writes()).toHaveLength(writes);
    const [entry] = audit.of({ resourceId: 'bob', action: 'collision' });
    expect(entry).toMatchObject({ status: 'skipped', resourceId: 'bob', collidesWith: 'ada' });
    expect(entry?.reason).toContain('ada');
    expect(entry?.reason).toContain('bob');
  });

  it('does not match a Cognito account by email unless the connector names email', async () => {
    const someone = new FakeTarget('pool', 'username');
    const { hub, sync, ctx } = setup(cognito, someone);
    const existing = someone.account({ username: 'a.lovelace', email: 'ada@example.com' });
    hub.user('ada', { emails: [{ value: 'ada@example.com', primary: true }] });

    const outcome = await sync.syncUser(ctx, 'ada', realtime);
    expect(outcome.action).toBe('create');
    expect(outcome.targetId).not.toBe(existing);

    const optIn = setup({ ...cognito, matching: ['username', 'email'] }, new FakeTarget('pool', 'username'));
    const theirs = optIn.target.account({ username: 'a.lovelace', email: 'ada@example.com' });
    optIn.hub.user('ada', { emails: [{ value: 'ada@example.com', primary: true }] });
    expect(await optIn.sync.syncUser(optIn.ctx, 'ada', realtime)).toMatchObject({ action: 'link', targetId: theirs });
  });

  it('a recycled userName after a disable deprovision does not re-adopt the old account: collision', async () => {
    const { hub, sync, ctx, target, audit } = setup({ deprovision: 'disable' });
    hub.user('old-ada', { userName: 'ada' });
    const created = await sync.syncUser(ctx, 'old-ada', realtime);
    hub.users.delete('old-ada');
    expect(await sync.syncUser(ctx, 'old-ada', realtime)).toMatchObject({ action: 'disable', status: 'success' });

    hub.user('new-ada', { userName: 'ada' });
    const outcome = await sync.syncUser(ctx, 'new-ada', realtime);

    expect(outcome).toMatchObject({ action: 'collision', collidesWith: 'old-ada', targetId: created.targetId });
    expect(target.accounts.get(created.targetId as string)).toMatchObject({ active: false });
    expect(audit.of({ resourceId: 'new-ada', action: 'collision' })).toHaveLength(1);
  });
});

describe('sync engine: a target that cannot be searched', () => {
  /** A SCIM server without `filter` support: the connector cannot look an account up. */
  class UnsearchableTarget extends FakeTarget {
    override async findUser(): Promise<undefined> {
      return undefined;
    }
  }

  it('never makes a second account when the link is lost and the target keeps userName unique: the change fails for good instead', async () => {
    const target = new UnsearchableTarget();
    const { hub, sync, ctx, links } = setup({}, target);
    hub.user('ada');
    await sync.syncUser(ctx, 'ada', realtime);
    const link = await links.get('app', 'user', 'ada');
    await links.delete(link as NonNullable<typeof link>);

    await expect(sync.syncUser(ctx, 'ada', realtime)).rejects.toMatchObject({ kind: 'permanent' });

    expect(target.accounts.size).toBe(1);
    expect(target.calls.filter((c) => c.operation === 'createUser')).toHaveLength(2);
  });
});

describe('sync engine: users', () => {
  it('does not create an inactive user', async () => {
    const { hub, sync, ctx, target } = setup();
    hub.user('ada', { active: false });

    expect(await sync.syncUser(ctx, 'ada', realtime)).toMatchObject({ action: 'create', status: 'skipped', reason: 'inactive users are not created' });
    expect(target.writes()).toHaveLength(0);
  });

  it.each([
    ['create', async (s: ReturnType<typeof setup>) => s.hub.user('ada'), 'create'],
    [
      'update',
      async (s: ReturnType<typeof setup>) => {
        s.hub.user('ada');
        await makeSync(s).syncUser({ ...s.ctx, config: connectorConfig() }, 'ada', realtime);
        s.hub.user('ada', { displayName: 'Changed' });
      },
      'update',
    ],
    [
      'disable',
      async (s: ReturnType<typeof setup>) => {
        s.hub.user('ada');
        await makeSync(s).syncUser({ ...s.ctx, config: connectorConfig() }, 'ada', realtime);
        s.hub.users.delete('ada');
      },
      'disable',
    ],
    [
      'delete',
      async (s: ReturnType<typeof setup>) => {
        s.hub.user('ada');
        await makeSync(s).syncUser({ ...s.ctx, config: connectorConfig() }, 'ada', realtime);
        s.hub.users.delete('ada');
      },
      'delete',
    ],
  ])('with operations.%s off, that change is skipped and the target untouched', async (operation, prepare, action) => {
    const s = setup({ operations: { [operation]: false }, ...(operation === 'delete' ? { deprovision: 'delete' } : {}) });
    await prepare(s);
    const writes = s.target.writes().length;

    const outcome = await s.sync.syncUser(s.ctx, 'ada', realtime);

    expect(outcome).toMatchObject({ action, status: 'skipped', reason: `${operation} is not an enabled operation` });
    expect(s.target.writes()).toHaveLength(writes);
  });

  it.each([
    ['disable', true],
    ['delete', false],
  ])('a user deleted from the hub is deprovisioned by policy %s', async (deprovision, accountKept) => {
    const { hub, sync, ctx, target, links } = setup({ deprovision });
    hub.user('ada');
    const { targetId } = await sync.syncUser(ctx, 'ada', realtime);
    hub.users.delete('ada');

    await sync.syncUser(ctx, 'ada', realtime);

    expect(target.accounts.has(targetId as string)).toBe(accountKept);
    if (accountKept) expect(target.accounts.get(targetId as string)).toMatchObject({ active: false });
    // Disable keeps the link (the account stays that person's); delete forgets it.
    expect((await links.get('app', 'user', 'ada')) !== undefined).toBe(accountKept);
  });
});

describe('sync engine: membership deltas', () => {
  it('brings ten members of a linked group to the target with one batched link read and one membership request', async () => {
    const { hub, sync, ctx, target, links } = setup({ groups: { provision: true, mappings: [] } });
    const ids = Array.from({ length: 10 }, (_, i) => `u${i}`);
    for (const id of ids) hub.user(id);
    hub.group('eng', 'Engineering', ids);
    for (const id of ids) await sync.syncUser(ctx, id, realtime);
    await sync.syncGroup(ctx, 'eng', realtime);
    const before = { reads: links.reads, batchReads: links.batchReads, calls: target.calls.length };

    const outcome = await sync.syncMembers(ctx, 'eng', ids, realtime);

    expect(outcome).toMatchObject({ action: 'membership', status: 'success', steps: ['compare: 10 to add, 0 to remove'] });
    expect({ reads: links.reads - before.reads, batchReads: links.batchReads - before.batchReads }).toEqual({ reads: 0, batchReads: 1 });
    expect(target.calls.slice(before.calls).map((c) => c.operation)).toEqual(['changeGroupMembers']);
    const [group] = [...target.groups.values()];
    const accounts = await Promise.all(ids.map(async (id) => (await links.get('app', 'user', id))?.targetId));
    expect([...(group?.members ?? [])].sort()).toEqual(accounts.sort());
  });

  it('provisions a member not linked yet before adding it, and a redelivery of the delta changes nothing', async () => {
    const { hub, sync, ctx, target } = setup({ groups: { provision: true, mappings: [] } });
    hub.user('ada');
    hub.user('bob');
    hub.group('eng', 'Engineering', ['ada', 'bob']);
    await sync.syncUser(ctx, 'ada', realtime);

    await sync.syncMembers(ctx, 'eng', ['ada', 'bob'], realtime);
    const writes = target.writes().length;
    expect(await sync.syncMembers(ctx, 'eng', ['ada', 'bob'], realtime)).toMatchObject({ status: 'skipped', steps: ['compare: 0 to add, 0 to remove'] });

    expect(target.writes()).toHaveLength(writes);
    expect([...target.groups.values()][0]?.members.size).toBe(2);
    expect([...target.accounts.values()].map((a) => a.userName).sort()).toEqual(['ada', 'bob']);
  });
});

describe('sync engine: groups', () => {
  it('links a group mapped by target id, and one mapped by target name', async () => {
    const { hub, sync, ctx, target } = setup({
      groups: { provision: false, mappings: [] },
    });
    const byId = target.group('Admins');
    const byName = target.group('Readers');
    hub.group('g1', 'Hub Admins');
    hub.group('g2', 'Hub Readers');
    const mapped = {
      ...ctx,
      config: connectorConfig({
        groups: {
          provision: false,
          mappings: [
            { hubGroup: 'g1', targetId: byId },
            { hubGroup: 'g2', targetDisplayName: 'Readers' },
          ],
        },
      }),
    };

    expect(await sync.syncGroup(mapped, 'g1', realtime)).toMatchObject({ action: 'link', targetId: byId });
    expect(await sync.syncGroup(mapped, 'g2', realtime)).toMatchObject({ action: 'link', targetId: byName });
    expect(target.calls.filter((c) => c.operation === 'createGroup')).toHaveLength(0);
  });

  it('never adopts an existing target group by name without a mapping: collision, nothing changed', async () => {
    const { hub, sync, ctx, target, links } = setup();
    const theirs = target.group('Engineering');
    hub.group('eng', 'Engineering');

    const outcome = await sync.syncGroup(ctx, 'eng', realtime);

    expect(outcome).toMatchObject({ action: 'collision', status: 'skipped', targetId: theirs });
    expect(await links.get('app', 'group', 'eng')).toBeUndefined();
    expect(target.groups.size).toBe(1);
  });

  it('links its own group left by an earlier attempt (same externalId) when the create says it exists', async () => {
    const { hub, sync, ctx, target } = setup();
    const ours = target.group('Engineering', 'eng');
    hub.group('eng', 'Engineering');

    expect(await sync.syncGroup(ctx, 'eng', realtime)).toMatchObject({ action: 'create', status: 'success', targetId: ours });
  });

  it('renames a group the hub created on the target', async () => {
    const { hub, sync, ctx, target, links } = setup();
    hub.group('eng', 'Engineering');
    const { targetId } = await sync.syncGroup(ctx, 'eng', realtime);
    hub.group('eng', 'R&D');

    const outcome = await sync.syncGroup(ctx, 'eng', realtime);

    expect(outcome).toMatchObject({ action: 'rename', status: 'success', targetId });
    expect(target.groups.get(targetId as string)?.displayName).toBe('R&D');
    expect((await links.get('app', 'group', 'eng'))?.pushed).toEqual({ displayName: 'R&D' });
    expect(await sync.syncGroup(ctx, 'eng', realtime)).toMatchObject({ action: 'none', status: 'skipped' });
  });

  it('follows a rename that gives the group a new target id, releasing the old one', async () => {
    const target = new FakeTarget();
    const { hub, sync, ctx, links } = setup({}, target);
    target.renameGroup = async (id, displayName, externalId) => {
      const group = target.groups.get(id);
      target.groups.delete(id);
      const next = `${id}-renamed`;
      target.groups.set(next, { displayName, externalId, members: group?.members ?? new Set() });
      return { id: next, displayName, externalId };
    };
    hub.group('eng', 'Engineering');
    const { targetId } = await sync.syncGroup(ctx, 'eng', realtime);
    hub.group('eng', 'R&D');

    await sync.syncGroup(ctx, 'eng', realtime);

    expect((await links.get('app', 'group', 'eng'))?.targetId).toBe(`${targetId}-renamed`);
    expect(await links.ownerOf('app', 'group', targetId as string)).toBeUndefined();
    expect(await links.ownerOf('app', 'group', `${targetId}-renamed`)).toBe('eng');
  });

  it('deletes a group deleted in the hub on the target, and a group already gone there is deleted too', async () => {
    const { hub, sync, ctx, target, links } = setup();
    hub.group('eng', 'Engineering');
    hub.group('ops', 'Operations');
    const eng = await sync.syncGroup(ctx, 'eng', realtime);
    const ops = await sync.syncGroup(ctx, 'ops', realtime);
    hub.groups.delete('eng');
    hub.groups.delete('ops');
    target.groups.delete(ops.targetId as string);

    expect(await sync.syncGroup(ctx, 'eng', realtime)).toMatchObject({ action: 'delete', status: 'success' });
    expect(await sync.syncGroup(ctx, 'ops', realtime)).toMatchObject({ action: 'delete', status: 'success' });
    expect(target.groups.has(eng.targetId as string)).toBe(false);
    expect(await links.get('app', 'group', 'eng')).toBeUndefined();
    expect(await links.get('app', 'group', 'ops')).toBeUndefined();
  });
});

describe('sync engine: a large membership delta', () => {
  it('goes to the target in parts, and a part that fails leaves the parts before it done, so the retry sends only the rest', async () => {
    // Prepare: a target that refuses the second part once.
    class FlakyTarget extends FakeTarget {
      parts: number[] = [];
      override async changeGroupMembers(targetGroupId: string, delta: { add: string[]; remove: string[] }) {
        this.parts.push(delta.add.length);
        if (this.parts.length === 2) throw new ConnectorError('throttled', 'slow down', { status: 429 });
        return super.changeGroupMembers(targetGroupId, delta);
      }
    }
    const { hub, sync, ctx, target, links } = setup({}, new FlakyTarget());
    const ids = Array.from({ length: MEMBERSHIP_PART + 100 }, (_, i) => `m-${i}`);
    for (const id of ids) hub.user(id);
    hub.group('big', 'Big', ids);
    await sync.syncGroup(ctx, 'big', realtime);
    for (const id of ids) await sync.syncUser(ctx, id, realtime);
    // Act
    await expect(sync.syncMembers(ctx, 'big', ids, realtime)).rejects.toThrow('slow down');
    await sync.syncMembers(ctx, 'big', ids, realtime);
    // Assess: the first part, the refused second, then only the second again.
    const flaky = target as FlakyTarget;
    expect(flaky.parts).toEqual([MEMBERSHIP_PART, 100, 100]);
    expect(
      (
        await links.getMany(
          'app',
          ids.map((id) => ({ kind: 'membership' as const, hubId: `big#${id}` })),
        )
      ).size,
    ).toBe(ids.length);
  });
});
