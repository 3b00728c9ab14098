import { AppError } from '../errors.ts';
import { ChangesExpiredError } from '../connectors/connector.errors.ts';
import { type ChangeFeed, type Connector, hasChangeFeed, type TargetAccount, type TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import type { ChangeMessage } from './change-message.ts';
import type {
  LaneChange,
  LanePort,
  PlannedChange,
  ReconcileHub,
  ReconcileLinks,
  SituationCounters,
  RunPageMessage,
  RunPagesPort,
  RunPhase,
  RunRecord,
  RunState,
  RunStore,
  RunTrigger,
  FeedStore,
  RunFeed,
} from './reconcile-run.ports.ts';
import {
  accountedHubIds,
  classifyHubPage,
  classifyTargetPage,
  DESTRUCTIVE_ACTIONS,
  exceedsDeletionThreshold,
  matchQueries,
  type ReconcileAction,
  admits,
  type HubUserView,
  reconcileSettingsOf,
  type Situation,
  type UserVerdict,
} from './reconcile-situations.ts';
import { classifyGroup, classifyMembers, type GroupVerdict, type MemberVerdict } from './reconcile-groups.ts';
import type { InboundApplier } from './inbound-apply.ts';
import { classifyInboundGone, classifyInboundPage, type InboundVerdict, inboundUserOf } from './inbound-situations.ts';
import {
  classifyInboundGroup,
  classifyInboundGroupGone,
  classifyInboundMembers,
  type InboundGroupVerdict,
  type InboundMemberVerdict,
  inboundMappingOf,
} from './inbound-groups.ts';
import { arrivingMark, feedStateOf } from './inbound-feed.ts';
import { linkOfTarget, makeInboundFeedPages } from './inbound-feed-pages.ts';
import { grantIsLive, groupInScope, mappingsOf } from './sync.planner.ts';
import type { GrantReader } from './grant.ports.ts';
import { scopeNeedsGroups, scopeRules } from './scope.ts';
import { type AuditLog, type Link, linkRef } from './sync.ports.ts';
import { referencedUserIds } from './user-references.ts';

/** A run for this connector is under way: runs never overlap. */
export class RunInProgressError extends AppError {
  constructor(readonly connectorId: string) {
    super('reconcile.runInProgress', `a reconciliation run of ${connectorId} is under way`);
  }
}

export class RunNotFoundError extends AppError {
  constructor(readonly runId: string) {
    super('reconcile.runNotFound', `no reconciliation run ${runId}`);
  }
}

/** An approval or rejection of a run that is not waiting for one. */
export class RunStateError extends AppError {
  constructor(
    readonly runId: string,
    readonly state: RunState,
    wanted: string,
  ) {
    super('reconcile.runState', `run ${runId} is ${state}: only a run awaiting approval can be ${wanted}`);
  }
}

export interface ReconcileDeps {
  runs: RunStore;
  pages: RunPagesPort;
  lane: LanePort;
  hub: ReconcileHub;
  links: ReconcileLinks;
  audit: AuditLog;
  clock: () => Date;
  newId: () => string;
  /** Writes an inbound source's changes to the hub; a run of an inbound connector fails without it. */
  inbound?: InboundApplier;
  /** Temporary access grants: a user a live grant admits outside the scope is not deprovisioned. */
  grants?: GrantReader;
  /** Inbound sources' delta links (see inbound-feed.ts); without it a source with a change feed is read by full listings. */
  feeds?: FeedStore;
  /** Accounts or hub users read per page. */
  pageSize?: number;
  /** How long a run's lock holds without a page moving it (a crashed chain frees its connector then). */
  lockTtlMs?: number;
}

const PAGE_SIZE = 100;
const LOCK_TTL_MS = 60 * 60_000;
/** Situations whose changes the apply phase sends (the rest are counted and reported only). */
const SENT_ACTIONS = new Set(['update', 'create', 'link', 'disable', 'delete', 'unlink', 'rename', 'add', 'remove']);

const add = <C extends SituationCounters>(counters: C | undefined, verdicts: ReadonlyArray<{ situation: Situation; action: ReconcileAction }>): C => {
  const next = { ...counters, situations: { ...counters?.situations }, actions: { ...counters?.actions } } as C;
  for (const v of verdicts) {
    next.situations[v.situation] = (next.situations[v.situation] ?? 0) + 1;
    next.actions[v.action] = (next.actions[v.action] ?? 0) + 1;
  }
  return next;
};

const destructiveCount = (counters: SituationCounters) => [...DESTRUCTIVE_ACTIONS].reduce((sum, action) => sum + (counters.actions[action] ?? 0), 0);

const planned = (v: UserVerdict | InboundVerdict): PlannedChange => ({
  situation: v.situation,
  action: v.action,
  reason: v.reason,
  ...(v.hubId !== undefined ? { hubId: v.hubId } : {}),
  ...(v.targetId !== undefined ? { targetId: v.targetId } : {}),
  ...('observed' in v && v.observed ? { observed: v.observed } : {}),
  ...(v.collidesWith ? { collidesWith: v.collidesWith } : {}),
  ...('values' in v && v.values ? { values: v.values } : {}),
  ...('observedName' in v && v.observedName ? { observedName: v.observedName } : {}),
});

const plannedGroup = (v: GroupVerdict): PlannedChange => ({
  kind: 'group',
  situation: v.situation,
  action: v.action,
  hubId: v.groupId,
  reason: v.reason,
  ...(v.targetId !== undefined ? { targetId: v.targetId } : {}),
  ...(v.observedName !== undefined ? { observedName: v.observedName } : {}),
});

const plannedMember = (v: MemberVerdict): PlannedChange => ({
  kind: 'membership',
  groupId: v.groupId,
  situation: v.situation,
  action: v.action,
  reason: v.reason,
  ...(v.hubId !== undefined ? { hubId: v.hubId } : {}),
  ...(v.targetId !== undefined ? { targetId: v.targetId } : {}),
  ...(v.observed ? { observedMember: v.observed } : {}),
});

const plannedInboundGroup = (v: InboundGroupVerdict): PlannedChange => ({
  kind: 'group',
  situation: v.situation,
  action: v.action,
  targetId: v.targetId,
  reason: v.reason,
  ...(v.hubId !== undefined ? { hubId: v.hubId } : {}),
  ...(v.values ? { values: v.values } : {}),
  ...(v.origin ? { origin: v.origin } : {}),
  ...(v.collidesWith ? { collidesWith: v.collidesWith } : {}),
});

const plannedInboundMember = (v: InboundMemberVerdict): PlannedChange => ({
  kind: 'membership',
  sourceGroupId: v.sourceGroupId,
  situation: v.situation,
  action: v.action,
  reason: v.reason,
  ...(v.groupId !== undefined ? { groupId: v.groupId } : {}),
  ...(v.hubId !== undefined ? { hubId: v.hubId } : {}),
  ...(v.targetId !== undefined ? { targetId: v.targetId } : {}),
});

/** Plan pages keep what an operator must see or the apply phase must send; in-sync pairs are counted only. */
const worthKeeping = (v: { action: ReconcileAction; situation: Situation }) => v.action !== 'none' || v.situation === 'collision';

/** Whether the connector manages any group, so a run compares groups and their members. */
const managesGroups = (config: ConnectorConfig) => config.scope.groups !== undefined || config.groups.provision || config.groups.mappings.length > 0;

/** The planning phase after `phase`, or undefined when planning is over. */
const nextPlanningPhase = (config: ConnectorConfig, phase: RunPhase, feed?: RunFeed): RunPhase | undefined => {
  // A changes round of a source's change feed names the users and groups it removed: no pass over the hub looks for them.
  const sourceGroups = config.groups.provision || config.groups.mappings.length > 0;
  if (phase === 'target' && feed?.users.round === 'changes') return sourceGroups ? 'sourceGroups' : undefined;
  if (phase === 'sourceGroups' && feed?.groups?.round === 'changes') return undefined;
  if (phase === 'target') return 'hub';
  // An inbound source gives the hub its groups too (unless `groups.provision` is off and no mapping names one):
  // its groups and members, then the hub groups linked to a source group no longer there.
  if (config.direction === 'inbound') {
    if (phase === 'hub' && sourceGroups) return 'sourceGroups';
    return phase === 'sourceGroups' ? 'groups' : undefined;
  }
  if (phase === 'hub' && managesGroups(config)) return 'groups';
  return undefined;
};

/** The lane change that carries out one planned change, or undefined for those only reported. */
export const laneChangeOf = (run: Pick<RunRecord, 'runId' | 'connectorId'>, page: number, change: PlannedChange): LaneChange | undefined => {
  if (!SENT_ACTIONS.has(change.action)) return undefined;
  const base = { connectorId: run.connectorId, trigger: 'schedule' as const, runId: run.runId };
  let message: ChangeMessage;
  if (change.kind === 'group' && change.hubId !== undefined) {
    const observed = change.situation === 'gone' ? 'absent' : change.observedName !== undefined ? { displayName: change.observedName } : undefined;
    message = { ...base, kind: 'group', id: change.hubId, ...(observed ? { observed } : {}) };
  } else if (change.kind === 'membership') {
    if (change.hubId === undefined || change.groupId === undefined) return undefined;
    message = {
      ...base,
      kind: 'membership',
      groupId: change.groupId,
      memberId: change.hubId,
      ...(change.observedMember ? { observed: change.observedMember } : {}),
    };
  } else if (change.hubId === undefined) {
    if ((change.action !== 'disable' && change.action !== 'delete') || change.targetId === undefined) return undefined;
    message = { ...base, kind: 'account', targetId: change.targetId, action: change.action, ...(change.observedName ? { name: change.observedName } : {}) };
  } else {
    const observed = change.situation === 'gone' ? 'absent' : change.observed;
    message = { ...base, kind: 'user', id: change.hubId, ...(observed ? { observed } : {}) };
  }
  // Derived from the run, the page and the resource: a page sent again within SQS's
  // deduplication window adds nothing, and the worker's state-based sync makes a later copy a no-op.
  const resource = change.kind === 'membership' ? `${change.groupId}#${change.hubId}` : (change.hubId ?? `account:${change.targetId}`);
  return { message, deduplicationId: `${run.runId}:${page}:${resource}`.slice(0, 128) };
};

/**
 * Reconciliation runs of one connector, distributed over page messages. Planning reads the
 * target's accounts a page at a time, then the hub's users (for those with no account), and
 * keeps every change in plan pages; a run whose disables and deletes pass the deletion
 * threshold then waits for an operator, any other goes on to apply, which sends the plan's
 * changes to the connector's FIFO lane (so they stay in order with real-time changes, and the
 * connector's rate limit bounds the run). A dry run stops after planning.
 */
export const makeReconciliation = (deps: ReconcileDeps) => {
  const pageSize = deps.pageSize ?? PAGE_SIZE;
  const now = () => deps.clock().toISOString();
  const lockUntil = () => deps.clock().getTime() + (deps.lockTtlMs ?? LOCK_TTL_MS);

  const recordRun = async (run: RunRecord, action: string, status: 'success' | 'skipped' | 'failed', reason: string, time = now()) => {
    await deps.audit.record({
      time,
      connectorId: run.connectorId,
      resourceType: 'Connector',
      resourceId: run.connectorId,
      name: run.connectorId,
      trigger: run.trigger === 'schedule' ? 'schedule' : 'on-demand',
      action,
      status,
      steps: [`run ${run.runId}`],
      reason,
    });
  };

  /** Starts a run; rejects with RunInProgressError while another run of the connector holds its lock. */
  const start = async (config: Pick<ConnectorConfig, 'id'>, options: { trigger: RunTrigger; dryRun: boolean; full?: boolean }): Promise<RunRecord> => {
    const runId = deps.newId();
    if (!(await deps.runs.acquireLock(config.id, runId, lockUntil()))) throw new RunInProgressError(config.id);
    const time = now();
    const run: RunRecord = {
      runId,
      connectorId: config.id,
      state: 'planning',
      trigger: options.trigger,
      dryRun: options.dryRun,
      phase: 'target',
      page: 0,
      planPages: 0,
      targetAccounts: 0,
      counters: { situations: {}, actions: {} },
      created: time,
      updated: time,
      ...(options.full ? { full: true } : {}),
    };
    await deps.runs.create(run);
    await deps.pages.send({ runId, connectorId: config.id, phase: 'target', page: 0 });
    return run;
  };

  /** Moves the run past its page; on a lost race (a re-delivered page) says so, and the caller only passes the chain on. */
  const advance = async (run: RunRecord, next: Partial<RunRecord>): Promise<RunRecord | undefined> => {
    const moved: RunRecord = { ...run, ...next, updated: now() };
    if (!('cursor' in next)) delete moved.cursor;
    return (await deps.runs.advance(run, moved)) ? moved : undefined;
  };

  /** The page message that follows the stored run (sent again after a re-delivery: SQS drops the duplicate). */
  const continueFrom = async (run: RunRecord) => {
    if (run.state === 'planning' || run.state === 'applying')
      await deps.pages.send({ runId: run.runId, connectorId: run.connectorId, phase: run.phase, page: run.page });
  };

  const finishPlanning = async (config: ConnectorConfig, run: RunRecord): Promise<Partial<RunRecord>> => {
    const destructive = destructiveCount(run.counters);
    if (run.dryRun) return { state: 'done', finished: now(), reason: 'dry run: planned only' };
    if (run.planPages === 0) return { state: 'done', finished: now(), reason: 'nothing to change' };
    const { percent, minimum } = reconcileSettingsOf(config).deletionThreshold;
    if (exceedsDeletionThreshold(reconcileSettingsOf(config), destructive, run.targetAccounts)) {
      return {
        state: 'awaiting-approval',
        reason: `would disable or delete ${destructive} of ${run.targetAccounts} accounts, over the threshold (${percent}%, at least ${minimum}): waiting for approval`,
      };
    }
    // An inbound source's groups: deleting the hub groups it made counts against the groups it holds.
    const groupDeletes = config.direction === 'inbound' && run.counters.groups ? destructiveCount(run.counters.groups) : 0;
    if (groupDeletes > 0 && exceedsDeletionThreshold(reconcileSettingsOf(config), groupDeletes, run.targetGroups ?? 0)) {
      return {
        state: 'awaiting-approval',
        reason: `would delete ${groupDeletes} hub groups of the ${run.targetGroups ?? 0} the source holds, over the threshold (${percent}%, at least ${minimum}): waiting for approval`,
      };
    }
    return { state: 'applying', phase: 'apply', page: 0 };
  };

  /**
   * The end of a finished run: its source's delta links stored (only a run that applied its plan
   * moves them on; any other leaves the changes for the next), its lock freed, its audit record.
   * Each step can be done again and changes nothing the second time (the record's time is the
   * run's end, so it is the same record), so the page message delivered again after a crash
   * between them finishes what was left.
   */
  const finish = async (run: RunRecord) => {
    const ended = run.finished ?? run.updated;
    const feed = feedStateOf(run, ended);
    if (feed) await deps.feeds?.put(feed);
    await deps.runs.releaseLock(run.connectorId, run.runId);
    await recordRun(run, 'reconcile', run.state === 'done' ? 'success' : 'failed', run.reason ?? 'done', ended);
  };

  /** After the run moved: its next page, or the end of its chain. */
  const afterAdvance = async (run: RunRecord) => {
    if (run.state === 'awaiting-approval') await recordRun(run, 'awaiting-approval', 'skipped', run.reason ?? '');
    if (run.state === 'done' || run.state === 'failed') await finish(run);
    await continueFrom(run);
  };

  const classifyTarget = async (config: ConnectorConfig, connector: Connector, run: RunRecord) => {
    const page = await connector.listUsers({ pageSize, ...(run.cursor ? { cursor: run.cursor } : {}) });
    const owners = new Map<string, string>();
    await Promise.all(
      page.items.map(async (account) => {
        const owner = await deps.links.ownerOf(config.id, 'user', account.id);
        if (owner !== undefined) owners.set(account.id, owner);
      }),
    );
    const candidates = new Map<string, string[]>();
    await Promise.all(
      page.items
        .filter((account) => !owners.has(account.id))
        .map(async (account) => {
          const found = await Promise.all(matchQueries(config, account).map((query) => deps.hub.findUserIds(query)));
          if (found.flat().length > 0) candidates.set(account.id, [...new Set(found.flat())]);
        }),
    );
    const hubIds = [...new Set([...owners.values(), ...[...candidates.values()].flat()])];
    const users = await withGrants(config, await deps.hub.usersByIds(hubIds, scopeNeedsGroups(config)));
    // The owners' references (their managers) are compared as the target's ids, so their links are read too.
    const referenced = [...users].flatMap(([hubId, view]) => referencedUserIds(view.user, hubId, mappingsOf(config)));
    const links = new Map<string, Link>();
    await Promise.all(
      [...new Set([...hubIds, ...referenced])].map(async (hubId) => {
        const link = await deps.links.get(config.id, 'user', hubId);
        if (link) links.set(hubId, link);
      }),
    );
    const verdicts = classifyTargetPage(config, { accounts: page.items, owners, links, users, candidates });
    return { verdicts, next: page.next, accounts: page.items.length };
  };

  /** A page of an inbound source's accounts, against the hub users they are linked to or share a userName with. */
  const classifyInbound = async (config: ConnectorConfig, connector: Connector, run: RunRecord) => {
    const page = await connector.listUsers({ pageSize, ...(run.cursor ? { cursor: run.cursor } : {}) });
    return { verdicts: await classifyInboundAccounts(config, page.items), next: page.next, accounts: page.items.length };
  };

  /** Source accounts against the hub users they are linked to or share a userName with (`partial`: a change feed's, see InboundPageFacts). */
  const classifyInboundAccounts = async (config: ConnectorConfig, accounts: TargetAccount[], partial = false) => {
    const owners = new Map<string, string>();
    const candidates = new Map<string, string[]>();
    await Promise.all(
      accounts.map(async (account) => {
        const owner = await deps.links.ownerOf(config.id, 'user', account.id);
        if (owner !== undefined) return void owners.set(account.id, owner);
        const userName = inboundUserOf(config, account).userName;
        if (typeof userName === 'string')
          candidates.set(account.id, await deps.hub.findUserIds({ targetAttribute: 'userName', hubAttribute: 'userName', value: userName }));
      }),
    );
    const views = await deps.hub.usersByIds([...new Set([...owners.values(), ...[...candidates.values()].flat()])], false);
    const users = new Map([...views].map(([id, view]) => [id, view.user]));
    return classifyInboundPage(config, { accounts, owners, users, candidates, ...(partial ? { partial } : {}) });
  };

  const classifyHub = async (config: ConnectorConfig, run: RunRecord) => {
    const page = await deps.hub.listUsers({ limit: pageSize, ...(run.cursor ? { cursor: run.cursor } : {}), withGroups: scopeNeedsGroups(config) });
    const ids = page.items.map((u) => u.id);
    const accounted = await deps.runs.accountedAmong(run.runId, ids);
    const links = new Map<string, Link>();
    await Promise.all(
      ids
        .filter((id) => !accounted.has(id))
        .map(async (id) => {
          const link = await deps.links.get(config.id, 'user', id);
          if (link) links.set(id, link);
        }),
    );
    if (config.direction === 'inbound') return { verdicts: classifyInboundGone(config, { users: page.items, links, accounted }), next: page.next };
    const unaccounted = new Map(page.items.filter((u) => !accounted.has(u.id)).map((u) => [u.id, { ...u }]));
    await withGrants(config, unaccounted);
    const users = page.items.map((u) => unaccounted.get(u.id) ?? u);
    return { verdicts: classifyHubPage(config, { users, links, accounted }), next: page.next };
  };

  /**
   * Marks the users a live temporary grant admits outside the scope. Grants are read only for
   * users the scope rules leave out, so a run whose users are all in scope reads none.
   */
  const withGrants = async <M extends Map<string, HubUserView>>(config: ConnectorConfig, views: M): Promise<M> => {
    const grants = deps.grants;
    if (!grants) return views;
    await Promise.all(
      [...views].map(async ([hubId, view]) => {
        if (scopeRules(config, view.user, view.groupIds).ok) return;
        const grant = await grants.get(config.id, hubId);
        if (grantIsLive(grant, deps.clock())) view.grantedUntil = grant.expiresAt;
      }),
    );
    return views;
  };

  /** Every page of a listing on the target. */
  const readAll = async <T>(list: (request: { pageSize: number; cursor?: string }) => Promise<{ items: T[]; next?: string }>): Promise<T[]> => {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ pageSize, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return items;
  };

  /**
   * One group's members on both sides. The hub members' own links say which target members
   * are theirs; only the target members left over (drift) cost a reverse-index read each.
   */
  const classifyGroupMembers = async (config: ConnectorConfig, connector: Connector, groupId: string, targetGroupId: string | undefined) => {
    const [hubMembers, targetMembers] = await Promise.all([
      deps.hub.groupMemberIds(groupId),
      targetGroupId ? readAll((request) => connector.listGroupMembers(targetGroupId, request)) : Promise.resolve([] as string[]),
    ]);
    const found =
      hubMembers.length > 0
        ? await deps.links.getMany(
            config.id,
            hubMembers.map((hubId) => ({ kind: 'user' as const, hubId })),
          )
        : new Map();
    const userLinks = new Map<string, Link>(
      hubMembers.flatMap((hubId) => (found.has(linkRef('user', hubId)) ? [[hubId, found.get(linkRef('user', hubId))]] : [])),
    );
    const owners = new Map([...userLinks].map(([hubId, link]) => [link.targetId, hubId]));
    await Promise.all(
      targetMembers
        .filter((targetId) => !owners.has(targetId))
        .map(async (targetId) => {
          const owner = await deps.links.ownerOf(config.id, 'user', targetId);
          if (owner !== undefined) owners.set(targetId, owner);
        }),
    );
    // Members with no account yet: the worker provisions those the scope admits, then adds them.
    const unlinked = hubMembers.filter((hubId) => !userLinks.has(hubId));
    const views = await withGrants(config, await deps.hub.usersByIds(unlinked, scopeNeedsGroups(config)));
    const toProvision = unlinked.filter((hubId) => {
      const view = views.get(hubId);
      return view !== undefined && view.user.active !== false && admits(config, view);
    });
    return classifyMembers({ groupId, hubMembers, userLinks, targetMembers, owners, toProvision });
  };

  /** A page of hub groups: each group the connector manages or has linked, and the members of those it keeps. */
  const classifyGroups = async (config: ConnectorConfig, connector: Connector, run: RunRecord) => {
    const page = await deps.hub.listGroups({ limit: pageSize, ...(run.cursor ? { cursor: run.cursor } : {}) });
    const links =
      page.items.length > 0
        ? await deps.links.getMany(
            config.id,
            page.items.map((g) => ({ kind: 'group' as const, hubId: g.id })),
          )
        : new Map();
    const results = await Promise.all(
      page.items.map(async (group) => {
        const link: Link | undefined = links.get(linkRef('group', group.id));
        const inScope = groupInScope(config, group.id);
        if (!inScope && !link) return { groups: [] as GroupVerdict[], members: [] as MemberVerdict[] };
        const target = link && inScope ? await connector.findGroup({ id: link.targetId }) : undefined;
        const verdict = classifyGroup(config, { groupId: group.id, displayName: group.displayName, ...(link ? { link } : {}), ...(target ? { target } : {}) });
        // An out-of-scope group's members go with it; a group that will not be on the target has none to compare.
        const onTarget = target !== undefined || verdict.action === 'create' || verdict.action === 'link';
        const members = inScope && onTarget ? await classifyGroupMembers(config, connector, group.id, target?.id) : [];
        return { groups: [verdict], members };
      }),
    );
    return { groups: results.flatMap((r) => r.groups), members: results.flatMap((r) => r.members), next: page.next };
  };

  /**
   * A page of an inbound source's groups: each against the hub group it is linked to, that a
   * group mapping names, or that holds its name; and the members of those the hub keeps.
   */
  const classifySourceGroups = async (config: ConnectorConfig, connector: Connector, run: RunRecord) => {
    const page = await connector.listGroups({ pageSize, ...(run.cursor ? { cursor: run.cursor } : {}) });
    return { ...(await classifySourceGroupList(config, connector, run, page.items)), next: page.next, sourceGroups: page.items.length };
  };

  /** One source group against the hub group it is linked to, that a group mapping names, or that holds its name. */
  const sourceGroupVerdict = async (config: ConnectorConfig, source: TargetGroup) => {
    const link = await linkOfTarget(deps.links, config.id, 'group', source.id);
    const mapping = link ? undefined : inboundMappingOf(config, source);
    const known = await deps.hub.groupsByIds([...(link ? [link.hubId] : []), ...(mapping ? [mapping.hubGroup] : [])]);
    const sameName = link || mapping ? undefined : await deps.hub.findGroupByName(source.displayName);
    const linked = link ? known.get(link.hubId) : undefined;
    const mapped = mapping ? known.get(mapping.hubGroup) : undefined;
    return classifyInboundGroup(config, {
      source,
      ...(link ? { link } : {}),
      ...(linked ? { linked } : {}),
      ...(mapped ? { mapped } : {}),
      ...(sameName ? { sameName } : {}),
    });
  };

  /** Source groups with their members; marks the hub groups they account for. */
  const classifySourceGroupList = async (config: ConnectorConfig, connector: Connector, run: RunRecord, groups: TargetGroup[]) => {
    const results = await Promise.all(
      groups.map(async (source) => {
        const verdict = await sourceGroupVerdict(config, source);
        // Members are compared for every group the hub keeps for the source after this run.
        const kept = verdict.situation === 'inSync' || ['rename', 'link', 'create'].includes(verdict.action);
        const members = kept ? await classifySourceMembers(config, connector, run, source.id, verdict.action === 'create' ? undefined : verdict.hubId) : [];
        return { verdict, members };
      }),
    );
    const verdicts = results.map((r) => r.verdict);
    // The hub groups the source still holds: the `groups` phase leaves them be.
    await deps.runs.markAccounted(
      run.runId,
      verdicts.flatMap((v) => (v.hubId !== undefined && v.situation !== 'collision' ? [v.hubId] : [])),
    );
    return { groups: verdicts, members: results.flatMap((r) => r.members) };
  };

  /** One source group's members against its hub group's: source account ids become hub users by their links. */
  const classifySourceMembers = async (config: ConnectorConfig, connector: Connector, run: RunRecord, sourceGroupId: string, groupId: string | undefined) => {
    const [sourceMembers, hubMembers] = await Promise.all([
      readAll((request) => connector.listGroupMembers(sourceGroupId, request)),
      groupId ? deps.hub.groupMemberIds(groupId) : Promise.resolve([] as string[]),
    ]);
    const owners = new Map<string, string>();
    await Promise.all(
      sourceMembers.map(async (targetId) => {
        const owner = await deps.links.ownerOf(config.id, 'user', targetId);
        if (owner !== undefined) owners.set(targetId, owner);
      }),
    );
    const unowned = sourceMembers.filter((id) => !owners.has(id));
    const marked = unowned.length > 0 ? await deps.runs.accountedAmong(run.runId, unowned.map(arrivingMark)) : new Set<string>();
    const arriving = new Set(unowned.filter((id) => marked.has(arrivingMark(id))));
    const found =
      hubMembers.length > 0
        ? await deps.links.getMany(
            config.id,
            hubMembers.map((hubId) => ({ kind: 'user' as const, hubId })),
          )
        : new Map<string, Link>();
    const hubLinks = new Map(
      hubMembers.flatMap((hubId) => (found.has(linkRef('user', hubId)) ? [[hubId, found.get(linkRef('user', hubId)) as Link] as const] : [])),
    );
    return classifyInboundMembers({ sourceGroupId, ...(groupId ? { groupId } : {}), sourceMembers, owners, arriving, hubMembers, hubLinks });
  };

  /** A page of hub groups, for an inbound source: those linked to a source group no page showed are gone from it. */
  const classifyInboundGroupsGone = async (config: ConnectorConfig, run: RunRecord) => {
    const page = await deps.hub.listGroups({ limit: pageSize, ...(run.cursor ? { cursor: run.cursor } : {}) });
    const ids = page.items.map((g) => g.id);
    const [links, accounted] = await Promise.all([
      ids.length > 0
        ? deps.links.getMany(
            config.id,
            ids.map((hubId) => ({ kind: 'group' as const, hubId })),
          )
        : Promise.resolve(new Map<string, Link>()),
      deps.runs.accountedAmong(run.runId, ids),
    ]);
    const groups = page.items.flatMap((group) => {
      const link = links.get(linkRef('group', group.id));
      return link && !accounted.has(group.id) ? [classifyInboundGroupGone(config, group, link)] : [];
    });
    return { groups, next: page.next };
  };

  const feedPages =
    deps.feeds &&
    makeInboundFeedPages({
      runs: deps.runs,
      links: deps.links,
      hub: deps.hub,
      feeds: deps.feeds,
      classifyAccounts: classifyInboundAccounts,
      groupVerdict: sourceGroupVerdict,
      groupList: classifySourceGroupList,
      members: classifySourceMembers,
    });

  /**
   * The change feed an inbound run reads its source through, when the source has one and the
   * run reads it from its start (a run begun by listings goes on with them).
   */
  const changeFeedOf = (config: ConnectorConfig, connector: Connector, run: RunRecord): (Connector & ChangeFeed) | undefined =>
    config.direction === 'inbound' && hasChangeFeed(connector) && (run.feed !== undefined || (run.phase === 'target' && run.page === 0))
      ? connector
      : undefined;

  /** One planning page: classify, keep the plan page, count, move on. */
  const planPage = async (config: ConnectorConfig, connector: Connector, run: RunRecord) => {
    let kept: PlannedChange[];
    let moved: Partial<RunRecord>;
    let next: string | undefined;
    const feed = feedPages && changeFeedOf(config, connector, run);
    if (run.phase === 'sourceGroups') {
      const read: { groups: InboundGroupVerdict[]; members: InboundMemberVerdict[]; next?: string; sourceGroups: number; feed?: RunFeed } =
        feed && run.feed ? await feedPages.groups(config, feed, { ...run, feed: run.feed }) : await classifySourceGroups(config, connector, run);
      next = read.next;
      kept = [...read.groups.filter(worthKeeping).map(plannedInboundGroup), ...read.members.filter(worthKeeping).map(plannedInboundMember)];
      moved = {
        counters: { ...run.counters, groups: add(run.counters.groups, read.groups), memberships: add(run.counters.memberships, read.members) },
        targetGroups: (run.targetGroups ?? 0) + read.sourceGroups,
        ...(read.feed ? { feed: read.feed } : {}),
      };
    } else if (run.phase === 'groups' && config.direction === 'inbound') {
      const read = await classifyInboundGroupsGone(config, run);
      next = read.next;
      kept = read.groups.filter(worthKeeping).map(plannedInboundGroup);
      moved = { counters: { ...run.counters, groups: add(run.counters.groups, read.groups) } };
    } else if (run.phase === 'groups') {
      const read = await classifyGroups(config, connector, run);
      next = read.next;
      // The group's own change comes before its members': both travel in the group's FIFO message group.
      kept = [...read.groups.filter(worthKeeping).map(plannedGroup), ...read.members.filter(worthKeeping).map(plannedMember)];
      moved = { counters: { ...run.counters, groups: add(run.counters.groups, read.groups), memberships: add(run.counters.memberships, read.members) } };
    } else {
      const target = run.phase === 'target';
      const source = config.direction === 'inbound' ? classifyInbound : classifyTarget;
      const read: { verdicts: Array<UserVerdict | InboundVerdict>; next?: string; accounts: number; feed?: RunFeed } = !target
        ? { ...(await classifyHub(config, run)), accounts: 0 }
        : feed
          ? await feedPages.users(config, feed, run)
          : await source(config, connector, run);
      next = read.next;
      if (target) await deps.runs.markAccounted(run.runId, accountedHubIds(read.verdicts));
      // An inbound source's accounts whose hub users this run writes: its groups' members then count them in.
      if (target && config.direction === 'inbound') {
        const arriving = read.verdicts.flatMap((v) =>
          (v.action === 'create' || v.action === 'link') && v.targetId !== undefined ? [arrivingMark(v.targetId)] : [],
        );
        if (arriving.length > 0) await deps.runs.markAccounted(run.runId, arriving);
      }
      kept = read.verdicts.filter(worthKeeping).map(planned);
      moved = { counters: add(run.counters, read.verdicts), targetAccounts: run.targetAccounts + read.accounts, ...(read.feed ? { feed: read.feed } : {}) };
    }
    // Plan pages are numbered by the run's count before this page: a re-delivered page rewrites its own.
    if (kept.length > 0) await deps.runs.putPlanPage(run.runId, run.planPages, kept);
    moved = { ...moved, planPages: run.planPages + (kept.length > 0 ? 1 : 0), page: run.page + 1, ...(next ? { cursor: next } : {}) };
    if (!next) {
      const following = nextPlanningPhase(config, run.phase, moved.feed ?? run.feed);
      moved = following ? { ...moved, phase: following, page: 0 } : { ...moved, ...(await finishPlanning(config, { ...run, ...moved } as RunRecord)) };
    }
    return advance(run, moved);
  };

  /**
   * One apply page: the plan page's changes onto the connector's lane, or, for an inbound
   * source, into the hub (each change idempotent, so a page run again writes nothing new).
   */
  const applyPage = async (config: ConnectorConfig, run: RunRecord) => {
    const inbound = config.direction === 'inbound';
    if (run.page >= run.planPages)
      return advance(run, {
        state: 'done',
        finished: now(),
        reason: inbound ? 'every change was written to the hub' : 'every change was sent to the connector lane',
      });
    const changes = await deps.runs.getPlanPage(run.runId, run.page);
    if (inbound) {
      const apply = deps.inbound;
      if (!apply) throw new AppError('reconcile.inboundUnavailable', `${config.id} is an inbound source, and this function cannot write the hub`);
      await apply(config.id, changes);
      return advance(run, { page: run.page + 1 });
    }
    const lane = changes.flatMap((change) => laneChangeOf(run, run.page, change) ?? []);
    if (lane.length > 0) await deps.lane.enqueue(run.connectorId, lane);
    return advance(run, { page: run.page + 1 });
  };

  /**
   * Handles one page message. Idempotent: a message for a page the run has moved past (a
   * re-delivery after a crash) changes nothing and passes the chain on, and a page that ran
   * half-way before a crash runs again, writing the same plan page and sending changes whose
   * deduplication ids SQS has seen.
   */
  const handlePage = async (config: ConnectorConfig | undefined, connect: () => Promise<Connector>, message: RunPageMessage): Promise<void> => {
    const run = await deps.runs.get(message.runId);
    if (!run) return;
    if (run.phase !== message.phase || run.page !== message.page || (run.state !== 'planning' && run.state !== 'applying')) {
      // A message of a finished run delivered again (after a crash, say): its end may be unfinished.
      if (run.state === 'done' || run.state === 'failed') await finish(run);
      await continueFrom(run);
      return;
    }
    if (!config) {
      const failed = await advance(run, { state: 'failed', finished: now(), reason: `connector ${run.connectorId} is no longer in the connectors document` });
      if (failed) await afterAdvance(failed);
      return;
    }
    // Each page renews the lock, so a long run keeps its connector; a run whose lock expired
    // and was taken by another has lost it, and stops rather than overlap.
    if (!(await deps.runs.acquireLock(run.connectorId, run.runId, lockUntil()))) {
      const failed = await advance(run, { state: 'failed', finished: now(), reason: 'its lock expired and another run of the connector took it' });
      // The lock is the other run's: finishing leaves it (its release is conditional on this run's id).
      if (failed) await finish(failed);
      return;
    }
    let moved: RunRecord | undefined;
    try {
      moved = run.phase === 'apply' ? await applyPage(config, run) : await planPage(config, await connect(), run);
    } catch (error) {
      if (!(error instanceof ChangesExpiredError)) throw error;
      // A page link refused half-way through a round (a refused stored link falls back to a full round at once):
      // the run stops, the stored links stay, and the next run reads from them, or a full round.
      moved = await advance(run, { state: 'failed', finished: now(), reason: `${error.message} (half-way through a round): the next run starts again` });
    }
    await afterAdvance(moved ?? (await deps.runs.get(run.runId)) ?? run);
  };

  /**
   * A page that failed on every delivery the queue allows: the run fails with the page's last
   * error, its lock is released and its source's delta links stay, so the connector's next run
   * (scheduled or started by an operator) starts at once rather than when the lock expires, and
   * the operator sees why. A page the run has already moved past changes nothing.
   */
  const abandonPage = async (message: RunPageMessage, error: unknown): Promise<RunRecord | undefined> => {
    const run = await deps.runs.get(message.runId);
    if (!run || run.phase !== message.phase || run.page !== message.page || (run.state !== 'planning' && run.state !== 'applying')) return run;
    const cause = error instanceof Error ? error.message : String(error);
    const failed = await advance(run, {
      state: 'failed',
      finished: now(),
      reason: `page ${message.page} of its ${message.phase} phase failed on every delivery: ${cause}`,
    });
    if (failed) await afterAdvance(failed);
    return failed;
  };

  const decide = async (runId: string, approved: boolean, by: string): Promise<RunRecord> => {
    const run = await deps.runs.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (run.state !== 'awaiting-approval') throw new RunStateError(runId, run.state, approved ? 'approved' : 'rejected');
    const decision = { by, at: now(), approved };
    const next: Partial<RunRecord> = approved
      ? { state: 'applying', phase: 'apply', page: 0, decision }
      : { state: 'cancelled', finished: now(), decision, reason: `rejected by ${by}` };
    const moved = await advance(run, next);
    if (!moved) throw new RunStateError(runId, (await deps.runs.get(runId))?.state ?? run.state, approved ? 'approved' : 'rejected');
    await recordRun(moved, approved ? 'approve' : 'reject', 'success', `${approved ? 'approved' : 'rejected'} by ${by}`);
    if (!approved) await deps.runs.releaseLock(moved.connectorId, moved.runId);
    await continueFrom(moved);
    return moved;
  };

  return {
    start,
    handlePage,
    abandonPage,
    approve: (runId: string, by: string) => decide(runId, true, by),
    reject: (runId: string, by: string) => decide(runId, false, by),
  };
};

export type Reconciliation = ReturnType<typeof makeReconciliation>;
