import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../shared/sync/reconcile-run.ports.ts';
import { eventually } from '../support/eventually.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { adminClient, runStopped, scimClient, startTestHub } from '../support/local-hub.ts';
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
  const admin = (method: string, path: string) => adminClient(hub)(method, path);
  const targetUsers = async () => (await targetApi().get('/Users?count=1000')).text;
  const targetUser = async (userName: string) =>
    (await targetApi().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0] as Record<string, unknown> | undefined;
  const targetGroup = async () =>
    (await targetApi().get(`/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`)).json.Resources[0] as {
      id: string;
      members?: Array<{ value: string }>;
    };
  const targetMembers = async () => ((await targetApi().get(`/Groups/${(await targetGroup()).id}`)).json.members ?? []) as Array<{ value: string }>;
  const finished = (runId: string) => runStopped(adminClient(hub), runId);

  beforeAll(async () => {
    target = await startHubProcess(TARGET_TOKEN);
    proxy = await startRecordingProxy(target.url);
    const connectorsFile = join(tmpdir(), `connectors-reconcile-${Date.now()}.json`);
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          {
            id: 'acme',
            type: 'scim',
            baseUrl: `${proxy.url}/scim/v2`,
            bearerToken: TARGET_TOKEN,
            reconcile: { orphans: 'disable', deletionThreshold: { percent: 20, minimum: 2 } },
          },
        ],
      }),
    );
    hub = await startTestHub('reconcile', { connectorIds: ['acme'], environment: { CONNECTORS_FILE: connectorsFile } });
    const ids: Record<string, string> = {};
    for (const name of ['ada', 'bob', 'cy', 'dan']) {
      const created = await hubApi().post('/Users', user(name));
      expect(created.status).toBe(201);
      ids[name] = created.json.id as string;
    }
    const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: ids.ada }, { value: ids.cy }] };
    expect((await hubApi().post('/Groups', group)).status).toBe(201);
    await eventually(async () => {
      for (const name of ['ada', 'bob', 'cy', 'dan']) if (!(await targetUser(name))) throw new Error(`${name} not provisioned yet`);
      if ((await targetMembers()).length !== 2) throw new Error('members not provisioned yet');
    });
    // A member removed from the target group behind the hub's back.
    const cyOnTarget = (await targetUser('cy')) as { id: string };
    await targetApi().patch(`/Groups/${(await targetGroup()).id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${cyOnTarget.id}"]` }],
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
    expect(run.counters).toMatchObject({ groups: { situations: { inSync: 1 } }, memberships: { situations: { drifted: 1 }, actions: { add: 1 } } });
    expect(await targetUsers()).toBe(before);
    expect(proxy.requests.slice(calls).filter((r) => r.method !== 'GET')).toEqual([]);
    const shown = await admin('GET', `/runs/${run.runId}`);
    expect((shown.json.plan as Array<{ situation: string }>).map((c) => c.situation).sort()).toEqual(['drifted', 'drifted', 'gone', 'orphan']);
  });

  it('repairs the drift through the connector lane, the group member included, and disables the orphan under the threshold', async () => {
    // Act
    const started = await admin('POST', '/connectors/acme/reconcile');
    const run = await finished((started.json.run as RunRecord).runId);
    // Assess: one disable of four accounts is under the minimum of two, so the run applies at once.
    expect(run).toMatchObject({ state: 'done', counters: { actions: { update: 1, create: 1, disable: 1 } } });
    await eventually(async () => {
      expect(await targetUser('ada')).toMatchObject({ name: { givenName: 'Given' } });
      expect(await targetUser('bob')).toMatchObject({ active: true });
      expect(await targetUser('stranger')).toMatchObject({ active: false });
      expect(await targetMembers()).toHaveLength(2);
    });
    const listed = await admin('GET', '/runs?connector=acme');
    expect((listed.json.runs as RunRecord[]).map((r) => r.runId)).toContain(run.runId);
  });

  it('stops a run that would disable 30% of the accounts until an operator approves it, then disables each once', async () => {
    // Prepare: two more accounts nobody asked for: 2 disables of 7 accounts (29%) pass 20%.
    await targetApi().post('/Users', user('stranger2'));
    await targetApi().post('/Users', user('stranger3'));
    const calls = proxy.requests.length;
    // Act
    const started = await admin('POST', '/connectors/acme/reconcile');
    const waiting = await finished((started.json.run as RunRecord).runId);
    // Assess: it waits with its plan, and nothing was written to the target.
    expect(waiting).toMatchObject({ state: 'awaiting-approval', targetAccounts: 7, counters: { actions: { disable: 2 } } });
    expect(waiting.reason).toMatch(/2 of 7 accounts/);
    expect(proxy.requests.slice(calls).filter((r) => r.method !== 'GET')).toEqual([]);
    // Act: an operator approves.
    const approved = await admin('POST', `/runs/${waiting.runId}/approve`);
    // Assess
    expect(approved.status).toBe(200);
    expect(await finished(waiting.runId)).toMatchObject({ state: 'done', decision: { approved: true } });
    await eventually(async () => {
      expect(await targetUser('stranger2')).toMatchObject({ active: false });
      expect(await targetUser('stranger3')).toMatchObject({ active: false });
    });
    const writes = proxy.requests.slice(calls).filter((r) => r.method !== 'GET');
    expect(writes).toHaveLength(2);
    expect(await admin('POST', `/runs/${waiting.runId}/approve`)).toMatchObject({ status: 409 });
  });
});
