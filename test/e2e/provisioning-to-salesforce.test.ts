import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/local-aws.ts';
import { DynamoAuditLog } from '../../shared/store/audit.repository.ts';
import { createDocumentClient } from '../../shared/store/dynamodb.client.ts';
import { eventually } from '../support/eventually.ts';
import { type SalesforceFake, salesforceEntryFor, startSalesforceFake } from '../support/fakes/salesforce-fake.ts';
import { scimClient, startTestHub } from '../support/local-hub.ts';

/**
 * Real-time provisioning through the local stack (SCIM write, stream, fanout, FIFO lane, worker)
 * into the fake Salesforce org, from a connectors-document entry: roles as a permission set and
 * a public group, create, a one-field update, deactivation, the delete policy, an expired
 * session, and the pause before the org's allocation runs out. The 1 000-member role cases run
 * against the connector directly (test/integration/connectors/salesforce.connector.test.ts):
 * through the stack they would cost a minute of a shared CI machine and prove no more.
 */
const REFRESH_SECONDS = 1;
const MEMBERS = 12;
const DAY_MS = 24 * 60 * 60 * 1000;
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const user = (userName: string) => ({
  schemas: [USER_SCHEMA],
  userName,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
});

describe('real-time provisioning into Salesforce', () => {
  /** The fake org's clock runs ahead by this much: moving it a day on lets usage fall. */
  let shift = 0;
  let org: SalesforceFake;
  let hub: Awaited<ReturnType<typeof startTestHub>>;
  let audit: DynamoAuditLog;
  const connectorsFile = join(tmpdir(), `connectors-salesforce-${Date.now()}.json`);
  const writeConnectors = (provision: boolean, mappings: { hubGroup: string; targetDisplayName: string }[] = []) =>
    writeFileSync(
      connectorsFile,
      JSON.stringify({
        connectors: [
          salesforceEntryFor(org, {
            deprovision: 'delete',
            groups: { provision, mappings },
            allocation: { reservePercent: 10, recheckSeconds: 1 },
            breaker: { failureThreshold: 1, probeIntervalSeconds: 1 },
          }),
        ],
      }),
    );
  const hubApi = () => scimClient(hub.scim);
  const sfUser = (userName: string) => org.records('User').find((u) => u.Username === `${userName}.acme`);
  const created = async (userName: string) => {
    const answer = await hubApi().post('/Users', user(userName));
    expect(answer.status).toBe(201);
    return String(answer.json.id);
  };

  beforeAll(async () => {
    org = await startSalesforceFake({ dailyLimit: 100_000, now: () => Date.now() + shift });
    writeConnectors(false);
    hub = await startTestHub('salesforce', {
      connectorIds: ['sf'],
      environment: { CONNECTORS_FILE: connectorsFile, CONNECTORS_REFRESH_SECONDS: String(REFRESH_SECONDS) },
    });
    audit = new DynamoAuditLog(createDocumentClient(new DynamoDBClient({ ...localAwsConfig, endpoint: hub.endpoints.dynamodb })), hub.tableName, 90);
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await org?.close();
  });

  it('gives the members of a hub group mapped to a permission set the assignment, and an unmapped group becomes a public group', async () => {
    // Prepare: the group is made while the connector provisions no unmapped groups, then mapped by its hub id.
    const salesOps = await hubApi().post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Sales Ops' });
    expect(salesOps.status).toBe(201);
    writeConnectors(true, [{ hubGroup: String(salesOps.json.id), targetDisplayName: 'PermissionSet:Sales_Ops' }]);
    // The worker reads the document every REFRESH_SECONDS: the members must meet the mapping (as disabled-connector.test.ts waits).
    await new Promise((resolve) => setTimeout(resolve, REFRESH_SECONDS * 2000));
    const members: string[] = [];
    for (let i = 0; i < MEMBERS; i++) members.push(await created(`member-${i}@example.com`));
    // Act
    const added = await hubApi().patch(`/Groups/${salesOps.json.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: members.map((value) => ({ value })) }],
    });
    const everyone = await hubApi().post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Everyone', members: members.map((value) => ({ value })) });
    expect([added.status, everyone.status]).toEqual([204, 201]);
    // Assess
    const permissionSet = org.idOf('PermissionSet', 'Sales_Ops');
    await eventually(
      () => expect(org.records('PermissionSetAssignment').filter((a) => a.PermissionSetId === permissionSet)).toHaveLength(MEMBERS),
      90_000,
      250,
    );
    const group = await eventually(() => {
      const found = org.records('Group').find((g) => g.Name === 'Everyone');
      expect(found).toMatchObject({ Type: 'Regular' });
      expect(org.records('GroupMember').filter((m) => m.GroupId === found?.Id)).toHaveLength(MEMBERS);
      return found;
    }, 90_000);
    expect(group?.DeveloperName).toMatch(/^hub_/);
    // Leaving the group removes the assignment.
    const removed = await hubApi().patch(`/Groups/${salesOps.json.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${members[0]}"]` }],
    });
    expect(removed.status).toBeLessThan(300);
    await eventually(() => expect(org.records('PermissionSetAssignment').filter((a) => a.PermissionSetId === permissionSet)).toHaveLength(MEMBERS - 1), 30_000);
  }, 120_000);

  it('creates a user with every required field, updates one field, deactivates it and, on delete, releases its Username', async () => {
    const id = await created('ada@example.com');
    const made = await eventually(() => {
      const found = sfUser('ada@example.com');
      expect(found).toMatchObject({
        FederationIdentifier: 'ada@example.com',
        Email: 'ada@example.com',
        LastName: 'Lovelace',
        Alias: 'alovelac',
        IsActive: true,
      });
      return found as Record<string, unknown>;
    });
    org.resetCalls();
    const renamed = await hubApi().patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }] });
    expect(renamed.status).toBe(200);
    await eventually(() => expect(org.record('User', String(made.Id))?.FirstName).toBe('Augusta'));
    expect(org.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ FirstName: 'Augusta' }]);

    await hubApi().patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    await eventually(() => expect(org.record('User', String(made.Id))?.IsActive).toBe(false));

    expect((await hubApi().delete(`/Users/${id}`)).status).toBe(204);
    await eventually(() => expect(org.record('User', String(made.Id))?.Username).toBe(`${String(made.Id).toLowerCase()}.removed@scim-hub.invalid.acme`));
    // The person can come back under the same userName.
    await created('ada@example.com');
    await eventually(() => expect(sfUser('ada@example.com')?.Id).not.toBe(made.Id));
  });

  it('signs in again when the session has expired, and the change goes through', async () => {
    org.expireSessions();
    org.resetCalls();
    await created('grace@example.com');
    await eventually(() => expect(sfUser('grace@example.com')).toBeDefined());
    expect(org.calls.some((c) => c.status === 401)).toBe(true);
    expect(org.calls.filter((c) => c.path === '/services/oauth2/token')).toHaveLength(1);
  });

  it('pauses before the allocation runs out, with an audit record, and resumes when usage falls', async () => {
    // Prepare: the org's other integrations have used 90% of the day's calls.
    org.useAllocation(90_000 - org.usage().used);
    org.resetCalls();
    // Act
    await created('paused@example.com');
    await eventually(async () => {
      const records = (await audit.query({ connectorId: 'sf', action: 'quarantine', limit: 10 })).items;
      expect(records[0]?.reason).toContain('10% is kept in reserve');
    }, 30_000);
    expect(sfUser('paused@example.com')).toBeUndefined();
    // Assess: a day later usage has fallen; the connector looks again and goes on.
    shift += DAY_MS;
    await eventually(() => expect(sfUser('paused@example.com')).toBeDefined(), 30_000);
    await eventually(async () => expect((await audit.query({ connectorId: 'sf', action: 'resume', limit: 10 })).items.length).toBeGreaterThan(0));
    expect(org.calls.some((c) => c.status === 403)).toBe(false);
  });
});
