import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';
import { startScimmyServer } from '../support/scimmy-server.ts';

/**
 * Real-time provisioning into a SCIM server written by others (scimmy + scimmy-routers), so the
 * SCIM client connector is proven against more than our own server's reading of the RFCs.
 */
const TOKEN = 'scimmy-token-0123456789';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Given', familyName: 'Family' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
});

describe('real-time provisioning into scimmy', () => {
  let scimmy: Awaited<ReturnType<typeof startScimmyServer>>;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  const api = () => scimClient(hub.scim);
  const target = (userName: string) => scimmy.users().find((u) => u.userName === userName);

  beforeAll(async () => {
    scimmy = await startScimmyServer(TOKEN);
    const connectorsFile = join(tmpdir(), `connectors-scimmy-${Date.now()}.json`);
    writeFileSync(connectorsFile, JSON.stringify({ connectors: [{ id: 'scimmy', type: 'scim', baseUrl: scimmy.url, bearerToken: TOKEN, deprovision: 'delete' }] }));
    hub = await startTestHub('scimmy', { connectorIds: ['scimmy'], environment: { CONNECTORS_FILE: connectorsFile } });
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await scimmy?.stop();
  });

  it('creates, updates one attribute, deactivates and, by policy, deletes a user', async () => {
    const created = await api().post('/Users', user('ada@example.com'));
    const account = await eventually(() => {
      const found = target('ada@example.com');
      expect(found).toMatchObject({ externalId: created.json.id, active: true, name: { givenName: 'Given' } });
      return found as Record<string, unknown>;
    });
    await api().patch(`/Users/${created.json.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Ada' }] });
    await eventually(() => expect(target('ada@example.com')?.name).toMatchObject({ givenName: 'Ada', familyName: 'Family' }));
    const userPatch = scimmy.patches.filter((p) => p.path === `/scim/v2/Users/${account.id}`).at(-1);
    expect(userPatch?.body).toEqual({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Ada' }] });

    await api().patch(`/Users/${created.json.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    await eventually(() => expect(target('ada@example.com')?.active).toBe(false));

    await api().delete(`/Users/${created.json.id}`);
    await eventually(() => expect(target('ada@example.com')).toBeUndefined());
  });

  it('creates a group and sends membership changes as add and remove operations only', async () => {
    const ids: string[] = [];
    for (const name of ['m1', 'm2', 'm3']) ids.push((await api().post('/Users', user(`${name}@example.com`))).json.id);
    const group = await api().post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Crew', members: [{ value: ids[0] }, { value: ids[1] }] });
    const targetIds = () => ['m1', 'm2', 'm3'].map((name) => target(`${name}@example.com`)?.id);
    await eventually(() => {
      const crew = scimmy.groups().find((g) => g.displayName === 'Crew');
      expect(((crew?.members as Array<{ value: string }>) ?? []).map((m) => m.value).sort()).toEqual([targetIds()[0], targetIds()[1]].sort());
    });
    await api().patch(`/Groups/${group.json.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: ids[2] }] },
        { op: 'remove', path: `members[value eq "${ids[0]}"]` },
      ],
    });
    await eventually(() => {
      const crew = scimmy.groups().find((g) => g.displayName === 'Crew');
      expect(((crew?.members as Array<{ value: string }>) ?? []).map((m) => m.value).sort()).toEqual([targetIds()[1], targetIds()[2]].sort());
    });
    const memberOps = scimmy.patches
      .filter((p) => p.path.startsWith('/scim/v2/Groups/'))
      .flatMap((p) => (p.body as { Operations: Array<{ op: string }> }).Operations.map((o) => o.op));
    expect(memberOps.length).toBeGreaterThan(0);
    expect(memberOps.every((op) => op === 'add' || op === 'remove')).toBe(true);
  });
});
