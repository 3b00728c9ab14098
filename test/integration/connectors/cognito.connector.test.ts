import {
  AdminGetUserCommand,
  type AdminGetUserCommandOutput,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  GetGroupCommand,
  ResourceNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CognitoLocal, demoCognitoConnector, ensureDemoPool, startCognitoLocal } from '../../../infra/local/cognito-local.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { freePort } from '../../../infra/local/net.ts';
import { CognitoConnector, createCognitoConnector } from '../../../shared/connectors/cognito/cognito.connector.ts';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';

/**
 * The Cognito connector against a real cognito-local, for everything cognito-local emulates.
 * Paging, throttling and the errors it never raises are in test/unit/connectors.
 */
describe('CognitoConnector on cognito-local', () => {
  let cognito: CognitoLocal;
  let client: CognitoIdentityProviderClient;
  /** Typed as the port: the sync engine calls updateUser and disableUser with the full mapped state too. */
  let connector: Connector;
  let userPoolId: string;

  beforeAll(async () => {
    cognito = await startCognitoLocal({ port: await freePort() });
    userPoolId = await ensureDemoPool(cognito.endpoint, 'connector-test');
    client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: cognito.endpoint });
    connector = new CognitoConnector({ id: 'cognito-test', userPoolId, sendInvitation: false }, client);
  });

  afterAll(async () => {
    client?.destroy();
    await cognito?.stop();
  });

  const stored = (username: string): Promise<AdminGetUserCommandOutput> => client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
  const attributesOf = async (username: string): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(((await stored(username)).UserAttributes ?? []).map((a) => [a.Name, a.Value]));
  const groupsOf = async (username: string): Promise<Array<string | undefined>> =>
    ((await client.send(new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }))).Groups ?? []).map((g) => g.GroupName).sort();

  describe('users', () => {
    it('creates an enabled user whose attributes are strings, and an inactive one disabled', async () => {
      const ada = await connector.createUser({
        username: 'ada',
        email: 'ada@example.com',
        email_verified: true,
        given_name: 'Ada',
        family_name: 'Lovelace',
        active: true,
      });
      const bob = await connector.createUser({ username: 'bob', email: 'bob@example.com', given_name: 'Bob', active: false });

      expect(ada).toMatchObject({ id: 'ada', attributes: { username: 'ada', email: 'ada@example.com', email_verified: 'true', active: true } });
      expect(bob).toMatchObject({ id: 'bob', attributes: { active: false } });
      expect(await attributesOf('ada')).toMatchObject({ email: 'ada@example.com', email_verified: 'true', given_name: 'Ada', family_name: 'Lovelace' });
      expect(await attributesOf('ada')).not.toHaveProperty('username');
      expect(await attributesOf('ada')).not.toHaveProperty('active');
      expect((await stored('ada')).Enabled).toBe(true);
      expect((await stored('bob')).Enabled).toBe(false);
    });

    it('refuses a second user with the same username as a conflict that keeps the AWS error', async () => {
      const error = await connector.createUser({ username: 'ada', email: 'someone-else@example.com' }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ kind: 'conflict', retryable: false });
      expect((error as ConnectorError).cause).toBeInstanceOf(UsernameExistsException);
      expect(await attributesOf('ada')).toMatchObject({ email: 'ada@example.com' });
    });

    it('finds a user by username and by email, with its enabled state as active', async () => {
      const byUsername = await connector.findUser('username', 'ada');
      const byEmail = await connector.findUser('email', 'bob@example.com');

      expect(byUsername).toMatchObject({ id: 'ada', attributes: { username: 'ada', email: 'ada@example.com', given_name: 'Ada', active: true } });
      expect(byEmail).toMatchObject({ id: 'bob', attributes: { username: 'bob', email: 'bob@example.com', active: false } });
    });

    it('finds nobody for an unknown username or email', async () => {
      expect(await connector.findUser('username', 'nobody')).toBeUndefined();
      expect(await connector.findUser('email', 'nobody@example.com')).toBeUndefined();
      expect(await connector.findUser('email', 'ada@example.com" or email = "bob@example.com')).toBeUndefined();
    });

    it('updates only the changed attributes and clears the unset ones', async () => {
      await connector.updateUser('ada', { set: { given_name: 'Augusta' }, unset: ['email_verified'] }, {});

      const attributes = await attributesOf('ada');
      expect(attributes).toMatchObject({ given_name: 'Augusta', family_name: 'Lovelace', email: 'ada@example.com' });
      expect(attributes).not.toHaveProperty('email_verified');
      expect((await stored('ada')).Enabled).toBe(true);
    });

    it('disables and enables through `active`, and disables through disableUser', async () => {
      await connector.updateUser('ada', { set: { active: false }, unset: [] }, {});
      expect((await stored('ada')).Enabled).toBe(false);

      await connector.updateUser('ada', { set: { active: true }, unset: [] }, {});
      expect((await stored('ada')).Enabled).toBe(true);

      await connector.disableUser('ada', {});
      expect((await stored('ada')).Enabled).toBe(false);
      expect(await connector.findUser('username', 'ada')).toMatchObject({ attributes: { active: false } });
    });

    it('reports disabling a user that does not exist as notFound', async () => {
      await expect(connector.disableUser('nobody', {})).rejects.toMatchObject({ kind: 'notFound' });
    });

    it('deletes a user, and deleting it again succeeds', async () => {
      await connector.createUser({ username: 'carol', email: 'carol@example.com' });

      await connector.deleteUser('carol');

      await expect(stored('carol')).rejects.toMatchObject({ name: 'UserNotFoundException' });
      await expect(connector.deleteUser('carol')).resolves.toBeUndefined();
      expect(await connector.findUser('username', 'carol')).toBeUndefined();
    });
  });

  describe('groups', () => {
    // A group of the same name made for another hub group is refused as a conflict on GroupExistsException
    // (unit-tested): cognito-local's CreateGroup overwrites an existing group instead of answering it.
    it('creates a group with the hub id in its description, idempotently', async () => {
      const group = await connector.createGroup('Platform_Team', 'hub-group-1');
      const again = await connector.createGroup('Platform_Team', 'hub-group-1');

      expect(group).toEqual({ id: 'Platform_Team', displayName: 'Platform_Team', externalId: 'hub-group-1' });
      expect(again).toEqual(group);
      const { Group } = await client.send(new GetGroupCommand({ UserPoolId: userPoolId, GroupName: 'Platform_Team' }));
      expect(Group?.Description).toContain('hub-group-1');
    });

    it("finds a group by id and by a mapping's target name, and nothing for an unknown one", async () => {
      expect(await connector.findGroup({ id: 'Platform_Team' })).toEqual({ id: 'Platform_Team', displayName: 'Platform_Team', externalId: 'hub-group-1' });
      expect(await connector.findGroup({ displayName: 'Platform_Team' })).toEqual({
        id: 'Platform_Team',
        displayName: 'Platform_Team',
        externalId: 'hub-group-1',
      });
      expect(await connector.findGroup({ id: 'No_Such_Group' })).toBeUndefined();
    });

    it('adds and removes members one by one', async () => {
      await connector.changeGroupMembers('Platform_Team', { add: ['ada', 'bob'], remove: [] });
      expect(await groupsOf('ada')).toEqual(['Platform_Team']);
      expect(await groupsOf('bob')).toEqual(['Platform_Team']);

      await connector.changeGroupMembers('Platform_Team', { add: [], remove: ['bob'] });
      expect(await groupsOf('bob')).toEqual([]);
      expect(await groupsOf('ada')).toEqual(['Platform_Team']);
    });

    it('treats removing a non-member or a deleted user as done, and adding an unknown user as notFound', async () => {
      await expect(connector.changeGroupMembers('Platform_Team', { add: [], remove: ['bob', 'carol'] })).resolves.toBeUndefined();
      await expect(connector.changeGroupMembers('Platform_Team', { add: ['nobody'], remove: [] })).rejects.toMatchObject({ kind: 'notFound' });
      expect(await groupsOf('ada')).toEqual(['Platform_Team']);
    });

    it('deletes a group, and deleting it again succeeds', async () => {
      await connector.deleteGroup('Platform_Team');

      expect(await connector.findGroup({ id: 'Platform_Team' })).toBeUndefined();
      await expect(connector.deleteGroup('Platform_Team')).resolves.toBeUndefined();
      expect(await groupsOf('ada')).toEqual([]);
    });

    it('gives "Sales Team" and "Sales_Team" two groups', async () => {
      const spaced = await connector.createGroup('Sales Team', 'hub-sales-1');
      const underscored = await connector.createGroup('Sales_Team', 'hub-sales-2');

      expect(underscored.id).toBe('Sales_Team');
      expect(spaced.id).toMatch(/^Sales_Team_[0-9a-f]{10}$/);
      expect(await connector.findGroup({ id: spaced.id })).toMatchObject({ externalId: 'hub-sales-1' });
    });

    it('renames by moving the members to a new group and deleting the old one', async () => {
      await connector.changeGroupMembers('Sales_Team', { add: ['ada'], remove: [] });

      const renamed = await connector.renameGroup('Sales_Team', 'Revenue', 'hub-sales-2');

      expect(renamed.id).toBe('Revenue');
      expect(await groupsOf('ada')).toContain('Revenue');
      expect(await groupsOf('ada')).not.toContain('Sales_Team');
      expect(await connector.findGroup({ id: 'Sales_Team' })).toBeUndefined();
    });
  });

  describe('the user pool', () => {
    it('answers the probe', async () => {
      await expect(connector.probe()).resolves.toBeUndefined();
    });

    it('fails, rather than finding nobody, when the user pool does not exist', async () => {
      const lost = new CognitoConnector({ id: 'cognito-lost', userPoolId: 'local_doesnotexist', sendInvitation: false }, client);

      const probe = await lost.probe().catch((e: unknown) => e);
      const find = await lost.findUser('username', 'ada').catch((e: unknown) => e);

      expect(probe).toMatchObject({ kind: 'notFound' });
      expect((probe as ConnectorError).cause).toBeInstanceOf(ResourceNotFoundException);
      expect(find).toMatchObject({ kind: 'notFound' });
    });
  });

  describe('the demo connector', () => {
    beforeAll(() => {
      // createCognitoConnector takes credentials from the default chain, as in Lambda.
      vi.stubEnv('AWS_ACCESS_KEY_ID', localAwsConfig.credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', localAwsConfig.credentials.secretAccessKey);
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    });
    afterAll(() => {
      vi.unstubAllEnvs();
    });

    it('finds or creates the demo pool once, and its connector provisions into it', async () => {
      const demoPool = await ensureDemoPool(cognito.endpoint);
      expect(await ensureDemoPool(cognito.endpoint)).toBe(demoPool);
      expect(demoPool).not.toBe(userPoolId);
      const config = demoCognitoConnector(cognito.endpoint, demoPool);
      const demo = createCognitoConnector(config);

      await demo.createUser({ username: 'grace', email: 'grace@example.com', given_name: 'Grace', family_name: 'Hopper', active: true });

      expect(await demo.findUser('email', 'grace@example.com')).toMatchObject({ id: 'grace', attributes: { given_name: 'Grace', active: true } });
      const inDemoPool = await client.send(new AdminGetUserCommand({ UserPoolId: demoPool, Username: 'grace' }));
      expect(inDemoPool.Username).toBe('grace');
      expect(await connector.findUser('username', 'grace')).toBeUndefined();
    });
  });
});
