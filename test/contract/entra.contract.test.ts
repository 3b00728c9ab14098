import { describe } from 'vitest';
import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { EntraConnectorSchema } from '../../shared/connectors/entra/entra.schema.ts';
import { type EntraFake, startEntraFake } from '../support/fakes/entra-fake.ts';
import { graphContractAvailable } from '../support/fakes/graph-contract.ts';
import { connectorContract, type StoredAccount } from './connector.contract.ts';

const RETRY_AFTER_SECONDS = 30;

/** A Graph user as the fake stores it, in the connector's vocabulary: flat properties, accountEnabled as `active`. */
const stored = (user: Record<string, unknown> | undefined): StoredAccount | undefined => {
  if (!user) return undefined;
  const { accountEnabled, id: _id, createdDateTime: _created, ...attributes } = user;
  return { active: accountEnabled !== false, attributes };
};

/**
 * The Entra connector, built from its document entry, against the fake Microsoft Graph that
 * enforces Microsoft's published contract (../shared/contracts/msgraph.openapi.json and README
 * section 2). A second fake tenant throttles every request with a Retry-After, as Graph does
 * over its quotas.
 */
describe.skipIf(!graphContractAvailable)('entra connector contract (needs ../shared/contracts)', () => {
  connectorContract({
    name: 'entra on the fake Microsoft Graph',
    start: async () => {
      const fake: EntraFake = await startEntraFake();
      const throttling = await startEntraFake();
      throttling.throttle(() => RETRY_AFTER_SECONDS);
      const entry = (tenant: EntraFake) => EntraConnectorSchema.parse(tenant.connectorEntry({ id: 'contract-entra' }));
      return {
        connector: await createConnector(entry(fake)),
        newUser: (tag) => ({
          userPrincipalName: `contract-${tag}@${fake.domain}`,
          mailNickname: `contract-${tag}`,
          displayName: 'Ada Lovelace',
          givenName: 'Ada',
          surname: 'Lovelace',
          active: true,
        }),
        matchOn: { attribute: 'userPrincipalName', valueOf: (tag) => `contract-${tag}@${fake.domain}` },
        updatable: { attribute: 'givenName', value: 'Augusta' },
        readUser: async (id) => stored(fake.user(id)),
        groupMembers: async (id) => fake.members(id),
        throttled: async () => ({
          connector: await createConnector(entry(throttling)),
          how: 'a second fake tenant answering every request 429 with Retry-After',
          retryAfterMs: RETRY_AFTER_SECONDS * 1000,
        }),
        stop: async () => {
          await throttling.stop();
          await fake.stop();
        },
      };
    },
  });
});
