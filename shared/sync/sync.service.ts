import { ConnectorError } from '../connectors/connector.errors.ts';
import type { AttributeChange, Connector, TargetAttributes } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { evaluateFilter, parseFilter } from '../scim/filter.ts';
import { createOnlyTargets, DEFAULT_MAPPINGS, DEFAULT_MATCHING, mapUser } from './attribute-mapping.ts';
import { stableHash, stableJson } from './stable-hash.ts';
import type { AuditEntry, AuditLog, HubReader, LinkStore, Trigger } from './sync.ports.ts';

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
  trigger: Trigger;
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
}

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
      ...(options.attempt ? { attempt: options.attempt } : {}),
      ...(options.changedAt && outcome.status === 'success' ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) } : {}),
    });
  };

  /** Brings one hub user to the connector's target. */
  const syncUser = async (ctx: ConnectorContext, userId: string, options: SyncOptions): Promise<SyncOutcome> => {
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
        await deps.links.delete(config.id, 'user', userId);
        return finish({ action: 'delete', status: 'success', targetId: link.targetId });
      }
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
        await deps.links.delete(config.id, 'user', userId);
        return syncUser(ctx, userId, options);
      }
      const pushed = { ...Object.fromEntries(Object.entries(link.pushed).filter(([key]) => !change.unset.includes(key))), ...change.set };
      await deps.links.put({ ...link, status: wanted.active === false ? 'disabled' : 'active', pushed, hash: stableHash(pushed), updated: now() });
      return finish({ action: 'update', status: 'success', targetId: link.targetId, changes });
    }

    // No link yet: match an existing account by the matching attributes, in order, else create.
    const wanted = mapUser(user, mappings, 'create');
    const matching = config.matching ?? DEFAULT_MATCHING[config.type];
    for (const attribute of matching) {
      const value = wanted[attribute];
      if (typeof value !== 'string' || value === '') continue;
      const found = await connector.findUser(attribute, value);
      steps.push(`match: ${attribute} = "${value}": ${found ? `found ${found.id}` : 'no account'}`);
      if (!found) continue;
      const update = mapUser(user, mappings, 'update');
      const change = diffAttributes(found.attributes, update, createOnlyTargets(mappings));
      steps.push(`action: link ${found.id}${Object.keys(change.set).length ? ` and update ${Object.keys(change.set).join(', ')}` : ''}`);
      if (options.dryRun) return { action: 'link', status: 'success', steps, targetId: found.id };
      if (Object.keys(change.set).length > 0) await connector.updateUser(found.id, { set: change.set, unset: [] }, update);
      await deps.links.put({
        connectorId: config.id,
        kind: 'user',
        hubId: userId,
        targetId: found.id,
        status: update.active === false ? 'disabled' : 'active',
        pushed: update,
        hash: stableHash(update),
        origin: 'matched',
        updated: now(),
      });
      return finish({ action: 'link', status: 'success', targetId: found.id, changes: changesOf({}, { set: change.set, unset: [] }) });
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
      if (!(error instanceof ConnectorError && error.kind === 'conflict') || options.attempt === -1) throw error;
      // Someone made the account between our match and our create: match again, once.
      steps.push('create: the target reports the account exists; matching again');
      return syncUser(ctx, userId, { ...options, attempt: -1 });
    }
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
    return finish({ action: 'create', status: 'success', targetId: created.id, changes: changesOf({}, { set: wanted, unset: [] }) });
  };

  const groupInScope = (config: ConnectorConfig, groupId: string): boolean =>
    config.scope.groups ? config.scope.groups.includes(groupId) : config.groups.provision || config.groups.mappings.some((m) => m.hubGroup === groupId);

  /** Brings one hub group (not its members) to the target: create, link to a mapped group, or delete. */
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
        if (!options.dryRun) await deps.links.delete(config.id, 'group', groupId);
        return record({ action: 'unlink', status: 'success', targetId: link.targetId });
      }
      if (!config.operations.delete) return record({ action: 'delete', status: 'skipped', targetId: link.targetId, reason: 'delete is not an enabled operation' });
      steps.push(`action: delete target group ${link.targetId}`);
      if (options.dryRun) return { action: 'delete', status: 'success', steps, targetId: link.targetId };
      await connector.deleteGroup(link.targetId);
      await deps.links.delete(config.id, 'group', groupId);
      return record({ action: 'delete', status: 'success', targetId: link.targetId });
    }
    if (link) {
      steps.push('compare: target group is linked');
      return record({ action: 'none', status: 'skipped', targetId: link.targetId, reason: 'already linked' });
    }
    const displayName = String(group.displayName);
    const mapping = config.groups.mappings.find((m) => m.hubGroup === groupId);
    const target = mapping
      ? await connector.findGroup(mapping.targetId ? { id: mapping.targetId } : { displayName: mapping.targetDisplayName ?? displayName })
      : await connector.findGroup({ displayName });
    if (mapping && !target) throw new ConnectorError('permanent', `mapped target group ${mapping.targetId ?? mapping.targetDisplayName} does not exist on ${config.id}`);
    steps.push(target ? `match: ${mapping ? 'group mapping' : 'displayName'}: found ${target.id}` : `match: displayName = "${displayName}": no group`);
    if (!target && !config.operations.create) return record({ action: 'create', status: 'skipped', reason: 'create is not an enabled operation' });
    steps.push(target ? `action: link ${target.id}` : 'action: create');
    if (options.dryRun) return { action: target ? 'link' : 'create', status: 'success', steps, ...(target ? { targetId: target.id } : {}) };
    const linked = target ?? (await connector.createGroup(displayName, groupId));
    const pushed = { displayName };
    await deps.links.put({
      connectorId: config.id,
      kind: 'group',
      hubId: groupId,
      targetId: linked.id,
      status: 'active',
      pushed,
      hash: stableHash(pushed),
      origin: mapping ? 'mapped' : target ? 'matched' : 'created',
      updated: now(),
    });
    return record({ action: target ? 'link' : 'create', status: 'success', targetId: linked.id });
  };

  /**
   * Brings the membership of some members of one group to the target as one minimal delta:
   * members that should be there and are not get added, members that are there and should not
   * be get removed. Members are provisioned first when they are in scope but not yet linked.
   */
  const syncMembers = async (ctx: ConnectorContext, groupId: string, memberIds: string[], options: SyncOptions): Promise<SyncOutcome> => {
    const { config, connector } = ctx;
    const steps: string[] = [];
    let groupLink = await deps.links.get(config.id, 'group', groupId);
    if (!groupLink && groupInScope(config, groupId) && (await deps.hub.getGroup(groupId))) {
      steps.push('group not linked yet: provisioning it first');
      await syncGroup(ctx, groupId, options);
      groupLink = await deps.links.get(config.id, 'group', groupId);
    }
    const present = groupLink ? await deps.hub.membersAmong(groupId, memberIds) : new Set<string>();
    const add: Array<{ memberId: string; targetId: string }> = [];
    const remove: Array<{ memberId: string; targetId: string }> = [];
    for (const memberId of [...new Set(memberIds)]) {
      const membershipId = `${groupId}#${memberId}`;
      const existing = await deps.links.get(config.id, 'membership', membershipId);
      let userLink = present.has(memberId) ? await deps.links.get(config.id, 'user', memberId) : undefined;
      if (present.has(memberId) && !userLink && (await deps.hub.getUser(memberId))) {
        await syncUser(ctx, memberId, options);
        userLink = await deps.links.get(config.id, 'user', memberId);
      }
      const wanted = present.has(memberId) && userLink !== undefined;
      if (wanted && !existing && userLink) add.push({ memberId, targetId: userLink.targetId });
      if (!wanted && existing) remove.push({ memberId, targetId: existing.targetId });
    }
    steps.push(`compare: ${add.length} to add, ${remove.length} to remove`);
    const outcome: SyncOutcome = { action: 'membership', status: add.length + remove.length > 0 ? 'success' : 'skipped', steps, ...(groupLink ? { targetId: groupLink.targetId } : {}) };
    if (add.length + remove.length === 0 || !groupLink || options.dryRun) return outcome;
    await connector.changeGroupMembers(groupLink.targetId, { add: add.map((a) => a.targetId), remove: remove.map((r) => r.targetId) });
    for (const a of add) {
      await deps.links.put({
        connectorId: config.id,
        kind: 'membership',
        hubId: `${groupId}#${a.memberId}`,
        targetId: a.targetId,
        status: 'active',
        pushed: {},
        hash: '',
        origin: 'created',
        updated: now(),
      });
    }
    for (const r of remove) await deps.links.delete(config.id, 'membership', `${groupId}#${r.memberId}`);
    await deps.audit.record({
      time: now(),
      connectorId: config.id,
      resourceType: 'Membership',
      resourceId: groupId,
      trigger: options.trigger,
      action: 'membership',
      status: 'success',
      targetId: groupLink.targetId,
      steps,
      changes: [{ attribute: 'members', old: remove.map((r) => r.memberId), new: add.map((a) => a.memberId) }],
      ...(options.changedAt ? { latencyMs: Math.max(0, deps.clock().getTime() - options.changedAt) } : {}),
    });
    return outcome;
  };

  return { syncUser, syncGroup, syncMembers };
};

export type SyncService = ReturnType<typeof makeSync>;
