import type { Connector } from '../../shared/connectors/connector.port.ts';
import type { ConnectorConfig } from '../../shared/connectors/connectors.schema.ts';
import { makeChangeWorker } from '../../shared/sync/change-worker.ts';
import { makeOrphanApplier } from '../../shared/sync/reconcile-apply.ts';
import { makeReconciliation } from '../../shared/sync/reconcile-run.ts';
import { makeSync, type SyncService } from '../../shared/sync/sync.service.ts';
import { InMemoryLanes, InMemoryRunPages, InMemoryRunStore, inMemoryReconcileHub } from './reconcile.fakes.ts';
import { connectorConfig, FakeLane, FakeTarget, InMemoryBreakers, InMemoryGrantStore, syncFixture } from './sync.fakes.ts';

/**
 * A connector's FIFO lane and the real change worker on it, with the real sync engine and
 * orphan applier: where a run's changes are applied.
 */
export const laneWorker = (fixture: ReturnType<typeof syncFixture>, sync: SyncService) => {
  const lane = new FakeLane(fixture.now);
  const worker = makeChangeWorker({
    sync,
    orphans: makeOrphanApplier(fixture),
    breakers: new InMemoryBreakers(),
    queue: lane,
    audit: fixture.audit,
    clock: fixture.clock,
    maxReceiveCount: 100,
  });
  return { lane, worker };
};

/**
 * A reconciliation run end to end in memory: the run's pages go through a queue that drops
 * duplicates (SQS FIFO), its changes onto the connector's lane, where the real change worker
 * applies them with the real sync engine.
 */
export const reconcileHarness = <C extends Connector = FakeTarget>(overrides: Record<string, unknown> = {}, connector?: C) => {
  const fixture = { ...syncFixture(), grants: new InMemoryGrantStore() };
  const target = (connector ?? new FakeTarget()) as C;
  const runs = new InMemoryRunStore(fixture.now);
  const pages = new InMemoryRunPages();
  const lanes = new InMemoryLanes();
  const config: ConnectorConfig = connectorConfig(overrides);
  const sync = makeSync(fixture);
  let ids = 0;
  const reconciliation = makeReconciliation({
    runs,
    pages,
    lane: lanes,
    hub: inMemoryReconcileHub(fixture.hub),
    links: fixture.links,
    grants: fixture.grants,
    audit: fixture.audit,
    clock: fixture.clock,
    newId: () => `run-${++ids}`,
    pageSize: 3,
  });
  const { lane, worker } = laneWorker(fixture, sync);
  return {
    ...fixture,
    target,
    runs,
    pages,
    lanes,
    config,
    sync,
    reconciliation,
    /** Provisions hub groups with their members the way real time does. */
    provisionGroups: async (...groupIds: string[]) => {
      for (const id of groupIds) {
        await sync.syncGroup({ config, connector: target }, id, { trigger: 'realtime' });
        await sync.syncMembers({ config, connector: target }, id, [...(fixture.hub.members.get(id) ?? [])], { trigger: 'realtime' });
      }
    },
    /** Provisions hub users the way real time does, so they are linked. */
    provision: async (...userIds: string[]) => {
      for (const id of userIds) await sync.syncUser({ config, connector: target }, id, { trigger: 'realtime' });
    },
    /** Runs every page message there is, as the reconcile function would. */
    runPages: async () => {
      for (let message = pages.take(); message; message = pages.take()) await reconciliation.handlePage(config, async () => target, message);
    },
    /** The connector lane's worker applies what the run sent. */
    applyLane: async () => {
      for (const change of lanes.queue.waiting.splice(0)) lane.send(change.message);
      const received = lane.receive();
      lane.settle(received, await worker.process(config, async () => target, received));
    },
  };
};
