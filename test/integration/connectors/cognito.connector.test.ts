import { AdminGetUserCommand, AdminListGroupsForUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CognitoLocal, ensureUserPool, startCognitoLocal } from '../../../infra/local/cognito-local.ts';
import { localAwsConfig } from '../../../infra/local/local-aws.ts';
import { freePort } from '../../../infra/local/net.ts';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { CognitoConnector } from '../../../shared/connectors/cognito/cognito.connector.ts';

/** The Cognito connector against cognito-local, for everything cognito-local emulates. */
describe('CognitoConnector on cognito-local', () => {
  let cognito: CognitoLocal;
  let client: CognitoIdentityProviderClient;
  let connector: CognitoConnector;
  let userPoolId: string;

  beforeAll(async () => {
    cognito = await startCognitoLocal({ port: await freePort() });
    userPoolId = await ensureUserPool(cognito.endpoint, 'connector-test');
    client = new CognitoIdentityProviderClient({ ...localAwsConfig, endpoint: cognito.endpoint });
    connector = new CognitoConnector({ id: 'cognito', userPoolId, sendInvitation: false }, client);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await cognito?.stop();
  });

  const stored = (username: string) => client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));

  it('creates a user with its attributes, disabled when it is inactive', async () => {
    const created = await connector.createUser({ username: 'ada', email: 'ada@example.com', given_name: 'Ada', active: true });
    expect(created.id).toBe('ada');
    await connector.createUser({ username: 'bob', email: 'bob@example.com', active: false });
    expect(await stored('ada')).toMatchObject({ Enabled: true, UserAttributes: expect.arrayContaining([{ Name: 'given_name', Value: 'Ada' }]) });
    expect((await stored('bob')).Enabled).toBe(false);
  });

  it('refuses a second user with the same username as a conflict', async () => {
    await expect(connector.createUser({ username: 'ada', email: 'other@example.com' })).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('finds users by username and by another attribute, and nobody by an unknown value', async () => {
    expect(await connector.findUser('username', 'ada')).toMatchObject({ id: 'ada', attributes: { email: 'ada@example.com', active: true } });
    expect(await connector.findUser('email', 'bob@example.com')).toMatchObject({ id: 'bob', attributes: { active: false } });
    expect(await connector.findUser('username', 'nobody')).toBeUndefined();
    expect(await connector.findUser('email', 'nobody@example.com')).toBeUndefined();
  });

  it('updates only the changed attributes, clears removed ones, and enables and disables', async () => {
    await connector.updateUser('ada', { set: { given_name: 'Augusta', active: false }, unset: ['email'] });
    const ada = await stored('ada');
    expect(ada.Enabled).toBe(false);
    expect(ada.UserAttributes).toEqual(expect.arrayContaining([{ Name: 'given_name', Value: 'Augusta' }]));
    expect(ada.UserAttributes?.some((a) => a.Name === 'email')).toBe(false);
    await connector.updateUser('ada', { set: { active: true }, unset: [] });
    expect((await stored('ada')).Enabled).toBe(true);
    await connector.disableUser('ada');
    expect((await stored('ada')).Enabled).toBe(false);
  });

  it('creates groups idempotently and adds and removes members', async () => {
    const group = await connector.createGroup('Platform Team', 'g1');
    expect(group.id).toBe('Platform_Team');
    expect(await connector.createGroup('Platform Team', 'g1')).toEqual(group);
    expect(await connector.findGroup({ displayName: 'Platform Team' })).toEqual(group);
    expect(await connector.findGroup({ id: 'No_Such_Group' })).toBeUndefined();
    await connector.changeGroupMembers(group.id, { add: ['ada', 'bob'], remove: [] });
    const groupsOf = async (username: string) =>
      (await client.send(new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }))).Groups?.map((g) => g.GroupName);
    expect(await groupsOf('bob')).toEqual(['Platform_Team']);
    await connector.changeGroupMembers(group.id, { add: [], remove: ['bob'] });
    expect(await groupsOf('bob')).toEqual([]);
    expect(await groupsOf('ada')).toEqual(['Platform_Team']);
  });

  it('deletes users and groups, and deleting what is gone succeeds', async () => {
    await connector.deleteUser('bob');
    await expect(stored('bob')).rejects.toMatchObject({ name: 'UserNotFoundException' });
    await expect(connector.deleteUser('bob')).resolves.toBeUndefined();
    await connector.deleteGroup('Platform_Team');
    expect(await connector.findGroup({ id: 'Platform_Team' })).toBeUndefined();
  });

  it('answers the probe, and classifies a missing pool as permanent or not found', async () => {
    await expect(connector.probe()).resolves.toBeUndefined();
    const lost = new CognitoConnector({ id: 'lost', userPoolId: 'local_doesnotexist', sendInvitation: false }, client);
    const error = await lost.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(['notFound', 'permanent']).toContain((error as ConnectorError).kind);
  });
});
