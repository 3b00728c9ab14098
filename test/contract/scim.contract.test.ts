import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { ScimConnectorSchema } from '../../shared/connectors/connectors.schema.ts';
import { startRecordingProxy } from '../support/recording-proxy.ts';
import { startScimmyServer } from '../support/scimmy-server.ts';
import { connectorContract, type StoredAccount } from './connector.contract.ts';

type Json = Record<string, unknown>;

const TOKEN = 'contract-scimmy-token-0123';
const RETRY_AFTER_SECONDS = 30;

/** A SCIM resource as dotted paths (`name.givenName`), the vocabulary of the connector's mapped attributes; meta left out. */
const flatten = (resource: Json, prefix = ''): Json =>
  Object.fromEntries(
    Object.entries(resource)
      .filter(([name]) => prefix !== '' || !['meta', 'schemas'].includes(name))
      .flatMap(([name, value]) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.entries(flatten(value as Json, `${prefix}${name}.`))
          : [[`${prefix}${name}`, value]],
      ),
  );

/**
 * The SCIM connector, built from its document entry, against scimmy: a SCIM server written by
 * others (npm scimmy and scimmy-routers), in process. Throttling is a recording proxy in front
 * of it answering every request with 429 and a Retry-After.
 */
connectorContract({
  name: 'scim on scimmy',
  start: async () => {
    const scimmy = await startScimmyServer(TOKEN);
    const throttling = await startRecordingProxy(scimmy.url.replace(/\/scim\/v2$/, ''));
    throttling.setBehaviour(() => ({ status: 429, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) }, body: { detail: 'slow down' } }));
    const config = (baseUrl: string) => ScimConnectorSchema.parse({ id: 'contract-scim', type: 'scim', baseUrl, bearerToken: TOKEN });
    const stored = (id: string): StoredAccount | undefined => {
      const user = scimmy.users().find((u) => u.id === id);
      return user ? { active: user.active !== false, attributes: flatten(user) } : undefined;
    };
    return {
      connector: await createConnector(config(scimmy.url)),
      newUser: (tag) => ({
        userName: `contract-${tag}@example.com`,
        externalId: `hub-${tag}`,
        active: true,
        'name.givenName': 'Ada',
        'name.familyName': 'Lovelace',
      }),
      matchOn: { attribute: 'userName', valueOf: (tag) => `contract-${tag}@example.com` },
      updatable: { attribute: 'name.givenName', value: 'Augusta' },
      readUser: async (id) => stored(id),
      groupMembers: async (id) =>
        ((scimmy.groups().find((g) => g.id === id)?.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value).sort(),
      throttled: async () => ({
        connector: await createConnector(config(`${throttling.url}/scim/v2`)),
        how: 'a proxy in front of scimmy answering 429 with Retry-After',
        retryAfterMs: RETRY_AFTER_SECONDS * 1000,
      }),
      stop: async () => {
        await throttling.close();
        await scimmy.stop();
      },
    };
  },
});
