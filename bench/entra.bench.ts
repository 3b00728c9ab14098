import { ConnectorError } from '../shared/connectors/connector.errors.ts';
import { createEntraConnector, type EntraConnector, WRITES_PER_SECOND } from '../shared/connectors/entra/entra.connector.ts';
import { EntraConnectorSchema } from '../shared/connectors/entra/entra.schema.ts';
import { type EntraFake, startEntraFake } from '../test/support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../test/support/fakes/graph-contract.ts';

/**
 * `npm run bench -- entra`: what the Entra connector costs Microsoft Graph, counted at the fake
 * Graph (which enforces Graph's contract and, in the last part, its quotas):
 *
 * 1. HTTP calls and Graph requests per 1 000 users created, each looked up first as the sync
 *    engine does for an unmatched user;
 * 2. HTTP calls per 1 000 membership additions and per 1 000 removals (aim: at most one call
 *    per 20 membership changes);
 * 3. throughput of user creation under the fake's write quota (3 000 writes per 150 s per app and
 *    tenant, 20/s), as shipped (the connector meters its writes) and with the meter taken away
 *    (Graph's 429 and Retry-After are all that pace it), next to the quota.
 *
 * The connector, its write meter and the fake share a simulated clock, so the figures are the
 * connector's and the quota's, not this machine's: a wait costs no wall time.
 */
const USERS = 1000;
const THROUGHPUT_USERS = 3300;

const clock = () => {
  let time = Date.UTC(2026, 0, 1);
  return {
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
  };
};

const connectorFor = async (fake: EntraFake, simulated: ReturnType<typeof clock>, metered = true): Promise<EntraConnector> => {
  return createEntraConnector(EntraConnectorSchema.parse(fake.connectorEntry({ id: 'bench-entra' })), { ...simulated, containers: 1, meterWrites: metered });
};

/** The shared resilience layer's retry, on the simulated clock: wait as Graph asked, then again. */
const retried = async <T>(simulated: ReturnType<typeof clock>, run: () => Promise<T>, counter: { throttled: number }): Promise<T> => {
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'throttled')) throw error;
      counter.throttled++;
      await simulated.sleep(error.retryAfterMs ?? 1000);
    }
  }
};

const graphCounts = (fake: EntraFake, since: { http: number; requests: number; tokens: number }) => ({
  http: fake.httpCalls - fake.tokenRequests - (since.http - since.tokens),
  requests: fake.calls.length - since.requests,
  tokens: fake.tokenRequests - since.tokens,
});
const mark = (fake: EntraFake) => ({ http: fake.httpCalls, requests: fake.calls.length, tokens: fake.tokenRequests });

const callsPerUser = async () => {
  const simulated = clock();
  const fake = await startEntraFake({ now: simulated.now });
  try {
    const connector = await connectorFor(fake, simulated);
    const start = mark(fake);
    for (let i = 0; i < USERS; i++) {
      const upn = `bench-${i}@${fake.domain}`;
      if (!(await connector.findUser('userPrincipalName', upn)))
        await connector.createUser({ userPrincipalName: upn, givenName: 'Bench', surname: 'User', active: true });
    }
    const counts = graphCounts(fake, start);
    console.log(`\n## Entra: ${USERS} users created (lookup, then create)`);
    console.log(`HTTP calls to Graph          ${counts.http}  (${(counts.http / USERS).toFixed(2)} per user)`);
    console.log(`Graph requests (RU-counted)  ${counts.requests}`);
    console.log(`token requests               ${counts.tokens}`);
    console.log(`writes (against the write quota) ${fake.writeCalls().length}: ${(fake.writeCalls().length / USERS).toFixed(2)} per user`);
  } finally {
    await fake.stop();
  }
};

const callsPerMembershipChange = async () => {
  const simulated = clock();
  const fake = await startEntraFake({ now: simulated.now });
  try {
    const connector = await connectorFor(fake, simulated);
    const ids = Array.from({ length: USERS }, (_, i) => fake.seedUser(`member-${i}@${fake.domain}`));
    const group = await connector.createGroup('Bench members', 'hub-bench-members');
    let start = mark(fake);
    await connector.changeGroupMembers(group.id, { add: ids, remove: [] });
    const added = graphCounts(fake, start);
    start = mark(fake);
    await connector.changeGroupMembers(group.id, { add: [], remove: ids });
    const removed = graphCounts(fake, start);
    start = mark(fake);
    for (const id of ids.slice(0, 100)) await connector.changeGroupMembers(group.id, { add: [id], remove: [] });
    const oneByOne = graphCounts(fake, start);
    console.log(`\n## Entra: ${USERS} membership changes in one group`);
    console.log(
      `additions: ${added.http} HTTP calls (${(USERS / added.http).toFixed(0)} changes per call), ${added.requests} Graph requests (PATCHes binding 20)`,
    );
    console.log(
      `removals:  ${removed.http} HTTP calls (${(USERS / removed.http).toFixed(0)} changes per call), ${removed.requests} Graph requests (DELETE $ref)`,
    );
    console.log(`one change per delta (real time, no coalescing): ${oneByOne.http} calls per 100 changes`);
    console.log(`aim: at most 1 call per 20 changes -> ${added.http <= USERS / 20 && removed.http <= USERS / 20 ? 'met' : 'NOT met'} for batched deltas`);
    if (fake.members(group.id).length !== 100) throw new Error(`expected 100 members at the end, found ${fake.members(group.id).length}`);
  } finally {
    await fake.stop();
  }
};

const throughput = async (metered: boolean) => {
  const simulated = clock();
  const fake = await startEntraFake({ now: simulated.now, quota: { writesPer150s: 3000, resourceUnitsPer10s: 3500 } });
  try {
    const connector = await connectorFor(fake, simulated, metered);
    const counter = { throttled: 0 };
    const started = simulated.now();
    for (let i = 0; i < THROUGHPUT_USERS; i++) {
      await retried(
        simulated,
        () => connector.createUser({ userPrincipalName: `load-${i}@${fake.domain}`, givenName: 'Load', surname: 'User', active: true }),
        counter,
      );
    }
    const seconds = (simulated.now() - started) / 1000;
    const rate = THROUGHPUT_USERS / seconds;
    const created = fake.allUsers().length;
    console.log(
      `${metered ? 'as shipped (writes metered)' : 'meter removed (429s pace it)'}: ${THROUGHPUT_USERS} users in ${seconds.toFixed(0)} s simulated = ${rate.toFixed(1)} users/s, ` +
        `${(rate / WRITES_PER_SECOND).toFixed(2)} of the quota; ${counter.throttled} throttled answers; ${created} users in the tenant`,
    );
    if (created !== THROUGHPUT_USERS) throw new Error(`created ${created}, expected ${THROUGHPUT_USERS}`);
  } finally {
    await fake.stop();
  }
};

if (!graphContractAvailable) {
  console.log('bench entra skipped: ../shared/contracts/msgraph.openapi.json is missing');
} else {
  await callsPerUser();
  await callsPerMembershipChange();
  console.log(`\n## Entra: creating ${THROUGHPUT_USERS} users under Graph's write quota (${WRITES_PER_SECOND} writes/s per app and tenant)`);
  await throughput(true);
  await throughput(false);
}
