import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFanout, type OutgoingMessage } from '../../../functions/fanout/fanout.ts';
import { createEntraConnector } from '../../../shared/connectors/entra/entra.connector.ts';
import { EntraConnectorSchema } from '../../../shared/connectors/entra/entra.schema.ts';
import { withResilience } from '../../../shared/connectors/resilience/resilient.connector.ts';
import { membershipKey, resourceKey } from '../../../shared/store/hub-table.layout.ts';
import type { ChangeMessage } from '../../../shared/sync/change-message.ts';
import { makeChangeWorker, type ReceivedChange } from '../../../shared/sync/change-worker.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeLane, InMemoryBreakers, syncFixture } from '../../builders/sync.fakes.ts';
import { type EntraFake, startEntraFake } from '../../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../../support/fakes/graph-contract.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
/** An SQS FIFO event source mapping hands a worker at most 10 messages at a time. */
const FIFO_BATCH = 10;

/**
 * The Entra connector behind the hub's lane, in memory but for Graph: hub changes become stream
 * records, the real fanout turns them into the lane's messages, and the real change worker
 * applies them, 10 at a time as SQS FIFO delivers them, through the real sync engine and
 * connector into the fake Microsoft Graph. What the fake receives is what a tenant would.
 */
describe.skipIf(!graphContractAvailable)('entra through the lane: fanout, worker, sync engine (needs ../shared/contracts)', () => {
  let fake: EntraFake;
  let sequence = 0;
  const fixture = syncFixture();
  const sync = makeSync(fixture);
  const worker = makeChangeWorker({
    sync,
    breakers: new InMemoryBreakers(),
    queue: new FakeLane(fixture.now),
    audit: fixture.audit,
    clock: fixture.clock,
    maxReceiveCount: 100,
  });
  let config: ReturnType<typeof connectorConfig>;
  let connect: () => Promise<Awaited<ReturnType<typeof createEntraConnector>>>;
  const outgoing: OutgoingMessage[] = [];
  let fanout: ReturnType<typeof makeFanout>;

  /** A stream record of a hub item written now. */
  const written = (key: { pk: string; sk: string }): DynamoDBRecord => ({
    eventName: 'INSERT',
    dynamodb: { SequenceNumber: String(++sequence), Keys: { pk: { S: key.pk }, sk: { S: key.sk } }, NewImage: { version: { N: String(sequence) } } },
  });

  /** Fans the records out (stream batches of 100), then delivers the lane's messages to the worker 10 at a time; returns the deliveries. */
  const deliver = async (records: DynamoDBRecord[]): Promise<ChangeMessage[][]> => {
    outgoing.length = 0;
    for (let start = 0; start < records.length; start += 100) expect(await fanout(records.slice(start, start + 100))).toEqual({ batchItemFailures: [] });
    const deliveries: ChangeMessage[][] = [];
    for (let start = 0; start < outgoing.length; start += FIFO_BATCH) {
      const batch: ReceivedChange[] = outgoing
        .slice(start, start + FIFO_BATCH)
        .map((m, i) => ({ messageId: `${start + i}`, receiveCount: 1, body: m.body, message: JSON.parse(m.body) as ChangeMessage }));
      deliveries.push(batch.map((b) => b.message));
      expect(await worker.process(config, connect, batch)).toEqual([]);
    }
    return deliveries;
  };

  beforeAll(async () => {
    fake = await startEntraFake();
    const sleep = async () => {};
    const entry = fake.connectorEntry({ groups: { provision: true } });
    config = connectorConfig({ ...entry, baseUrl: undefined, bearerToken: undefined });
    const connector = withResilience(await createEntraConnector(EntraConnectorSchema.parse(entry), { sleep, containers: 1 }), { sleep });
    connect = async () => connector as Awaited<ReturnType<typeof createEntraConnector>>;
    fanout = makeFanout({
      connectors: async () => ({ connectors: [config] }),
      queueUrls: { [config.id]: 'https://sqs/entra.fifo' },
      existingGroups: async (ids) => new Set(ids),
      send: async (messages) => {
        outgoing.push(...messages);
        return new Set();
      },
    });
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('adds a 1 000-member hub group to Entra in 50 member PATCHes of 20, inside $batch requests', async () => {
    // Prepare: 1 000 hub users whose Entra accounts the hub provisioned earlier (linked).
    const memberIds = Array.from({ length: 1000 }, (_, i) => `crowd-${i}`);
    for (const id of memberIds) {
      fixture.hub.user(id);
      const targetId = fake.seedUser(`${id}@${fake.domain}`);
      await fixture.links.put({
        connectorId: config.id,
        kind: 'user',
        hubId: id,
        targetId,
        status: 'active',
        pushed: {},
        hash: '',
        origin: 'created',
        updated: '',
      });
    }
    fixture.hub.group('crowd', 'Crowd', memberIds);
    const start = fake.calls.length;
    const http = fake.httpCalls;

    // Act: the group is created, then its members are added (as an IdP does: the group, then PATCHes of members),
    // and the table's stream carries the membership items in batches of 100.
    await deliver([written(resourceKey('Group', 'crowd'))]);
    const deliveries = await deliver(memberIds.map((id) => written(membershipKey('crowd', id))));

    // Assess
    const groupId = (await fixture.links.get(config.id, 'group', 'crowd'))?.targetId as string;
    const accounts = await fixture.links.getMany(
      config.id,
      memberIds.map((hubId) => ({ kind: 'user' as const, hubId })),
    );
    expect(accounts.size).toBe(1000);
    expect(fake.members(groupId).sort()).toEqual([...accounts.values()].map((link) => link.targetId).sort());
    // 10 messages of 100 members each: one delivery.
    expect(deliveries.map((d) => d.map((m) => (m.kind === 'membership' ? m.memberIds?.length : 0)))).toEqual([Array.from({ length: 10 }, () => 100)]);
    const calls = fake.calls.slice(start);
    const binds = calls.filter((c) => c.method === 'PATCH' && c.path === `/groups/${groupId}`);
    expect(binds).toHaveLength(Math.ceil(1000 / 20));
    expect(binds.every((c) => c.batch !== undefined && ((c.body as Record<string, unknown[]>)['members@odata.bind']?.length ?? 0) <= 20)).toBe(true);
    expect(binds.flatMap((c) => (c.body as Record<string, unknown[]>)['members@odata.bind'])).toHaveLength(1000);
    // 50 PATCHes, 20 to a $batch: 3 $batch calls.
    expect(new Set(binds.map((c) => c.batch)).size).toBe(3);
    // Outside the $batch calls only the group's lookup (a create retried after a lost answer adopts its group) and its create.
    expect(calls.filter((c) => c.batch === undefined).map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual(['GET /groups', 'POST /groups']);
    // HTTP requests: those two, the 3 $batch calls, and at most one token request.
    expect(fake.httpCalls - http).toBeLessThanOrEqual(6);
  });

  it("sets the manager as the manager's Entra object id once the manager has an account, and clears it", async () => {
    // Prepare: the report reaches Entra before its manager does.
    fixture.hub.user('report', { userName: `report@${fake.domain}`, displayName: 'Report', [ENTERPRISE]: { manager: { value: 'boss' } } });
    fixture.hub.user('boss', { userName: `boss@${fake.domain}`, displayName: 'Boss' });
    await deliver([written(resourceKey('User', 'report'))]);
    const report = (await fixture.links.get(config.id, 'user', 'report'))?.targetId as string;
    expect(fake.user(report)?.manager).toBeUndefined();
    await deliver([written(resourceKey('User', 'boss'))]);
    const boss = (await fixture.links.get(config.id, 'user', 'boss'))?.targetId as string;
    const start = fake.calls.length;

    // Act: the report's next change carries the manager along.
    fixture.hub.user('report', { userName: `report@${fake.domain}`, displayName: 'Report', title: 'Analyst', [ENTERPRISE]: { manager: { value: 'boss' } } });
    await deliver([written(resourceKey('User', 'report'))]);

    // Assess
    expect(fake.user(report)?.manager).toBe(boss);
    const set = fake.calls.slice(start).find((c) => c.method === 'PUT');
    expect(set).toMatchObject({ path: `/users/${report}/manager/$ref`, body: { '@odata.id': `${fake.graphBaseUrl}/directoryObjects/${boss}` } });

    fixture.hub.user('report', { userName: `report@${fake.domain}`, displayName: 'Report', title: 'Analyst' });
    await deliver([written(resourceKey('User', 'report'))]);
    expect(fake.user(report)?.manager).toBeUndefined();
    expect(
      fake.calls
        .slice(start)
        .filter((c) => c.method === 'DELETE')
        .map((c) => c.path),
    ).toEqual([`/users/${report}/manager/$ref`]);
  });
});
