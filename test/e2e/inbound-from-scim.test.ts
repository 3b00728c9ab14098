import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../shared/sync/reconcile-run.ports.ts';
import { eventually } from '../support/eventually.ts';
import { adminClient, runStopped, scimClient, startTestHub } from '../support/local-hub.ts';
import { type ScimmyServer, startScimmyServer } from '../support/scimmy-server.ts';
import { type StrictScimTarget, startStrictScimTarget } from '../support/strict-scim-target.ts';

/**
 * An inbound source end to end on the local runner: a SCIM server nobody on this project wrote
 * (scimmy) holds people and a group; a run of the `hr` connector (`"direction": "inbound"`),
 * started through the admin API as the schedule starts it, reads them into the hub through its
 * page chain on the reconcile queue; the table's stream then provisions them, group and members
 * included, to the outbound `app` connector's SCIM target.
 */
const SOURCE_TOKEN = 'inbound-source-token-0123';
const TARGET_TOKEN = 'inbound-target-token-0123';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

type Json = Record<string, unknown>;

describe('an inbound SCIM source read into a running hub and provisioned onward', () => {
  let source: ScimmyServer;
  let target: StrictScimTarget;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const hubApi = () => scimClient(hub.scim);
  const sourceApi = () => scimClient(source.url, SOURCE_TOKEN);
  const admin = (method: string, path: string) => adminClient(hub)(method, path);
  const finished = (runId: string) => runStopped(adminClient(hub), runId);
  const sourceIds: Record<string, string> = {};

  beforeAll(async () => {
    source = await startScimmyServer(SOURCE_TOKEN);
    target = await startStrictScimTarget({ token: TARGET_TOKEN });
    for (const userName of ['ada', 'bob', 'cy']) {
      const created = await sourceApi().post('/Users', {
        schemas: [USER_SCHEMA],
        userName,
        name: { givenName: userName.toUpperCase(), familyName: 'Source' },
        active: true,
      });
      sourceIds[userName] = created.json.id as string;
    }
    const group = await sourceApi().post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      members: [{ value: sourceIds.ada }, { value: sourceIds.bob }],
    });
    sourceIds.Engineering = group.json.id as string;
    const connectorsFile = join(tmpdir(), `connectors-inbound-${Date.now()}.json`);
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          { id: 'hr', type: 'scim', direction: 'inbound', baseUrl: source.url, bearerToken: SOURCE_TOKEN, reconcile: { schedule: 'cron(0 2 * * ? *)' } },
          { id: 'app', type: 'scim', baseUrl: target.url, bearerToken: TARGET_TOKEN },
        ],
      }),
    );
    hub = await startTestHub('inbound', { connectorIds: ['hr', 'app'], environment: { CONNECTORS_FILE: connectorsFile } });
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await target?.close();
    await source?.stop();
  });

  it("pulls the source's users, group and members into the hub, writes nothing to the source, and the hub provisions them to its target", async () => {
    // Prepare
    const sourceWrites = () => source.requests.filter((r) => r.method !== 'GET').length;
    const writesBefore = sourceWrites();
    // Act
    const started = await admin('POST', '/connectors/hr/reconcile');
    const run = await finished((started.json.run as RunRecord).runId);
    // Assess: the hub
    expect(started.status).toBe(202);
    expect(run).toMatchObject({ state: 'done', targetAccounts: 3, targetGroups: 1 });
    expect(run.counters).toMatchObject({ situations: { unmatched: 3 }, groups: { situations: { unmatched: 1 } }, memberships: { actions: { add: 2 } } });
    const hubUser = async (userName: string) =>
      (await hubApi().get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0] as Json;
    const [ada, bob] = [await hubUser('ada'), await hubUser('bob')];
    expect(ada).toMatchObject({ externalId: sourceIds.ada, name: { givenName: 'ADA', familyName: 'Source' }, active: true });
    const group = (await hubApi().get(`/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`)).json.Resources[0] as Json;
    expect(group).toMatchObject({ externalId: sourceIds.Engineering });
    expect(((group.members as Json[]) ?? []).map((m) => m.value).sort()).toEqual([ada?.id, bob?.id].sort());
    expect(sourceWrites()).toBe(writesBefore);
    // Assess: the outbound target, through the stream and the app connector's lane
    await eventually(async () => {
      const names = target.users().map((u) => u.userName);
      if (names.length < 3) throw new Error(`target has ${names.join(', ')}`);
      const onTarget = target.groups().find((g) => g.displayName === 'Engineering');
      const members = ((onTarget?.members as Json[] | undefined) ?? []).map((m) => m.value);
      if (members.length < 2) throw new Error(`target group has ${members.length} members`);
    }, 30_000);
    const byId = new Map(target.users().map((u) => [u.id, u.userName]));
    const members = ((target.groups().find((g) => g.displayName === 'Engineering')?.members as Json[]) ?? []).map((m) => byId.get(m.value));
    expect(
      target
        .users()
        .map((u) => u.userName)
        .sort(),
    ).toEqual(['ada', 'bob', 'cy']);
    expect(members.sort()).toEqual(['ada', 'bob']);
  }, 90_000);
});
