import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../shared/connectors/connector.port.ts';
import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { OktaConnectorSchema } from '../../shared/connectors/connectors.schema.ts';

/**
 * The Okta connector against a real Okta org, when one is given: OKTA_ORG_URL
 * (`https://<org>.okta.com`) and OKTA_API_TOKEN (an API token of an admin who may manage users
 * and groups). It creates a user and a group named `scim-hub-live-<random>` and deletes both.
 * Without the two variables it is skipped, and says so.
 */
const orgUrl = process.env.OKTA_ORG_URL;
const apiToken = process.env.OKTA_API_TOKEN;
const configured = Boolean(orgUrl && apiToken);

if (!configured) console.warn('test/live/okta.live.test.ts is skipped: set OKTA_ORG_URL and OKTA_API_TOKEN to run it against a real Okta org');

describe.skipIf(!configured)('the Okta connector on a live org', () => {
  const tag = `scim-hub-live-${randomBytes(4).toString('hex')}`;
  const login = `${tag}@example.com`;
  let connector: Connector;
  let userId: string | undefined;
  let groupId: string | undefined;

  beforeAll(async () => {
    connector = await createConnector(OktaConnectorSchema.parse({ id: 'okta-live', type: 'okta', orgUrl, apiToken }));
  });
  afterAll(async () => {
    if (groupId) await connector.deleteGroup(groupId);
    if (userId) await connector.deleteUser(userId);
  });

  it('creates, updates, disables, re-enables and deletes a user', async () => {
    const account = await connector.createUser({ login, email: login, firstName: 'Live', lastName: 'Test', active: true });
    userId = account.id;
    await connector.updateUser(account.id, { set: { firstName: 'Changed' }, unset: [] }, {});
    expect((await connector.findUser('id', account.id))?.attributes).toMatchObject({ firstName: 'Changed', active: true });
    await connector.disableUser(account.id, { active: false });
    expect((await connector.findUser('id', account.id))?.attributes.active).toBe(false);
    await connector.updateUser(account.id, { set: { active: true }, unset: [] }, {});
    expect((await connector.findUser('id', account.id))?.attributes.active).toBe(true);
  });

  it('creates a group, renames it, adds and removes the member, and deletes it', async () => {
    const group = await connector.createGroup(tag, 'live-hub-group');
    groupId = group.id;
    const renamed = await connector.renameGroup(group.id, `${tag}-renamed`, 'live-hub-group');
    expect(renamed).toEqual({ id: group.id, displayName: `${tag}-renamed`, externalId: 'live-hub-group' });
    if (userId) {
      await connector.changeGroupMembers(group.id, { add: [userId], remove: [] });
      expect((await connector.listGroupMembers(group.id, { pageSize: 10 })).items).toEqual([userId]);
      await connector.changeGroupMembers(group.id, { add: [], remove: [userId] });
    }
    await connector.deleteGroup(group.id);
    groupId = undefined;
    expect(await connector.findGroup({ id: group.id })).toBeUndefined();
  });

  it('deletes the user in two steps', async () => {
    if (!userId) return;
    await connector.deleteUser(userId);
    expect(await connector.findUser('id', userId)).toBeUndefined();
    userId = undefined;
  });
});
