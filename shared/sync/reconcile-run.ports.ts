import type { TargetAttributes } from '../connectors/connector.port.ts';
import type { ChangeMessage } from './change-message.ts';
import type { HubGroupView } from './inbound-groups.ts';
import type { HubUserView, MatchQuery, ReconcileAction, Situation } from './reconcile-situations.ts';
import type { LinkStore } from './sync.ports.ts';

/**
 * The ports of a reconciliation run. A run is a chain of page messages on the reconcile queue
 * (one FIFO message group per run, so its pages never run at once); each page reads one page of
 * the target or the hub, classifies it, and moves the run record past the page on the condition
 * that it is still at that page. A page delivered twice finds the record moved and only passes
 * the chain on.
 */
export type RunState = 'planning' | 'awaiting-approval' | 'applying' | 'done' | 'failed' | 'cancelled';

/**
 * Where a run is: reading the target's accounts, the hub's users, an inbound source's groups with
 * their members (`sourceGroups`), the hub's groups (with their members on both sides, or, for an
 * inbound source, those linked to a source group no longer there), or applying its plan.
 */
export const RUN_PHASES = ['target', 'hub', 'sourceGroups', 'groups', 'apply'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export type RunTrigger = 'schedule' | 'on-demand';

/** How many items landed in each situation, and each action. */
export interface SituationCounters {
  situations: Partial<Record<Situation, number>>;
  actions: Partial<Record<ReconcileAction, number>>;
}

/**
 * Accounts (the deletion threshold's base) at the top; groups and the members that differ
 * between a hub group and its target group apart, so neither inflates the threshold.
 */
export interface RunCounters extends SituationCounters {
  groups?: SituationCounters;
  memberships?: SituationCounters;
}

export interface RunRecord {
  runId: string;
  connectorId: string;
  state: RunState;
  trigger: RunTrigger;
  /** Plan only: the run stops after planning and changes nothing. */
  dryRun: boolean;
  phase: RunPhase;
  /** The page of the phase the run is at (pages before it are done). */
  page: number;
  /** The phase's read position for `page`: a connector's list cursor or the hub's. */
  cursor?: string;
  /** Plan pages written (each holds the changes of one planning page that has any). */
  planPages: number;
  /** Accounts the target holds, counted over the target pages: the threshold's base. */
  targetAccounts: number;
  /** Groups an inbound source holds, counted over its group pages: the base of its groups' deletion threshold. */
  targetGroups?: number;
  counters: RunCounters;
  created: string;
  updated: string;
  finished?: string;
  /** Why the run stopped: awaiting approval, failed, rejected. */
  reason?: string;
  /** Who approved or rejected it, and when. */
  decision?: { by: string; at: string; approved: boolean };
  /** An operator asked for a full round: an inbound source's stored delta links are not followed. */
  full?: boolean;
  /** How an inbound source with a change feed (delta queries) was read: see inbound-feed.ts. */
  feed?: RunFeed;
}

/** One resource's round of an inbound source's change feed within a run. */
export interface FeedRound {
  /** `full`: every user or group (the first round, one asked for, or a fallback); `changes`: only what changed since `since`. */
  round: 'full' | 'changes';
  /** The stored delta link a `changes` round follows. */
  since?: string;
  /** What the source held when the stored link was taken: a `changes` round counts on from it (the deletion threshold's base). */
  base?: number;
  /** The delta link the round ended with: stored for the next run once this one is done. */
  deltaLink?: string;
  /** Why the round is full. */
  reason?: string;
}

export interface RunFeed {
  users: FeedRound;
  /** Absent until the run reaches the source's groups (a run that manages none never does). */
  groups?: FeedRound;
  /** The connector settings the run classified under (a hash): the stored links hold only while they stay the same. */
  settings: string;
}

/**
 * Where an inbound source's change feed stands: the delta links the connector's last run that
 * finished applying ended with. Only such a run replaces it, so a failed, rejected, cancelled or
 * dry run leaves it, and the next run reads those changes again.
 */
export interface FeedState {
  connectorId: string;
  users: string;
  groups?: string;
  /** Accounts and groups the source held after that run: the next changes round's deletion threshold base. */
  accounts: number;
  groupCount?: number;
  /** The connector settings the links were read under (see RunFeed). */
  settings: string;
  runId: string;
  /** The run's creation time: a state is never replaced by an older run's. */
  runCreated: string;
  updated: string;
}

export interface FeedStore {
  get(connectorId: string): Promise<FeedState | undefined>;
  /** Stores the state unless one of a run created later is stored already. */
  put(state: FeedState): Promise<void>;
}

/** One change of a run's plan: what the apply phase sends to the connector's lane. */
export interface PlannedChange {
  /** What the change is about: an account (the default), a group, or one member of a group. */
  kind?: 'user' | 'group' | 'membership';
  /** A membership's group (its member is `hubId`, or only `targetId` for an unmanaged member). */
  groupId?: string;
  /** An inbound membership's source group: its hub group is found by the group's link when applied. */
  sourceGroupId?: string;
  /** How an inbound group's link is made: a group mapping names it, or the source made the hub group. */
  origin?: 'mapped' | 'created';
  /** A group's name as the target held it (drift), or an orphan account's (its matching attribute). */
  observedName?: string;
  /** A member's place in the target group. */
  observedMember?: 'absent' | 'present';
  /** An inbound run's hub attributes to write: the user to create, or the drifted attributes. */
  values?: Record<string, unknown>;
  situation: Situation;
  action: ReconcileAction;
  hubId?: string;
  targetId?: string;
  reason: string;
  /** The target's values when the page read it (drift): the worker compares with these. */
  observed?: TargetAttributes;
  collidesWith?: string[];
}

export interface RunStore {
  /** Takes the connector's run lock for `runId`; false when another run holds it and has not expired. */
  acquireLock(connectorId: string, runId: string, expiresAt: number): Promise<boolean>;
  releaseLock(connectorId: string, runId: string): Promise<void>;
  create(run: RunRecord): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  list(options: { connectorId?: string; limit: number }): Promise<RunRecord[]>;
  /**
   * Writes `next` if the stored run is still in `expected.state` at `expected.phase` and
   * `expected.page`; false when it moved on (the page was done already, or the run was
   * cancelled). Exactly-once counters per page rest on this condition.
   */
  advance(expected: Pick<RunRecord, 'runId' | 'state' | 'phase' | 'page'>, next: RunRecord): Promise<boolean>;
  /** Stores one page of the plan (idempotent: the same page writes the same item). */
  putPlanPage(runId: string, page: number, changes: PlannedChange[]): Promise<void>;
  getPlanPage(runId: string, page: number): Promise<PlannedChange[]>;
  /** Marks hub users whose accounts a target page accounted for (idempotent). */
  markAccounted(runId: string, hubIds: string[]): Promise<void>;
  accountedAmong(runId: string, hubIds: string[]): Promise<Set<string>>;
}

/** A page of the run, as the reconcile queue carries it. */
export interface RunPageMessage {
  runId: string;
  connectorId: string;
  phase: RunPhase;
  page: number;
}

export interface RunPagesPort {
  /** Sends the page message; the same (run, phase, page) sent twice is one message (FIFO deduplication). */
  send(message: RunPageMessage): Promise<void>;
}

/** A change for the connector's lane, with a deduplication id derived from the run, page and resource. */
export interface LaneChange {
  message: ChangeMessage;
  deduplicationId: string;
}

export interface LanePort {
  enqueue(connectorId: string, changes: LaneChange[]): Promise<void>;
}

/** The hub as a run reads it. */
export interface ReconcileHub {
  /** A page of hub users in a stable order, with the ids of their groups when `withGroups`. */
  listUsers(options: { limit: number; cursor?: string; withGroups: boolean }): Promise<{ items: Array<{ id: string } & HubUserView>; next?: string }>;
  /** The users among `ids` that exist, with their groups when `withGroups`. */
  usersByIds(ids: string[], withGroups: boolean): Promise<Map<string, HubUserView>>;
  /** Ids of the hub users a matching query finds (by userName, id, externalId or email). */
  findUserIds(query: MatchQuery): Promise<string[]>;
  /** A page of hub groups in a stable order. */
  listGroups(options: { limit: number; cursor?: string }): Promise<{ items: Array<{ id: string; displayName: string }>; next?: string }>;
  /** The ids of one hub group's user members (every page of them). */
  groupMemberIds(groupId: string): Promise<string[]>;
  /** The groups among `ids` that exist, with their externalId. */
  groupsByIds(ids: string[]): Promise<Map<string, HubGroupView>>;
  /** The hub group holding a displayName (case-insensitive, the uniqueness rule), if any. */
  findGroupByName(displayName: string): Promise<HubGroupView | undefined>;
}

/** The links a run reads. */
export type ReconcileLinks = Pick<LinkStore, 'get' | 'getMany' | 'ownerOf'>;
