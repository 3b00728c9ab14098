/**
 * The ports the directory's use cases talk to. `shared/store` implements them on DynamoDB;
 * tests may implement them in memory. Nothing here knows about DynamoDB.
 */

export type ResourceType = 'User' | 'Group';
export type ScimJson = Record<string, unknown>;

/**
 * Where a write came from when it was not a SCIM client: kept on the written item, so the table's
 * stream tells the fanout the change's trigger, and whether connectors hear of it at all (an
 * import with provisioning turned off). The next write without an origin drops it.
 */
export type WriteOrigin = ImportOrigin | OperatorOrigin;

/** A row of an import job. */
export interface ImportOrigin {
  trigger: 'import';
  jobId: string;
  /** False: no connector is told of this write (reconciliation still finds it). */
  provision: boolean;
}

/**
 * An operator's change in the console's directory: provisioned like any real-time change, and
 * the audit records of that provisioning name `actor` (the operator's identity as the admin
 * API's authorizer gave it).
 */
export interface OperatorOrigin {
  trigger: 'realtime';
  actor: string;
  provision: true;
}

/** A user or group as the hub keeps it: the client's attributes plus server-owned metadata. */
export interface ResourceRecord {
  id: string;
  resourceType: ResourceType;
  /** Incremented on every change, including membership changes; the ETag is `W/"<version>"`. */
  version: number;
  created: string;
  lastModified: string;
  /** SCIM attributes without `id`, `meta`, `groups` and `members` (those are derived). */
  data: ScimJson;
  /** scrypt hash of a password sent on create or PUT; never returned. */
  passwordHash?: string;
  /** Groups only: the number of members, kept with every membership change. */
  memberCount?: number;
  /** The origin of the write that made this version, when it was not a SCIM client. */
  origin?: WriteOrigin;
  /**
   * Groups created with members: a fingerprint of the create request, set until all its members
   * are written. The same request sent again (after a create that died half-way) finds it and
   * completes the members instead of failing on the taken displayName.
   */
  pendingMembers?: string;
}

/** A value that must be unique per resource type (RFC 7643 `uniqueness: server`). */
export interface UniqueKey {
  attribute: 'userName' | 'displayName';
  /** Already normalised: lowercased where the attribute is case-insensitive. */
  value: string;
}

/**
 * What a record's secondary lookups are: its unique keys, (users) its email addresses and its
 * externalId. externalId is not unique: RFC 7643 section 3.1 scopes it to the provisioning
 * client, so several resources of a type may carry the same one.
 */
export interface RecordIndexes {
  uniques: UniqueKey[];
  emails: string[];
  externalId?: string;
}

export interface Member {
  value: string;
  type: ResourceType;
}

export interface Page<T> {
  items: T[];
  /** Opaque; undefined on the last page. */
  next: string | undefined;
}

export interface MembershipChange {
  add: Member[];
  remove: string[];
}

export interface MembershipChangeOptions {
  expectedVersion?: number;
  lastModified: string;
  /** Stamped on the added membership items and the group (see WriteOrigin). */
  origin?: WriteOrigin;
}

export interface DirectoryStore {
  get(type: ResourceType, id: string): Promise<ResourceRecord | undefined>;
  getMany(type: ResourceType, ids: string[]): Promise<ResourceRecord[]>;
  /** Writes the record and its indexes atomically; a taken unique key raises UniquenessConflict. */
  create(record: ResourceRecord, indexes: RecordIndexes): Promise<void>;
  /**
   * Replaces the record if its stored version is still `expectedVersion`, moving its indexes
   * from `before` to `after` in the same transaction.
   */
  replace(record: ResourceRecord, expectedVersion: number, before: RecordIndexes, after: RecordIndexes): Promise<void>;
  /**
   * Deletes the record and its indexes atomically, then removes it from the groups it is a
   * member of. A group's own memberships (any number) are left to the deletion drain: from the
   * delete on, the group is gone to every read, and its name is free.
   */
  delete(record: ResourceRecord, indexes: RecordIndexes): Promise<void>;
  /** Clears a created group's `pendingMembers` once all its members are written (idempotent). */
  completeCreate(type: ResourceType, id: string): Promise<void>;
  findIdByUnique(type: ResourceType, key: UniqueKey): Promise<string | undefined>;
  /**
   * The owners of many values of one unique attribute, read together (a bulk import's lookups):
   * value (already normalised) to id, for the values that are taken.
   */
  findIdsByUnique(type: ResourceType, attribute: UniqueKey['attribute'], values: string[]): Promise<Map<string, string>>;
  findUserIdsByEmail(email: string): Promise<string[]>;
  /** Every resource of the type with this externalId (exact match), in one bounded read. */
  findIdsByExternalId(type: ResourceType, externalId: string): Promise<string[]>;
  /** Records of a type in creation order. */
  list(type: ResourceType, options: { limit: number; cursor?: string }): Promise<Page<ResourceRecord>>;
  count(type: ResourceType): Promise<number>;
  /**
   * A page of the group's members from the cursor's position, at the cost of the page whatever
   * the group's size (what `groups.value eq "<id>"` pages through). With `type`, only members of
   * that type; a page may then hold fewer than `limit` and still have a next one.
   */
  members(groupId: string, options: { limit: number; cursor?: string; type?: ResourceType }): Promise<Page<Member>>;
  /** Which of `memberIds` are members of the group (one read per candidate, whatever the group's size). */
  membersAmong(groupId: string, memberIds: string[]): Promise<Set<string>>;
  groupIdsOf(memberId: string): Promise<string[]>;
  /**
   * Adds and removes members and bumps the group's version; `expectedVersion` guards
   * If-Match. Adding a member that is already there, or removing one that is not, is a no-op.
   * Returns the group as it is afterwards.
   */
  changeMembers(groupId: string, change: MembershipChange, options: MembershipChangeOptions): Promise<ResourceRecord>;
}

/** A deleted resource whose memberships are still being removed. */
export interface PendingDrain {
  resourceType: ResourceType;
  id: string;
  /** Where the removal of a group's members stands; undefined before the first page. */
  cursor?: string;
  /** When the drain last moved on (ISO time). */
  updated: string;
}

/**
 * What the deletion drain needs: every DELETE leaves a drain in the same transaction, and the
 * drain removes the memberships the resource had, a bounded page at a time, so a group of any
 * size is deleted in one transaction and its memberships go in the background.
 */
export interface DeletionDrainStore {
  /**
   * Deletes up to `limit` membership items of a deleted group from the cursor's position; `next`
   * is undefined once none are left. Deleting an item already gone is a no-op, so a page run
   * twice is harmless.
   */
  deleteMembersPage(groupId: string, options: { limit: number; cursor?: string }): Promise<{ removed: number; next: string | undefined }>;
  /** Removes the resource from every group it is still a member of, bumping those groups' versions and counts. */
  removeMemberships(memberId: string, lastModified: string): Promise<number>;
  /** Moves the drain on to `cursor`, unless it has moved since it was read (then false). */
  advanceDrain(drain: PendingDrain, cursor: string, updated: string): Promise<boolean>;
  finishDrain(drain: PendingDrain): Promise<void>;
  /** Drains that have not moved since `updatedBefore`, oldest first. */
  staleDrains(updatedBefore: string, limit: number): Promise<PendingDrain[]>;
  /** Touches a drain so its change starts the drain function again. */
  nudgeDrain(drain: PendingDrain, updated: string): Promise<void>;
}
