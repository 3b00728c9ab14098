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
  type AttributeType,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  DeleteGroupCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CognitoConnectorConfig } from '../connectors.schema.ts';
import { ConnectorError, type FailureKind } from '../connector.errors.ts';
import type { AttributeChange, Connector, ConnectorOperation, MembershipDelta, TargetAccount, TargetAttributes, TargetGroup } from '../connector.port.ts';

/** Keys of the attribute map that are not Cognito user attributes. */
const USERNAME = 'username';
const ACTIVE = 'active';

const FAILURE_KINDS: Record<string, FailureKind> = {
  TooManyRequestsException: 'throttled',
  LimitExceededException: 'throttled',
  InternalErrorException: 'retryable',
  UsernameExistsException: 'conflict',
  GroupExistsException: 'conflict',
  AliasExistsException: 'conflict',
  UserNotFoundException: 'notFound',
  ResourceNotFoundException: 'notFound',
};

/** Every Cognito error becomes a ConnectorError of the right kind, keeping the original as `cause`. */
export const classifyCognitoError = (error: unknown, what: string): ConnectorError => {
  const name = (error as { name?: string })?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const network = !status && error instanceof Error && !name.endsWith('Exception');
  const kind = FAILURE_KINDS[name] ?? (network || (status !== undefined && status >= 500) ? 'retryable' : 'permanent');
  return new ConnectorError(kind, `${what}: ${name || 'error'}: ${(error as Error)?.message ?? String(error)}`, { cause: error, status });
};

const toCognitoAttributes = (attributes: TargetAttributes): AttributeType[] =>
  Object.entries(attributes)
    .filter(([name, value]) => name !== USERNAME && name !== ACTIVE && value !== undefined && value !== null)
    .map(([Name, value]) => ({ Name, Value: typeof value === 'string' ? value : JSON.stringify(value) }));

const fromCognito = (username: string, attributes: AttributeType[] | undefined, enabled: boolean | undefined): TargetAccount => ({
  id: username,
  attributes: {
    [USERNAME]: username,
    ...Object.fromEntries((attributes ?? []).map((attribute) => [attribute.Name ?? '', attribute.Value])),
    ...(enabled === undefined ? {} : { [ACTIVE]: enabled }),
  },
});

/** Cognito group names: 1 to 128 printable characters without whitespace. */
export const cognitoGroupName = (displayName: string): string => displayName.trim().replace(/\s+/g, '_').slice(0, 128) || 'group';

/** ListUsers filters quote values with double quotes; a quote or backslash in a value is escaped. */
const filterValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Provisions users and groups into a Cognito user pool through its admin API: users are keyed by
 * their Cognito Username (`username` in the attribute map), `active` maps to Enable/DisableUser,
 * every other key is a standard or `custom:` attribute. Cognito has no batch membership call, so
 * membership changes are one call per member, metered by the shared rate limiter.
 */
export class CognitoConnector implements Connector {
  readonly id: string;
  /**
   * Cognito's published per-account, per-Region request rates: UserCreation 50/s
   * (AdminCreateUser), UserList 30/s (ListUsers), UserUpdate 25/s (AdminUpdateUserAttributes,
   * Admin(En|Dis)ableUser, AdminDeleteUser, AdminAdd/RemoveUserFromGroup), and the low
   * UserPoolResource categories for group management and DescribeUserPool.
   */
  readonly defaultRateLimits: Partial<Record<ConnectorOperation, number>> = {
    createUser: 50,
    findUser: 30,
    updateUser: 25,
    disableUser: 25,
    deleteUser: 25,
    changeGroupMembers: 25,
    findGroup: 15,
    createGroup: 15,
    deleteGroup: 15,
    probe: 15,
  };

  constructor(
    private readonly config: Pick<CognitoConnectorConfig, 'id' | 'userPoolId' | 'sendInvitation'>,
    private readonly client: CognitoIdentityProviderClient,
  ) {
    this.id = config.id;
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classifyCognitoError(error, `${this.id}: ${what}`);
    }
  }

  /** Runs `run`, treating "does not exist" as done (deleting what is gone, reading what is not there). */
  private async unlessNotFound<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(what, run);
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'notFound') return undefined;
      throw error;
    }
  }

  async probe(): Promise<void> {
    await this.call('DescribeUserPool', () => this.client.send(new DescribeUserPoolCommand({ UserPoolId: this.config.userPoolId })));
  }

  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (attribute === USERNAME) {
      const user = await this.unlessNotFound('AdminGetUser', () =>
        this.client.send(new AdminGetUserCommand({ UserPoolId: this.config.userPoolId, Username: value })),
      );
      return user?.Username ? fromCognito(user.Username, user.UserAttributes, user.Enabled) : undefined;
    }
    let token: string | undefined;
    do {
      const page = await this.call('ListUsers', () =>
        this.client.send(
          new ListUsersCommand({ UserPoolId: this.config.userPoolId, Filter: `${attribute} = "${filterValue(value)}"`, Limit: 60, PaginationToken: token }),
        ),
      );
      const user = page.Users?.find((candidate) => candidate.Username);
      if (user?.Username) return fromCognito(user.Username, user.Attributes, user.Enabled);
      token = page.PaginationToken;
    } while (token);
    return undefined;
  }

  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const username = attributes[USERNAME];
    if (typeof username !== 'string' || username === '') {
      throw new ConnectorError('permanent', `${this.id}: a Cognito user needs a "username" (map one to it)`);
    }
    const created = await this.call('AdminCreateUser', () =>
      this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.config.userPoolId,
          Username: username,
          UserAttributes: toCognitoAttributes(attributes),
          ...(this.config.sendInvitation ? {} : { MessageAction: 'SUPPRESS' }),
        }),
      ),
    );
    if (attributes[ACTIVE] === false) await this.setEnabled(username, false);
    return fromCognito(created.User?.Username ?? username, created.User?.Attributes, attributes[ACTIVE] !== false);
  }

  async updateUser(targetId: string, change: AttributeChange): Promise<void> {
    const set = toCognitoAttributes(change.set);
    if (set.length > 0) {
      await this.call('AdminUpdateUserAttributes', () =>
        this.client.send(new AdminUpdateUserAttributesCommand({ UserPoolId: this.config.userPoolId, Username: targetId, UserAttributes: set })),
      );
    }
    const unset = change.unset.filter((name) => name !== USERNAME && name !== ACTIVE);
    if (unset.length > 0) {
      await this.call('AdminDeleteUserAttributes', () =>
        this.client.send(new AdminDeleteUserAttributesCommand({ UserPoolId: this.config.userPoolId, Username: targetId, UserAttributeNames: unset })),
      );
    }
    if (typeof change.set[ACTIVE] === 'boolean') await this.setEnabled(targetId, change.set[ACTIVE]);
  }

  async disableUser(targetId: string): Promise<void> {
    await this.setEnabled(targetId, false);
  }

  async deleteUser(targetId: string): Promise<void> {
    await this.unlessNotFound('AdminDeleteUser', () => this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.config.userPoolId, Username: targetId })));
  }

  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    const name = 'id' in by ? by.id : cognitoGroupName(by.displayName);
    const found = await this.unlessNotFound('GetGroup', () => this.client.send(new GetGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: name })));
    return found?.Group?.GroupName ? { id: found.Group.GroupName, displayName: found.Group.GroupName } : undefined;
  }

  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const name = cognitoGroupName(displayName);
    try {
      await this.call('CreateGroup', () =>
        this.client.send(new CreateGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: name, Description: `hub group ${externalId}` })),
      );
    } catch (error) {
      // Already there (an earlier attempt, or made by hand): creating it is done.
      if (!(error instanceof ConnectorError && error.kind === 'conflict')) throw error;
    }
    return { id: name, displayName: name };
  }

  async deleteGroup(targetId: string): Promise<void> {
    await this.unlessNotFound('DeleteGroup', () => this.client.send(new DeleteGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: targetId })));
  }

  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    for (const username of delta.add) {
      await this.call('AdminAddUserToGroup', () =>
        this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: targetGroupId, Username: username })),
      );
    }
    for (const username of delta.remove) {
      await this.unlessNotFound('AdminRemoveUserFromGroup', () =>
        this.client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: this.config.userPoolId, GroupName: targetGroupId, Username: username })),
      );
    }
  }

  private async setEnabled(username: string, enabled: boolean): Promise<void> {
    await this.call(enabled ? 'AdminEnableUser' : 'AdminDisableUser', () =>
      this.client.send(
        enabled
          ? new AdminEnableUserCommand({ UserPoolId: this.config.userPoolId, Username: username })
          : new AdminDisableUserCommand({ UserPoolId: this.config.userPoolId, Username: username }),
      ),
    );
  }
}

/** The connector with its SDK client, built once per container (credentials from the default chain). */
export const createCognitoConnector = (config: CognitoConnectorConfig): CognitoConnector =>
  new CognitoConnector(config, new CognitoIdentityProviderClient({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }));
