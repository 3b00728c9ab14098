import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createOktaConnector } from '../shared/connectors/okta/okta.connector.ts';
import { OktaConnectorSchema } from '../shared/connectors/okta/okta.schema.ts';
import { OKTA_ENTERPRISE_LIMITS, oktaContractPresent, startOktaFake } from '../test/support/fakes/okta-fake.ts';

/**
 * The initial load of an Okta org: N users, each matched by login (a read by login) and created, the
 * way the worker provisions a new user, ten at a time (a worker container's ten FIFO groups),
 * against the fake Okta org at Okta's published Enterprise limits (600 requests per minute per
 * endpoint family, 75 concurrent). The fake's minute is shortened (`OKTA_BENCH_WINDOW_MS`,
 * default 12 000 ms) so that the run takes seconds; the limit per window is Okta's, so the
 * share of 429s and the windows used are what a real minute would give.
 *
 * Figures: target calls per 1 000 users (by endpoint), the share of 429s received (aim: 0),
 * the requests the governor held back for a reset, and the windows the load used against the
 * fewest any client could use (the busiest bucket's calls / its limit).
 *
 * `tsx bench/okta.bench.ts [N]` (default 1 000).
 */
const TOKEN = 'bench-okta-token-0123456789';
const PARALLEL = 10;

const kindOf = (method: string, path: string): string => {
  if (method === 'GET' && /^\/api\/v1\/users\/[^/?]+$/.test(path)) return 'GET /api/v1/users/{login} (match by login)';
  if (method === 'POST' && path.startsWith('/api/v1/users?')) return 'POST /api/v1/users (create)';
  if (path.includes('/lifecycle/activate')) return 'POST /api/v1/users/{id}/lifecycle/activate';
  return `${method} ${path.split('?')[0]}`;
};

export const runOktaBench = async (users = 1000): Promise<void> => {
  if (!oktaContractPresent) {
    console.log('\n## Okta initial load: skipped, ../shared/contracts/okta.openapi.json is absent beside the checkout');
    return;
  }
  const windowMs = Number(process.env.OKTA_BENCH_WINDOW_MS ?? 12_000);
  console.log(`\n## Initial load of an Okta org (${users} users, match then create, ${PARALLEL} at a time, against the fake Okta org)`);
  console.log(
    `limits: Okta Enterprise, ${OKTA_ENTERPRISE_LIMITS.users} requests per window per family, 75 concurrent; one window = ${windowMs} ms here (a minute at Okta)`,
  );
  for (const sendActivationEmail of [false, true]) {
    const fake = await startOktaFake({ apiToken: TOKEN, windowMs });
    try {
      const config = OktaConnectorSchema.parse({ id: 'okta', type: 'okta', orgUrl: fake.url, apiToken: TOKEN, sendActivationEmail });
      // Waits for a reset are spent in process here; the worker hands those over 2 s to its queue.
      const connector = await createOktaConnector(config, { maxWaitMs: Number.POSITIVE_INFINITY });
      const started = Date.now();
      let next = 0;
      const worker = async () => {
        for (let n = next++; n < users; n = next++) {
          const login = `load-${n}@example.com`;
          if (!(await connector.findUser('login', login)))
            await connector.createUser({ login, email: login, firstName: 'Load', lastName: `User ${n}`, active: true });
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      const seconds = (Date.now() - started) / 1000;
      const requests = fake.requests;
      const throttled = requests.filter((r) => r.status === 429).length;
      const byKind = new Map<string, number>();
      for (const r of requests) byKind.set(kindOf(r.method, r.path), (byKind.get(kindOf(r.method, r.path)) ?? 0) + 1);
      const byBucket = new Map<string, number>();
      for (const r of requests) if (r.status !== 429) byBucket.set(r.bucket, (byBucket.get(r.bucket) ?? 0) + 1);
      const busiest = Math.max(...byBucket.values());
      const fewestWindows = Math.ceil(busiest / OKTA_ENTERPRISE_LIMITS.users);
      const windows = new Set(requests.map((r) => Math.floor(r.at / windowMs))).size;
      console.log(`\nsendActivationEmail: ${sendActivationEmail}`);
      console.log(`calls per 1 000 users: ${((requests.length / users) * 1000).toFixed(0)} (${(requests.length / users).toFixed(2)} per user)`);
      for (const [kind, count] of byKind) console.log(`  ${kind.padEnd(48)} ${((count / users) * 1000).toFixed(0)}`);
      console.log(`429s received: ${throttled} of ${requests.length} = ${((100 * throttled) / requests.length).toFixed(2)}% (aim: 0)`);
      console.log(`requests held back by the governor for a reset: ${connector.governor.heldBack}`);
      console.log(
        `windows used: ${windows}; the busiest family (${busiest} calls) needs at least ${fewestWindows}   ratio ${(fewestWindows / windows).toFixed(2)}; users in Okta: ${fake.users().length}; ${seconds.toFixed(1)} s here`,
      );
      console.log(`at Okta's real minute: about ${windows} min for ${users} users; 10 000 users about ${Math.ceil((windows * 10_000) / users)} min`);
    } finally {
      await fake.stop();
    }
  }
};

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const n = Number(process.argv[2] ?? 1000);
  await runOktaBench(Number.isInteger(n) && n > 0 ? n : 1000);
}
