import { ConnectorError } from '../connectors/connector.errors.ts';
import type { AttributeChange, Connector, TargetAttributes } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { evaluateFilter, parseFilter } from '../scim/filter.ts';
import { createOnlyTargets, DEFAULT_MAPPINGS, DEFAULT_MATCHING, mapUser } from './attribute-mapping.ts';
import { stableHash, stableJson } from './stable-hash.ts';
import { linkRefsOfMembers } from './membership-links.ts';
import { type AuditEntry, type AuditLog, type HubReader, type Link, LinkCollisionError, type LinkStore, linkRef, type SyncTrigger } from './sync.ports.ts';

export interface SyncDeps {
  hub: HubReader;
  links: LinkStore;
  audit: AuditLog;
  clock: () => Date;
}

export interface ConnectorContext {
  config: ConnectorConfig;
  connector: Connector;
}

export interface SyncOptions {
  trigger: SyncTrigger;
  attempt?: number;
  /** Plan only: look things up on the target but change nothing, record nothing. */
  dryRun?: boolean;
  /** When the hub change happened (epoch ms), for propagation latency. */
  changedAt?: number;
}

export interface SyncOutcome {
  action: string;
  status: 'success' | 'skipped';
  steps: string[];
  targetId?: string;
  reason?: string;
  changes?: AuditEntry['changes'];
  /** For a collision: the hub id the target is linked to already. */
  collidesWith?: string;
}

/**
 * Where a user's sync is in its match-or-create plan: `first` matches, then creates;
 * `rematch-after-conflict` is the one second pass after the target refused a create because the
 * account exists (made between our match and our create): it matches again and never creates.
 */
type MatchPass = 'first' | 'rematch-after-conflict';

const SECRET = /password|secret|token/i;
const redact = (attribute: string, value: unknown) => (SECRET.test(attribute) ? '[redacted]' : value);

/** The minimal change from what was pushed to what should be there now. */
export const diffAttributes = (pushed: TargetAttributes, wanted: TargetAttributes, keep: Set<string>): AttributeChange => {
  const set: TargetAttributes = {};
  for (const [key, value] of Object.entries(wanted)) if (stableJson(pushed[key]) !== stableJson(value)) set[key] = value;
  const unset = Object.keys(pushed).filter((key) => !(key in wanted) && !keep.has(key));
  return { set, unset };
};

const changesOf = (pushed: TargetAttributes, change: AttributeChange): NonNullable<AuditEntry['changes']> => [
  ...Object.entries(change.set).map(([attribute, value]) => ({ attribute, old: redact(attribute, pushed[attribute]), new: redact(attribute, value) })),
  ...change.unset.map((attribute) => ({ attribute, old: redact(attribute, pushed[attribute]) })),
];

/**
 * The sync engine: state-based and idempotent. For one resource and one connector it reads the
 * hub's current state and the link (what was last pushed), plans (scope, then match, then the
 * action) and applies the minimal change. A redelivered or duplicate event finds the link up
 * to date and makes no call to the target.
 */
export const makeSync = (deps: SyncDeps) => {
  const now = () => deps.clock().toISOString();

  const mappingsOf = (config: ConnectorConfig) => config.mapping ?? DEFAULT_MAPPINGS[config.type];

  const userInScope = async (config: ConnectorConfig, user: Record<string, unknown>): Promise<{ ok: boolean; reason?: string }> => {
    if (config.scope.filter && !evaluateFilter(parseFilter(config.scope.filter), user, 'User')) {
      return { ok: false, reason: `does not match the scope filter ${config.scope.filter}` };
    }
    if (config.scope.groups) {
      const groups = await deps.hub.groupIdsOf(String(user.id));
      if (!groups.some((id) => config.scope.groups?.includes(id))) return { ok: false, reason: 'is in none of the scoped groups' };
    }
    return { ok: true };
  };

  const recordUser = async (ctx: ConnectorContext, userId: string, name: string | undefined, options: SyncOptions, outcome: SyncOutcome) => {
    if (options.dryRun) return;
    await deps.audit.record({
      time: now(),
      connectorId: ctx.config.id,
      resourceType: 'User',
      resourceId: userId,
      ...(name ? { name } : {}),
      trigger: options.trigger,
      action: outcome.action,
      status: outcome.status,
      ...(outcome.targetId ? { targetId: outcome.targetId } : {}),
      steps: outcome.steps,
      ...(outcome.changes?.length ? { changes: outcome.changes } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.collidesWith ? { collidesWith: outcome.collidesWith } : {}),
      ...(options.attempt ? { attempt: options.attempt } : {}),
      ...(options.changedAt && outcome.status === 'success' ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) } : {}),
    });
  };

  /** The outcome when a target id is linked to another hub resource: nothing changes. */
  const collision = (kind: 'user' | 'group', targetId: string, hubId: string, owner: string, how: string) => ({
    action: 'collision',
    status: 'skipped' as const,
    targetId,
    collidesWith: owner,
    reason: `target ${kind} ${targetId} (${how}) is linked to hub ${kind} ${owner}, not to ${hubId}: nothing changed`,
  });

  /** Brings one hub user to the connector's target. */
  const syncUser = (ctx: ConnectorContext, userId: string, options: SyncOptions): Promise<SyncOutcome> => syncUserPass(ctx, userId, options, 'first');

  const syncUserPass = async (ctx: ConnectorContext, userId: string, options: SyncOptions, pass: MatchPass): Promise<SyncOutcome> => {
    const { config, connector } = ctx;
    const steps: string[] = [];
    const user = await deps.hub.getUser(userId);
    const link = await deps.links.get(config.id, 'user', userId);
    const name = typeof user?.userName === 'string' ? user.userName : (link?.pushed.userName as string | undefined);
    const scope = user ? await userInScope(config, user) : { ok: false, reason: 'was deleted from the hub' };
    steps.push(user ? `scope: ${scope.ok ? 'in scope' : `out of scope: user ${scope.reason}`}` : 'scope: user deleted from the hub');

    const finish = async (outcome: Omit<SyncOutcome, 'steps'>) => {
      const result = { ...outcome, steps };
      await recordUser(ctx, userId, name, options, result);
      return result;
    };

    if (!user || !scope.ok) {
      if (!link) return finish({ action: 'none', status: 'skipped', reason: `not provisioned, and the user ${scope.reason}` });
      if (config.deprovision === 'delete') {
        if (!config.operations.delete) return finish({ action: 'delete', status: 'skipped', targetId: link.targetId, reason: 'delete is not an enabled operation' });
        steps.push(`action: delete target account ${link.targetId} (deprovision policy: delete)`);
        if (options.dryRun) return { action: 'delete', status: 'success', steps, targetId: link.targetId };
        await connector.deleteUser(link.targetId);
        await deps.links.delete(link);
        return finish({ action: 'delete', status: 'success', targetId: link.targetId });
      }
      // Deprovisioning by disable keeps the link, also for a user deleted from the hub: the
      // disabled account stays owned by that person, so a later hub user who gets the same
      // userName meets a collision rather than re-adopting it.
      if (link.status === 'disabled') return finish({ action: 'disable', status: 'skipped', targetId: link.targetId, reason: 'already disabled' });
      if (!config.operations.disable) return finish({ action: 'disable', status: 'skipped', targetId: link.targetId, reason: 'disable is not an enabled operation' });
      steps.push(`action: disable target account ${link.targetId} (deprovision policy: disable)`);
      if (options.dryRun) return { action: 'disable', status: 'success', steps, targetId: link.targetId };
      await connector.disableUser(link.targetId, { ...link.pushed, active: false });
      const pushed = { ...link.pushed, active: false };
      await deps.links.put({ ...link, status: 'disabled', pushed, hash: stableHash(pushed), updated: now() });
      return finish({ action: 'disable', status: 'success', targetId: link.targetId, changes: [{ attribute: 'active', old: link.pushed.active, new: false }] });
    }

    const mappings = mappingsOf(config);
    if (link) {
      const wanted = mapUser(user, mappings, 'update');
      const change = diffAttributes(link.pushed, wanted, createOnlyTargets(mappings));
      if (Object.keys(change.set).length === 0 && change.unset.length === 0) {
        steps.push('compare: target is up to date');
        return finish({ action: 'update', status: 'skipped', targetId: link.targetId, reason: 'no changes' });
      }
      if (!config.operations.update) return finish({ action: 'update', status: 'skipped', targetId: link.targetId, reason: 'update is not an enabled operation' });
      const changes = changesOf(link.pushed, change);
      steps.push(`action: update ${changes.map((c) => c.attribute).join(', ')} on ${link.targetId}`);
      if (options.dryRun) return { action: 'update', status: 'success', steps, targetId: link.targetId, changes };
      try {
        await connector.updateUser(link.targetId, change, { ...link.pushed, ...wanted });
      } catch (error) {
        if (!(error instanceof ConnectorError && error.kind === 'notFound')) throw error;
        // The account was removed on the target behind our back: forget the link, match or create again.
        steps.push(`target account ${link.targetId} is gone: linking again`);
        await deps.links.delete(link);
        return syncUserPass(ctx, userId, options, pass);
      }
      const pushed = { ...Object.fromEntries(Object.entries(link.pushed).filter(([key]) => !change.unset.includes(key))), ...change.set };
      await deps.links.put({ ...link, status: wanted.active === false ? 'disabled' : 'active', pushed, hash: stableHash(pushed), updated: now() });
      return finish({ action: 'update', status: 'success', targetId: link.targetId, changes });
    }

    // No link yet: match an existing account by the matching attributes, in order, else create.
    // Only attributes the connector names match (email only when its `matching` says so), and
    // an account linked to another hub user is a collision, never taken over.
    const wanted = mapUser(user, mappings, 'create');
    const matching = config.matching ?? DEFAULT_MATCHING[config.type];
    for (const attribute of matching) {
      const value = wanted[attribute];
      if (typeof value !== 'string' || value === '') continue;
      const found = await connector.findUser(attribute, value);
      steps.push(`match: ${attribute} = "${value}": ${found ? `found ${found.id}` : 'no account'}`);
      if (!found) continue;
      const owner = await deps.links.ownerOf(config.id, 'user', found.id);
      if (owner !== undefined && owner !== userId) {
        steps.push(`collision: ${found.id} is linked to hub user ${owner}`);
        return finish(collision('user', found.id, userId, owner, `matched by ${attribute} = "${value}"`));
      }
      const update = mapUser(user, mappings, 'update');
      const change = diffAttributes(found.attributes, update, createOnlyTargets(mappings));
      steps.push(`action: link ${found.id}${Object.keys(change.set).length ? ` and update ${Object.keys(change.set).join(', ')}` : ''}`);
      if (options.dryRun) return { action: 'link', status: 'success', steps, targetId: found.id };
      const link: Link = {
        connectorId: config.id,
        kind: 'user',
        hubId: userId,
        targetId: found.id,
        status: update.active === false ? 'disabled' : 'active',
        pushed: update,
        hash: stableHash(update),
        origin: 'matched',
        updated: now(),
      };
      // Link first, then change the account: a racing worker that linked it to someone else
      // makes this put fail before anything of theirs is touched.
      try {
        await deps.links.put(link);
      } catch (error) {
        if (!(error instanceof LinkCollisionError)) throw error;
        steps.push(`collision: ${found.id} was linked to hub user ${error.ownerHubId} meanwhile`);
        return finish(collision('user', found.id, userId, error.ownerHubId, `matched by ${attribute} = "${value}"`));
      }
      if (Object.keys(change.set).length > 0) await connector.updateUser(found.id, { set: change.set, unset: [] }, update);
      return finish({ action: 'link', status: 'success', targetId: found.id, changes: changesOf({}, { set: change.set, unset: [] }) });
    }
    if (pass === 'rematch-after-conflict') {
      throw new ConnectorError('permanent', `${config.id}: the target refused to create ${name ?? userId} because it exists, and no matching attribute finds it`);
    }
    if (!config.operations.create) return finish({ action: 'create', status: 'skipped', reason: 'create is not an enabled operation' });
    if (user.active === false) {
      steps.push('action: none (inactive in the hub and never provisioned)');
      return finish({ action: 'create', status: 'skipped', reason: 'inactive users are not created' });
    }
    steps.push('action: create');
    if (options.dryRun) return { action: 'create', status: 'success', steps, changes: changesOf({}, { set: wanted, unset: [] }) };
    let created: { id: string };
    try {
      created = await connector.createUser(wanted);
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'conflict')) throw error;
      // Someone made the account between our match and our create: match again, once.
      steps.push('create: the target reports the account exists; matching again');
      return syncUserPass(ctx, userId, options, 'rematch-after-conflict');
    }
    try {
      await deps.links.put({
        connectorId: config.id,
        kind: 'user',
        hubId: userId,
        targetId: created.id,
        status: 'active',
        pushed: wanted,
        hash: stableHash(wanted),
        origin: 'created',
        updated: now(),
      });
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      steps.push(`collision: the created account ${created.id} is linked to hub user ${error.ownerHubId}`);
      return finish(collision('user', created.id, userId, error.ownerHubId, 'created'));
    }
    return finish({ action: 'create', status: 'success', targetId: created.id, changes: changesOf({}, { set: wanted, unset: [] }) });
  };

  const groupInScope = (config: ConnectorConfig, groupId: string): boolean =>
    config.scope.groups ? config.scope.groups.includes(groupId) : config.groups.provision || config.groups.mappings.some((m) => m.hubGroup === groupId);

  /**
   * Brings one hub group (not its members) to the target: create it, link the target group a
   * group mapping names, rename it, or delete it. A hub group never adopts a target group by its
   * name alone: without a mapping, a name taken on the target is a collision.
   */
  const syncGroup = async (ctx: ConnectorContext, groupId: string, options: SyncOptions): Promise<SyncOutcome> => {
    const { config, connector } = ctx;
    const steps: string[] = [];
    const group = await deps.hub.getGroup(groupId);
    const link = await deps.links.get(config.id, 'group', groupId);
    const name = typeof group?.displayName === 'string' ? group.displayName : (link?.pushed.displayName as string | undefined);
    const record = async (outcome: Omit<SyncOutcome, 'steps'>): Promise<SyncOutcome> => {
      const result = { ...outcome, steps };
      if (!options.dryRun) {
        await deps.audit.record({
          time: now(),
          connectorId: config.id,
          resourceType: 'Group',
          resourceId: groupId,
          ...(name ? { name } : {}),
          trigger: options.trigger,
          action: outcome.action,
          status: outcome.status,
          ...(outcome.targetId ? { targetId: outcome.targetId } : {}),
          steps,
          ...(outcome.reason ? { reason: outcome.reason } : {}),
          ...(outcome.collidesWith ? { collidesWith: outcome.collidesWith } : {}),
        });
      }
      return result;
    };
    const inScope = group !== undefined && groupInScope(config, groupId);
    steps.push(`scope: ${group ? (inScope ? 'in scope' : 'out of scope') : 'group deleted from the hub'}`);
    if (!inScope) {
      if (!link) return record({ action: 'none', status: 'skipped', reason: 'not provisioned and not in scope' });
      if (link.origin !== 'created') {
        steps.push('action: unlink (the target group was mapped or matched, so the hub never deletes it)');
        if (!options.dryRun) await deps.links.delete(link);
        return record({ action: 'unlink', status: 'success', targetId: link.targetId });
      }
      if (!config.operations.delete) return record({ action: 'delete', status: 'skipped', targetId: link.targetId, reason: 'delete is not an enabled operation' });
      steps.push(`action: delete target group ${link.targetId}`);
      if (options.dryRun) return { action: 'delete', status: 'success', steps, targetId: link.targetId };
      await connector.deleteGroup(link.targetId);
      await deps.links.delete(link);
      return record({ action: 'delete', status: 'success', targetId: link.targetId });
    }
    const displayName = String(group.displayName);
    if (link) {
      if (link.pushed.displayName === displayName) {
        steps.push('compare: target group is linked and up to date');
        return record({ action: 'none', status: 'skipped', targetId: link.targetId, reason: 'already linked' });
      }
      if (link.origin !== 'created') {
        // A mapped group keeps the target's own name: the mapping, not the hub, names it.
        steps.push('compare: displayName changed, but the target group is mapped: its name is not the hub\'s to change');
        return record({ action: 'rename', status: 'skipped', targetId: link.targetId, reason: 'mapped target groups keep their name' });
      }
      if (!config.operations.update) return record({ action: 'rename', status: 'skipped', targetId: link.targetId, reason: 'update is not an enabled operation' });
      steps.push(`action: rename target group ${link.targetId} from "${String(link.pushed.displayName)}" to "${displayName}"`);
      if (options.dryRun) return { action: 'rename', status: 'success', steps, targetId: link.targetId };
      const renamed = await connector.renameGroup(link.targetId, displayName, groupId);
      if (renamed.id !== link.targetId) steps.push(`the target cannot rename in place: the group is now ${renamed.id}`);
      const pushed = { displayName };
      await deps.links.put({ ...link, targetId: renamed.id, pushed, hash: stableHash(pushed), updated: now() }, link);
      return record({
        action: 'rename',
        status: 'success',
        targetId: renamed.id,
      });
    }
    const mapping = config.groups.mappings.find((m) => m.hubGroup === groupId);
    let target: { id: string } | undefined;
    if (mapping) {
      target = await connector.findGroup(mapping.targetId ? { id: mapping.targetId } : { displayName: mapping.targetDisplayName ?? displayName });
      if (!target) throw new ConnectorError('permanent', `mapped target group ${mapping.targetId ?? mapping.targetDisplayName} does not exist on ${config.id}`);
      steps.push(`match: group mapping: found ${target.id}`);
    } else {
      if (!config.operations.create) return record({ action: 'create', status: 'skipped', reason: 'create is not an enabled operation' });
      steps.push('action: create');
      if (options.dryRun) return { action: 'create', status: 'success', steps };
      try {
        target = await connector.createGroup(displayName, groupId);
      } catch (error) {
        if (!(error instanceof ConnectorError && error.kind === 'conflict')) throw error;
        // The name is taken on the target. Only a group this hub group made earlier (its
        // externalId is our id: a create whose link write was lost) is ours to link.
        const existing = await connector.findGroup({ displayName });
        if (!existing || existing.externalId !== groupId) {
          steps.push(`create: the target has a group named "${displayName}" that the hub did not make`);
          return record({
            action: 'collision',
            status: 'skipped',
            ...(existing ? { targetId: existing.id } : {}),
            reason: `the target already has a group named "${displayName}"; without a group mapping the hub never adopts it`,
          });
        }
        target = existing;
      }
    }
    const owner = await deps.links.ownerOf(config.id, 'group', target.id);
    if (owner !== undefined && owner !== groupId) {
      steps.push(`collision: ${target.id} is linked to hub group ${owner}`);
      return record(collision('group', target.id, groupId, owner, mapping ? 'named by a group mapping' : 'created'));
    }
    if (options.dryRun) return { action: 'link', status: 'success', steps, targetId: target.id };
    const pushed = { displayName };
    try {
      await deps.links.put({
        connectorId: config.id,
        kind: 'group',
        hubId: groupId,
        targetId: target.id,
        status: 'active',
        pushed,
        hash: stableHash(pushed),
        origin: mapping ? 'mapped' : 'created',
        updated: now(),
      });
    } catch (error) {
      if (!(error instanceof LinkCollisionError)) throw error;
      return record(collision('group', target.id, groupId, error.ownerHubId, mapping ? 'named by a group mapping' : 'created'));
    }
    return record({ action: mapping ? 'link' : 'create', status: 'success', targetId: target.id });
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
    await provisionMembers(ctx, unique.filter((memberId) => present.has(memberId) && (scoping || !known.has(linkRef('user', memberId)))), known, options);
    for (const memberId of unique) {
      const existing = known.get(linkRef('membership', `${groupId}#${memberId}`));
      const userLink = present.has(memberId) ? known.get(linkRef('user', memberId)) : undefined;
      const wanted = present.has(memberId) && groupLink !== undefined && userLink !== undefined;
      if (wanted && !existing && userLink) add.push({ memberId, targetId: userLink.targetId });
      if (!wanted && existing) remove.push({ memberId, link: existing });
      if (!present.has(memberId) && scoping) leaving.push(memberId);
    }
    steps.push(`compare: ${add.length} to add, ${remove.length} to remove`);
    const outcome: SyncOutcome = { action: 'membership', status: add.length + remove.length > 0 ? 'success' : 'skipped', steps, ...(groupLink ? { targetId: groupLink.targetId } : {}) };
    if (options.dryRun) return outcome;
    if (add.length + remove.length > 0) {
      // Without a group on the target there is nothing to remove from: only the links go.
      if (groupLink) await connector.changeGroupMembers(groupLink.targetId, { add: add.map((a) => a.targetId), remove: remove.map((r) => r.link.targetId) });
      // Membership links are independent items (no reverse index): written side by side.
      await Promise.all([
        ...add.map((a) =>
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
        ...remove.map((r) => deps.links.delete(r.link)),
      ]);
      await deps.audit.record({
        time: now(),
        connectorId: config.id,
        resourceType: 'Membership',
        resourceId: groupId,
        trigger: options.trigger,
        action: 'membership',
        status: 'success',
        ...(groupLink ? { targetId: groupLink.targetId } : {}),
        steps,
        changes: [{ attribute: 'members', old: remove.map((r) => r.memberId), new: add.map((a) => a.memberId) }],
        ...(options.changedAt ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) } : {}),
      });
    }
    // Leaving a scoped group: the user's own sync decides whether another scoped group keeps it.
    for (const memberId of leaving) await syncUser(ctx, memberId, options);
    return outcome;
  };

  return { syncUser, syncGroup, syncMembers };
};

export type SyncService = ReturnType<typeof makeSync>;
