/**
 * The one interface every target app implements. The sync engine talks only to this; retry,
 * rate limiting and the circuit breaker are wrapped around it once (see resilient.connector.ts).
 *
 * User attributes cross this boundary as a flat map of target attribute paths to values, as the
 * connector's attribute mapping produced them (`{"userName": "ada", "name.givenName": "Ada"}`
 * for SCIM, `{"username": "ada", "given_name": "Ada"}` for Cognito). `active` is the account's
 * enabled state for every connector.
 */
export type TargetAttributes = Record<string, unknown>;

export interface TargetAccount {
  id: string;
  attributes: TargetAttributes;
}

export interface TargetGroup {
  id: string;
  displayName: string;
  /** The hub group id the target keeps for the group, when it keeps one (SCIM externalId, a Cognito description). */
  externalId?: string;
}

/** The minimal change to an account: attributes to set and attributes to clear. */
export interface AttributeChange {
  set: TargetAttributes;
  unset: string[];
}

export interface MembershipDelta {
  /** Target ids of accounts to add to the group. */
  add: string[];
  remove: string[];
}

/** One page of a listing: at most `pageSize` items, after `cursor` (absent: the first page). */
export interface PageRequest {
  pageSize: number;
  /** The `next` of the previous page, as the connector gave it: opaque to callers. */
  cursor?: string;
}

/** A page of a listing; `next` is absent on the last page. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** The connector operations the shared resilience layer meters and retries. */
export type ConnectorOperation =
  | 'findUser'
  | 'getUser'
  | 'createUser'
  | 'updateUser'
  | 'disableUser'
  | 'deleteUser'
  | 'findGroup'
  | 'createGroup'
  | 'renameGroup'
  | 'deleteGroup'
  | 'changeGroupMembers'
  | 'listUsers'
  | 'listGroups'
  | 'listGroupMembers'
  | 'probe';

export interface Connector {
  readonly id: string;
  /**
   * Requests per second per operation that the vendor publishes as its limits (e.g. Cognito:
   * AdminCreateUser 50/s, ListUsers 30/s). The connector's configured `rateLimit` caps them all.
   */
  readonly defaultRateLimits?: Partial<Record<ConnectorOperation, number>>;
  /** The first account whose `attribute` equals `value`, or undefined. */
  findUser(attribute: string, value: string): Promise<TargetAccount | undefined>;
  /**
   * The account with this target id as the target holds it now, in the vocabulary of
   * `listUsers`; undefined when the target holds none. On-demand provisioning plans against it,
   * so drift made on the target shows rather than what the hub last pushed.
   */
  getUser(targetId: string): Promise<TargetAccount | undefined>;
  createUser(attributes: TargetAttributes): Promise<TargetAccount>;
  /** `full` is the complete mapped state, for targets that can only replace (SCIM without PATCH). */
  updateUser(targetId: string, change: AttributeChange, full: TargetAttributes): Promise<void>;
  disableUser(targetId: string, full: TargetAttributes): Promise<void>;
  deleteUser(targetId: string): Promise<void>;
  findGroup(by: { id: string } | { displayName: string }): Promise<TargetGroup | undefined>;
  createGroup(displayName: string, externalId: string): Promise<TargetGroup>;
  /**
   * Gives a group the hub created a new name; returns the group as it is now. A target that can
   * rename in place keeps the id; one whose group names are ids (Cognito) makes the renamed
   * group anew, moves the members and deletes the old one, so the id changes.
   */
  renameGroup(targetId: string, displayName: string, externalId: string): Promise<TargetGroup>;
  deleteGroup(targetId: string): Promise<void>;
  /** Adds and removes members with as few requests as the target allows; never replaces the list. */
  changeGroupMembers(targetGroupId: string, delta: MembershipDelta): Promise<void>;
  /**
   * Every account on the target, a page at a time, in the attribute vocabulary of `findUser`
   * (reconciliation reads the target with these, never with one lookup per user). A page may
   * hold fewer than `pageSize` accounts when the target caps its pages lower.
   */
  listUsers(request: PageRequest): Promise<Page<TargetAccount>>;
  /** Every group on the target, a page at a time, without members. */
  listGroups(request: PageRequest): Promise<Page<TargetGroup>>;
  /** The target ids of one group's members, a page at a time. */
  listGroupMembers(targetGroupId: string, request: PageRequest): Promise<Page<string>>;
  /** A cheap call that proves the target answers (the circuit breaker's probe). */
  probe(): Promise<void>;
}

/** One group of a change round: its properties (when the source sent them) and the members added and removed in the round. */
export interface GroupChange extends Partial<TargetGroup> {
  id: string;
  membersAdded: string[];
  membersRemoved: string[];
}

/**
 * One page of a round of changes. A round without a cursor holds everything (the first round);
 * one started from a round's `deltaLink` holds only what changed since. Follow `next` until a
 * page carries `deltaLink`: where the next round starts.
 */
export interface ChangePage<T> {
  changed: T[];
  /** Ids of the items gone from the source since the round's start. */
  removed: string[];
  next?: string;
  deltaLink?: string;
}

/**
 * An optional ability of an inbound source: it tells what changed since a round (Microsoft
 * Graph's delta queries), so a reconciliation run reads only that. Changed items may carry only
 * the properties that changed; new ones come whole. A `deltaLink` the source no longer honours
 * rejects with ChangesExpiredError, and the caller starts a full round.
 */
export interface ChangeFeed {
  userChanges(cursor?: string): Promise<ChangePage<TargetAccount>>;
  groupChanges(cursor?: string): Promise<ChangePage<GroupChange>>;
}

export const hasChangeFeed = <C extends Connector>(connector: C): connector is C & ChangeFeed =>
  typeof (connector as Partial<ChangeFeed>).userChanges === 'function' && typeof (connector as Partial<ChangeFeed>).groupChanges === 'function';
