import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../shared/sync/reconcile-run.ports.ts';
import { eventually } from '../support/eventually.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';
import { startRecordingProxy } from '../support/recording-proxy.ts';

/**
 * Reconciliation end to end on the local runner: the reconcile function's page chain on its
 * FIFO queue, the changes on the connector's lane, the worker, and a second instance of our
 * own SCIM server as the target, drifted behind the hub's back, with a recording proxy
 * counting the calls that reach it.
 */
const TARGET_TOKEN = 'reconcile-target-token-0123';
const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Given', familyName: 'Family' },
  active: true,
});

describe('reconciliation of a SCIM target drifted behind the hub', () => {
  let target: Awaited<ReturnType<typeof startHubProcess>>;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const hubApi = () => scimClient(hub.scim);
  const targetApi = () => scimClient(target.scim, TARGET_TOKEN);
  const admin = async (method: string, path: string) => {
    const response = await fetch(`${hub.url}/admin${path}`, { method, headers: { authorization: `Bearer ${hub.adminToken}` } });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const targetUsers = async () => (await targetApi().get('/Users?count=1000')).text;
  const targetUser = async (userName: string) =>
    (await targetApi().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0] as Record<string, unknown> | undefined;
  const finished = (runId: string) =>
    eventually(async () => {
      const run = (await admin('GET', `/runs/${runId}`)).json.run as RunRecord;
      if (!['done', 'failed', 'awaiting-approval', 'cancelled'].includes(run.state)) throw new Error(`run is ${run.state}`);
      return run;
    }, 30_000);

  beforeAll(async () => {
    target = await startHubProcess(TARGET_TOKEN);
    proxy = await startRecordingProxy(target.url);
    const connectorsFile = join(tmpdir(), `connectors-reconcile-${Date.now()}.json`);
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [{ id: 'acme', type: 'scim', baseUrl: `${proxy.url}/scim/v2`, bearerToken: TARGET_TOKEN, reconcile: { orphans: 'report' } }],
      }),
    );
    hub = await startTestHub('reconcile', { connectorIds: ['acme'], environment: { CONNECTORS_FILE: connectorsFile } });
    for (const name of ['ada', 'bob', 'cy', 'dan']) expect((await hubApi().post('/Users', user(name))).status).toBe(201);
    await eventually(async () => {
      for (const name of ['ada', 'bob', 'cy', 'dan']) if (!(await targetUser(name))) throw new Error(`${name} not provisioned yet`);
    });
    // Drift behind the hub's back: a changed account, a deleted one, one nobody asked for.
    const ada = (await targetUser('ada')) as { id: string };
    await targetApi().patch(`/Users/${ada.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Changed' }],
    });
    await targetApi().delete(`/Users/${((await targetUser('bob')) as { id: string }).id}`);
    await targetApi().post('/Users', user('stranger'));
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await proxy?.close();
    await target?.stop();
  });

  it('plans every situation in a dry run and leaves the target byte-identical, with list calls only', async () => {
    // Prepare
    const before = await targetUsers();
    const calls = proxy.requests.length;
    // Act
    const started = await admin('POST', '/connectors/acme/reconcile?dryRun=true');
    const run = await finished((started.json.run as RunRecord).runId);
    // Assess
    expect(started.status).toBe(202);
    expect(run).toMatchObject({ state: 'done', dryRun: true, targetAccounts: 4, counters: { situations: { inSync: 2, drifted: 1, orphan: 1, gone: 1 } } });
    expect(await targetUsers()).toBe(before);
    expect(proxy.requests.slice(calls).filter((r) => r.method !== 'GET')).toEqual([]);
    const shown = await admin('GET', `/runs/${run.runId}`);
    expect((shown.json.plan as Array<{ situation: string }>).map((c) => c.situation).sort()).toEqual(['drifted', 'gone', 'orphan']);
  });

  it('repairs the drift through the connector lane and reports the orphan', async () => {
    // Act
    const started = await admin('POST', '/connectors/acme/reconcile');
    const run = await finished((started.json.run as RunRecord).runId);
    // Assess
    expect(run).toMatchObject({ state: 'done', counters: { actions: { update: 1, create: 1, report: 1 } } });
    await eventually(async () => {
      expect(await targetUser('ada')).toMatchObject({ name: { givenName: 'Given' } });
      expect(await targetUser('bob')).toMatchObject({ active: true });
    });
    expect(await targetUser('stranger')).toMatchObject({ active: true });
    const listed = await admin('GET', '/runs?connector=acme');
    expect((listed.json.runs as RunRecord[]).map((r) => r.runId)).toContain(run.runId);
  });
});
