import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserAttributesCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  AliasExistsException,
  CognitoIdentityProviderClient,
  CognitoIdentityProviderServiceException,
  ConcurrentModificationException,
  CreateGroupCommand,
  DeleteGroupCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
  GroupExistsException,
  InternalErrorException,
  InvalidParameterException,
  LimitExceededException,
  ListUsersCommand,
  ListUsersInGroupCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UnexpectedLambdaException,
  UserLambdaValidationException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { createHash } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CognitoConnector,
  classifyCognitoError,
  cognitoGroupName,
  createCognitoConnector,
  listUsersFilter,
} from '../../../shared/connectors/cognito/cognito.connector.ts';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';
import { withResilience } from '../../../shared/connectors/resilience/resilient.connector.ts';

/**
 * The Cognito connector against the documented API, for what cognito-local does not emulate:
 * paging, throttling, service and network errors, and the exact requests sent.
 */
const POOL = 'us-east-1_Abc123';
const cognito = mockClient(CognitoIdentityProviderClient);
/** The short hash of a hub group id that cognitoGroupName appends to a name it had to change. */
const hashOf = (hubGroupId: string) => createHash('sha256').update(hubGroupId).digest('hex').slice(0, 10);
const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** Typed as the port: the sync engine calls updateUser and disableUser with the full mapped state too. */
const makeConnector = (overrides: { sendInvitation?: boolean; memberRequestsPerSecond?: number } = {}): Connector =>
  new CognitoConnector(
    { id: 'cognito-unit', userPoolId: POOL, sendInvitation: overrides.sendInvitation ?? false },
    new CognitoIdentityProviderClient({ region: 'us-east-1' }),
    { memberRequestsPerSecond: overrides.memberRequestsPerSecond ?? 1_000 },
  );

const failure = (promise: Promise<unknown>): Promise<ConnectorError> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(ConnectorError);
      return error as ConnectorError;
    },
  );

beforeEach(() => {
  cognito.reset();
});

describe('findUser', () => {
  it('pages through ListUsers with the PaginationToken until a page holds a match', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [], PaginationToken: 'page-2' })
      .resolvesOnce({ Users: [], PaginationToken: 'page-3' })
      .resolvesOnce({ Users: [{ Username: 'ada', Enabled: false, Attributes: [{ Name: 'email', Value: 'ada@example.com' }] }], PaginationToken: 'page-4' });

    const found = await makeConnector().findUser('email', 'ada@example.com');

    expect(found).toEqual({ id: 'ada', attributes: { username: 'ada', email: 'ada@example.com', active: false } });
    const inputs = cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { UserPoolId: POOL, Filter: 'email = "ada@example.com"', Limit: 60, PaginationToken: undefined },
      { UserPoolId: POOL, Filter: 'email = "ada@example.com"', Limit: 60, PaginationToken: 'page-2' },
      { UserPoolId: POOL, Filter: 'email = "ada@example.com"', Limit: 60, PaginationToken: 'page-3' },
    ]);
  });

  it('finds nobody after the last page', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [], PaginationToken: 'page-2' })
      .resolvesOnce({ Users: [], PaginationToken: 'page-3' })
      .resolvesOnce({ Users: [] });

    expect(await makeConnector().findUser('email', 'nobody@example.com')).toBeUndefined();
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(3);
  });

  it('escapes quotes and backslashes in the filter value', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });

    await makeConnector().findUser('name', 'Ada "the Countess" \\ Lovelace');

    expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBe('name = "Ada \\"the Countess\\" \\\\ Lovelace"');
    expect(listUsersFilter('email', 'x" or email = "y')).toBe('email = "x\\" or email = \\"y"');
  });

  it('refuses an attribute name that cannot be a ListUsers filter, without calling Cognito', async () => {
    const error = await failure(makeConnector().findUser('email = "x" or name', 'y'));

    expect(error.kind).toBe('permanent');
    expect(cognito.calls()).toHaveLength(0);
  });

  it('looks a username up with AdminGetUser, and a UserNotFound is nobody', async () => {
    cognito
      .on(AdminGetUserCommand, { Username: 'ada' })
      .resolves({ Username: 'ada', Enabled: true, UserAttributes: [{ Name: 'given_name', Value: 'Ada' }] })
      .on(AdminGetUserCommand, { Username: 'nobody' })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', ...metadata(400) }));

    expect(await makeConnector().findUser('username', 'ada')).toEqual({ id: 'ada', attributes: { username: 'ada', given_name: 'Ada', active: true } });
    expect(await makeConnector().findUser('username', 'nobody')).toBeUndefined();
    expect(cognito.commandCalls(AdminGetUserCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, Username: 'ada' },
      { UserPoolId: POOL, Username: 'nobody' },
    ]);
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(0);
  });

  it('fails with notFound, rather than finding nobody, when the user pool is missing', async () => {
    const missingPool = new ResourceNotFoundException({ message: 'User pool us-east-1_Abc123 does not exist.', ...metadata(400) });
    cognito.on(AdminGetUserCommand).rejects(missingPool);

    const error = await failure(makeConnector().findUser('username', 'ada'));

    expect(error.kind).toBe('notFound');
    expect(error.cause).toBe(missingPool);
  });

  it('is throttled when ListUsers is, part-way through the pages', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [], PaginationToken: 'page-2' })
      .rejectsOnce(new TooManyRequestsException({ message: 'Rate exceeded', ...metadata(400) }));

    const error = await failure(makeConnector().findUser('email', 'ada@example.com'));

    expect(error).toMatchObject({ kind: 'throttled', retryable: true, code: 'connector.throttled', retryAfterMs: undefined });
    expect(error.message).toContain('ListUsers');
  });
});

describe('createUser', () => {
  it('suppresses the invitation and sends every attribute but username and active, as strings', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'ada', Enabled: true } });

    const created = await makeConnector().createUser({
      username: 'ada',
      email: 'ada@example.com',
      email_verified: true,
      'custom:level': 3,
      middle_name: null,
      active: true,
    });

    expect(cognito.commandCalls(AdminCreateUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: 'ada',
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: 'ada@example.com' },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'custom:level', Value: '3' },
      ],
    });
    expect(created).toEqual({
      id: 'ada',
      attributes: { username: 'ada', email: 'ada@example.com', email_verified: 'true', 'custom:level': '3', active: true },
    });
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
  });

  it('sends the invitation by the channels the user has when configured to', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'ada' } });

    await makeConnector({ sendInvitation: true }).createUser({ username: 'ada', email: 'ada@example.com', phone_number: '+15555550100' });

    const input = cognito.commandCalls(AdminCreateUserCommand)[0]?.args[0].input;
    expect(input?.MessageAction).toBeUndefined();
    expect(input?.DesiredDeliveryMediums).toEqual(['EMAIL', 'SMS']);
  });

  it('disables an inactive user right after creating it, under the username Cognito answered', async () => {
    // In a pool with email usernames Cognito makes the Username up (the sub).
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: '1f0c-sub', Enabled: true } });
    cognito.on(AdminDisableUserCommand).resolves({});

    const created = await makeConnector().createUser({ username: 'ada@example.com', active: false });

    expect(created).toMatchObject({ id: '1f0c-sub', attributes: { active: false } });
    expect(cognito.commandCalls(AdminDisableUserCommand)[0]?.args[0].input).toEqual({ UserPoolId: POOL, Username: '1f0c-sub' });
  });

  it('refuses a user without a username before calling Cognito', async () => {
    const error = await failure(makeConnector().createUser({ email: 'ada@example.com' }));

    expect(error.kind).toBe('permanent');
    expect(cognito.calls()).toHaveLength(0);
  });

  it('reports an existing username as a conflict keeping the AWS error', async () => {
    const exists = new UsernameExistsException({ message: 'User account already exists', ...metadata(400) });
    cognito.on(AdminCreateUserCommand).rejects(exists);

    const error = await failure(makeConnector().createUser({ username: 'ada' }));

    expect(error).toMatchObject({ kind: 'conflict', retryable: false, status: 400 });
    expect(error.cause).toBe(exists);
  });

  it.each([
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'Too many requests', ...metadata(400) })],
    ['LimitExceededException', new LimitExceededException({ message: 'Attempt limit exceeded', ...metadata(400) })],
  ])('is throttled by %s', async (_name, thrown) => {
    cognito.on(AdminCreateUserCommand).rejects(thrown);

    const error = await failure(makeConnector().createUser({ username: 'ada' }));

    expect(error).toMatchObject({ kind: 'throttled', retryable: true });
    expect(error.cause).toBe(thrown);
  });
});

describe('updateUser', () => {
  beforeEach(() => {
    cognito.on(AdminUpdateUserAttributesCommand).resolves({});
    cognito.on(AdminDeleteUserAttributesCommand).resolves({});
    cognito.on(AdminEnableUserCommand).resolves({});
    cognito.on(AdminDisableUserCommand).resolves({});
  });

  it('sends only the changed attributes, deletes the unset ones, and enables the account', async () => {
    await makeConnector().updateUser('ada', { set: { given_name: 'Augusta', active: true, username: 'augusta' }, unset: ['family_name', 'active'] }, {});

    expect(cognito.commandCalls(AdminUpdateUserAttributesCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, Username: 'ada', UserAttributes: [{ Name: 'given_name', Value: 'Augusta' }] },
    ]);
    expect(cognito.commandCalls(AdminDeleteUserAttributesCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, Username: 'ada', UserAttributeNames: ['family_name'] },
    ]);
    expect(cognito.commandCalls(AdminEnableUserCommand).map((call) => call.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'ada' }]);
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(0);
  });

  it('clears an attribute whose new value is null', async () => {
    await makeConnector().updateUser('ada', { set: { nickname: null }, unset: [] }, {});

    expect(cognito.commandCalls(AdminUpdateUserAttributesCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminDeleteUserAttributesCommand)[0]?.args[0].input.UserAttributeNames).toEqual(['nickname']);
  });

  it('disables without touching attributes when only active changed', async () => {
    await makeConnector().updateUser('ada', { set: { active: false }, unset: [] }, {});

    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(1);
    expect(cognito.commandCalls(AdminUpdateUserAttributesCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminDeleteUserAttributesCommand)).toHaveLength(0);
  });

  it('sends nothing for a username change: Cognito usernames cannot be renamed', async () => {
    await makeConnector().updateUser('ada', { set: { username: 'augusta' }, unset: [] }, {});

    expect(cognito.calls()).toHaveLength(0);
  });

  it('reports an email another user holds as an alias as a conflict', async () => {
    cognito.on(AdminUpdateUserAttributesCommand).rejects(new AliasExistsException({ message: 'An account with the email already exists.', ...metadata(400) }));

    const error = await failure(makeConnector().updateUser('ada', { set: { email: 'bob@example.com' }, unset: [] }, {}));

    expect(error.kind).toBe('conflict');
    expect(error.cause).toBeInstanceOf(AliasExistsException);
  });

  it('reports an update of a missing user as notFound and a rejected value as permanent', async () => {
    cognito
      .on(AdminUpdateUserAttributesCommand, { Username: 'gone' })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', ...metadata(400) }))
      .on(AdminUpdateUserAttributesCommand, { Username: 'ada' })
      .rejects(new InvalidParameterException({ message: 'Invalid email address format.', ...metadata(400) }));

    expect((await failure(makeConnector().updateUser('gone', { set: { email: 'x@example.com' }, unset: [] }, {}))).kind).toBe('notFound');
    expect((await failure(makeConnector().updateUser('ada', { set: { email: 'not-an-email' }, unset: [] }, {}))).kind).toBe('permanent');
  });
});

describe('disableUser and deleteUser', () => {
  it('disables with AdminDisableUser', async () => {
    cognito.on(AdminDisableUserCommand).resolves({});

    await makeConnector().disableUser('ada', {});

    expect(cognito.commandCalls(AdminDisableUserCommand).map((call) => call.args[0].input)).toEqual([{ UserPoolId: POOL, Username: 'ada' }]);
  });

  it('deletes with AdminDeleteUser, and a user already gone is deleted', async () => {
    cognito
      .on(AdminDeleteUserCommand, { Username: 'ada' })
      .resolves({})
      .on(AdminDeleteUserCommand, { Username: 'gone' })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', ...metadata(400) }));

    await expect(makeConnector().deleteUser('ada')).resolves.toBeUndefined();
    await expect(makeConnector().deleteUser('gone')).resolves.toBeUndefined();
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(2);
  });

  it('does not take a missing user pool for a deleted user', async () => {
    cognito.on(AdminDeleteUserCommand).rejects(new ResourceNotFoundException({ message: 'User pool does not exist.', ...metadata(400) }));

    expect((await failure(makeConnector().deleteUser('ada'))).kind).toBe('notFound');
  });

  it('is throttled by a throttled delete', async () => {
    cognito.on(AdminDeleteUserCommand).rejects(new TooManyRequestsException({ message: 'Too many requests', ...metadata(400) }));

    expect((await failure(makeConnector().deleteUser('ada'))).kind).toBe('throttled');
  });
});

describe('groups', () => {
  it('creates a group under a sanitised name with a hash of the hub id, carrying the hub id in its description', async () => {
    cognito.on(CreateGroupCommand).resolves({ Group: { GroupName: `Platform_Team_${hashOf('g-42')}` } });

    const group = await makeConnector().createGroup('  Platform \t Team\n', 'g-42');

    expect(group).toEqual({ id: `Platform_Team_${hashOf('g-42')}`, displayName: `Platform_Team_${hashOf('g-42')}`, externalId: 'g-42' });
    expect(cognito.commandCalls(CreateGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      GroupName: `Platform_Team_${hashOf('g-42')}`,
      Description: 'Provisioned by the SCIM hub from hub group g-42',
    });
  });

  it("returns the existing group when CreateGroup says it exists and it is the hub group's own", async () => {
    cognito
      .on(CreateGroupCommand)
      .rejects(new GroupExistsException({ message: 'A group with the name already exists.', ...metadata(400) }))
      .on(GetGroupCommand)
      .resolves({ Group: { GroupName: 'Admins', Description: 'Provisioned by the SCIM hub from hub group g-1' } });

    expect(await makeConnector().createGroup('Admins', 'g-1')).toEqual({ id: 'Admins', displayName: 'Admins', externalId: 'g-1' });
  });

  it('never adopts an existing group the hub did not make for this hub group: conflict', async () => {
    cognito
      .on(CreateGroupCommand)
      .rejects(new GroupExistsException({ message: 'A group with the name already exists.', ...metadata(400) }))
      .on(GetGroupCommand)
      .resolves({ Group: { GroupName: 'Admins', Description: 'made by hand' } });

    expect((await failure(makeConnector().createGroup('Admins', 'g-1'))).kind).toBe('conflict');
  });

  it('renames by creating the new group, moving every member page by page, and deleting the old one', async () => {
    cognito
      .on(CreateGroupCommand)
      .resolves({})
      .on(ListUsersInGroupCommand, { GroupName: 'Sales', NextToken: undefined })
      .resolves({ Users: [{ Username: 'ada' }], NextToken: 'p2' })
      .on(ListUsersInGroupCommand, { GroupName: 'Sales', NextToken: 'p2' })
      .resolves({ Users: [{ Username: 'bob' }] })
      .on(AdminAddUserToGroupCommand)
      .resolves({})
      .on(DeleteGroupCommand)
      .resolves({});

    const renamed = await makeConnector().renameGroup('Sales', 'Revenue', 'g-7');

    expect(renamed).toEqual({ id: 'Revenue', displayName: 'Revenue', externalId: 'g-7' });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((c) => [c.args[0].input.GroupName, c.args[0].input.Username])).toEqual([
      ['Revenue', 'ada'],
      ['Revenue', 'bob'],
    ]);
    expect(cognito.commandCalls(DeleteGroupCommand).map((c) => c.args[0].input.GroupName)).toEqual(['Sales']);
  });

  it('passes other CreateGroup failures on, classified', async () => {
    cognito.on(CreateGroupCommand).rejects(new LimitExceededException({ message: 'Limit exceeded', ...metadata(400) }));

    expect((await failure(makeConnector().createGroup('Admins', 'g-1'))).kind).toBe('throttled');
  });

  it('refuses a group name with nothing Cognito allows, without calling Cognito', async () => {
    expect((await failure(makeConnector().createGroup(' \t ', 'g-1'))).kind).toBe('permanent');
    expect(await makeConnector().findGroup({ displayName: '   ' })).toBeUndefined();
    expect(cognito.calls()).toHaveLength(0);
  });

  it('finds a group by id or display name with GetGroup, and a missing one is undefined', async () => {
    cognito
      .on(GetGroupCommand, { GroupName: 'Platform_Team' })
      .resolves({ Group: { GroupName: 'Platform_Team', UserPoolId: POOL } })
      .on(GetGroupCommand, { GroupName: 'Nope' })
      .rejects(new ResourceNotFoundException({ message: 'Group not found.', ...metadata(400) }));

    expect(await makeConnector().findGroup({ displayName: 'Platform_Team' })).toEqual({ id: 'Platform_Team', displayName: 'Platform_Team' });
    expect(await makeConnector().findGroup({ displayName: 'Platform Team' })).toBeUndefined();
    expect(await makeConnector().findGroup({ id: 'Platform_Team' })).toEqual({ id: 'Platform_Team', displayName: 'Platform_Team' });
    expect(await makeConnector().findGroup({ id: 'Nope' })).toBeUndefined();
  });

  it('deletes a group, and a group already gone is deleted', async () => {
    cognito
      .on(DeleteGroupCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'Group not found.', ...metadata(400) }))
      .resolves({});

    await expect(makeConnector().deleteGroup('Platform_Team')).resolves.toBeUndefined();
    await expect(makeConnector().deleteGroup('Platform_Team')).resolves.toBeUndefined();
    expect(cognito.commandCalls(DeleteGroupCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, GroupName: 'Platform_Team' },
      { UserPoolId: POOL, GroupName: 'Platform_Team' },
    ]);
  });
});

describe('changeGroupMembers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('adds then removes one member per request, in order', async () => {
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    cognito.on(AdminRemoveUserFromGroupCommand).resolves({});

    await makeConnector().changeGroupMembers('Admins', { add: ['ada', 'bob'], remove: ['carol'] });

    expect(cognito.calls().map((call) => [call.args[0].constructor.name, call.args[0].input])).toEqual([
      ['AdminAddUserToGroupCommand', { UserPoolId: POOL, GroupName: 'Admins', Username: 'ada' }],
      ['AdminAddUserToGroupCommand', { UserPoolId: POOL, GroupName: 'Admins', Username: 'bob' }],
      ['AdminRemoveUserFromGroupCommand', { UserPoolId: POOL, GroupName: 'Admins', Username: 'carol' }],
    ]);
  });

  it('treats removing a deleted user, or from a deleted group, as done', async () => {
    cognito
      .on(AdminRemoveUserFromGroupCommand, { Username: 'gone' })
      .rejects(new UserNotFoundException({ message: 'User does not exist.', ...metadata(400) }))
      .on(AdminRemoveUserFromGroupCommand, { Username: 'ada' })
      .rejects(new ResourceNotFoundException({ message: 'Group not found.', ...metadata(400) }));

    await expect(makeConnector().changeGroupMembers('Admins', { add: [], remove: ['gone', 'ada'] })).resolves.toBeUndefined();
    expect(cognito.commandCalls(AdminRemoveUserFromGroupCommand)).toHaveLength(2);
  });

  it('reports adding an unknown user as notFound', async () => {
    cognito.on(AdminAddUserToGroupCommand).rejects(new UserNotFoundException({ message: 'User does not exist.', ...metadata(400) }));

    expect((await failure(makeConnector().changeGroupMembers('Admins', { add: ['nobody'], remove: [] }))).kind).toBe('notFound');
  });

  it('stops at the first throttled member, leaving the rest for the retry', async () => {
    cognito
      .on(AdminAddUserToGroupCommand)
      .resolvesOnce({})
      .rejectsOnce(new TooManyRequestsException({ message: 'Too many requests', ...metadata(400) }));

    const error = await failure(makeConnector().changeGroupMembers('Admins', { add: ['ada', 'bob', 'carol'], remove: [] }));

    expect(error.kind).toBe('throttled');
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((call) => call.args[0].input.Username)).toEqual(['ada', 'bob']);
  });

  it('paces the member requests to the configured rate: never more than it in one second', async () => {
    vi.useFakeTimers();
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    const done = makeConnector({ memberRequestsPerSecond: 2 }).changeGroupMembers('Admins', { add: ['a', 'b', 'c', 'd'], remove: [] });

    await vi.advanceTimersByTimeAsync(0);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)).toHaveLength(4);
  });
});

describe('probe', () => {
  it('describes the user pool', async () => {
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL } });

    await makeConnector().probe();

    expect(cognito.commandCalls(DescribeUserPoolCommand)[0]?.args[0].input).toEqual({ UserPoolId: POOL });
  });

  it('fails permanently when the credentials may not describe it', async () => {
    cognito.on(DescribeUserPoolCommand).rejects(new NotAuthorizedException({ message: 'not authorized', ...metadata(400) }));

    expect((await failure(makeConnector().probe())).kind).toBe('permanent');
  });
});

describe('error classification', () => {
  const unmodelled = (name: string, status: number) =>
    new CognitoIdentityProviderServiceException({ name, $fault: status >= 500 ? 'server' : 'client', ...metadata(status) });
  const network = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code, $metadata: { attempts: 1, totalRetryDelay: 0 } });

  it.each([
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'slow down', ...metadata(400) }), 'throttled'],
    ['LimitExceededException', new LimitExceededException({ message: 'limit', ...metadata(400) }), 'throttled'],
    ['InternalErrorException', new InternalErrorException({ message: 'internal', ...metadata(500) }), 'retryable'],
    ['UnexpectedLambdaException', new UnexpectedLambdaException({ message: 'trigger timed out', ...metadata(400) }), 'retryable'],
    ['ConcurrentModificationException', new ConcurrentModificationException({ message: 'busy', ...metadata(400) }), 'retryable'],
    ['UsernameExistsException', new UsernameExistsException({ message: 'exists', ...metadata(400) }), 'conflict'],
    ['GroupExistsException', new GroupExistsException({ message: 'exists', ...metadata(400) }), 'conflict'],
    ['AliasExistsException', new AliasExistsException({ message: 'alias', ...metadata(400) }), 'conflict'],
    ['UserNotFoundException', new UserNotFoundException({ message: 'no user', ...metadata(400) }), 'notFound'],
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'no pool', ...metadata(400) }), 'notFound'],
    ['InvalidParameterException', new InvalidParameterException({ message: 'bad', ...metadata(400) }), 'permanent'],
    ['NotAuthorizedException', new NotAuthorizedException({ message: 'no', ...metadata(400) }), 'permanent'],
    ['UserLambdaValidationException', new UserLambdaValidationException({ message: 'pre sign-up said no', ...metadata(400) }), 'permanent'],
    ['an unmodelled 503', unmodelled('ServiceUnavailable', 503), 'retryable'],
    ['an unmodelled 429', unmodelled('Throttling', 429), 'throttled'],
    ['an unmodelled 404 (a wrong endpoint)', unmodelled('NotFound', 404), 'permanent'],
    ['AccessDeniedException (a missing IAM grant)', unmodelled('AccessDeniedException', 400), 'unauthorized'],
    ['ExpiredTokenException (expired credentials)', unmodelled('ExpiredTokenException', 400), 'unauthorized'],
    ['an unmodelled 403', unmodelled('Forbidden', 403), 'unauthorized'],
    ['a proxy page the SDK cannot parse (502)', Object.assign(new SyntaxError('Unexpected token <'), metadata(502)), 'retryable'],
    ['ECONNREFUSED', network('ECONNREFUSED'), 'retryable'],
    ['ECONNRESET', network('ECONNRESET'), 'retryable'],
    ['a socket timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'retryable'],
    ['a bug of ours', new TypeError('cannot read properties of undefined'), 'permanent'],
  ])('%s is %s', (_name, thrown, kind) => {
    const error = classifyCognitoError(thrown, 'cognito-unit: AdminGetUser');

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(kind === 'throttled' || kind === 'retryable');
    expect(error.cause).toBe(thrown);
    expect(error.message).toMatch(/^cognito-unit: AdminGetUser: /);
  });

  it('recognises an error by its SDK class even when it comes from another copy of the SDK', () => {
    // What a second bundled copy of the SDK throws: same shape, same name, different class.
    const foreign = Object.assign(new Error('Too many requests'), { name: 'TooManyRequestsException', $fault: 'client', ...metadata(400) });

    expect(classifyCognitoError(foreign, 'x').kind).toBe('throttled');
  });

  it('keeps the HTTP status and passes a ConnectorError through unchanged', () => {
    const already = new ConnectorError('conflict', 'decided before');

    expect(classifyCognitoError(new InternalErrorException({ message: 'internal', ...metadata(500) }), 'x').status).toBe(500);
    expect(classifyCognitoError(already, 'x')).toBe(already);
  });

  it('lets the shared resilience layer retry a throttled call', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'slow down', ...metadata(400) }))
      .resolves({ Username: 'ada', Enabled: true, UserAttributes: [] });
    const resilient = withResilience(makeConnector(), { sleep: async () => undefined });

    expect(await resilient.findUser('username', 'ada')).toEqual({ id: 'ada', attributes: { username: 'ada', active: true } });
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(2);
  });
});

describe('configuration', () => {
  it('publishes the default rate limits from the Cognito quota categories', () => {
    expect(makeConnector().defaultRateLimits).toEqual({
      createUser: 50,
      findUser: 30,
      updateUser: 25,
      disableUser: 25,
      deleteUser: 25,
      changeGroupMembers: 25,
      findGroup: 5,
      createGroup: 5,
      deleteGroup: 5,
      renameGroup: 5,
      getUser: 120,
      listUsers: 30,
      listGroupMembers: 30,
      listGroups: 5,
      probe: 15,
    });
  });

  it('builds its client for the region and endpoint of the config, without SDK retries', async () => {
    const connector = createCognitoConnector({
      id: 'cognito-local',
      type: 'cognito',
      enabled: true,
      userPoolId: 'local_abc',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9229',
      sendInvitation: false,
      deprovision: 'disable',
      scope: {},
      groups: { provision: true, mappings: [] },
      operations: { create: true, update: true, disable: true, delete: true },
      retry: { maxAttempts: 8 },
      breaker: { failureThreshold: 5, probeIntervalSeconds: 30 },
    });
    const client = (connector as unknown as { client: CognitoIdentityProviderClient }).client;

    expect(connector.id).toBe('cognito-local');
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(1);
    const endpoint = await client.config.endpoint?.();
    expect(endpoint).toMatchObject({ protocol: 'http:', hostname: '127.0.0.1', port: 9229 });
    client.destroy();
  });
});

describe('cognitoGroupName', () => {
  it.each([
    ['Platform_Team', 'Platform_Team'],
    ['Équipe✓(R&D)', 'Équipe✓(R&D)'],
    ['Platform Team', `Platform_Team_${hashOf('g-1')}`],
    ['  Platform \t Team\n', `Platform_Team_${hashOf('g-1')}`],
    ['a\u0000b\u200bc', `a_b_c_${hashOf('g-1')}`],
    ['   ', ''],
  ])('%j becomes %j', (displayName, expected) => {
    expect(cognitoGroupName(displayName, 'g-1')).toBe(expected);
  });

  it('never maps two hub groups to one name: "Sales Team" and "Sales_Team"', () => {
    expect(cognitoGroupName('Sales_Team', 'g-1')).toBe('Sales_Team');
    expect(cognitoGroupName('Sales Team', 'g-2')).not.toBe('Sales_Team');
  });

  it('keeps names over 128 characters apart by the hash, cut without splitting a surrogate pair', () => {
    const long = cognitoGroupName(`${'x'.repeat(200)}a`, 'g-1');
    const other = cognitoGroupName(`${'x'.repeat(200)}b`, 'g-2');
    expect(long).toBe(`${'x'.repeat(117)}_${hashOf('g-1')}`);
    expect(long).toHaveLength(128);
    expect(other).not.toBe(long);
    expect(cognitoGroupName(`${'x'.repeat(116)}😀tail  `, 'g-1')).toBe(`${'x'.repeat(116)}_${hashOf('g-1')}`);
    expect(cognitoGroupName(`${'x'.repeat(115)}😀tail  `, 'g-1')).toBe(`${'x'.repeat(115)}😀_${hashOf('g-1')}`);
  });
});
