import { createConnector } from '../../shared/connectors/connector.factory.ts';
import { ConnectorConfigSchema } from '../../shared/connectors/connectors.schema.ts';
import { type SalesforceFake, salesforceEntryFor, startSalesforceFake } from '../support/fakes/salesforce-fake.ts';
import { connectorContract } from './connector.contract.ts';

/**
 * The Salesforce connector, built from its document entry, against the fake Salesforce org
 * (test/support/fakes/salesforce-fake.ts), which enforces the contract of
 * ../shared/contracts/README.md section 3. Salesforce never throttles with 429: the throttled
 * case meets an org whose daily allocation is spent (403 REQUEST_LIMIT_EXCEEDED), and the wait
 * is the connector's own recheck interval, since Salesforce says none.
 */
const SUFFIX = '.contract';
const RECHECK_SECONDS = 60;

const entry = (fake: SalesforceFake, id: string) =>
  ConnectorConfigSchema.parse(salesforceEntryFor(fake, { id, usernameSuffix: SUFFIX, allocation: { reservePercent: 10, recheckSeconds: RECHECK_SECONDS } }));

connectorContract({
  name: 'salesforce on the fake Salesforce org',
  start: async () => {
    const org = await startSalesforceFake({ dailyLimit: 100_000 });
    const spent = await startSalesforceFake({ dailyLimit: 100 });
    spent.useAllocation(100);
    return {
      connector: await createConnector(entry(org, 'contract-sf')),
      newUser: (tag) => ({
        Username: `contract-${tag}@example.com`,
        FederationIdentifier: `contract-${tag}@example.com`,
        Email: `${tag}@example.com`,
        FirstName: 'Ada',
        LastName: 'Lovelace',
        active: true,
      }),
      matchOn: { attribute: 'Username', valueOf: (tag) => `contract-${tag}@example.com` },
      updatable: { attribute: 'FirstName', value: 'Augusta' },
      readUser: async (id) => {
        const record = org.record('User', id);
        if (!record) return undefined;
        const { IsActive, Username, ...fields } = record;
        return { active: IsActive !== false, attributes: { ...fields, Username: String(Username).replace(/\.contract$/, '') } };
      },
      groupMembers: async (groupId) =>
        org
          .records('GroupMember')
          .filter((m) => m.GroupId === groupId)
          .map((m) => String(m.UserOrGroupId))
          .sort(),
      throttled: async () => ({
        connector: await createConnector(entry(spent, 'contract-sf-spent')),
        how: "an org whose daily API allocation is spent: 403 REQUEST_LIMIT_EXCEEDED, Salesforce's only throttling answer",
        retryAfterMs: RECHECK_SECONDS * 1000,
      }),
      deleteKeepsAccount: {
        reason: 'Salesforce never deletes users: deleteUser deactivates the account and releases its Username',
        forget: async (id) => org.forget('User', id),
      },
      stop: async () => {
        await org.close();
        await spent.close();
      },
    };
  },
});
