import { describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { inboundWriterOf } from '../../../shared/sync/directory-inbound.writer.ts';
import { reconcileHubOf } from '../../../shared/sync/directory-reconcile.hub.ts';
import { makeInboundApplier } from '../../../shared/sync/inbound-apply.ts';
import { makeReconciliation } from '../../../shared/sync/reconcile-run.ts';
import { InMemoryDirectoryStore } from '../../builders/in-memory-directory.store.ts';
import { InMemoryLanes, InMemoryRunPages, InMemoryRunStore } from '../../builders/reconcile.fakes.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../../builders/sync.fakes.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CONTEXT = { baseUrl: '', strictUnknownAttributes: false };

/**
 * An inbound source's run over the hub's real directory use cases (on the in-memory store): the
 * source is read with list pages, and its accounts become hub users through the same create and
 * PATCH as SCIM requests.
 */
const setup = (overrides: Record<string, unknown> = {}) => {
  const fixture = syncFixture();
  const store = new InMemoryDirectoryStore();
  let ids = 0;
  const directory = makeDirectory({ store, clock: fixture.clock, newId: () => `hub-${++ids}`, onUnknownAttributes: () => undefined });
  const source = new FakeTarget();
  const runs = new InMemoryRunStore(fixture.now);
  const pages = new InMemoryRunPages();
  const lanes = new InMemoryLanes();
  const config = connectorConfig({ id: 'hr', direction: 'inbound', reconcile: { deletionThreshold: { percent: 50, minimum: 5 } }, ...overrides });
  let runIds = 0;
  const reconciliation = makeReconciliation({
    runs,
    pages,
    lane: lanes,
    hub: reconcileHubOf(store),
    links: fixture.links,
    inbound: makeInboundApplier({ writer: inboundWriterOf(directory, store), links: fixture.links, audit: fixture.audit, clock: fixture.clock }),
    audit: fixture.audit,
    clock: fixture.clock,
    newId: () => `run-${++runIds}`,
    pageSize: 2,
  });
  const run = async (dryRun = false) => {
    const started = await reconciliation.start(config, { trigger: 'schedule', dryRun });
    for (let message = pages.take(); message; message = pages.take()) await reconciliation.handlePage(config, async () => source, message);
    return runs.get(started.runId);
  };
  const hubUser = async (userName: string) => {
    const id = await store.findIdByUnique('User', { attribute: 'userName', value: userName });
    return id ? (await directory.get('User', id, {}, CONTEXT)).resource : undefined;
  };
  return { ...fixture, store, directory, source, lanes, config, run, hubUser };
};

describe('an inbound source', () => {
  it("pulls the source's users into the hub: creates, links and updates, and deactivates those gone from it", async () => {
    // Prepare: the source holds three people; the hub knows cy by another name and dan from an earlier run.
    const t = setup();
    const adaId = t.source.account({ userName: 'ada', 'name.givenName': 'Ada', 'name.familyName': 'Lovelace', active: true });
    t.source.account({ userName: 'bob', 'name.givenName': 'Bob', active: false });
    const cyId = t.source.account({ userName: 'cy', 'name.givenName': 'Cyril', active: true });
    const dan = await t.directory.create('User', { schemas: [USER], userName: 'dan', active: true }, CONTEXT);
    await t.directory.create('User', { schemas: [USER], userName: 'cy', name: { givenName: 'Cy' }, active: true }, CONTEXT);
    await t.links.put({
      connectorId: 'hr',
      kind: 'user',
      hubId: String(dan.resource.id),
      targetId: 't-gone',
      status: 'active',
      pushed: {},
      hash: '',
      origin: 'created',
      updated: '',
    });
    // Act
    const run = await t.run();
    // Assess
    expect(run).toMatchObject({ state: 'done', targetAccounts: 3 });
    expect(run?.counters.situations).toEqual({ unmatched: 2, unlinked: 1, gone: 1 });
    expect(run?.counters.actions).toEqual({ create: 1, none: 1, link: 1, disable: 1 });
    expect(await t.hubUser('ada')).toMatchObject({ name: { givenName: 'Ada', familyName: 'Lovelace' }, active: true, externalId: adaId });
    expect(await t.hubUser('bob')).toBeUndefined();
    expect(await t.hubUser('cy')).toMatchObject({ name: { givenName: 'Cyril' }, externalId: cyId });
    expect(await t.hubUser('dan')).toMatchObject({ active: false });
    // Nothing is ever written to a source, and nothing goes to its lane.
    expect(t.source.writes()).toEqual([]);
    expect(t.lanes.queue.sends).toBe(0);
  });

  it('finds everything in sync on the next run, and follows a change made at the source', async () => {
    const t = setup();
    const adaId = t.source.account({ userName: 'ada', 'name.givenName': 'Ada', active: true });
    await t.run();
    t.source.accounts.set(adaId, { userName: 'ada', 'name.givenName': 'Ada', active: false });

    const again = await t.run();

    expect(again?.counters.situations).toEqual({ drifted: 1 });
    expect(again?.counters.actions).toEqual({ disable: 1 });
    expect(await t.hubUser('ada')).toMatchObject({ active: false });
  });

  it("reads an extension attribute back under its schema's URN, whose dots are not a path", async () => {
    // Prepare: a source that maps the enterprise department, as Entra's default mapping does
    const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const t = setup({
      mapping: [
        { target: 'userName', source: 'userName', apply: 'always' },
        { target: 'department', source: `${enterprise}:department`, apply: 'always' },
        { target: 'active', source: 'active', apply: 'always' },
      ],
    });
    t.source.account({ userName: 'ada', department: 'Research', active: true });
    // Act
    await t.run();
    // Assess
    const ada = await t.hubUser('ada');
    expect(ada?.[enterprise]).toEqual({ department: 'Research' });
    expect(ada?.schemas).toContain(enterprise);
    expect(Object.keys(ada ?? {}).filter((key) => key.startsWith('urn:ietf:params:scim:schemas:extension:enterprise:2'))).toEqual([enterprise]);
  });

  it('changes nothing in the hub in a dry run', async () => {
    const t = setup();
    t.source.account({ userName: 'ada', 'name.givenName': 'Ada', active: true });

    const run = await t.run(true);

    expect(run?.counters.situations).toEqual({ unmatched: 1 });
    expect(await t.hubUser('ada')).toBeUndefined();
  });
});

describe("an inbound source's groups", () => {
  const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

  /** The hub group of a displayName, with its members' userNames. */
  const hubGroup = async (t: ReturnType<typeof setup>, displayName: string) => {
    const id = await t.store.findIdByUnique('Group', { attribute: 'displayName', value: displayName.toLowerCase() });
    if (!id) return undefined;
    const group = (await t.directory.get('Group', id, {}, CONTEXT)).resource;
    const members = ((group.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value);
    const names = await Promise.all(members.map(async (memberId) => String((await t.directory.get('User', memberId, {}, CONTEXT)).resource.userName)));
    return { id, displayName: group.displayName, externalId: group.externalId, members: names.sort() };
  };

  /** A source holding ada, bob and an inactive cy, and a group Engineering of all three. */
  const seeded = (overrides: Record<string, unknown> = {}) => {
    const t = setup(overrides);
    const ada = t.source.account({ userName: 'ada', active: true });
    const bob = t.source.account({ userName: 'bob', active: true });
    const cy = t.source.account({ userName: 'cy', active: false });
    const engineering = t.source.group('Engineering');
    for (const id of [ada, bob, cy]) t.source.groups.get(engineering)?.members.add(id);
    return { ...t, ada, bob, cy, engineering };
  };

  it('brings a group and its members into the hub in the same run as the users, and leaves out a member with no hub user', async () => {
    // Prepare
    const t = seeded();
    // Act
    const run = await t.run();
    // Assess
    expect(run).toMatchObject({ state: 'done', targetGroups: 1 });
    expect(run?.counters.groups?.situations).toEqual({ unmatched: 1 });
    expect(run?.counters.memberships?.situations).toEqual({ unmatched: 2, orphan: 1 });
    expect(await hubGroup(t, 'Engineering')).toMatchObject({ displayName: 'Engineering', externalId: t.engineering, members: ['ada', 'bob'] });
    expect(t.source.writes()).toEqual([]);
  });

  it('follows the source: a rename, a member who left, a new group; and a second run finds everything in sync', async () => {
    // Prepare
    const t = seeded();
    await t.run();
    const source = t.source.groups.get(t.engineering);
    if (source) source.displayName = 'Platform';
    source?.members.delete(t.bob);
    const design = t.source.group('Design');
    t.source.groups.get(design)?.members.add(t.bob);
    // Act
    const changed = await t.run();
    const again = await t.run();
    // Assess
    expect(changed?.counters.groups?.situations).toEqual({ drifted: 1, unmatched: 1 });
    expect(changed?.counters.groups?.actions).toEqual({ rename: 1, create: 1 });
    expect(changed?.counters.memberships?.actions).toEqual({ remove: 1, add: 1, report: 1 });
    expect(await hubGroup(t, 'Platform')).toMatchObject({ members: ['ada'] });
    expect(await hubGroup(t, 'Engineering')).toBeUndefined();
    expect(await hubGroup(t, 'Design')).toMatchObject({ members: ['bob'] });
    expect(again?.counters.groups?.situations).toEqual({ inSync: 2 });
    expect(again?.counters.memberships?.actions).toEqual({ report: 1 });
    expect(again?.planPages).toBe(1);
  });

  it('never adopts a hub group from elsewhere by its name: a collision, nothing changed', async () => {
    // Prepare: the hub has its own Engineering group, with a member the source does not know.
    const t = seeded();
    const dan = await t.directory.create('User', { schemas: [USER], userName: 'dan', active: true }, CONTEXT);
    await t.directory.create('Group', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: dan.resource.id }] }, CONTEXT);
    // Act
    const run = await t.run();
    // Assess
    expect(run?.counters.groups?.situations).toEqual({ collision: 1 });
    expect(run?.counters.memberships).toEqual({ situations: {}, actions: {} });
    expect(await hubGroup(t, 'Engineering')).toMatchObject({ members: ['dan'] });
    expect(t.audit.of({ action: 'create' }).filter((e) => e.resourceType === 'Group')).toEqual([]);
  });

  it('links a hub group a group mapping names, adds the source members and keeps the members from elsewhere', async () => {
    // Prepare
    const dan = { userName: 'dan', active: true };
    const t0 = setup();
    const danId = String((await t0.directory.create('User', { schemas: [USER], ...dan }, CONTEXT)).resource.id);
    const staff = String((await t0.directory.create('Group', { schemas: [GROUP], displayName: 'Staff', members: [{ value: danId }] }, CONTEXT)).resource.id);
    const t = { ...t0, ...seededOn(t0, staff) };
    // Act
    const run = await t.run();
    // Assess
    expect(run?.counters.groups?.situations).toEqual({ unlinked: 1 });
    expect(await hubGroup(t, 'Staff')).toMatchObject({ members: ['ada', 'bob', 'dan'] });
    expect(await hubGroup(t, 'Engineering')).toBeUndefined();
  });

  it('deletes a hub group whose source group is gone, and stops for approval when that passes the threshold', async () => {
    // Prepare: a source of two groups, then both gone; the threshold stops at one group.
    const t = seeded({ reconcile: { deletionThreshold: { percent: 50, minimum: 1 } } });
    const design = t.source.group('Design');
    await t.run();
    t.source.groups.delete(t.engineering);
    t.source.groups.delete(design);
    // Act
    const run = await t.run();
    // Assess
    expect(run).toMatchObject({ state: 'awaiting-approval', targetGroups: 0 });
    expect(run?.reason).toContain('would delete 2 hub groups');
    expect(await hubGroup(t, 'Engineering')).toBeDefined();
  });

  it('deletes the hub group of a source group that is gone, under the threshold', async () => {
    const t = seeded();
    t.source.group('Design');
    await t.run();
    t.source.groups.delete(t.engineering);

    const run = await t.run();

    expect(run?.state).toBe('done');
    expect(run?.counters.groups?.situations).toEqual({ inSync: 1, gone: 1 });
    expect(await hubGroup(t, 'Engineering')).toBeUndefined();
    expect(await hubGroup(t, 'Design')).toBeDefined();
  });

  it('changes no group in the hub in a dry run', async () => {
    const t = seeded();

    const run = await t.run(true);

    expect(run?.counters.groups?.situations).toEqual({ unmatched: 1 });
    expect(await hubGroup(t, 'Engineering')).toBeUndefined();
  });
});

/** Gives a set-up's source ada and bob in a group Engineering that a group mapping names as hub group `hubGroup`. */
const seededOn = (t: ReturnType<typeof setup>, hubGroup: string) => {
  const ada = t.source.account({ userName: 'ada', active: true });
  const bob = t.source.account({ userName: 'bob', active: true });
  const engineering = t.source.group('Engineering');
  for (const id of [ada, bob]) t.source.groups.get(engineering)?.members.add(id);
  // A new groups object: the schema's default one is shared by every parsed document.
  t.config.groups = { ...t.config.groups, mappings: [{ hubGroup, targetDisplayName: 'Engineering' }] };
  return { ada, bob, engineering };
};
