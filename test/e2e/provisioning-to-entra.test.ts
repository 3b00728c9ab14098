import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { type EntraFake, startEntraFake } from '../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../support/fakes/graph-contract.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';

type Json = Record<string, unknown>;

/**
 * Real-time provisioning into Entra ID end to end: SCIM writes on the local hub go through the
 * stream, the fanout, the connector's FIFO lane and the worker into the fake Microsoft Graph,
 * built from a CONNECTORS_FILE entry like any deployment's. The fake lags its reads by a second
 * throughout, as Entra's replication does.
 */
describe.skipIf(!graphContractAvailable)('real-time provisioning into Entra ID (needs ../shared/contracts)', () => {
  let fake: EntraFake;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let connectorsFile: string;
  let existingGroup: string;
  let finance: string;
  const hubApi = () => scimClient(hub.scim);
  const writeConnectors = (mappings: Json[] = []) =>
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          fake.connectorEntry({
            deprovision: 'delete',
            retry: { maxAttempts: 6 },
            groups: { provision: true, mappings },
            breaker: { failureThreshold: 50, probeIntervalSeconds: 1 },
          }),
        ],
      }),
    );
  const user = (userName: string, extra: Json = {}) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Given', familyName: 'Family' },
    emails: [{ value: userName, primary: true }],
    active: true,
    ...extra,
  });
  const entraUser = (userName: string) =>
    eventually(() => {
      const found = fake.userByPrincipalName(userName);
      if (!found) throw new Error(`${userName} is not in Entra yet`);
      return found;
    }, 20_000);

  beforeAll(async () => {
    fake = await startEntraFake({ replicationDelayMs: 1_000 });
    existingGroup = fake.seedGroup('Finance (made by an administrator)');
    connectorsFile = join(tmpdir(), `connectors-entra-${Date.now()}.json`);
    writeConnectors();
    hub = await startTestHub('entra', { connectorIds: ['entra'], environment: { CONNECTORS_FILE: connectorsFile, CONNECTORS_REFRESH_SECONDS: '1' } });
    // A hub group mapped to a group an administrator made in Entra: the mapping names the hub
    // group's id, so the document is written again once the hub has made it (read within 1 s,
    // long before the mapped group's case runs).
    const group = await hubApi().post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Finance', members: [] });
    finance = String(group.json.id);
    writeConnectors([{ hubGroup: finance, targetId: existingGroup }]);
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    await fake?.stop();
  });

  it('creates, updates one attribute with one PATCH, disables and deletes a user', async () => {
    const created = await hubApi().post('/Users', user(`ada@${fake.domain}`));
    const entra = await entraUser(`ada@${fake.domain}`);
    expect(entra).toEqual(expect.objectContaining({ accountEnabled: true, givenName: 'Given', surname: 'Family', mailNickname: 'ada' }));
    const id = String(entra.id);
    const before = fake.calls.length;
    await hubApi().patch(`/Users/${created.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }],
    });
    await eventually(() => expect(fake.user(id)?.givenName).toBe('Augusta'), 20_000);
    expect(fake.calls.slice(before).filter((call) => call.method === 'PATCH')).toEqual([
      expect.objectContaining({ path: `/users/${id}`, body: { givenName: 'Augusta' } }),
    ]);
    await hubApi().patch(`/Users/${created.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    await eventually(() => expect(fake.user(id)?.accountEnabled).toBe(false), 20_000);
    await hubApi().call('DELETE', `/Users/${created.json.id}`);
    await eventually(() => expect(fake.deletedUser(id)).toBeDefined(), 20_000);
  });

  it('creates a group with its members, renames it in place, and fills a mapped existing group', async () => {
    const a = await hubApi().post('/Users', user(`grace@${fake.domain}`));
    const b = await hubApi().post('/Users', user(`alan@${fake.domain}`));
    const group = await hubApi().post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: a.json.id }, { value: b.json.id }],
    });
    const target = await eventually(() => {
      const found = fake.allGroups().find((candidate) => candidate.displayName === 'Engineering');
      if (!found || fake.members(String(found.id)).length < 2) throw new Error('not there yet');
      return found;
    }, 20_000);
    await hubApi().patch(`/Groups/${group.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Platform Engineering' }],
    });
    await eventually(() => expect(fake.group(String(target.id))?.displayName).toBe('Platform Engineering'), 20_000);

    await hubApi().patch(`/Groups/${finance}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a.json.id }] }],
    });
    const grace = await entraUser(`grace@${fake.domain}`);
    await eventually(() => expect(fake.members(existingGroup)).toEqual([grace.id]), 20_000);
    expect(fake.allGroups().filter((candidate) => candidate.displayName === 'Finance')).toEqual([]);
  });

  it('comes through a throttling storm and an expired token with every user created once', async () => {
    fake.expireTokens();
    fake.throttle(({ index }) => (index % 3 === 0 ? 1 : undefined));
    try {
      for (let i = 0; i < 4; i++) await hubApi().post('/Users', user(`storm-${i}@${fake.domain}`));
      for (let i = 0; i < 4; i++) await entraUser(`storm-${i}@${fake.domain}`);
    } finally {
      fake.throttle(undefined);
    }
    expect(fake.allUsers().filter((candidate) => String(candidate.userPrincipalName).startsWith('storm-'))).toHaveLength(4);
    expect(fake.calls.some((call) => call.status === 429)).toBe(true);
  });
});
