import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  type AdminCreateUserCommandInput,
  AdminDeleteUserAttributesCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  AliasExistsException,
  type AttributeType,
  CognitoIdentityProviderClient,
  CognitoIdentityProviderServiceException,
  ConcurrentModificationException,
  CreateGroupCommand,
  DeleteGroupCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
  GroupExistsException,
  InternalErrorException,
  LimitExceededException,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UnexpectedLambdaException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { createHash } from 'node:crypto';
import { ConnectorError, type FailureKind } from '../connector.errors.ts';
import type {
  AttributeChange,
  Connector,
  ConnectorOperation,
  MembershipDelta,
  Page,
  PageRequest,
  TargetAccount,
  TargetAttributes,
  TargetGroup,
} from '../connector.port.ts';
import type { CognitoConnectorConfig } from '../connectors.schema.ts';
import { RateLimiter } from '../resilience/rate-limiter.ts';

/** The two keys of the attribute map that are not Cognito user attributes. */
export const COGNITO_USERNAME = 'username';
export const COGNITO_ACTIVE = 'active';

/** What the connector reads from its connectors-document entry. */
export type CognitoConnectorSettings = Pick<CognitoConnectorConfig, 'id' | 'userPoolId' | 'sendInvitation'>;

export interface CognitoConnectorOptions {
  /**
   * Pace of the per-member AdminAddUserToGroup / AdminRemoveUserFromGroup requests inside one
   * changeGroupMembers call (Cognito has no batch membership call). Default: the UserUpdate
   * category's 25 requests per second.
   */
  memberRequestsPerSecond?: number;
}

type SdkErrorClass = new (...args: never[]) => Error;

/**
 * The modelled Cognito errors that are not permanent. `instanceof` on the SDK's classes also
 * recognises an error thrown by another copy of the SDK (smithy matches by shape id and name).
 */
const FAILURE_KINDS: ReadonlyArray<readonly [SdkErrorClass, FailureKind]> = [
  [TooManyRequestsException, 'throttled'],
  // Cognito answers LimitExceeded for "attempt limit exceeded, try after some time": back off.
  // (It also means a resource quota, e.g. groups per pool: those retries run out and reach the DLQ.)
  [LimitExceededException, 'throttled'],
  [InternalErrorException, 'retryable'],
  // A pool's Lambda trigger failed to answer (timeout, its own throttling): worth another try.
  [UnexpectedLambdaException, 'retryable'],
  // Two changes to the same resource at once: the next attempt meets a settled state.
  [ConcurrentModificationException, 'retryable'],
  [UsernameExistsException, 'conflict'],
  [GroupExistsException, 'conflict'],
  [AliasExistsException, 'conflict'],
  [UserNotFoundException, 'notFound'],
  [ResourceNotFoundException, 'notFound'],
];

/** Socket-level failures: the request may not have reached Cognito, so trying again is safe. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
]);
const NETWORK_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout']);
const AUTH_ERROR_NAMES = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
]);

const httpStatusOf = (error: unknown): number | undefined => {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
};

/**
 * The failure kind of anything the Cognito client threw: the modelled errors above by class;
 * every other modelled error (InvalidParameter, NotAuthorized, UserLambdaValidation, ...) is a
 * request Cognito will refuse again. An answer the SDK could not model (a proxy's 502 page, a
 * bare 429) goes by its status, but never becomes `notFound` or `conflict`: those only come
 * from Cognito's own errors, so a wrong endpoint answering 404 cannot make a delete "succeed".
 */
export const cognitoFailureKind = (error: unknown): FailureKind => {
  for (const [errorClass, kind] of FAILURE_KINDS) if (error instanceof errorClass) return kind;
  // AWS refused our credentials or their permissions (expired keys, a revoked role, a missing
  // grant): the connector's fault, not the message's, so it opens the breaker instead of
  // dead-lettering. These are AWS-wide error codes, not Cognito's model, hence by name.
  if (error instanceof Error && AUTH_ERROR_NAMES.has(error.name)) return 'unauthorized';
  const status = httpStatusOf(error);
  if (status === 401 || status === 403) return 'unauthorized';
  if (status !== undefined) return status === 429 ? 'throttled' : status === 408 || status >= 500 ? 'retryable' : 'permanent';
  if (error instanceof CognitoIdentityProviderServiceException) return error.$fault === 'server' ? 'retryable' : 'permanent';
  // No answer at all: a network failure is worth another attempt, anything else is our own bug.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return 'retryable';
  if (error instanceof Error && NETWORK_ERROR_NAMES.has(error.name)) return 'retryable';
  return 'permanent';
};

/** Every Cognito error becomes a ConnectorError of the right kind, keeping the original as `cause`. */
export const classifyCognitoError = (error: unknown, context: string): ConnectorError => {
  if (error instanceof ConnectorError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError(cognitoFailureKind(error), `${context}: ${name}: ${message}`, { cause: error, status: httpStatusOf(error) });
};

/** Cognito stores every attribute as a string: booleans and numbers are written as text. */
const toCognitoValue = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
};

const isUserAttribute = (name: string) => name !== COGNITO_USERNAME && name !== COGNITO_ACTIVE;

/** The Cognito user attributes of a map: every key except `username` and `active`, unset values left out. */
export const toCognitoAttributes = (attributes: TargetAttributes): AttributeType[] =>
  Object.entries(attributes).flatMap(([Name, raw]) => {
    const Value = isUserAttribute(Name) ? toCognitoValue(raw) : undefined;
    return Value === undefined ? [] : [{ Name, Value }];
  });

const toAccount = (username: string, attributes: AttributeType[] | undefined, enabled: boolean | undefined): TargetAccount => ({
  id: username,
  attributes: {
    [COGNITO_USERNAME]: username,
    ...Object.fromEntries((attributes ?? []).filter((a) => a.Name).map((a) => [a.Name, a.Value])),
    ...(enabled === undefined ? {} : { [COGNITO_ACTIVE]: enabled }),
  },
});

const GROUP_NAME_MAX_LENGTH = 128;
/** Everything a GroupName may not contain: Cognito's pattern is `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`. */
const GROUP_NAME_FORBIDDEN = /[^\p{L}\p{M}\p{S}\p{N}\p{P}]+/gu;
const GROUP_NAME_VALID = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
const GROUP_NAME_HASH_LENGTH = 10;

/** At most `max` UTF-16 units of `text`, never splitting a surrogate pair. */
const cut = (text: string, max: number): string => {
  let result = '';
  for (const character of text) {
    if (result.length + character.length > max) break;
    result += character;
  }
  return result;
};

/**
 * The Cognito GroupName for a hub group, deterministic and collision-free: a displayName that
 * is a valid GroupName as it stands is used as is; otherwise whitespace, separators and control
 * characters become `_`, the name is cut to fit 128 characters, and `_` plus a short hash of
 * the hub group's id is appended. So "Sales Team" and "Sales_Team", or two names that share
 * their first 128 characters, never share a Cognito group. Empty when nothing printable is left.
 */
export const cognitoGroupName = (displayName: string, hubGroupId: string): string => {
  const cleaned = displayName.trim().replace(GROUP_NAME_FORBIDDEN, '_');
  if (cleaned === '') return '';
  if (cleaned === displayName && cleaned.length <= GROUP_NAME_MAX_LENGTH) return cleaned;
  const hash = createHash('sha256').update(hubGroupId).digest('hex').slice(0, GROUP_NAME_HASH_LENGTH);
  return `${cut(cleaned, GROUP_NAME_MAX_LENGTH - hash.length - 1)}_${hash}`;
};

/** The Description of a group the hub made: it names the hub group, so the hub knows its own groups. */
const groupDescription = (hubGroupId: string) => `Provisioned by the SCIM hub from hub group ${hubGroupId}`;
const HUB_GROUP_OF_DESCRIPTION = /^Provisioned by the SCIM hub from hub group (\S+)$/;

/**
 * A ListUsers filter value is double-quoted; a quote (and the backslash that escapes it) inside
 * the value is escaped with a backslash.
 */
export const listUsersFilter = (attribute: string, value: string): string => `${attribute} = "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Attribute names ListUsers accepts (`email`, `given_name`, `cognito:user_status`, ...). */
const FILTER_ATTRIBUTE = /^[A-Za-z0-9_:.-]+$/;

const LIST_USERS_PAGE_SIZE = 60;
/** ListUsers, ListGroups and ListUsersInGroup return at most 60 items a page. */
const cognitoPageSize = (request: PageRequest) => Math.max(1, Math.min(LIST_USERS_PAGE_SIZE, request.pageSize));

const toGroup = (groupName: string, description: string | undefined): TargetGroup => {
  const hubGroupId = HUB_GROUP_OF_DESCRIPTION.exec(description ?? '')?.[1];
  return { id: groupName, displayName: groupName, ...(hubGroupId ? { externalId: hubGroupId } : {}) };
};
const USER_UPDATE_RATE = 25;

/**
 * Provisions users and groups into one Cognito user pool through its admin API.
 *
 * The attribute map's keys are Cognito attribute names (`email`, `given_name`, `custom:team`)
 * plus `username` (the Cognito Username: the account's id, immutable after creation) and
 * `active` (AdminEnableUser / AdminDisableUser). Groups are identified by their GroupName.
 */
export class CognitoConnector implements Connector {
  readonly id: string;
  /**
   * Cognito's published request-rate quotas (per account and Region, "API operation categories
   * and request rate quotas" in the Cognito developer guide), the category named per operation:
   */
  readonly defaultRateLimits: Partial<Record<ConnectorOperation, number>> = {
    // UserCreation 50/s: AdminCreateUser (an inactive user also costs one UserUpdate call).
    createUser: 50,
    // UserList 30/s: ListUsers. A lookup by username is AdminGetUser (UserRead, 120/s); the lower rate holds for both.
    findUser: 30,
    // UserRead 120/s: AdminGetUser, the read of one account by its Username.
    getUser: 120,
    // UserUpdate 25/s, not adjustable: AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminEnableUser, AdminDisableUser.
    updateUser: 25,
    disableUser: 25,
    // UserUpdate 25/s: AdminDeleteUser.
    deleteUser: 25,
    // UserUpdate 25/s: AdminAddUserToGroup, AdminRemoveUserFromGroup, one request per member, paced inside the call.
    changeGroupMembers: 25,
    // UserPoolResourceRead: 20/s per account, but at most 5/s per operation and user pool: GetGroup.
    findGroup: 5,
    // UserPoolResourceUpdate: 15/s per account, at most 5/s per operation and user pool: CreateGroup, DeleteGroup.
    createGroup: 5,
    deleteGroup: 5,
    // A rename is a CreateGroup, then the members moved at the pace of changeGroupMembers, then a DeleteGroup.
    renameGroup: 5,
    // UserList 30/s: ListUsers (a reconciliation page) and ListUsersInGroup.
    listUsers: 30,
    listGroupMembers: 30,
    // UserPoolResourceRead: at most 5/s per operation and user pool: ListGroups.
    listGroups: 5,
    // UserPoolRead 15/s: DescribeUserPool.
    probe: 15,
  };
  private readonly userPoolId: string;
  private readonly memberRequests: RateLimiter;

  constructor(
    private readonly config: CognitoConnectorSettings,
    private readonly client: CognitoIdentityProviderClient,
    options: CognitoConnectorOptions = {},
  ) {
    this.id = config.id;
    this.userPoolId = config.userPoolId;
    this.memberRequests = new RateLimiter(options.memberRequestsPerSecond ?? USER_UPDATE_RATE);
  }

  /** Sends one request, turning whatever it throws into a classified ConnectorError. */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classifyCognitoError(error, `${this.id}: ${operation}`);
    }
  }

  /**
   * Like `call`, for requests where "it does not exist" is a plain answer or the wanted end
   * state: an error of one of the `absent` classes resolves to undefined. Only the class that
   * names the missing thing counts (UserNotFound for a user), so a missing user pool still fails.
   */
  private async callUnlessAbsent<T>(operation: string, absent: readonly SdkErrorClass[], run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(operation, run);
    } catch (error) {
      if (error instanceof ConnectorError && absent.some((errorClass) => error.cause instanceof errorClass)) return undefined;
      throw error;
    }
  }

  async probe(): Promise<void> {
    await this.call('DescribeUserPool', () => this.client.send(new DescribeUserPoolCommand({ UserPoolId: this.userPoolId })));
  }

  /** `username` is one AdminGetUser; any other attribute is a ListUsers filter, paged until a match. */
  async findUser(attribute: string, value: string): Promise<TargetAccount | undefined> {
    if (attribute === COGNITO_USERNAME) {
      const user = await this.callUnlessAbsent('AdminGetUser', [UserNotFoundException], () =>
        this.client.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: value })),
      );
      return user?.Username ? toAccount(user.Username, user.UserAttributes, user.Enabled) : undefined;
    }
    if (!FILTER_ATTRIBUTE.test(attribute)) {
      throw new ConnectorError('permanent', `${this.id}: "${attribute}" is not an attribute ListUsers can filter on`);
    }
    const filter = listUsersFilter(attribute, value);
    let token: string | undefined;
    do {
      const page = await this.call('ListUsers', () =>
        this.client.send(new ListUsersCommand({ UserPoolId: this.userPoolId, Filter: filter, Limit: LIST_USERS_PAGE_SIZE, PaginationToken: token })),
      );
      // A filtered page may be empty and still carry a token: the matches can be on a later page.
      const user = page.Users?.find((candidate) => candidate.Username);
      if (user?.Username) return toAccount(user.Username, user.Attributes, user.Enabled);
      token = page.PaginationToken;
    } while (token);
    return undefined;
  }

  /** The target id is the Username: one AdminGetUser. */
  getUser(targetId: string): Promise<TargetAccount | undefined> {
    return this.findUser(COGNITO_USERNAME, targetId);
  }

  /** ListUsers without a filter; the cursor is Cognito's PaginationToken. Pages hold at most 60 users. */
  async listUsers(request: PageRequest): Promise<Page<TargetAccount>> {
    const page = await this.call('ListUsers', () =>
      this.client.send(new ListUsersCommand({ UserPoolId: this.userPoolId, Limit: cognitoPageSize(request), PaginationToken: request.cursor })),
    );
    const items = (page.Users ?? []).flatMap((user) => (user.Username ? [toAccount(user.Username, user.Attributes, user.Enabled)] : []));
    return { items, ...(page.PaginationToken ? { next: page.PaginationToken } : {}) };
  }

  /** ListGroups; the cursor is Cognito's NextToken. A group the hub made names its hub group in its Description. */
  async listGroups(request: PageRequest): Promise<Page<TargetGroup>> {
    const page = await this.call('ListGroups', () =>
      this.client.send(new ListGroupsCommand({ UserPoolId: this.userPoolId, Limit: cognitoPageSize(request), NextToken: request.cursor })),
    );
    const items = (page.Groups ?? []).flatMap((group) => (group.GroupName ? [toGroup(group.GroupName, group.Description)] : []));
    return { items, ...(page.NextToken ? { next: page.NextToken } : {}) };
  }

  async listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>> {
    const page = await this.call('ListUsersInGroup', () =>
      this.client.send(
        new ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: targetGroupId, Limit: cognitoPageSize(request), NextToken: request.cursor }),
      ),
    );
    const items = (page.Users ?? []).flatMap((user) => (user.Username ? [user.Username] : []));
    return { items, ...(page.NextToken ? { next: page.NextToken } : {}) };
  }

  async createUser(attributes: TargetAttributes): Promise<TargetAccount> {
    const username = attributes[COGNITO_USERNAME];
    if (typeof username !== 'string' || username === '') {
      throw new ConnectorError('permanent', `${this.id}: a Cognito user needs a "${COGNITO_USERNAME}": map a hub attribute to it`);
    }
    const userAttributes = toCognitoAttributes(attributes);
    const input: AdminCreateUserCommandInput = { UserPoolId: this.userPoolId, Username: username, UserAttributes: userAttributes };
    if (this.config.sendInvitation) {
      // Cognito's default medium is SMS: invite through whichever channel the user has.
      const mediums = (['email', 'phone_number'] as const).filter((name) => userAttributes.some((a) => a.Name === name));
      if (mediums.length > 0) input.DesiredDeliveryMediums = mediums.map((name) => (name === 'email' ? 'EMAIL' : 'SMS'));
    } else {
      input.MessageAction = 'SUPPRESS';
    }
    const created = await this.call('AdminCreateUser', () => this.client.send(new AdminCreateUserCommand(input)));
    // In a pool whose usernames are email addresses Cognito makes up the Username: use its answer.
    const id = created.User?.Username ?? username;
    const inactive = attributes[COGNITO_ACTIVE] === false;
    if (inactive) await this.setEnabled(id, false);
    return toAccount(id, created.User?.Attributes ?? userAttributes, !inactive);
  }

  /**
   * Sends only what changed: AdminUpdateUserAttributes for `set`, AdminDeleteUserAttributes for
   * `unset`, and AdminEnableUser / AdminDisableUser when `active` changed. A changed `username`
   * is not sent: Cognito usernames cannot be renamed, so the account keeps its id.
   */
  async updateUser(targetId: string, change: AttributeChange): Promise<void> {
    const set = toCognitoAttributes(change.set);
    // A value mapped to nothing clears the attribute: Cognito cannot store an empty value.
    const cleared = Object.entries(change.set)
      .filter(([name, value]) => isUserAttribute(name) && (value === undefined || value === null))
      .map(([name]) => name);
    const unset = [...new Set([...change.unset.filter(isUserAttribute), ...cleared])];
    if (set.length > 0) {
      await this.call('AdminUpdateUserAttributes', () =>
        this.client.send(new AdminUpdateUserAttributesCommand({ UserPoolId: this.userPoolId, Username: targetId, UserAttributes: set })),
      );
    }
    if (unset.length > 0) {
      await this.call('AdminDeleteUserAttributes', () =>
        this.client.send(new AdminDeleteUserAttributesCommand({ UserPoolId: this.userPoolId, Username: targetId, UserAttributeNames: unset })),
      );
    }
    const active = change.set[COGNITO_ACTIVE];
    if (typeof active === 'boolean') await this.setEnabled(targetId, active);
  }

  async disableUser(targetId: string): Promise<void> {
    await this.setEnabled(targetId, false);
  }

  /** Deleting a user that is already gone succeeds. */
  async deleteUser(targetId: string): Promise<void> {
    await this.callUnlessAbsent('AdminDeleteUser', [UserNotFoundException], () =>
      this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: targetId })),
    );
  }

  /** A Cognito group's id is its GroupName; a mapping's target name is a GroupName too. */
  async findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined> {
    const name = 'id' in by ? by.id : by.displayName;
    if (name.length > GROUP_NAME_MAX_LENGTH || !GROUP_NAME_VALID.test(name)) return undefined;
    const found = await this.callUnlessAbsent('GetGroup', [ResourceNotFoundException], () =>
      this.client.send(new GetGroupCommand({ UserPoolId: this.userPoolId, GroupName: name })),
    );
    const groupName = found?.Group?.GroupName;
    return groupName ? toGroup(groupName, found?.Group?.Description) : undefined;
  }

  /**
   * Makes the group named by cognitoGroupName. Idempotent for the hub's own group (an earlier
   * attempt, recognised by its Description); a group of that name the hub did not make is a
   * `conflict`: it is never adopted silently.
   */
  async createGroup(displayName: string, externalId: string): Promise<TargetGroup> {
    const name = cognitoGroupName(displayName, externalId);
    if (name === '') throw new ConnectorError('permanent', `${this.id}: group "${displayName}" has no characters a Cognito group name allows`);
    const ours = (group: TargetGroup | undefined) => {
      if (group?.externalId !== externalId) {
        throw new ConnectorError('conflict', `${this.id}: a group named ${name} exists in the pool and was not made for hub group ${externalId}`);
      }
      return group;
    };
    try {
      await this.call('CreateGroup', () =>
        this.client.send(new CreateGroupCommand({ UserPoolId: this.userPoolId, GroupName: name, Description: groupDescription(externalId) })),
      );
    } catch (error) {
      if (!(error instanceof ConnectorError && error.cause instanceof GroupExistsException)) throw error;
      return ours(await this.findGroup({ id: name }));
    }
    return { id: name, displayName: name, externalId };
  }

  /**
   * Cognito group names are their ids and cannot change. Renaming is therefore: create the
   * group of the new name, add every member of the old group to it (ListUsersInGroup, paced at
   * the UserUpdate rate), then delete the old group. Each step is idempotent, so a rename that
   * failed part-way is completed by the retry. Access granted through the old group's name (an
   * IAM role mapping, an app reading `cognito:groups`) must follow the new name.
   */
  async renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup> {
    const renamed = await this.createGroup(displayName, externalId);
    if (renamed.id === targetId) return renamed;
    let token: string | undefined;
    do {
      const page = await this.callUnlessAbsent('ListUsersInGroup', [ResourceNotFoundException], () =>
        this.client.send(new ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: targetId, Limit: LIST_USERS_PAGE_SIZE, NextToken: token })),
      );
      const usernames = (page?.Users ?? []).flatMap((user) => (user.Username ? [user.Username] : []));
      await this.changeGroupMembers(renamed.id, { add: usernames, remove: [] });
      token = page?.NextToken;
    } while (token);
    await this.deleteGroup(targetId);
    return renamed;
  }

  /** Deleting a group that is already gone succeeds. */
  async deleteGroup(targetId: string): Promise<void> {
    await this.callUnlessAbsent('DeleteGroup', [ResourceNotFoundException], () =>
      this.client.send(new DeleteGroupCommand({ UserPoolId: this.userPoolId, GroupName: targetId })),
    );
  }

  /**
   * One AdminAddUserToGroup or AdminRemoveUserFromGroup per member, in order, paced to the
   * UserUpdate rate. Both are idempotent in Cognito, so a retry of the whole delta after a
   * failure part-way is safe. Removing a member that (or whose group) is gone succeeds.
   */
  async changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void> {
    for (const username of delta.add) {
      await this.memberRequests.acquire();
      await this.call('AdminAddUserToGroup', () =>
        this.client.send(new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, GroupName: targetGroupId, Username: username })),
      );
    }
    for (const username of delta.remove) {
      await this.memberRequests.acquire();
      await this.callUnlessAbsent('AdminRemoveUserFromGroup', [UserNotFoundException, ResourceNotFoundException], () =>
        this.client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: this.userPoolId, GroupName: targetGroupId, Username: username })),
      );
    }
  }

  private async setEnabled(username: string, enabled: boolean): Promise<void> {
    if (enabled) {
      await this.call('AdminEnableUser', () => this.client.send(new AdminEnableUserCommand({ UserPoolId: this.userPoolId, Username: username })));
    } else {
      await this.call('AdminDisableUser', () => this.client.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: username })));
    }
  }
}

/**
 * The connector with its SDK client, built once per container: region from the connector's
 * entry, its endpoint when set (cognito-local), credentials from the default provider chain.
 * The client does not retry (`maxAttempts: 1`): the shared resilience layer and the queue own
 * retries, and SDK retries underneath would multiply every attempt by three.
 */
export const createCognitoConnector = (config: CognitoConnectorConfig): CognitoConnector =>
  new CognitoConnector(
    config,
    new CognitoIdentityProviderClient({ region: config.region, maxAttempts: 1, ...(config.endpoint ? { endpoint: config.endpoint } : {}) }),
  );
