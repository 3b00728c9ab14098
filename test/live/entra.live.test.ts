import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector } from '../../shared/connectors/connector.factory.ts';
import type { Connector } from '../../shared/connectors/connector.port.ts';
import { EntraConnectorSchema } from '../../shared/connectors/entra/entra.schema.ts';
import { eventually } from '../support/eventually.ts';

/**
 * The Entra connector against a real tenant. It runs only when ENTRA_TENANT_ID, ENTRA_CLIENT_ID
 * and ENTRA_CLIENT_SECRET name an app registration with the application permissions
 * User.ReadWrite.All, Group.ReadWrite.All and GroupMember.ReadWrite.All (admin consent given);
 * ENTRA_DOMAIN names a verified domain (default: the domain of the tenant's first user). It
 * makes one user and one group, named `scim-hub-live-<random>`, and deletes both.
 */
const { ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET, ENTRA_DOMAIN } = process.env;
const live = Boolean(ENTRA_TENANT_ID && ENTRA_CLIENT_ID && ENTRA_CLIENT_SECRET);
if (!live)
  console.log(
    'entra live test skipped: set ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET (and optionally ENTRA_DOMAIN) to run it against a real tenant',
  );

describe.skipIf(!live)('entra connector on a real tenant (ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET)', () => {
  const name = `scim-hub-live-${randomUUID().slice(0, 8)}`;
  let connector: Connector;
  let domain: string;
  let userId: string | undefined;
  let groupId: string | undefined;

  beforeAll(async () => {
    const entry = (verified: string) =>
      EntraConnectorSchema.parse({
        id: 'entra-live',
        type: 'entra',
        tenantId: ENTRA_TENANT_ID,
        clientId: ENTRA_CLIENT_ID,
        clientSecret: ENTRA_CLIENT_SECRET,
        domain: verified,
      });
    domain = ENTRA_DOMAIN ?? 'placeholder.invalid';
    connector = await createConnector(entry(domain));
    if (!ENTRA_DOMAIN) {
      const first = (await connector.listUsers({ pageSize: 1 })).items[0];
      domain = String(first?.attributes.userPrincipalName ?? '').split('@')[1] ?? '';
      if (!domain) throw new Error('the tenant has no user to take a verified domain from: set ENTRA_DOMAIN');
      connector = await createConnector(entry(domain));
    }
  }, 60_000);
  afterAll(async () => {
    if (groupId) await connector.deleteGroup(groupId);
    if (userId) await connector.deleteUser(userId);
  }, 60_000);

  it('creates, finds, updates, disables a user and manages a security group with it as member', async () => {
    const created = await connector.createUser({
      userPrincipalName: name,
      displayName: 'SCIM hub live test',
      givenName: 'Live',
      surname: 'Test',
      active: true,
    });
    userId = created.id;
    // Entra replicates for a few seconds: the new user may not be readable at once.
    const found = await eventually(
      async () => {
        const account = await connector.findUser('userPrincipalName', `${name}@${domain}`);
        if (!account) throw new Error('not readable yet');
        return account;
      },
      60_000,
      2_000,
    );
    expect(found.id).toBe(created.id);
    await connector.updateUser(created.id, { set: { jobTitle: 'Tester' }, unset: [] }, {});
    await connector.disableUser(created.id, {});
    const group = await connector.createGroup(`${name} group`, `hub-${name}`);
    groupId = group.id;
    await connector.changeGroupMembers(group.id, { add: [created.id], remove: [] });
    await eventually(async () => expect((await connector.listGroupMembers(group.id, { pageSize: 10 })).items).toEqual([created.id]), 60_000, 2_000);
    await connector.changeGroupMembers(group.id, { add: [], remove: [created.id] });
  }, 180_000);
});
