import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { DynamoLinkStore } from '../../../shared/store/link.repository.ts';
import { DynamoRunStore } from '../../../shared/store/run.repository.ts';
import { inboundWriterOf } from '../../../shared/sync/directory-inbound.writer.ts';
import { reconcileHubOf } from '../../../shared/sync/directory-reconcile.hub.ts';
import { makeInboundApplier } from '../../../shared/sync/inbound-apply.ts';
import { makeReconciliation } from '../../../shared/sync/reconcile-run.ts';
import { InMemoryLanes, InMemoryRunPages } from '../../builders/reconcile.fakes.ts';
import { connectorConfig, FakeTarget, InMemoryAudit } from '../../builders/sync.fakes.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const CONTEXT = { baseUrl: '', strictUnknownAttributes: false };
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/**
 * An inbound source's groups on DynamoDB Local: the run's record, links and the hub's directory
 * in the real table, the source an in-memory SCIM-like app. The hub's uniqueness guards and
 * membership items are the real ones, so a group of the same name from elsewhere meets the real
 * displayName guard.
 */
describe('an inbound run of groups on DynamoDB Local', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  let store: DynamoDirectoryStore;
  let directory: ReturnType<typeof makeDirectory>;
  let links: DynamoLinkStore;
  let ids = 0;
  const audit = new InMemoryAudit();
  const clock = () => new Date('2026-03-01T00:00:00.000Z');

  beforeAll(async () => {
    table = await freshHubTable('inbound-groups');
    store = new DynamoDirectoryStore(table.documents, table.tableName);
    directory = makeDirectory({ store, clock, newId: () => `hub-${++ids}`, onUnknownAttributes: () => undefined });
    links = new DynamoLinkStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  /** A source and a reconciliation of it over the table; `run` drives every page message. */
  const sourceOf = (connectorId: string) => {
    const source = new FakeTarget(connectorId);
    const config = connectorConfig({ id: connectorId, direction: 'inbound' });
    const pages = new InMemoryRunPages();
    let runIds = 0;
    const applier = makeInboundApplier({ writer: inboundWriterOf(directory, store), links, audit, clock });
    const reconciliation = makeReconciliation({
      runs: new DynamoRunStore(table.documents, table.tableName, () => clock().getTime()),
      pages,
      lane: new InMemoryLanes(),
      hub: reconcileHubOf(store),
      links,
      inbound: applier,
      audit,
      clock,
      newId: () => `${connectorId}-run-${++runIds}`,
      pageSize: 10,
    });
    const run = async () => {
      const started = await reconciliation.start(config, { trigger: 'schedule', dryRun: false });
      for (let message = pages.take(); message; message = pages.take()) await reconciliation.handlePage(config, async () => source, message);
      return new DynamoRunStore(table.documents, table.tableName).get(started.runId);
    };
    return { source, config, run, applier };
  };

  const membersOf = async (displayName: string) => {
    const id = await store.findIdByUnique('Group', { attribute: 'displayName', value: displayName.toLowerCase() });
    if (!id) return undefined;
    const group = (await directory.get('Group', id, {}, CONTEXT)).resource;
    const values = ((group.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value);
    return Promise.all(values.map(async (value) => String((await directory.get('User', value, {}, CONTEXT)).resource.userName))).then((names) => names.sort());
  };

  it('creates the groups and memberships of a source, then removes a member who left it, and a repeated plan page writes nothing new', async () => {
    // Prepare: three people, a group of all three and one of one.
    const { source, run, applier } = sourceOf('hr');
    const people = ['ada', 'bob', 'cy'].map((userName) => source.account({ userName, active: true }));
    const crew = source.group('Crew');
    const leads = source.group('Leads');
    for (const id of people) source.groups.get(crew)?.members.add(id);
    source.groups.get(leads)?.members.add(people[0] as string);
    // Act
    const first = await run();
    source.groups.get(crew)?.members.delete(people[1] as string);
    const second = await run();
    // A crashed apply runs its plan page again: the same membership delta once more.
    const bob = await store.findIdByUnique('User', { attribute: 'userName', value: 'bob' });
    await applier('hr', [{ kind: 'membership', sourceGroupId: crew, situation: 'drifted', action: 'remove', hubId: String(bob), reason: 'again' }]);
    // Assess
    expect(first).toMatchObject({ state: 'done', targetGroups: 2, counters: { groups: { situations: { unmatched: 2 } } } });
    expect(second).toMatchObject({ state: 'done', counters: { groups: { situations: { inSync: 2 } }, memberships: { actions: { remove: 1 } } } });
    expect(await membersOf('Crew')).toEqual(['ada', 'cy']);
    expect(await membersOf('Leads')).toEqual(['ada']);
  });

  it('meets a hub group of the same name from elsewhere with a collision, and leaves it and its members alone', async () => {
    // Prepare: the hub's own Finance group; a second source holds a Finance group too.
    const dan = await directory.create('User', { userName: 'dan', active: true }, CONTEXT);
    await directory.create('Group', { schemas: [GROUP], displayName: 'Finance', members: [{ value: dan.resource.id }] }, CONTEXT);
    const { source, run } = sourceOf('erp');
    const eve = source.account({ userName: 'eve', active: true });
    source.groups.get(source.group('Finance'))?.members.add(eve);
    // Act
    const result = await run();
    // Assess
    expect(result?.counters.groups?.situations).toEqual({ collision: 1 });
    expect(await membersOf('Finance')).toEqual(['dan']);
  });
});
