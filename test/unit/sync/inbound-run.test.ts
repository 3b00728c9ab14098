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

  it('changes nothing in the hub in a dry run', async () => {
    const t = setup();
    t.source.account({ userName: 'ada', 'name.givenName': 'Ada', active: true });

    const run = await t.run(true);

    expect(run?.counters.situations).toEqual({ unmatched: 1 });
    expect(await t.hubUser('ada')).toBeUndefined();
  });
});
