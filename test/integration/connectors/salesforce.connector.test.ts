import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { createSalesforceConnector, type SalesforceConnector } from '../../../shared/connectors/salesforce/salesforce.connector.ts';
import { SalesforceConnectorSchema } from '../../../shared/connectors/salesforce/salesforce.schema.ts';
import { type SalesforceFake, salesforceEntryFor, startSalesforceFake } from '../../support/fakes/salesforce-fake.ts';

/**
 * What the Salesforce connector owes beyond the shared contract, on the fake org: every
 * required field on create, changed fields only, deactivation and the delete policy, lookups
 * with escaped values, roles for a group of 1 000 in collections of 200, the pause before the
 * allocation runs out, an expired session, and the error codes the issue names.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
let clock = Date.parse('2026-11-01T00:00:00Z');
const now = () => clock;
let org: SalesforceFake;

const configOf = (extra: Record<string, unknown> = {}) => SalesforceConnectorSchema.parse(salesforceEntryFor(org, extra));
const connectorOf = (extra: Record<string, unknown> = {}) => createSalesforceConnector(configOf(extra), { now });

const person = (tag: string, extra: Record<string, unknown> = {}) => ({
  Username: `${tag}@example.com`,
  FederationIdentifier: `${tag}@example.com`,
  Email: `${tag}@example.com`,
  FirstName: 'Ada',
  LastName: 'Lovelace',
  active: true,
  ...extra,
});

const failure = async (run: () => Promise<unknown>): Promise<ConnectorError> => {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
};

let sf: SalesforceConnector;
beforeAll(async () => {
  org = await startSalesforceFake({ dailyLimit: 1_000_000, now, licences: 5_000, otherOrgUsernames: ['taken@example.com.acme'] });
  sf = connectorOf();
});
afterAll(async () => {
  await org?.close();
});
beforeEach(() => org.resetCalls());

describe('the Salesforce connector on the fake org', () => {
  describe('users', () => {
    it('creates a user with every required field: suffixed Username, derived Alias, locale defaults, the profile by name', async () => {
      const account = await sf.createUser(person('ada', { FirstName: 'Ádá' }));
      expect(org.record('User', account.id)).toMatchObject({
        Username: 'ada@example.com.acme',
        FederationIdentifier: 'ada@example.com',
        Alias: 'alovelac',
        TimeZoneSidKey: 'America/Los_Angeles',
        LocaleSidKey: 'en_US',
        EmailEncodingKey: 'UTF-8',
        LanguageLocaleKey: 'en_US',
        ProfileId: org.idOf('Profile', 'Standard User'),
        IsActive: true,
      });
      expect(account.attributes.Username).toBe('ada@example.com');
    });

    it('resolves a mapped Profile.Name, once per container', async () => {
      const first = await sf.createUser(person('admin-1', { 'Profile.Name': 'System Administrator' }));
      await sf.createUser(person('admin-2', { 'Profile.Name': 'System Administrator' }));
      expect(org.record('User', first.id)?.ProfileId).toBe(org.idOf('Profile', 'System Administrator'));
      // The first create looked the profile up; the second used what it read.
      expect(org.calls.filter((c) => c.path.endsWith('/query'))).toHaveLength(1);
      const found = await sf.findUser('Username', 'admin-1@example.com');
      expect(found?.attributes['Profile.Name']).toBe('System Administrator');
    });

    it('updates only the changed field, in one PATCH', async () => {
      const { id } = await sf.createUser(person('grace'));
      org.resetCalls();
      await sf.updateUser(id, { set: { FirstName: 'Grace' }, unset: [] });
      expect(org.calls.filter((c) => c.counted).map((c) => [c.method, c.body])).toEqual([['PATCH', { FirstName: 'Grace' }]]);
      expect(org.record('User', id)).toMatchObject({ FirstName: 'Grace', LastName: 'Lovelace' });
    });

    it('deactivates with IsActive=false and reactivates', async () => {
      const { id } = await sf.createUser(person('toggle'));
      await sf.disableUser(id);
      expect(org.record('User', id)?.IsActive).toBe(false);
      await sf.updateUser(id, { set: { active: true }, unset: [] });
      expect(org.record('User', id)?.IsActive).toBe(true);
    });

    it('removes a user by deactivating it and releasing its Username and FederationIdentifier, so the person can come back', async () => {
      const { id } = await sf.createUser(person('leaver'));
      await sf.deleteUser(id);
      await sf.deleteUser(id);
      const record = org.record('User', id);
      expect(record).toMatchObject({ IsActive: false, Username: `${id.toLowerCase()}.removed@scim-hub.invalid.acme` });
      expect(record?.FederationIdentifier ?? null).toBeNull();
      expect(await sf.findUser('Username', 'leaver@example.com')).toBeUndefined();
      const again = await sf.createUser(person('leaver'));
      expect(again.id).not.toBe(id);
    });

    it('finds by Username, FederationIdentifier and Email, with quotes and backslashes escaped', async () => {
      const tricky = "o'brien\\x";
      const { id } = await sf.createUser(
        person('plain', { Username: `${tricky}@example.com`, FederationIdentifier: `fed-${tricky}`, Email: 'obrien@example.com' }),
      );
      expect((await sf.findUser('Username', `${tricky}@example.com`))?.id).toBe(id);
      expect((await sf.findUser('FederationIdentifier', `fed-${tricky}`))?.id).toBe(id);
      expect((await sf.findUser('Email', 'OBRIEN@example.com'))?.id).toBe(id);
      expect(await sf.findUser('Username', "x' OR Username != '")).toBeUndefined();
    });

    it('classifies Salesforce error codes: a duplicate Username is a conflict, field errors and licences are permanent and say why', async () => {
      const duplicate = await failure(() => sf.createUser(person('taken')));
      expect(duplicate.kind).toBe('conflict');
      const { LastName: _l, ...noLastName } = person('nameless');
      const missing = await failure(() => sf.createUser(noLastName));
      expect({ kind: missing.kind, message: missing.message }).toEqual({
        kind: 'permanent',
        message: expect.stringContaining('REQUIRED_FIELD_MISSING (field LastName)'),
      });
      const invalid = await failure(() => sf.createUser(person('odd', { Nickname: 'x' })));
      expect({ kind: invalid.kind, message: invalid.message }).toEqual({
        kind: 'permanent',
        message: expect.stringContaining('INVALID_FIELD (field Nickname)'),
      });
      const absent = await failure(() => sf.updateUser('005999999999999AAA', { set: { FirstName: 'x' }, unset: [] }));
      expect(absent.kind).toBe('notFound');
      const small = await startSalesforceFake({ licences: 0 });
      try {
        const noLicence = await failure(() => createSalesforceConnector(configOf({ loginUrl: small.url })).createUser(person('one-too-many')));
        expect({ kind: noLicence.kind, message: noLicence.message }).toEqual({ kind: 'permanent', message: expect.stringContaining('no licences left') });
      } finally {
        await small.close();
      }
    });

    it('lists users over keyset pages and follows nextRecordsUrl when Salesforce cuts a batch short', async () => {
      const short = await startSalesforceFake({ defaultBatchSize: 3 });
      try {
        const ids = short.seedUsers(Array.from({ length: 8 }, (_, i) => `listed${i}@example.com.acme`));
        const connector = createSalesforceConnector(configOf({ loginUrl: short.url }));
        const seen: string[] = [];
        const cursors: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await connector.listUsers({ pageSize: 5, ...(cursor ? { cursor } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(5);
          seen.push(...page.items.map((a) => a.id));
          cursor = page.next;
          if (cursor) cursors.push(cursor.split(':')[0] as string);
        } while (cursor);
        expect(seen).toEqual(ids);
        expect(cursors).toContain('next');
        expect(cursors).toContain('after');
      } finally {
        await short.close();
      }
    });
  });

  describe('roles', () => {
    const THOUSAND = 1000;
    let members: string[];
    beforeAll(() => {
      members = org.seedUsers(Array.from({ length: THOUSAND }, (_, i) => `member${i}@example.com.acme`));
    });

    it('assigns a permission set to 1 000 users in one call and removes it in two', async () => {
      const group = await sf.findGroup({ displayName: 'PermissionSet:Sales_Ops' });
      expect(group).toEqual({ id: org.idOf('PermissionSet', 'Sales_Ops'), displayName: 'PermissionSet:Sales_Ops' });
      const id = group?.id as string;
      await sf.changeGroupMembers(id, { add: members, remove: [] });
      expect(org.apiCalls()).toBe(2); // the lookup, then one composite of five collections of 200
      expect(org.records('PermissionSetAssignment').filter((a) => a.PermissionSetId === id)).toHaveLength(THOUSAND);
      // Adding again is harmless (DUPLICATE_VALUE means "already assigned").
      await sf.changeGroupMembers(id, { add: members.slice(0, 3), remove: [] });
      org.resetCalls();
      await sf.changeGroupMembers(id, { add: [], remove: members });
      expect(org.apiCalls()).toBe(2); // five queries in one composite, five deletions in another
      expect(org.records('PermissionSetAssignment').filter((a) => a.PermissionSetId === id)).toEqual([]);
      const composite = org.calls.find((c) => c.path.endsWith('/composite'))?.body as { allOrNone: boolean; compositeRequest: unknown[] };
      expect({ allOrNone: composite.allOrNone, subrequests: composite.compositeRequest.length }).toEqual({ allOrNone: false, subrequests: 5 });
    });

    it('adds 1 000 users to a public group the hub made, lists them, and removes some', async () => {
      const group = await sf.createGroup('Everyone', '6f1c1f0e-8a4e-4b8e-9f7e-0d5b1c2a3b4c');
      expect(group.externalId).toBe('6f1c1f0e-8a4e-4b8e-9f7e-0d5b1c2a3b4c');
      expect(await sf.createGroup('Everyone', '6f1c1f0e-8a4e-4b8e-9f7e-0d5b1c2a3b4c')).toEqual(group);
      org.resetCalls();
      await sf.changeGroupMembers(group.id, { add: members, remove: [] });
      expect(org.apiCalls()).toBe(1);
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await sf.listGroupMembers(group.id, { pageSize: 400, ...(cursor ? { cursor } : {}) });
        listed.push(...page.items);
        cursor = page.next;
      } while (cursor);
      expect(listed.sort()).toEqual([...members].sort());
      await sf.changeGroupMembers(group.id, { add: [], remove: members.slice(0, 10) });
      expect(org.records('GroupMember').filter((m) => m.GroupId === group.id)).toHaveLength(THOUSAND - 10);
      await sf.deleteGroup(group.id);
      expect(await sf.findGroup({ id: group.id })).toBeUndefined();
    });

    it('maps a profile and a role: adding sets the field, removing resets it for those who still hold it', async () => {
      const admin = org.idOf('Profile', 'System Administrator');
      const manager = org.idOf('UserRole', 'Sales_Manager');
      const [a, b] = members as [string, string];
      expect((await sf.findGroup({ displayName: 'Profile:System Administrator' }))?.id).toBe(admin);
      await sf.changeGroupMembers(admin, { add: [a, b], remove: [] });
      await sf.changeGroupMembers(manager, { add: [a], remove: [] });
      expect(org.record('User', a)).toMatchObject({ ProfileId: admin, UserRoleId: manager });
      await sf.changeGroupMembers(admin, { add: [], remove: [a] });
      await sf.changeGroupMembers(manager, { add: [], remove: [a] });
      expect(org.record('User', a)).toMatchObject({ ProfileId: org.idOf('Profile', 'Standard User'), UserRoleId: null });
      expect(org.record('User', b)?.ProfileId).toBe(admin);
      const renaming = await failure(() => sf.renameGroup(admin, 'Admins', 'hub-admins'));
      expect(renaming.kind).toBe('permanent');
    });

    it('reports the members Salesforce refused, after saving the others', async () => {
      const group = await sf.findGroup({ displayName: 'PermissionSet:Support_Agent' });
      const error = await failure(() => sf.changeGroupMembers(group?.id as string, { add: [members[0] as string, '005999999999998AAA'], remove: [] }));
      expect(error.message).toContain('005999999999998AAA');
      expect(org.records('PermissionSetAssignment').some((a) => a.AssigneeId === members[0] && a.PermissionSetId === group?.id)).toBe(true);
    });
  });

  describe('the API allocation', () => {
    it('pauses before the reserve is reached, refusing calls without sending them, and resumes when usage falls', async () => {
      const small = await startSalesforceFake({ dailyLimit: 1000, now });
      try {
        small.useAllocation(895);
        const connector = createSalesforceConnector(configOf({ loginUrl: small.url, allocation: { reservePercent: 10, recheckSeconds: 60 } }), { now });
        const made: string[] = [];
        let paused: ConnectorError | undefined;
        for (let i = 0; i < 20 && !paused; i++) {
          try {
            made.push((await connector.createUser(person(`alloc-${i}`))).id);
          } catch (error) {
            paused = error as ConnectorError;
          }
        }
        expect(made.length).toBeGreaterThan(0);
        expect({ kind: paused?.kind, retryable: paused?.retryable, retryAfterMs: paused?.retryAfterMs }).toEqual({
          kind: 'throttled',
          retryable: true,
          retryAfterMs: 60_000,
        });
        expect(paused?.message).toContain('10% is kept in reserve');
        expect(small.usage().used).toBeLessThanOrEqual(900);
        expect(small.calls.some((c) => c.status === 403)).toBe(false);
        const sent = small.apiCalls();
        await expect(connector.probe().then(() => connector.createUser(person('still-paused')))).rejects.toMatchObject({ kind: 'throttled' });
        // Usage is still high a minute later: one /limits call, and the pause goes on.
        clock += 61_000;
        await expect(connector.createUser(person('still-paused'))).rejects.toMatchObject({ kind: 'throttled' });
        expect(small.calls.slice(-1)[0]?.path).toMatch(/\/limits$/);
        expect(small.apiCalls() - sent).toBeLessThanOrEqual(2);
        // A day later the rolling window has moved on: the connector works again.
        clock += DAY_MS;
        expect((await connector.createUser(person('after-the-pause'))).id).toMatch(/^005/);
      } finally {
        await small.close();
      }
    });

    it('pauses on REQUEST_LIMIT_EXCEEDED', async () => {
      const spent = await startSalesforceFake({ dailyLimit: 50, now });
      try {
        const connector = createSalesforceConnector(configOf({ loginUrl: spent.url, allocation: { reservePercent: 0, recheckSeconds: 120 } }), { now });
        spent.useAllocation(50);
        await expect(connector.findUser('Username', 'x@example.com')).rejects.toMatchObject({ kind: 'throttled', retryAfterMs: 120_000 });
        const calls = spent.calls.length;
        await expect(connector.findUser('Username', 'x@example.com')).rejects.toMatchObject({ kind: 'throttled' });
        expect(spent.calls.length).toBe(calls);
      } finally {
        await spent.close();
      }
    });
  });

  describe('sessions', () => {
    it('signs in again once when the session expired, and goes on', async () => {
      const { id } = await sf.createUser(person('session'));
      org.resetCalls();
      org.expireSessions();
      await sf.updateUser(id, { set: { Title: 'Countess' }, unset: [] });
      expect(org.calls.map((c) => [c.method, c.path, c.status])).toEqual([
        ['PATCH', `/services/data/v66.0/sobjects/User/${id}`, 401],
        ['POST', '/services/oauth2/token', 200],
        ['PATCH', `/services/data/v66.0/sobjects/User/${id}`, 204],
      ]);
      expect(org.record('User', id)?.Title).toBe('Countess');
    });

    it('reports unauthorized when the connected app refuses the credentials', async () => {
      const error = await failure(() => connectorOf({ clientSecret: 'wrong' }).findUser('Username', 'x@example.com'));
      expect(error.kind).toBe('unauthorized');
    });

    it('signs in with the JWT bearer flow', async () => {
      const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwtOrg = await startSalesforceFake({
        jwt: { publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), subject: 'hub@acme.example' },
      });
      try {
        const connector = createSalesforceConnector(
          SalesforceConnectorSchema.parse({
            id: 'sf-jwt',
            type: 'salesforce',
            loginUrl: jwtOrg.url,
            clientId: 'fake-consumer-key',
            auth: { flow: 'jwt-bearer', subject: 'hub@acme.example', privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
            profile: 'Standard User',
          }),
        );
        await connector.probe();
        expect(jwtOrg.calls.map((c) => c.status)).toEqual([200, 200]);
      } finally {
        await jwtOrg.close();
      }
    });
  });
});
