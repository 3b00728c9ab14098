import { ConnectorError } from '../connectors/connector.errors.ts';
import type { Connector, TargetAttributes, TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import type { AccessGrant, GrantReader } from './grant.ports.ts';
import {
  type AttributeDiff,
  collisionOf,
  type GroupPlan,
  groupInScope,
  type MatchLookup,
  type ObservedAccount,
  mappedGroupQuery,
  mappingsOf,
  matchQueries,
  type PlannedOutcome,
  planGroup,
  planUser,
  type Situation,
  type TargetCall,
  type UserPlan,
  userScope,
} from './sync.planner.ts';
import { linkRefsOfMembers } from './membership-links.ts';
import { stableHash } from './stable-hash.ts';
import { referencedUserIds } from './user-references.ts';
import { type AuditLog, type HubReader, type Link, LinkCollisionError, LinkConflictError, type LinkStore, linkRef, type SyncTrigger } from './sync.ports.ts';

export { diffAttributes } from './sync.planner.ts';

/**
 * Members added (and removed) per call of `changeGroupMembers`: 400 is one Graph `$batch` of 20
 * PATCHes binding 20, and four SCIM PATCHes of 100.
 */
export const MEMBERSHIP_PART = 400;

export interface SyncDeps {
  hub: HubReader;
  links: LinkStore;
  audit: AuditLog;
  clock: () => Date;
  /** Temporary access grants; without it no user is in scope by a grant. */
  grants?: GrantReader;
}

export interface ConnectorContext {
  config: ConnectorConfig;
  connector: Connector;
}

export interface SyncOptions {
  trigger: SyncTrigger;
  /** The operator whose change this is, named in the audit record. */
  actor?: string;
  attempt?: number;
  /** Plan only: look things up on the target but change nothing, record nothing. */
  dryRun?: boolean;
  /** When the hub change happened (epoch ms), for propagation latency. */
  changedAt?: number;
  /** Deprovision the user whatever the scope says (an operator's on-demand deprovision). */
  deprovision?: boolean;
  /** The operator who asked for it, named in the audit records. */
  operator?: string;
  /** The grant to plan with instead of the stored one: a dry run of temporary access. */
  grant?: AccessGrant;
  /**
   * The account as the target holds it now, read by the caller (reconciliation); `null` when
   * the target has no such account. The plan then fixes drift against what the target really
   * holds rather than against the link's record of what was pushed.
   */
  observed?: ObservedAccount | null;
  /**
   * Read the linked account (or group) from the target before planning, when no `observed` is
   * given: on-demand provisioning plans against what the target holds now, so a change made on
   * the target behind the hub's back shows as drift and an account deleted there as gone.
   */
  readTarget?: boolean;
  /**
   * A run's reading of members in the target group (membership deltas): `absent` adds a member
   * whose membership link says it is there, `present` removes one no link records.
   */
  observedMembers?: ReadonlyMap<string, 'absent' | 'present'>;
}

export interface SyncOutcome extends PlannedOutcome {
  steps: string[];
  /** Where the resource stood before the action. */
  situation?: Situation;
  /** The target calls the plan intended (a dry run makes none of them). */
  calls?: TargetCall[];
  changes?: AttributeDiff[];
}

/** Plans made again, one after another, because a link changed under them; then the conflict is the caller's to retry. */
const MAX_LINK_CONFLICTS = 3;

/** What the applier did, or that the plan must be made again from fresh facts. */
type Applied = { outcome: PlannedOutcome } | { again: NonNullable<UserPlanOptions['pass']>; note: string };

interface UserPlanOptions extends SyncOptions {
  pass?: 'first' | 'rematch-after-conflict';
}

/** The resource's name as the plan knows it, for a link to keep. */
const named = (plan: UserPlan | GroupPlan) => (plan.name ? { name: plan.name } : {});

const outcomeOf = (plan: UserPlan | GroupPlan, outcome: PlannedOutcome = plan): SyncOutcome => ({
  action: outcome.action,
  status: outcome.status,
  steps: plan.steps,
  situation: plan.situation,
  calls: plan.calls,
  ...(outcome.targetId ? { targetId: outcome.targetId } : {}),
  ...(outcome.reason ? { reason: outcome.reason } : {}),
  ...(outcome.collidesWith ? { collidesWith: outcome.collidesWith } : {}),
  ...(outcome.changes?.length ? { changes: outcome.changes } : {}),
});

/**
 * The sync engine: state-based and idempotent. For one resource and one connector it gathers
 * the facts (the hub's current state, the link, lookups on the target), lets the pure planner
 * (sync.planner.ts) decide, and applies the plan: connector calls, link writes and one audit
 * record. A dry run stops after the plan. A redelivered or duplicate event finds the link up to
 * date and makes no call to the target.
 */
export const makeSync = (deps: SyncDeps) => {
  const now = () => deps.clock().toISOString();

  const newLink = (
    config: ConnectorConfig,
    kind: 'user' | 'group',
    hubId: string,
    targetId: string,
    pushed: TargetAttributes,
    origin: Link['origin'],
    name: string | undefined,
  ): Link => ({
    connectorId: config.id,
    kind,
    hubId,
    targetId,
    status: pushed.active === false ? 'disabled' : 'active',
    pushed,
    hash: stableHash(pushed),
    origin,
    updated: now(),
    ...(name ? { name } : {}),
  });

  /**
   * The name operators know a hub user or group by (userName, displayName): the hub's, or for
   * one the hub has deleted, the name its link kept. Audit records carry it, failures too.
   */
  const nameOf = async (connectorId: string, kind: 'user' | 'group', id: string): Promise<string | undefined> => {
    const resource = kind === 'user' ? await deps.hub.getUser(id) : await deps.hub.getGroup(id);
    const name = resource?.[kind === 'user' ? 'userName' : 'displayName'];
    return typeof name === 'string' ? name : (await deps.links.get(connectorId, kind, id))?.name;
  };

  /**
   * Writes a link, or says it collides: the target id is linked to another hub resource
   * already (a racing worker won), and nothing of theirs was touched.
   */
  const linkOrCollide = async (link: Link, how: string, steps: string[]): Promise<PlannedOutcome | undefined> => {
    try {
      await deps.links.put(link);
      return undefined;
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      steps.push(`collision: ${link.targetId} was linked to hub ${link.kind} ${error.ownerHubId} meanwhile`);
      return collisionOf(link.kind as 'user' | 'group', link.targetId, link.hubId, error.ownerHubId, how);
    }
  };

  const record = async (ctx: ConnectorContext, plan: UserPlan | GroupPlan, options: SyncOptions, outcome: SyncOutcome) => {
    await deps.audit.record({
      time: now(),
      connectorId: ctx.config.id,
      resourceType: plan.kind === 'user' ? 'User' : 'Group',
      resourceId: plan.hubId,
      ...(plan.name ? { name: plan.name } : {}),
      trigger: options.trigger,
      ...(options.actor ? { actor: options.actor } : {}),
      action: outcome.action,
      status: outcome.status,
      ...(outcome.targetId ? { targetId: outcome.targetId } : {}),
      steps: outcome.steps,
      ...(outcome.changes?.length ? { changes: outcome.changes } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.collidesWith ? { collidesWith: outcome.collidesWith } : {}),
      ...(options.attempt ? { attempt: options.attempt } : {}),
      ...(options.operator ? { operator: options.operator } : {}),
      ...(plan.kind === 'user' && options.changedAt && outcome.status === 'success'
        ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) }
        : {}),
    });
  };

  /**
   * The user's own link and the target ids of the users it references (its manager), in the
   * one batched read that also fetches its link; without references, the single read it always was.
   */
  const userLinksOf = async (config: ConnectorConfig, userId: string, user: Record<string, unknown> | undefined) => {
    const referenced = user ? referencedUserIds(user, userId, mappingsOf(config)) : [];
    if (referenced.length === 0) return { link: await deps.links.get(config.id, 'user', userId), references: new Map<string, string>() };
    const found = await deps.links.getMany(
      config.id,
      [userId, ...referenced].map((hubId) => ({ kind: 'user' as const, hubId })),
    );
    const references = new Map(
      referenced.flatMap((hubId) => {
        const targetId = found.get(linkRef('user', hubId))?.targetId;
        return targetId ? [[hubId, targetId] as const] : [];
      }),
    );
    return { link: found.get(linkRef('user', userId)), references };
  };

  /** Reads what the planner needs about one user: hub state, link, groups, grant and the match lookups. */
  const gatherUser = async (ctx: ConnectorContext, userId: string, options: UserPlanOptions) => {
    const { config, connector } = ctx;
    const user = await deps.hub.getUser(userId);
    const { link, references } = await userLinksOf(config, userId, user);
    const groupIds = user && config.scope.groups ? await deps.hub.groupIdsOf(userId) : [];
    // The grant is read only for a user the scope leaves out, so real time pays nothing for it.
    let grant = options.grant;
    if (!grant && deps.grants && user && !userScope(config, user, groupIds, undefined, deps.clock()).inScope) grant = await deps.grants.get(config.id, userId);
    // The account as the target holds it now, when asked (on demand) and not given (a run read it already).
    let observed = options.observed;
    if (observed === undefined && options.readTarget && link) observed = (await connector.getUser(link.targetId)) ?? null;
    const matches: MatchLookup[] = [];
    const inScope = user !== undefined && !options.deprovision && userScope(config, user, groupIds, grant, deps.clock()).inScope;
    if (inScope && !link) {
      for (const query of matchQueries(config, user)) {
        const found = await connector.findUser(query.attribute, query.value);
        const owner = found ? await deps.links.ownerOf(config.id, 'user', found.id) : undefined;
        matches.push({ ...query, ...(found ? { found } : {}), ...(owner !== undefined ? { owner } : {}) });
        if (found) break;
      }
    }
    return {
      hubId: userId,
      user,
      link,
      references,
      groupIds,
      matches,
      ...(grant ? { grant } : {}),
      ...(observed !== undefined ? { observed } : {}),
      ...(options.deprovision ? { forceDeprovision: true } : {}),
      pass: options.pass ?? 'first',
    };
  };

  /** The plan for one user, from fresh facts; nothing is changed. */
  const planUserOf = async (ctx: ConnectorContext, userId: string, options: UserPlanOptions): Promise<UserPlan> =>
    planUser(ctx.config, await gatherUser(ctx, userId, options), deps.clock());

  /** Carries out a user plan: the connector calls and link writes, in the order that keeps them safe. */
  const applyUser = async ({ config, connector }: ConnectorContext, plan: UserPlan): Promise<Applied> => {
    const { link } = plan;
    if (plan.failure) throw new ConnectorError('permanent', plan.failure);
    if (plan.status === 'skipped') return { outcome: plan };
    switch (plan.action) {
      case 'delete':
        await connector.deleteUser((link as Link).targetId);
        await deps.links.delete(link as Link);
        return { outcome: plan };
      case 'disable': {
        const current = link as Link;
        const pushed = { ...current.pushed, active: false };
        await connector.disableUser(current.targetId, pushed);
        await deps.links.put({ ...current, ...named(plan), status: 'disabled', pushed, hash: stableHash(pushed), updated: now() });
        return { outcome: plan };
      }
      case 'relink':
        await deps.links.delete(link as Link);
        return { again: 'first', note: `target account ${(link as Link).targetId} is gone: linking again` };
      case 'update': {
        const current = link as Link;
        const call = plan.calls[0] as Extract<TargetCall, { operation: 'updateUser' }>;
        try {
          await connector.updateUser(call.targetId, call.change, call.full);
        } catch (error) {
          if (!(error instanceof ConnectorError && error.kind === 'notFound')) throw error;
          // The account was removed on the target behind our back: forget the link, match or create again.
          await deps.links.delete(current);
          return { again: 'first', note: `target account ${current.targetId} is gone: linking again` };
        }
        const wanted = plan.wanted ?? {};
        const pushed = { ...Object.fromEntries(Object.entries(current.pushed).filter(([key]) => !call.change.unset.includes(key))), ...call.change.set };
        await deps.links.put({
          ...current,
          ...named(plan),
          status: wanted.active === false ? 'disabled' : 'active',
          pushed,
          hash: stableHash(pushed),
          updated: now(),
        });
        return { outcome: plan };
      }
      case 'link': {
        const targetId = plan.targetId as string;
        const how = `matched by ${plan.matchedBy?.attribute} = "${plan.matchedBy?.value}"`;
        // Link first, then change the account: a racing worker that linked it to someone else
        // makes this put fail before anything of theirs is touched.
        const collided = await linkOrCollide(newLink(config, 'user', plan.hubId, targetId, plan.wanted ?? {}, 'matched', plan.name), how, plan.steps);
        if (collided) return { outcome: collided };
        for (const call of plan.calls) if (call.operation === 'updateUser') await connector.updateUser(call.targetId, call.change, call.full);
        return { outcome: plan };
      }
      case 'create': {
        const wanted = plan.wanted ?? {};
        let created: { id: string };
        try {
          created = await connector.createUser(wanted);
        } catch (error) {
          if (!(error instanceof ConnectorError && error.kind === 'conflict')) throw error;
          // Someone made the account between our match and our create: match again, once.
          return { again: 'rematch-after-conflict', note: 'create: the target reports the account exists; matching again' };
        }
        const collided = await linkOrCollide(newLink(config, 'user', plan.hubId, created.id, wanted, 'created', plan.name), 'created', plan.steps);
        return { outcome: collided ?? { ...plan, targetId: created.id } };
      }
      default:
        return { outcome: plan };
    }
  };

  const syncUserPass = async (ctx: ConnectorContext, userId: string, options: UserPlanOptions, earlier: string[], conflicts = 0): Promise<SyncOutcome> => {
    const plan = await planUserOf(ctx, userId, options);
    if (earlier.length) plan.steps.unshift(...earlier);
    if (options.dryRun) return outcomeOf(plan);
    let applied: Applied;
    try {
      applied = await applyUser(ctx, plan);
    } catch (error) {
      // Another worker wrote the link since this plan read it: plan again from its state. Our
      // call may have reached the target after theirs, so the link no longer says what the
      // account holds: an update or disable plans again as if the account held nothing, which
      // sends the hub's current state in full.
      if (!(error instanceof LinkConflictError) || conflicts >= MAX_LINK_CONFLICTS) throw error;
      const resend = plan.action === 'update' || plan.action === 'disable';
      return syncUserPass(
        ctx,
        userId,
        { ...options, pass: 'first', ...(resend ? { observed: { attributes: {} } } : {}) },
        [...plan.steps, 'the link changed meanwhile: planning again'],
        conflicts + 1,
      );
    }
    if ('again' in applied) return syncUserPass(ctx, userId, { ...options, pass: applied.again }, [...plan.steps, applied.note], conflicts);
    const outcome = outcomeOf(plan, applied.outcome);
    await record(ctx, plan, options, outcome);
    return outcome;
  };

  /** Brings one hub user to the connector's target: plan, then (unless a dry run) apply. */
  const syncUser = (ctx: ConnectorContext, userId: string, options: SyncOptions): Promise<SyncOutcome> => syncUserPass(ctx, userId, options, []);

  /** Reads what the planner needs about one group: hub state, link and the mapped target group. */
  const gatherGroup = async ({ config, connector }: ConnectorContext, groupId: string, given?: ObservedAccount | null, readTarget = false) => {
    const group = await deps.hub.getGroup(groupId);
    const link = await deps.links.get(config.id, 'group', groupId);
    let observed = given;
    if (observed === undefined && readTarget && link) {
      const found = await connector.findGroup({ id: link.targetId });
      observed = found ? { attributes: { displayName: found.displayName } } : null;
    }
    const query = group && !link && groupInScope(config, groupId) ? mappedGroupQuery(config, groupId, String(group.displayName)) : undefined;
    let mapped: { found: TargetGroup | undefined; owner?: string } | undefined;
    if (query) {
      const found = await connector.findGroup(query);
      const owner = found ? await deps.links.ownerOf(config.id, 'group', found.id) : undefined;
      mapped = { found, ...(owner !== undefined ? { owner } : {}) };
    }
    const seen = observed === undefined ? undefined : observed === null ? null : { displayName: String(observed.attributes.displayName) };
    return { hubId: groupId, group, link, ...(mapped ? { mapped } : {}), ...(seen !== undefined ? { observed: seen } : {}) };
  };

  /** Carries out a group plan. */
  const applyGroup = async ({ config, connector }: ConnectorContext, plan: GroupPlan): Promise<PlannedOutcome> => {
    const { link } = plan;
    if (plan.failure) throw new ConnectorError('permanent', plan.failure);
    if (plan.status === 'skipped') return plan;
    switch (plan.action) {
      case 'unlink':
        await deps.links.delete(link as Link);
        return plan;
      case 'delete':
        await connector.deleteGroup((link as Link).targetId);
        await deps.links.delete(link as Link);
        return plan;
      case 'rename': {
        const current = link as Link;
        const displayName = plan.displayName as string;
        const renamed = await connector.renameGroup(current.targetId, displayName, plan.hubId);
        if (renamed.id !== current.targetId) plan.steps.push(`the target cannot rename in place: the group is now ${renamed.id}`);
        const pushed = { displayName };
        await deps.links.put({ ...current, ...named(plan), targetId: renamed.id, pushed, hash: stableHash(pushed), updated: now() }, current);
        return { ...plan, targetId: renamed.id };
      }
      case 'link':
        return (
          (await linkOrCollide(
            newLink(config, 'group', plan.hubId, plan.targetId as string, { displayName: plan.displayName }, 'mapped', plan.name),
            'named by a group mapping',
            plan.steps,
          )) ?? plan
        );
      case 'create': {
        const displayName = plan.displayName as string;
        let target: TargetGroup;
        try {
          target = await connector.createGroup(displayName, plan.hubId);
        } catch (error) {
          if (!(error instanceof ConnectorError && error.kind === 'conflict')) throw error;
          // The name is taken on the target. Only a group this hub group made earlier (its
          // externalId is our id: a create whose link write was lost) is ours to link.
          const existing = await connector.findGroup({ displayName });
          if (!existing || existing.externalId !== plan.hubId) {
            plan.steps.push(`create: the target has a group named "${displayName}" that the hub did not make`);
            return {
              action: 'collision',
              status: 'skipped',
              ...(existing ? { targetId: existing.id } : {}),
              reason: `the target already has a group named "${displayName}"; without a group mapping the hub never adopts it`,
            };
          }
          target = existing;
        }
        return (
          (await linkOrCollide(newLink(config, 'group', plan.hubId, target.id, { displayName }, 'created', plan.name), 'created', plan.steps)) ?? {
            ...plan,
            targetId: target.id,
          }
        );
      }
      default:
        return plan;
    }
  };

  /** The plan for one group, from fresh facts; nothing is changed. */
  const planGroupOf = async (ctx: ConnectorContext, groupId: string, observed?: ObservedAccount | null, readTarget = false): Promise<GroupPlan> =>
    planGroup(ctx.config, await gatherGroup(ctx, groupId, observed, readTarget));

  /**
   * Brings one hub group (not its members) to the target: create it, link the target group a
   * group mapping names, rename it, or delete it. A hub group never adopts a target group by its
   * name alone: without a mapping, a name taken on the target is a collision.
   */
  const syncGroup = async (ctx: ConnectorContext, groupId: string, options: SyncOptions): Promise<SyncOutcome> => {
    let plan = await planGroupOf(ctx, groupId, options.observed, options.readTarget);
    if (options.dryRun) return outcomeOf(plan);
    if (plan.action === 'relink' && plan.link) {
      // The linked group is gone from the target: forget the link, then plan from what is left (create it again).
      const earlier = plan.steps;
      await deps.links.delete(plan.link);
      plan = await planGroupOf(ctx, groupId);
      plan.steps.unshift(...earlier);
    }
    let applied: PlannedOutcome;
    try {
      applied = await applyGroup(ctx, plan);
    } catch (error) {
      // Another worker wrote the link since this plan read it: plan once more from its state.
      if (!(error instanceof LinkConflictError)) throw error;
      const earlier = [...plan.steps, 'the link changed meanwhile: planning again'];
      plan = await planGroupOf(ctx, groupId);
      plan.steps.unshift(...earlier);
      applied = await applyGroup(ctx, plan);
    }
    const outcome = outcomeOf(plan, applied);
    await record(ctx, plan, options, outcome);
    return outcome;
  };

  /**
   * The membership as the target holds it: its link, unless a run read the target group and saw
   * otherwise (a member removed behind the hub's back is added again, one added is removed).
   */
  const memberOnTarget = (connectorId: string, groupId: string, memberId: string, known: Map<string, Link>, observed?: 'absent' | 'present') => {
    const existing = known.get(linkRef('membership', `${groupId}#${memberId}`));
    if (observed === 'absent') return undefined;
    const account = known.get(linkRef('user', memberId));
    if (observed !== 'present' || existing || !account) return existing;
    const { version: _accountVersion, ...fields } = account;
    const seen: Link = { ...fields, kind: 'membership', hubId: `${groupId}#${memberId}`, pushed: {}, hash: '', origin: 'created', connectorId };
    return seen;
  };

  /** Syncs each member (that the hub still has) and puts its account link as it is now in `known`. */
  const provisionMembers = async (ctx: ConnectorContext, memberIds: string[], known: Map<string, Link>, options: SyncOptions) => {
    const synced = await Promise.allSettled(
      memberIds.map(async (memberId) => {
        if (!(await deps.hub.getUser(memberId))) return;
        await syncUser(ctx, memberId, options);
        const link = await deps.links.get(ctx.config.id, 'user', memberId);
        if (link) known.set(linkRef('user', memberId), link);
        else known.delete(linkRef('user', memberId));
      }),
    );
    const failed = synced.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  };

  /** Records members added to and removed from the target group. Membership links are independent items (no reverse index): written side by side. */
  const writeMembershipLinks = async (
    config: ConnectorConfig,
    groupId: string,
    added: Array<{ memberId: string; targetId: string }>,
    removed: Array<{ link: Link }>,
  ) => {
    // Membership links are independent items (no reverse index): written side by side.
    await Promise.all(
      [
        ...added.map((a) =>
          deps.links.put({
            connectorId: config.id,
            kind: 'membership',
            hubId: `${groupId}#${a.memberId}`,
            targetId: a.targetId,
            status: 'active',
            pushed: {},
            hash: '',
            origin: 'created',
            updated: now(),
          }),
        ),
        ...removed.map((r) => deps.links.delete(r.link)),
      ].map((write) =>
        // A membership link another worker wrote meanwhile holds the newer state: ours is done.
        write.catch((error: unknown) => {
          if (!(error instanceof LinkConflictError)) throw error;
        }),
      ),
    );
  };

  /**
   * Brings the membership of some members of one group to the target as one minimal delta:
   * members that should be there and are not get added, members that are there and should not
   * be get removed. Members are provisioned first when they are in scope but not yet linked.
   *
   * When the connector scopes by groups and this is one of them, a membership change is also a
   * scope change of the member: joining provisions (or re-enables) the account before it is
   * added, and leaving the last scoped group deprovisions it (disable or delete, as the
   * connector's policy says) after it is removed.
   */
  const syncMembers = async (ctx: ConnectorContext, groupId: string, memberIds: string[], options: SyncOptions): Promise<SyncOutcome> => {
    const { config, connector } = ctx;
    const steps: string[] = [];
    const scoping = config.scope.groups?.includes(groupId) ?? false;
    const unique = [...new Set(memberIds)];
    // Two reads for the whole delta, not two per member: who is a member now, and every link it
    // needs (the group's, each membership's, each member's account) in one batch.
    const [present, known] = await Promise.all([deps.hub.membersAmong(groupId, unique), deps.links.getMany(config.id, linkRefsOfMembers(groupId, unique))]);
    let groupLink = known.get(linkRef('group', groupId));
    if (!groupLink && groupInScope(config, groupId) && (await deps.hub.getGroup(groupId))) {
      steps.push('group not linked yet: provisioning it first');
      await syncGroup(ctx, groupId, options);
      groupLink = await deps.links.get(config.id, 'group', groupId);
    }
    const add: Array<{ memberId: string; targetId: string }> = [];
    const remove: Array<{ memberId: string; link: Link }> = [];
    const leaving: string[] = [];
    // Members not provisioned yet, or joining a scoped group (which brings them into scope:
    // provision or re-enable), are synced first; they are different users, so side by side.
    await provisionMembers(
      ctx,
      unique.filter((memberId) => present.has(memberId) && (scoping || !known.has(linkRef('user', memberId)))),
      known,
      options,
    );
    for (const memberId of unique) {
      const existing = memberOnTarget(config.id, groupId, memberId, known, options.observedMembers?.get(memberId));
      const userLink = present.has(memberId) ? known.get(linkRef('user', memberId)) : undefined;
      const wanted = present.has(memberId) && groupLink !== undefined && userLink !== undefined;
      if (wanted && !existing && userLink) add.push({ memberId, targetId: userLink.targetId });
      if (!wanted && existing) remove.push({ memberId, link: existing });
      if (!present.has(memberId) && scoping) leaving.push(memberId);
    }
    steps.push(`compare: ${add.length} to add, ${remove.length} to remove`);
    const outcome: SyncOutcome = {
      action: 'membership',
      status: add.length + remove.length > 0 ? 'success' : 'skipped',
      steps,
      ...(groupLink ? { targetId: groupLink.targetId } : {}),
    };
    if (options.dryRun) return outcome;
    if (add.length + remove.length > 0) {
      // A large delta goes in parts, each part's links written once the target has it: a part
      // that fails (throttled, the worker's time up) leaves the earlier parts done, and the
      // retry sends only the rest.
      for (let start = 0; start < Math.max(add.length, remove.length); start += MEMBERSHIP_PART) {
        const part = { add: add.slice(start, start + MEMBERSHIP_PART), remove: remove.slice(start, start + MEMBERSHIP_PART) };
        // Without a group on the target there is nothing to remove from: only the links go.
        if (groupLink)
          await connector.changeGroupMembers(groupLink.targetId, { add: part.add.map((a) => a.targetId), remove: part.remove.map((r) => r.link.targetId) });
        await writeMembershipLinks(config, groupId, part.add, part.remove);
      }
      const name = groupLink?.name ?? (await nameOf(config.id, 'group', groupId));
      await deps.audit.record({
        time: now(),
        connectorId: config.id,
        resourceType: 'Membership',
        resourceId: groupId,
        ...(name ? { name } : {}),
        trigger: options.trigger,
        ...(options.actor ? { actor: options.actor } : {}),
        action: 'membership',
        status: 'success',
        ...(groupLink ? { targetId: groupLink.targetId } : {}),
        steps,
        changes: [{ attribute: 'members', old: remove.map((r) => r.memberId), new: add.map((a) => a.memberId) }],
        ...(options.operator ? { operator: options.operator } : {}),
        ...(options.changedAt ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) } : {}),
      });
    }
    // Leaving a scoped group: the user's own sync decides whether another scoped group keeps it.
    for (const memberId of leaving) await syncUser(ctx, memberId, options);
    return outcome;
  };

  return {
    syncUser,
    syncGroup,
    syncMembers,
    nameOf,
    planUser: (ctx: ConnectorContext, userId: string, options: SyncOptions) => planUserOf(ctx, userId, options),
    planGroup: planGroupOf,
  };
};

export type SyncService = ReturnType<typeof makeSync>;
