import '../infra/local/sdk-notices.ts';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { localAwsConfig } from '../infra/local/local-aws.ts';
import { startLocalHub } from '../infra/local/runner.ts';
import { DynamoAuditLog } from '../shared/store/audit.repository.ts';
import { createDocumentClient } from '../shared/store/dynamodb.client.ts';
import { hubTable } from '../shared/topology/table.spec.ts';
import { hubTopology } from '../shared/topology/hub.topology.ts';
import { startHubProcess } from '../test/support/hub-process.ts';
import { percentile } from './support/percentile.ts';
import { startTargetProcess } from './support/target-process.ts';

/**
 * Propagation from a SCIM write on the hub to the change applied on a target SCIM server,
 * through the stream, the fanout, the connector's FIFO lane and the worker:
 * latency at a steady trickle (p50, p99), latency at a sustained 25 new users/s (what an IdP's
 * initial push looks like), and throughput for a burst of 1 000 users next to the connector's
 * configured rate limit. `tsx bench/provisioning.bench.ts rate` runs the 25 users/s case alone.
 * The target is a third-party SCIM server (scimmy, in memory, in its own process);
 * `BENCH_TARGET=hub` puts a second hub there instead, with its own DynamoDB Local.
 */
const root = resolve(import.meta.dirname, '..');
const HUB_TOKEN = 'bench-hub-token-0123456789';
const TARGET_TOKEN = 'bench-target-token-0123456789';
const RATE_LIMIT = 100;
const TRICKLE = 100;
const BURST = 1000;
/** The sustained case: 25 new users a second for 20 s. */
const RATE = 25;
const RATE_SECONDS = 20;

const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Bench', familyName: 'User' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
});

export const runProvisioningBench = async (cases: string[] = ['trickle', 'rate', 'burst']): Promise<void> => {
  // The target and the proxy that counts its calls run in a process of their own, as a
  // third-party target would: in the hub's process they took the event loop its functions need.
  const hubTarget = process.env.BENCH_TARGET === 'hub' ? await startHubProcess(TARGET_TOKEN) : undefined;
  const proxy = await startTargetProcess(TARGET_TOKEN, hubTarget?.url).catch(async (error: unknown) => {
    await hubTarget?.stop();
    throw error;
  });
  // What started before a later start fails is stopped, so a failed run leaves no hub behind.
  const stopTarget = async () => {
    await proxy.stop();
    await hubTarget?.stop();
  };
  const dynamodb = await startDynamoDbLocal().catch(async (error: unknown) => {
    await stopTarget();
    throw error;
  });
  const connectorsFile = join(tmpdir(), `bench-connectors-${Date.now()}.json`);
  writeFileSync(
    connectorsFile,
    JSON.stringify({
      connectors: [{ id: 'bench', type: 'scim', baseUrl: `${proxy.url}/scim/v2`, bearerToken: TARGET_TOKEN, rateLimit: { requestsPerSecond: RATE_LIMIT } }],
    }),
  );
  const hub = await startLocalHub({
    topology: hubTopology,
    table: hubTable,
    tableName: 'bench-provisioning',
    projectRoot: root,
    port: 0,
    dataDir: undefined,
    connectorIds: ['bench'],
    environment: { SCIM_BEARER_TOKEN: HUB_TOKEN, LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', CONNECTORS_FILE: connectorsFile },
    endpoints: { dynamodb: dynamodb.endpoint },
    streamIdleMs: 20,
    laneContainers: process.env.BENCH_LANES !== 'in-process',
  }).catch(async (error: unknown) => {
    await dynamodb.stop();
    await stopTarget();
    throw error;
  });
  const audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: dynamodb.endpoint })), 'bench-provisioning', 1);
  const post = (path: string, body: unknown) =>
    fetch(`${hub.url}/scim/v2${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HUB_TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
    });
  const creates = async () => {
    const items = [];
    let cursor: string | undefined;
    do {
      const page = await audit.query({ connectorId: 'bench', action: 'create', status: 'success', limit: 500, cursor });
      items.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return items;
  };
  /** The create records once `count` are there; after `timeoutMs`, what arrived when `partial`, otherwise an error. */
  const waitForCreates = async (count: number, timeoutMs: number, partial = false) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = await creates();
      if (items.length >= count) return items;
      if (Date.now() > deadline) {
        if (partial) return items;
        throw new Error(`only ${items.length} of ${count} users provisioned in time`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  try {
    console.log('\n## Real-time provisioning (hub -> stream -> fanout -> FIFO lane -> worker -> SCIM target)');
    let expected = 0;
    /** Latencies as the audit records carry them; a create without one would make the figures up. */
    const latenciesOf = (records: Array<{ latencyMs?: number }>): number[] => {
      const unmeasured = records.filter((r) => r.latencyMs === undefined);
      if (unmeasured.length > 0) throw new Error(`${unmeasured.length} of ${records.length} creates carry no latency: the figures would be made up`);
      return records.map((r) => r.latencyMs as number);
    };
    if (cases.includes('trickle')) {
      // Latency: one user every 100 ms, so the lane is never backed up.
      for (let i = 0; i < TRICKLE; i++) {
        await post('/Users', user(`trickle-${i}@example.com`));
        await new Promise((r) => setTimeout(r, 100));
      }
      expected += TRICKLE;
      const latencies = latenciesOf((await waitForCreates(expected, 60_000)).filter((r) => r.name?.startsWith('trickle-')));
      console.log(
        `latency, ${TRICKLE} users at 10/s    p50 ${percentile(latencies, 50)} ms   p99 ${percentile(latencies, 99)} ms   max ${Math.max(...latencies)} ms`,
      );
    }

    if (cases.includes('rate')) {
      // Sustained: 25 new users a second, each sent on its own schedule (not after the previous
      // answer), as an IdP's provisioning cycle sends them.
      const total = RATE * RATE_SECONDS;
      const start = Date.now();
      const callsBefore = (await proxy.requests()).length;
      const sends: Array<Promise<unknown>> = [];
      let retried = 0;
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
        sends.push(
          (async () => {
            // As an IdP does, a 5xx is retried (DynamoDB Local answers 500 to a transaction that
            // waited too long for its lock on a loaded machine; DynamoDB itself would not).
            for (let attempt = 1; ; attempt++) {
              const response = await post('/Users', user(`rate-${i}@example.com`)).catch((error: unknown) => {
                // A connection reset is retried like a 5xx.
                if (attempt === 5) throw error;
                return { status: 599 };
              });
              // A 409 on a retry: the attempt that timed out had written the user.
              if (response.status === 201 || (response.status === 409 && attempt > 1)) return;
              if (response.status < 500 || attempt === 5) throw new Error(`create answered ${response.status}`);
              retried += 1;
              await new Promise((r) => setTimeout(r, 500 * attempt));
            }
          })(),
        );
      }
      await Promise.all(sends);
      const sentSeconds = (Date.now() - start) / 1000;
      expected += total;
      // Percentiles over what arrived within 5 minutes; a shortfall is printed, not hidden.
      const applied = (await waitForCreates(expected, 300_000, true)).filter((r) => r.name?.startsWith('rate-'));
      const latencies = latenciesOf(applied);
      const last = Math.max(...applied.map((r) => Date.parse(r.time)));
      const usersPerSecond = total / ((last - start) / 1000);
      const peak = Math.max(...hub.queuePollers.map((p) => p.peakConcurrency));
      const calls = (await proxy.requests()).slice(callsBefore).filter((r) => r.at <= last).length;
      const callsPerSecond = calls / ((last - start) / 1000);
      console.log(
        `latency, ${total} users at ${RATE}/s${applied.length < total ? ` (only ${applied.length} applied within 5 min)` : ''}   p50 ${percentile(latencies, 50)} ms   p99 ${percentile(latencies, 99)} ms   max ${Math.max(...latencies)} ms   (aim: p50 < 1 000 ms, p99 < 3 000 ms)`,
      );
      console.log(
        `sustained                         sent in ${sentSeconds.toFixed(1)} s, applied at ${usersPerSecond.toFixed(1)} users/s = ${(usersPerSecond / RATE).toFixed(2)} x the offered ${RATE}/s; ${(calls / total).toFixed(2)} target calls per user, ${callsPerSecond.toFixed(0)} calls/s = ${((callsPerSecond / RATE_LIMIT) * 100).toFixed(0)}% of the rate limit of ${RATE_LIMIT}/s; up to ${peak} batches of the lane at once; ${retried} create(s) retried after a 5xx`,
      );
    }

    if (cases.includes('burst')) {
      // Throughput: 1 000 users in 10 bulk requests, as fast as the hub takes them.
      const burstStart = Date.now();
      const callsBefore = (await proxy.requests()).length;
      for (let batch = 0; batch < BURST / 100; batch++) {
        const response = await post('/Bulk', {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
          Operations: Array.from({ length: 100 }, (_, i) => ({
            method: 'POST',
            bulkId: `b${batch}-${i}`,
            path: '/Users',
            data: user(`burst-${batch}-${i}@example.com`),
          })),
        });
        if (response.status !== 200) throw new Error(`bulk answered ${response.status}`);
      }
      const written = Date.now();
      expected += BURST;
      const all = (await waitForCreates(expected, 600_000)).filter((r) => r.name?.startsWith('burst-'));
      const lastApplied = Math.max(...all.map((r) => Date.parse(r.time)));
      const seconds = (lastApplied - burstStart) / 1000;
      const usersPerSecond = BURST / seconds;
      // What the burst cost the target, as the proxy saw it arrive until the last user was applied.
      const burstCalls = (await proxy.requests()).slice(callsBefore).filter((r) => r.at <= lastApplied);
      const callsPerUser = burstCalls.length / BURST;
      const callsPerSecond = burstCalls.length / seconds;
      const byKind = new Map<string, number>();
      for (const call of burstCalls) {
        const kind = `${call.method} ${call.path.replace(/\?.*$/, '').replace(/\/Users\/[^/]+$/, '/Users/{id}')}${call.path.includes('filter=') ? '?filter' : ''}`;
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }
      console.log(
        `burst of ${BURST} users             written to the hub in ${((written - burstStart) / 1000).toFixed(1)} s, all applied on the target after ${seconds.toFixed(1)} s`,
      );
      console.log(`target calls per user             ${callsPerUser.toFixed(2)} (${[...byKind].map(([kind, n]) => `${kind}: ${n}`).join(', ')})`);
      console.log(
        `throughput                        ${usersPerSecond.toFixed(1)} users/s = ${callsPerSecond.toFixed(0)} target calls/s against a rate limit of ${RATE_LIMIT}/s (${((callsPerSecond / RATE_LIMIT) * 100).toFixed(0)}% of it)`,
      );
    }
  } finally {
    await hub.stop();
    await dynamodb.stop();
    await stopTarget();
  }
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const chosen = process.argv.slice(2);
  await runProvisioningBench(chosen.length > 0 ? chosen : undefined);
}
