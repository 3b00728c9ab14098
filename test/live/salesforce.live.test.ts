import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { ConnectorConfigSchema } from '../../shared/connectors/connectors.schema.ts';

/**
 * The Salesforce connector against a real org (a Developer Edition or a sandbox), run only when
 * its connected app is in the environment:
 *
 * - SALESFORCE_LOGIN_URL (https://login.salesforce.com, https://test.salesforce.com or the My Domain URL)
 * - SALESFORCE_CLIENT_ID (the connected app's consumer key)
 * - and a key: SALESFORCE_CLIENT_SECRET (client credentials flow), or SALESFORCE_PRIVATE_KEY (PEM)
 *   with SALESFORCE_USERNAME (JWT bearer flow)
 * - optionally SALESFORCE_PROFILE (default "Standard User") and SALESFORCE_USERNAME_SUFFIX (default ".scimhub-live")
 *
 * It creates one inactive user (inactive users hold no licence), changes it, finds it and
 * removes it (deactivated, Username released): Salesforce never deletes users.
 */
const env = process.env;
const key = env.SALESFORCE_CLIENT_SECRET ?? env.SALESFORCE_PRIVATE_KEY;
const configured = Boolean(env.SALESFORCE_LOGIN_URL && env.SALESFORCE_CLIENT_ID && key);
if (!configured) {
  console.info(
    'test/live/salesforce.live.test.ts skipped: set SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET (or SALESFORCE_PRIVATE_KEY with SALESFORCE_USERNAME) to run it against a real org',
  );
}

describe.skipIf(!configured)('the Salesforce connector on a real org', () => {
  const tag = randomUUID().slice(0, 8);
  let created: string | undefined;
  const connector = () =>
    createConnector(
      ConnectorConfigSchema.parse({
        id: 'live-sf',
        type: 'salesforce',
        loginUrl: env.SALESFORCE_LOGIN_URL,
        clientId: env.SALESFORCE_CLIENT_ID,
        ...(env.SALESFORCE_PRIVATE_KEY
          ? { auth: { flow: 'jwt-bearer', subject: env.SALESFORCE_USERNAME, privateKey: env.SALESFORCE_PRIVATE_KEY } }
          : { clientSecret: env.SALESFORCE_CLIENT_SECRET }),
        profile: env.SALESFORCE_PROFILE ?? 'Standard User',
        usernameSuffix: env.SALESFORCE_USERNAME_SUFFIX ?? '.scimhub-live',
      }),
    );

  afterAll(async () => {
    if (created) await (await connector()).deleteUser(created);
  });

  it('creates, finds, updates and removes an inactive user', async () => {
    const sf = await connector();
    await sf.probe();
    const username = `live-${tag}@example.com`;
    const account = await sf.createUser({ Username: username, Email: username, FirstName: 'Live', LastName: 'Test', active: false });
    created = account.id;
    expect((await sf.findUser('Username', username))?.id).toBe(account.id);
    await sf.updateUser(account.id, { set: { FirstName: 'Changed' }, unset: [] }, {});
    expect((await sf.findUser('Username', username))?.attributes.FirstName).toBe('Changed');
    await sf.deleteUser(account.id);
    expect(await sf.findUser('Username', username)).toBeUndefined();
    created = undefined;
  });
});
