import { AppError } from '../errors.ts';
import type { TargetAttributes } from '../connectors/connector.port.ts';

export type SyncTrigger = 'realtime' | 'schedule' | 'on-demand' | 'import';
export type LinkKind = 'user' | 'group' | 'membership';

/**
 * What the hub last pushed for one resource to one connector: the target's id and the mapped
 * attributes, so the next change sends only what differs and a redelivery sends nothing.
 */
export interface Link {
  connectorId: string;
  kind: LinkKind;
  /** Hub id; for a membership `<groupId>#<memberId>`. */
  hubId: string;
  targetId: string;
  status: 'active' | 'disabled';
  pushed: TargetAttributes;
  hash: string;
  /** How the link was made: the hub created the account, matched an existing one, or a group mapping. */
  origin: 'created' | 'matched' | 'mapped';
  updated: string;
  /**
   * The store's version of the link, raised by every write: a link rewritten or deleted from a
   * read carries the version it read, and the store refuses the write (LinkConflictError) when
   * another writer changed the link since. Absent on a link not read from the store.
   */
  version?: number;
  /** userName or displayName of the hub resource when the link was written: names it after the hub deleted it. */
  name?: string;
}

/**
 * The link changed since it was read (another worker wrote it: a real-time change, a
 * reconciliation page, an on-demand request), or a new link found one to another target:
 * writing would lose the newer state. Nothing was written; plan again from a fresh read.
 */
export class LinkConflictError extends AppError {
  constructor(link: Pick<Link, 'connectorId' | 'kind' | 'hubId'>) {
    super('sync.linkConflict', `the ${link.kind} link of ${link.hubId} on ${link.connectorId} changed since it was read`, { retryable: true });
  }
}

/**
 * A target account or group is already linked to another hub resource: linking it again would
 * hand one person's account to another. Nothing was written.
 */
export class LinkCollisionError extends AppError {
  constructor(
    readonly link: Pick<Link, 'connectorId' | 'kind' | 'hubId' | 'targetId'>,
    /** The hub id the target is linked to already. */
    readonly ownerHubId: string,
  ) {
    super('sync.linkCollision', `${link.kind} ${link.targetId} on ${link.connectorId} is linked to hub ${link.kind} ${ownerHubId}, not ${link.hubId}`);
  }
}

/** Link kinds whose target id belongs to one hub resource only, so they keep a reverse index. */
export const OWNED_LINK_KINDS: ReadonlySet<LinkKind> = new Set(['user', 'group']);

/** A link's place in the map `LinkStore.getMany` answers. */
export const linkRef = (kind: LinkKind, hubId: string): string => `${kind}#${hubId}`;

export interface LinkStore {
  get(connectorId: string, kind: LinkKind, hubId: string): Promise<Link | undefined>;
  /**
   * The links of several hub resources of one connector in one read (batched): the links that
   * exist, keyed by `linkRef(kind, hubId)`. A group's membership delta reads every link it needs
   * this way instead of two reads per member.
   */
  getMany(connectorId: string, refs: Array<{ kind: LinkKind; hubId: string }>): Promise<Map<string, Link>>;
  /** The hub id a target id is linked to (users and groups only). */
  ownerOf(connectorId: string, kind: LinkKind, targetId: string): Promise<string | undefined>;
  /**
   * Writes the link and, for users and groups, its reverse (target id -> hub id) in one
   * transaction; rejects with LinkCollisionError, writing nothing, when the target id is linked
   * to another hub id. `replaces` is the link being rewritten, so a changed target id (a
   * re-created group) releases the old reverse entry in the same transaction.
   *
   * Optimistic: a link with a `version` (rewritten from a read) is written only while the store
   * still holds that version; a link without one (new) only while the store holds none, or one
   * to the same target id (a repeated write). Otherwise rejects with LinkConflictError.
   */
  put(link: Link, replaces?: Link): Promise<void>;
  /**
   * Deletes the link and its reverse in one transaction; a link with a `version` only while the
   * store still holds that version (else LinkConflictError).
   */
  delete(link: Link): Promise<void>;
}

/**
 * A collision (a target account already linked to another hub user) is recorded as action
 * `collision` with status `skipped`: nothing was changed, like every other skip, and the status
 * set the admin API filters on and the Operations metric counts stays closed. Operators find
 * collisions by action, and `collidesWith` names the other hub id.
 */
export type AuditStatus = 'success' | 'failed' | 'skipped' | 'retrying' | 'dead-lettered';

/** One operation of the sync engine, as operators read it in the reporting dashboard. */
export interface AuditEntry {
  time: string;
  connectorId: string;
  resourceType: 'User' | 'Group' | 'Membership' | 'Connector';
  resourceId: string;
  /** userName or displayName, for people reading the report. */
  name?: string;
  trigger: SyncTrigger;
  /** The operator whose change this provisions (a change made in the console's directory). */
  actor?: string;
  action: string;
  status: AuditStatus;
  targetId?: string;
  steps: string[];
  changes?: Array<{ attribute: string; old?: unknown; new?: unknown }>;
  reason?: string;
  /** For a collision: the hub id the target account or group is linked to already. */
  collidesWith?: string;
  error?: { code: string; message: string };
  attempt?: number;
  /** Milliseconds from the hub change to the target applying it (real-time runs). */
  latencyMs?: number;
  /** The operator who asked for it (on-demand provisioning from the console or the admin API). */
  operator?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** The hub's current state, as the sync engine reads it. */
export interface HubReader {
  getUser(id: string): Promise<Record<string, unknown> | undefined>;
  getGroup(id: string): Promise<Record<string, unknown> | undefined>;
  groupIdsOf(userId: string): Promise<string[]>;
  /** Which of the ids are members of the group now. */
  membersAmong(groupId: string, memberIds: string[]): Promise<Set<string>>;
}
