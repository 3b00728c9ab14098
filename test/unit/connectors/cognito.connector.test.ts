import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  InternalErrorException,
  LimitExceededException,
  ListUsersCommand,
  TooManyRequestsException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CognitoConnector, classifyCognitoError, cognitoGroupName } from '../../../shared/connectors/cognito/cognito.connector.ts';

/** What cognito-local does not emulate: paging, throttling and service errors. */
const cognito = mockClient(CognitoIdentityProviderClient);
const connector = () => new CognitoConnector({ id: 'pool', userPoolId: 'us-east-1_abc', sendInvitation: false }, new CognitoIdentityProviderClient({ region: 'us-east-1' }));

describe('CognitoConnector against the documented API', () => {
  beforeEach(() => cognito.reset());

  it('pages through ListUsers until it finds a match', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [], PaginationToken: 'p2' })
      .resolvesOnce({ Users: [], PaginationToken: 'p3' })
      .resolvesOnce({ Users: [{ Username: 'ada', Enabled: true, Attributes: [{ Name: 'email', Value: 'ada@example.com' }] }] });
    const found = await connector().findUser('email', 'ada@example.com');
    expect(found).toEqual({ id: 'ada', attributes: { username: 'ada', email: 'ada@example.com', active: true } });
    const calls = cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.PaginationToken)).toEqual([undefined, 'p2', 'p3']);
    expect(calls[0]?.Filter).toBe('email = "ada@example.com"');
  });

  it('escapes quotes in ListUsers filters', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await connector().findUser('name', 'Ada "the Countess"');
    expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBe('name = "Ada \\"the Countess\\""');
  });

  it('suppresses the invitation unless configured and sends attributes as strings', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'ada' } });
    await connector().createUser({ username: 'ada', email: 'ada@example.com', 'custom:level': 3 });
    expect(cognito.commandCalls(AdminCreateUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'us-east-1_abc',
      Username: 'ada',
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: 'ada@example.com' },
        { Name: 'custom:level', Value: '3' },
      ],
    });
  });

  it.each([
    [new TooManyRequestsException({ message: 'slow', $metadata: { httpStatusCode: 429 } }), 'throttled'],
    [new LimitExceededException({ message: 'quota', $metadata: { httpStatusCode: 400 } }), 'throttled'],
    [new InternalErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }), 'retryable'],
    [new UsernameExistsException({ message: 'taken', $metadata: { httpStatusCode: 400 } }), 'conflict'],
  ])('classifies %s as %s when creating', async (error, kind) => {
    cognito.on(AdminCreateUserCommand).rejects(error);
    await expect(connector().createUser({ username: 'ada' })).rejects.toMatchObject({ kind, cause: error });
  });

  it('classifies a network failure as retryable and an unknown client error as permanent', () => {
    expect(classifyCognitoError(new Error('socket hang up'), 'x').kind).toBe('retryable');
    expect(classifyCognitoError(Object.assign(new Error('bad'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }), 'x').kind).toBe(
      'permanent',
    );
  });

  it('refuses a user without a username before calling Cognito', async () => {
    await expect(connector().createUser({ email: 'ada@example.com' })).rejects.toMatchObject({ kind: 'permanent' });
    expect(cognito.calls()).toHaveLength(0);
  });

  it('publishes the default rate limits of Cognito quotas', () => {
    expect(connector().defaultRateLimits).toMatchObject({ createUser: 50, findUser: 30, updateUser: 25 });
  });

  it('makes group names Cognito accepts', () => {
    expect(cognitoGroupName('  Platform   Team ')).toBe('Platform_Team');
    expect(cognitoGroupName('x'.repeat(200))).toHaveLength(128);
  });
});
