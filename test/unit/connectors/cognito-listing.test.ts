import {
  CognitoIdentityProviderClient,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CognitoConnector } from '../../../shared/connectors/cognito/cognito.connector.ts';
import type { Connector, Page } from '../../../shared/connectors/connector.port.ts';

/**
 * Listing through Cognito's pagination tokens, on a mocked client: cognito-local ignores Limit
 * and the tokens, so only a mock shows that every page is asked for with the token of the last.
 */
const POOL = 'eu-west-1_Pages1';
const cognito = mockClient(CognitoIdentityProviderClient);
const connector: Connector = new CognitoConnector(
  { id: 'cognito-pages', userPoolId: POOL, sendInvitation: false },
  new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
);

const readAll = async <T>(read: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> => {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.next;
  } while (cursor);
  return pages;
};

beforeEach(() => {
  cognito.reset();
});

describe('listUsers', () => {
  it('follows PaginationToken page by page, asking at most 60 users a page, without a filter', async () => {
    // Prepare
    cognito
      .on(ListUsersCommand, { PaginationToken: undefined })
      .resolves({ Users: [{ Username: 'ada', Enabled: true, Attributes: [{ Name: 'email', Value: 'ada@example.com' }] }], PaginationToken: 'p2' })
      .on(ListUsersCommand, { PaginationToken: 'p2' })
      .resolves({ Users: [{ Username: 'bob', Enabled: false, Attributes: [] }] });
    // Act
    const pages = await readAll((cursor) => connector.listUsers({ pageSize: 500, cursor }));
    // Assess
    expect(pages).toEqual([
      [{ id: 'ada', attributes: { username: 'ada', email: 'ada@example.com', active: true } }],
      [{ id: 'bob', attributes: { username: 'bob', active: false } }],
    ]);
    const inputs = cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 'p2' },
    ]);
  });

  it('reports Cognito throttling the list as a throttled ConnectorError', async () => {
    cognito.on(ListUsersCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    await expect(connector.listUsers({ pageSize: 10 })).rejects.toMatchObject({ kind: 'throttled', retryable: true });
  });
});

describe('listGroups', () => {
  it('follows NextToken and recognises the groups the hub made by their Description', async () => {
    // Prepare
    cognito
      .on(ListGroupsCommand, { NextToken: undefined })
      .resolves({ Groups: [{ GroupName: 'Engineering', Description: 'Provisioned by the SCIM hub from hub group g-1' }], NextToken: 'n2' })
      .on(ListGroupsCommand, { NextToken: 'n2' })
      .resolves({ Groups: [{ GroupName: 'admins' }] });
    // Act
    const pages = await readAll((cursor) => connector.listGroups({ pageSize: 2, cursor }));
    // Assess
    expect(pages).toEqual([[{ id: 'Engineering', displayName: 'Engineering', externalId: 'g-1' }], [{ id: 'admins', displayName: 'admins' }]]);
    expect(cognito.commandCalls(ListGroupsCommand).map((call) => call.args[0].input.Limit)).toEqual([2, 2]);
  });
});

describe('listGroupMembers', () => {
  it('lists the usernames of one group through ListUsersInGroup and its NextToken', async () => {
    cognito
      .on(ListUsersInGroupCommand, { GroupName: 'Engineering', NextToken: undefined })
      .resolves({ Users: [{ Username: 'ada' }, { Username: 'bob' }], NextToken: 't2' })
      .on(ListUsersInGroupCommand, { GroupName: 'Engineering', NextToken: 't2' })
      .resolves({ Users: [{ Username: 'cy' }] });

    const pages = await readAll((cursor) => connector.listGroupMembers('Engineering', { pageSize: 2, cursor }));

    expect(pages).toEqual([['ada', 'bob'], ['cy']]);
  });
});
