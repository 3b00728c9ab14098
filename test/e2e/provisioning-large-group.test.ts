import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkCreateUsers } from '../support/bulk-users.ts';
import { eventually } from '../support/eventually.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';

/**
 * A large group provisioned into a second hub, and the `delete` deprovision policy. The target
 * is a whole hub with a DynamoDB Local of its own, where every account costs a transaction, so
 * the group has 150 members: two PATCHes (100 and 50), two membership pages on each side. The
 * 1 000-member group, with the exact operations on the wire, runs against scimmy in
 * provisioning-to-scimmy.test.ts. The bounds leave room for a shared 2-core machine under a
 * full test run.
 */
const MEMBERS = 150;
const TARGET_TOKEN = 'target-token-large-0123456789';

describe('provisioning a group of 150 members into a hub, deprovisioning by delete', () => {
  let target: Awaited<ReturnType<typeof startHubProcess>>;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const hubApi = () => scimClient(hub.scim);
  const targetApi = () => scimClient(target.scim, TARGET_TOKEN);

  beforeAll(async () => {
    target = await startHubProcess(TARGET_TOKEN);
    const connectorsFile = join(tmpdir(), `connectors-large-${Date.now()}.json`);
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [{ id: 'big', type: 'scim', baseUrl: target.scim, bearerToken: TARGET_TOKEN, deprovision: 'delete', membersPerRequest: 100 }],
      }),
    );
    hub = await startTestHub('large-group', { connectorIds: ['big'], environment: { CONNECTORS_FILE: connectorsFile } });
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  });

  it('creates the group on the target with exactly its members', async () => {
    const ids = await bulkCreateUsers(
      hubApi(),
      Array.from({ length: MEMBERS }, (_, i) => `big-${i}@example.com`),
    );
    expect(ids).toHaveLength(MEMBERS);
    // As Entra ID does: the group first, then its members in PATCHes of 100.
    const group = await hubApi().post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Everyone' });
    expect(group.status).toBe(201);
    for (let start = 0; start < ids.length; start += 100) {
      const added = await hubApi().patch(`/Groups/${group.json.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: ids.slice(start, start + 100).map((value) => ({ value })) }],
      });
      expect(added.status).toBeLessThan(300);
    }

    const targetGroup = await eventually(
      async () => {
        const found = await targetApi().get(`/Groups?filter=${encodeURIComponent('displayName eq "Everyone"')}`);
        const resource = found.json.Resources[0];
        expect(resource?.members?.length).toBe(MEMBERS);
        return resource;
      },
      240_000,
      1000,
    );
    // The members are the target's own accounts for exactly these hub users (externalId = hub id).
    const targetIds = new Set(targetGroup.members.map((m: { value: string }) => m.value));
    const sample = ids.slice(0, 5);
    for (const hubId of sample) {
      const account = await targetApi().get(`/Users?filter=${encodeURIComponent(`externalId eq "${hubId}"`)}`);
      expect(targetIds.has(account.json.Resources[0].id)).toBe(true);
    }

    // Deprovision policy `delete`: the hub user is deleted, so is the target account, and with it its membership.
    const leaving = ids[0] as string;
    const account = (await targetApi().get(`/Users?filter=${encodeURIComponent(`externalId eq "${leaving}"`)}`)).json.Resources[0];
    expect((await hubApi().delete(`/Users/${leaving}`)).status).toBe(204);
    await eventually(
      async () => {
        expect((await targetApi().get(`/Users/${account.id}`)).status).toBe(404);
      },
      60_000,
      250,
    );
    const after = await targetApi().get(`/Groups/${targetGroup.id}`);
    expect(after.json.members).toHaveLength(MEMBERS - 1);
  }, 360_000);
});
