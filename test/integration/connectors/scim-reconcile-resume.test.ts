import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScimConnector } from '../../../shared/connectors/scim/scim.connector.ts';
import type { RunPageMessage, RunRecord } from '../../../shared/sync/reconcile-run.ports.ts';
import { reconcileHarness } from '../../builders/reconcile.harness.ts';
import { startRecordingProxy } from '../../support/recording-proxy.ts';
import { type StrictScimTarget, startStrictScimTarget } from '../../support/strict-scim-target.ts';

const TOKEN = 'resume-target-token';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * A run killed halfway: the process dies after a page did its work (read the target, wrote its
 * plan page, sent its changes) but before the run record moved past it, twice (once while
 * planning, once while applying). The queue hands the page over again and the run resumes from
 * its record; a recording proxy in front of a real SCIM server counts what reached the target.
 */
describe('a reconciliation run killed halfway', () => {
  let target: StrictScimTarget;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

  beforeAll(async () => {
    target = await startStrictScimTarget({ token: TOKEN });
    proxy = await startRecordingProxy(target.url.replace(/\/scim\/v2$/, ''));
  });

  afterAll(async () => {
    await proxy?.close();
    await target?.close();
  });

  it('resumes and finishes without a duplicate write to the target', async () => {
    // Prepare: nine provisioned users, three of them changed on the target behind the hub's back.
    const connector = new ScimConnector({ id: 'app', baseUrl: `${proxy.url}/scim/v2`, membersPerRequest: 100 }, TOKEN);
    const t = reconcileHarness({ id: 'app', baseUrl: `${proxy.url}/scim/v2`, bearerToken: TOKEN }, connector);
    for (let i = 0; i < 9; i++) t.hub.user(`u${i}`, { name: { givenName: `Given${i}`, familyName: 'Family' } });
    await t.provision(...t.hub.users.keys());
    for (const account of target.users().slice(0, 3)) {
      await fetch(`${target.url}/Users/${String(account.id)}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Changed' }] }),
      });
    }
    const before = proxy.requests.length;
    // The process dies right after the page's work, before the record moves: on the second target page and the first apply page.
    const advance = t.runs.advance.bind(t.runs);
    const kills = new Set(['target:1', 'apply:0']);
    t.runs.advance = async (expected: Pick<RunRecord, 'runId' | 'state' | 'phase' | 'page'>, next: RunRecord) => {
      if (kills.delete(`${expected.phase}:${expected.page}`)) throw new Error('the process was killed');
      return advance(expected, next);
    };
    // Act: the reconcile function's poller; a page that failed is delivered again.
    const started = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    let crashes = 0;
    for (let message: RunPageMessage | undefined = t.pages.take(); message; message = t.pages.take()) {
      try {
        await t.reconciliation.handlePage(t.config, async () => connector, message);
      } catch {
        crashes++;
        t.pages.queue.waiting.unshift(message);
      }
    }
    await t.applyLane();
    // Assess: the run counted each account once, and each drifted account got one write.
    const run = await t.runs.get(started.runId);
    expect(crashes).toBe(2);
    expect(run).toMatchObject({ state: 'done', targetAccounts: 9, counters: { situations: { inSync: 6, drifted: 3 }, actions: { none: 6, update: 3 } } });
    const calls = proxy.requests.slice(before);
    const writes = calls.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
    expect(new Set(writes.map((r) => r.path)).size).toBe(3);
    // Reads: three list pages, and the page the first crash interrupted read once more.
    expect(calls.filter((r) => r.method === 'GET' && r.path.startsWith('/scim/v2/Users?'))).toHaveLength(4);
    expect(target.users().filter((u) => (u.name as { givenName?: string }).givenName === 'Changed')).toEqual([]);
  });
});
