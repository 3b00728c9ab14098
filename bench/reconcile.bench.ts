import { RateLimiter } from '../shared/connectors/resilience/rate-limiter.ts';
import { makeReconciliation } from '../shared/sync/reconcile-run.ts';
import type { ReconcileLinks, RunStore } from '../shared/sync/reconcile-run.ports.ts';
import { makeSync } from '../shared/sync/sync.service.ts';
import { InMemoryLanes, InMemoryRunPages, InMemoryRunStore, inMemoryReconcileHub } from '../test/builders/reconcile.fakes.ts';
import { laneWorker } from '../test/builders/reconcile.harness.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../test/builders/sync.fakes.ts';

/**
 * Reconciliation of 10 000 hub users against a target holding the same 10 000 accounts, 1% of
 * them changed behind the hub's back. The claim: the target sees one list call per page and one
 * update per drifted account, no lookup per user; the table work per account is bounded and
 * counted below (item reads and writes of the run's DynamoDB adapters, with the capacity units
 * their item sizes cost: consistent reads of items under 4 KB are 1 RCU, writes under 1 KB 1 WCU).
 */
const USERS = 10_000;
const DRIFT = 0.01;
const PAGE_SIZE = 100;

const counting = <T extends object>(target: T, counts: Map<string, number>, prefix: string): T =>
  new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const key = `${prefix}.${String(property)}`;
        // Batch operations count their items.
        const items = Array.isArray(args[1]) ? (args[1] as unknown[]).length : Array.isArray(args[0]) ? (args[0] as unknown[]).length : 1;
        counts.set(key, (counts.get(key) ?? 0) + items);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });

/** The connector's rate limit in the throughput measure: the run and its fixes must keep it busy. */
const REQUESTS_PER_SECOND = 10;

/**
 * The target behind the connector's own rate limiter on the fixture's virtual clock: a call
 * waits for its turn by advancing the clock, never by sleeping, so the figure is calls per
 * limiter window (what the vendor meters), not wall seconds of this machine.
 */
const metered = <T extends object>(target: T, limiter: RateLimiter): T =>
  new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || property === 'enter' || property === 'account' || property === 'writes') return value;
      return async (...args: unknown[]) => {
        await limiter.acquire();
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });

const main = async () => {
  const fixture = syncFixture();
  const limiter = new RateLimiter(REQUESTS_PER_SECOND, fixture.now, async (ms) => fixture.advance(ms));
  const raw = new FakeTarget();
  const target = metered(raw, limiter);
  const config = connectorConfig({ id: 'bench' });
  const sync = makeSync(fixture);
  for (let i = 0; i < USERS; i++) fixture.hub.user(`u${String(i).padStart(5, '0')}`, { name: { givenName: 'Given' } });
  for (const id of fixture.hub.users.keys()) await sync.syncUser({ config, connector: raw }, id, { trigger: 'realtime' });
  const drifted = [...raw.accounts.values()].filter((_, i) => i % Math.round(1 / DRIFT) === 0);
  for (const account of drifted) account['name.givenName'] = 'Changed';
  raw.calls.length = 0;
  const startedAt = fixture.now();

  const counts = new Map<string, number>();
  const runs = counting<RunStore>(new InMemoryRunStore(fixture.now), counts, 'runs');
  const links = counting<ReconcileLinks>(fixture.links, counts, 'links');
  const pages = new InMemoryRunPages();
  const lanes = new InMemoryLanes();
  let ids = 0;
  const reconciliation = makeReconciliation({
    runs,
    pages,
    lane: lanes,
    hub: counting(inMemoryReconcileHub(fixture.hub), counts, 'hub'),
    links,
    audit: fixture.audit,
    clock: fixture.clock,
    newId: () => `run-${++ids}`,
    pageSize: PAGE_SIZE,
  });
  const run = await reconciliation.start(config, { trigger: 'schedule', dryRun: false });
  let pageMessages = 0;
  for (let message = pages.take(); message; message = pages.take()) {
    pageMessages++;
    await reconciliation.handlePage(config, async () => target, message);
  }
  const { lane, worker } = laneWorker(fixture, sync);
  for (const change of lanes.queue.waiting.splice(0)) lane.send(change.message);
  for (let received = lane.receive(); received.length > 0; received = lane.receive())
    lane.settle(received, await worker.process(config, async () => target, received));

  const elapsedMs = fixture.now() - startedAt;
  const finished = await runs.get(run.runId);
  const byOperation = (operation: string) => raw.calls.filter((c) => c.operation === operation).length;
  const listPages = byOperation('listUsers');
  const fixes = byOperation('updateUser');
  const lookups = byOperation('findUser');
  console.log(`reconcile: ${USERS} hub users, ${USERS} target accounts, ${drifted.length} drifted (${DRIFT * 100}%), pages of ${PAGE_SIZE}`);
  console.log(`  situations: ${JSON.stringify(finished?.counters.situations)}  state: ${finished?.state}`);
  console.log(`  target calls: ${raw.calls.length} = ${listPages} list pages + ${fixes} drift fixes + ${lookups} per-user lookups`);
  console.log(`  calls / (list pages + drift fixes) = ${(raw.calls.length / (listPages + fixes)).toFixed(2)}  (1.00 is the floor)`);
  console.log(`  run page messages: ${pageMessages}; lane messages: ${lanes.queue.sends}`);
  const reads =
    (counts.get('links.ownerOf') ?? 0) +
    (counts.get('links.get') ?? 0) +
    (counts.get('runs.accountedAmong') ?? 0) +
    (counts.get('hub.usersByIds') ?? 0) +
    (counts.get('runs.get') ?? 0);
  const writes =
    (counts.get('runs.markAccounted') ?? 0) + (counts.get('runs.advance') ?? 0) + (counts.get('runs.putPlanPage') ?? 0) + (counts.get('runs.create') ?? 0);
  console.log(
    `  table item reads ${reads} (~${reads} RCU consistent) and writes ${writes} (~${writes} WCU) for the run: ${(reads / USERS).toFixed(2)} RCU and ${(writes / USERS).toFixed(2)} WCU per hub user`,
  );
  console.log(`  (the hub's user pages, ${Math.ceil(USERS / PAGE_SIZE)} queries, and the worker's own reads for the ${fixes} fixes come on top)`);
  // Every window the run spans, the last one partly used; the limiter allows perWindow calls in each.
  const windows = Math.floor(elapsedMs / limiter.windowMs) + 1;
  const share = raw.calls.length / (windows * limiter.perWindow);
  console.log(
    `  rate limit ${REQUESTS_PER_SECOND}/s: ${raw.calls.length} calls in ${windows} limiter windows of ${limiter.windowMs} ms = ${(raw.calls.length / windows).toFixed(2)} calls per window, ${(share * 100).toFixed(1)}% of the limit (aim: at least 80%)`,
  );
  if (lookups > 0 || listPages + fixes !== raw.calls.length || share < 0.8) process.exitCode = 1;
};

await main();
