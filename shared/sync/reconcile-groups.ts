import type { TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { membershipDrift, type ReconcileAction, type Situation } from './reconcile-situations.ts';
import { groupInScope } from './sync.planner.ts';
import type { Link } from './sync.ports.ts';

/**
 * Reconciliation of groups and their memberships (pure): a run's groups phase reads a page of
 * hub groups, the target group each link names and its members, and lands each group and each
 * member that differs in a named situation, as the worker's group and membership sync would
 * decide it. Only the hub's own groups are read: a target group the hub neither made nor maps
 * is not the hub's business.
 */

/** What the page handler read about one hub group. */
export interface GroupReconcileFacts {
  groupId: string;
  displayName: string;
  link?: Link;
  /** The linked target group as the target holds it now; undefined when it is gone (or there is no link). */
  target?: TargetGroup;
}

export interface GroupVerdict {
  situation: Situation;
  action: ReconcileAction;
  groupId: string;
  targetId?: string;
  /** The target's name when it read the group (drift): the worker renames against it. */
  observedName?: string;
  reason: string;
}

/** Classifies one hub group: in sync, renamed on the target, gone from it, never made, or out of scope. */
export const classifyGroup = (config: ConnectorConfig, facts: GroupReconcileFacts): GroupVerdict => {
  const { groupId, link, target } = facts;
  const base = { groupId, ...(link ? { targetId: link.targetId } : {}) };
  if (!groupInScope(config, groupId)) {
    if (!link) return { ...base, situation: 'inSync', action: 'none', reason: 'not in scope and not provisioned' };
    // A created group goes as the deprovision policy of groups says; a mapped or matched one is only unlinked.
    if (link.origin !== 'created') return { ...base, situation: 'outOfScope', action: 'unlink', reason: 'out of scope: the mapped target group is unlinked' };
    return {
      ...base,
      situation: 'outOfScope',
      action: config.operations.delete ? 'delete' : 'none',
      reason: `out of scope${config.operations.delete ? '' : '; delete is not an enabled operation'}`,
    };
  }
  if (!link) {
    if (config.groups.mappings.some((m) => m.hubGroup === groupId))
      return { ...base, situation: 'unlinked', action: 'link', reason: 'a group mapping names its target group' };
    return {
      ...base,
      situation: 'unmatched',
      action: config.operations.create ? 'create' : 'none',
      reason: `no target group${config.operations.create ? '' : '; create is not an enabled operation'}`,
    };
  }
  if (!target)
    return {
      ...base,
      situation: 'gone',
      action: config.operations.create ? 'create' : 'none',
      reason: 'the target group is gone: create it again',
    };
  if (link.origin !== 'created' || target.displayName === facts.displayName)
    return { ...base, situation: 'inSync', action: 'none', reason: 'the target group is there under its name' };
  return {
    ...base,
    situation: 'drifted',
    action: config.operations.update ? 'rename' : 'none',
    observedName: target.displayName,
    reason: `the target names it "${target.displayName}", the hub "${facts.displayName}"`,
  };
};

/** One member of a group whose place differs between the hub and the target group. */
export interface MemberVerdict {
  situation: Situation;
  action: ReconcileAction;
  groupId: string;
  /** The hub user; absent for a target member the hub does not manage. */
  hubId?: string;
  targetId?: string;
  /** What the run saw in the target group: the worker adds an `absent` member and removes a `present` one. */
  observed?: 'absent' | 'present';
  reason: string;
}

/** What the page handler read about one group's members. */
export interface MembersFacts {
  groupId: string;
  /** The hub group's user members. */
  hubMembers: readonly string[];
  /** Hub user id -> user link, for the hub members and the owners of the target members. */
  userLinks: ReadonlyMap<string, Link>;
  /** The target group's members (target ids); empty when the group is not on the target yet. */
  targetMembers: readonly string[];
  /** Target id -> hub user id, for the target members. */
  owners: ReadonlyMap<string, string>;
  /** Hub members with no account yet whom the connector's scope admits: the worker provisions them, then adds them. */
  toProvision: readonly string[];
}

/**
 * The membership changes of one group: members to add (linked but missing on the target, or
 * to be provisioned first), managed members to remove, and unmanaged ones reported only.
 * Members already in place make no verdict: a page keeps only what differs.
 */
export const classifyMembers = (facts: MembersFacts): MemberVerdict[] => {
  const drift = membershipDrift(facts);
  const { groupId } = facts;
  return [
    ...drift.add.map(
      (m): MemberVerdict => ({
        situation: 'drifted',
        action: 'add',
        groupId,
        ...m,
        observed: 'absent',
        reason: 'a hub member missing from the target group',
      }),
    ),
    ...facts.toProvision.map(
      (hubId): MemberVerdict => ({ situation: 'unmatched', action: 'add', groupId, hubId, observed: 'absent', reason: 'a hub member with no account yet' }),
    ),
    ...drift.remove.map(
      (m): MemberVerdict => ({
        situation: 'drifted',
        action: 'remove',
        groupId,
        ...m,
        observed: 'present',
        reason: 'in the target group, not in the hub group',
      }),
    ),
    ...drift.unmanaged.map(
      (targetId): MemberVerdict => ({ situation: 'orphan', action: 'report', groupId, targetId, reason: 'a target member no hub user owns: left as it is' }),
    ),
  ];
};
