import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../shared/directory/directory.service.ts';
import { createEntraConnector } from '../../../shared/connectors/entra/entra.connector.ts';
import { EntraConnectorSchema } from '../../../shared/connectors/entra/entra.schema.ts';
import { withResilience } from '../../../shared/connectors/resilience/resilient.connector.ts';
import { DynamoDirectoryStore } from '../../../shared/store/directory.repository.ts';
import { DynamoFeedStore } from '../../../shared/store/feed-state.repository.ts';
import { DynamoLinkStore } from '../../../shared/store/link.repository.ts';
import { DynamoRunStore } from '../../../shared/store/run.repository.ts';
import { inboundWriterOf } from '../../../shared/sync/directory-inbound.writer.ts';
import { reconcileHubOf } from '../../../shared/sync/directory-reconcile.hub.ts';
import { makeInboundApplier } from '../../../shared/sync/inbound-apply.ts';
import { makeReconciliation } from '../../../shared/sync/reconcile-run.ts';
import { InMemoryLanes, InMemoryRunPages } from '../../builders/reconcile.fakes.ts';
import { connectorConfig, InMemoryAudit } from '../../builders/sync.fakes.ts';
import { freshHubTable } from '../../support/dynamodb.ts';
import { type EntraFake, startEntraFake } from '../../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../../support/fakes/graph-contract.ts';

const CONTEXT = { baseUrl: '', strictUnknownAttributes: false };

/** The run store, with a crash of the function armed for the next plan page write (after the page read the source). */
class CrashingRunStore extends DynamoRunStore {
  crashNextPlanPage = false;

  override async putPlanPage(...args: Parameters<DynamoRunStore['putPlanPage']>): Promise<void> {
    if (this.crashNextPlanPage) {
      this.crashNextPlanPage = false;
      throw new Error('the function crashed');
    }
    return super.putPlanPage(...args);
  }
}

/**
 * Entra as an inbound source, read through Graph's delta queries: the run record, links, delta
 * links and the hub's directory in DynamoDB Local, the tenant the fake Graph that enforces
 * Microsoft's contract. Each case has a tenant of its own (its own verified domain, so its hub
 * users and groups never meet another case's in the shared table).
 */
describe.skipIf(!graphContractAvailable)('an inbound Entra source read by delta queries (needs ../shared/contracts)', () => {
  let table: Awaited<ReturnType<typeof freshHubTable>>;
  const fakes: EntraFake[] = [];
  const clock = () => new Date();

  beforeAll(async () => {
    table = await freshHubTable('entra-delta');
  });
  afterAll(async () => {
    await Promise.all(fakes.map((fake) => fake.stop()));
    table.raw.destroy();
  });

  /** A tenant with ada, bob and cy, ada and bob in its Crew group; a reconciliation of it into the hub. */
  const setup = async (connectorId: string) => {
    const fake = await startEntraFake({ verifiedDomains: [`${connectorId}.onmicrosoft.com`] });
    fakes.push(fake);
    const entry = fake.connectorEntry({ id: connectorId, direction: 'inbound' });
    const config = connectorConfig({ ...entry, baseUrl: undefined, bearerToken: undefined });
    const sleep = async () => {};
    const connector = withResilience(await createEntraConnector(EntraConnectorSchema.parse(entry), { sleep, containers: 1 }), { sleep });
    const [ada, bob, cy] = ['ada', 'bob', 'cy'].map((name) => fake.seedUser(`${name}@${fake.domain}`, { givenName: name })) as [string, string, string];
    const crew = fake.seedGroup(`Crew ${connectorId}`);
    await connector.changeGroupMembers(crew, { add: [ada, bob], remove: [] });
    let ids = 0;
    const store = new DynamoDirectoryStore(table.documents, table.tableName);
    const directory = makeDirectory({ store, clock, newId: () => `${connectorId}-${++ids}`, onUnknownAttributes: () => undefined });
    const links = new DynamoLinkStore(table.documents, table.tableName);
    const feeds = new DynamoFeedStore(table.documents, table.tableName);
    const runs = new CrashingRunStore(table.documents, table.tableName);
    const pages = new InMemoryRunPages();
    let runIds = 0;
    const reconciliation = makeReconciliation({
      runs,
      pages,
      lane: new InMemoryLanes(),
      hub: reconcileHubOf(store),
      links,
      feeds,
      inbound: makeInboundApplier({ writer: inboundWriterOf(directory, store), links, audit: new InMemoryAudit(), clock }),
      audit: new InMemoryAudit(),
      clock,
      newId: () => `${connectorId}-run-${++runIds}`,
    });
    /** A run to its end; the Graph calls it made, as `METHOD /path?query` without the host. */
    const run = async (options: { dryRun?: boolean; full?: boolean } = {}) => {
      const from = fake.calls.length;
      const started = await reconciliation.start(config, { trigger: 'schedule', dryRun: options.dryRun ?? false, full: options.full ?? false });
      for (let message = pages.take(); message; message = pages.take()) {
        // A page that fails returns to the queue and is delivered again.
        await reconciliation.handlePage(config, async () => connector, message).catch(() => reconciliation.handlePage(config, async () => connector, message));
      }
      const calls = fake.calls.slice(from).map((call) => `${call.method} ${call.path.replace(fake.graphBaseUrl, '')} ${call.status}`);
      return { record: await runs.get(started.runId), calls };
    };
    const hubUser = async (name: string) => {
      const id = await store.findIdByUnique('User', { attribute: 'userName', value: `${name}@${fake.domain}` });
      return id ? (await directory.get('User', id, {}, CONTEXT)).resource : undefined;
    };
    const crewMembers = async () => {
      const id = await store.findIdByUnique('Group', { attribute: 'displayName', value: `crew ${connectorId}` });
      const group = id ? (await directory.get('Group', id, {}, CONTEXT)).resource : undefined;
      const values = ((group?.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value);
      const names = await Promise.all(values.map(async (value) => String((await directory.get('User', value, {}, CONTEXT)).resource.userName).split('@')[0]));
      return names.sort();
    };
    return { fake, connector, config, feeds, runs, reconciliation, pages, run, hubUser, crewMembers, ids: { ada, bob, cy, crew } };
  };

  it('reads a full round first, then only what changed: a renamed user, a removed one and a joiner, with the delta links the only Graph calls', async () => {
    // Prepare: the first run reads every user and group.
    const t = await setup('entra-in-a');
    const first = await t.run();
    const stored = await t.feeds.get('entra-in-a');
    await t.connector.updateUser(t.ids.ada, { set: { givenName: 'Augusta' }, unset: [] }, {});
    await t.connector.deleteUser(t.ids.bob);
    await t.connector.changeGroupMembers(t.ids.crew, { add: [t.ids.cy], remove: [] });
    // Act
    const second = await t.run();
    // Assess: the first run was a full round through the delta endpoints, classified as a listing's.
    expect(first.record).toMatchObject({ state: 'done', targetAccounts: 3, targetGroups: 1, counters: { situations: { unmatched: 3 } } });
    expect(first.record?.feed?.users).toMatchObject({ round: 'full', reason: expect.stringContaining('no delta link is stored yet') });
    expect(first.calls.filter((call) => call.includes('/delta'))).toEqual([
      expect.stringMatching(/^GET \/users\/delta\?\$select=\S+ 200$/),
      expect.stringMatching(/^GET \/groups\/delta\?\$select=\S+ 200$/),
    ]);
    expect(stored).toMatchObject({ runId: first.record?.runId, accounts: 3, groupCount: 1 });
    // The second followed the stored links, and read nothing else.
    expect(second.calls).toEqual([`GET ${stored?.users.replace(t.fake.graphBaseUrl, '')} 200`, `GET ${stored?.groups?.replace(t.fake.graphBaseUrl, '')} 200`]);
    expect(second.record).toMatchObject({
      state: 'done',
      targetAccounts: 2,
      feed: { users: { round: 'changes' }, groups: { round: 'changes' } },
      counters: { situations: { drifted: 1, gone: 1 }, actions: { update: 1, disable: 1 }, memberships: { actions: { add: 1, remove: 1 } } },
    });
    expect(await t.hubUser('ada')).toMatchObject({ name: { givenName: 'Augusta' }, active: true });
    expect(await t.hubUser('bob')).toMatchObject({ active: false });
    expect(await t.crewMembers()).toEqual(['ada', 'cy']);
    expect(await t.feeds.get('entra-in-a')).toMatchObject({ runId: second.record?.runId, accounts: 2 });
    // The file's first hub writes meet a cold DynamoDB Local: seconds on a busy machine.
  }, 60_000);

  it('keeps the stored links after a dry run and a failed run, so the next run still plans the change', async () => {
    // Prepare
    const t = await setup('entra-in-b');
    await t.run();
    const stored = await t.feeds.get('entra-in-b');
    await t.connector.updateUser(t.ids.cy, { set: { givenName: 'Cyril' }, unset: [] }, {});
    // Act: a dry run; then a run whose connector leaves the document before its first page.
    const dry = await t.run({ dryRun: true });
    const failing = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    for (let message = t.pages.take(); message; message = t.pages.take()) await t.reconciliation.handlePage(undefined, async () => t.connector, message);
    const afterFailure = await t.feeds.get('entra-in-b');
    const next = await t.run();
    // Assess
    expect(dry.record).toMatchObject({ state: 'done', dryRun: true, counters: { actions: { update: 1 } } });
    expect(afterFailure).toEqual(stored);
    expect(failing.runId).not.toBe(next.record?.runId);
    expect(next.record).toMatchObject({ state: 'done', feed: { users: { round: 'changes', since: stored?.users } }, counters: { actions: { update: 1 } } });
    expect(await t.hubUser('cy')).toMatchObject({ name: { givenName: 'Cyril' } });
    expect((await t.feeds.get('entra-in-b'))?.users).not.toBe(stored?.users);
  });

  it('falls back to a full round when Graph refuses the stored link, says so, and follows the new link on the next run', async () => {
    // Prepare
    const t = await setup('entra-in-c');
    await t.run();
    await t.connector.updateUser(t.ids.ada, { set: { givenName: 'Augusta' }, unset: [] }, {});
    t.fake.expireDeltaLinks();
    // Act
    const fallback = await t.run();
    const after = await t.run();
    // Assess: both links refused (400 syncStateNotFound), then read from the start; the hub users Graph still holds are accounted for.
    expect(fallback.calls.filter((call) => call.includes('/delta'))).toEqual([
      expect.stringMatching(/^GET \/users\/delta\?\S*\$deltatoken=\S+ 400$/),
      expect.stringMatching(/^GET \/users\/delta\?\$select=\S+ 200$/),
      expect.stringMatching(/^GET \/groups\/delta\?\S*\$deltatoken=\S+ 400$/),
      expect.stringMatching(/^GET \/groups\/delta\?\$select=\S+ 200$/),
    ]);
    expect(fallback.record).toMatchObject({
      state: 'done',
      targetAccounts: 3,
      feed: { users: { round: 'full', reason: expect.stringContaining('refused the stored delta link of users') }, groups: { round: 'full' } },
      counters: { situations: { inSync: 2, drifted: 1 }, actions: { none: 2, update: 1 } },
    });
    expect(await t.hubUser('ada')).toMatchObject({ name: { givenName: 'Augusta' } });
    expect(after.record).toMatchObject({ state: 'done', feed: { users: { round: 'changes' } }, counters: { situations: {} } });
    expect(after.calls).toHaveLength(2);
  });

  it('reads the same page of changes again when the function crashed after reading it', async () => {
    // Prepare
    const t = await setup('entra-in-e');
    await t.run();
    const stored = await t.feeds.get('entra-in-e');
    await t.connector.updateUser(t.ids.bob, { set: { givenName: 'Robert' }, unset: [] }, {});
    t.runs.crashNextPlanPage = true;
    // Act
    const resumed = await t.run();
    // Assess: the redelivered page followed the run's position (the stored link) again, not a full round.
    const link = `GET ${stored?.users.replace(t.fake.graphBaseUrl, '')} 200`;
    expect(resumed.calls.filter((call) => call.includes('/users/delta'))).toEqual([link, link]);
    expect(resumed.record).toMatchObject({
      state: 'done',
      feed: { users: { round: 'changes' } },
      counters: { situations: { drifted: 1 }, actions: { update: 1 } },
    });
    expect(await t.hubUser('bob')).toMatchObject({ name: { givenName: 'Robert' } });
  });

  it('reads a full round when an operator asks for one, though a link is stored', async () => {
    const t = await setup('entra-in-d');
    await t.run();
    const forced = await t.run({ full: true });
    expect(forced.record).toMatchObject({ full: true, feed: { users: { round: 'full', reason: 'an operator asked for a full round' } } });
    expect(forced.record?.counters.situations).toEqual({ inSync: 3 });
  });
});
