import type { AttributeChange, TargetAccount, TargetAttributes, TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { scopeRules } from './scope.ts';
import { createOnlyTargets, DEFAULT_MAPPINGS, DEFAULT_MATCHING, mapUser } from './attribute-mapping.ts';
import type { AccessGrant } from './grant.ports.ts';
import { stableJson } from './stable-hash.ts';
import type { Link } from './sync.ports.ts';
import { resolveUserReferences, withUnreportedReferences } from './user-references.ts';

/**
 * The planner of the sync engine: pure functions from what is known about one resource (its hub
 * state, its link, the lookups made on the target, and, when a caller read it, the account as
 * the target holds it now) to a plan: the situation, the steps (scope, match, action), the
 * target calls it intends and each attribute's old and new value. It reads nothing and writes
 * nothing: the service gathers the facts, the applier carries the plan out, and a dry run is a
 * plan that is never applied. The same plan serves real time, reconciliation and on demand.
 */

type Json = Record<string, unknown>;

/** One attribute's change as operators read it; secrets are redacted. */
export interface AttributeDiff {
  attribute: string;
  old?: unknown;
  new?: unknown;
}

/** A call the plan intends to make on the target, in order. */
export type TargetCall =
  | { operation: 'createUser'; attributes: TargetAttributes }
  | { operation: 'updateUser'; targetId: string; change: AttributeChange; full: TargetAttributes }
  | { operation: 'disableUser'; targetId: string; full: TargetAttributes }
  | { operation: 'deleteUser'; targetId: string }
  | { operation: 'createGroup'; displayName: string; externalId: string }
  | { operation: 'renameGroup'; targetId: string; displayName: string; externalId: string }
  | { operation: 'deleteGroup'; targetId: string }
  | { operation: 'changeGroupMembers'; targetId: string; add: string[]; remove: string[] };

/**
 * Where a resource stands between the hub and one target (midPoint's situations):
 *
 * - `linked-in-sync`, `linked-drifted`: linked, and the target holds (or was last sent) what the
 *   hub wants, or not;
 * - `linked-gone`: linked, but the target no longer has the account;
 * - `unlinked-match`: not linked, and a matching attribute finds an account to link;
 * - `unmatched`: not linked, nothing matches: create;
 * - `collision`: the account found is linked to another hub resource;
 * - `provisioned-out-of-scope`: linked, but out of scope or deleted from the hub: deprovision;
 * - `not-provisioned`: out of scope (or deleted) and never provisioned: nothing to do.
 */
export type Situation =
  | 'linked-in-sync'
  | 'linked-drifted'
  | 'linked-gone'
  | 'unlinked-match'
  | 'unmatched'
  | 'collision'
  | 'provisioned-out-of-scope'
  | 'not-provisioned';

export type PlannedAction = 'create' | 'update' | 'link' | 'relink' | 'disable' | 'delete' | 'rename' | 'unlink' | 'membership' | 'collision' | 'none';

/** What the plan expects to happen; the applier's outcome has the same shape. */
export interface PlannedOutcome {
  action: PlannedAction;
  status: 'success' | 'skipped';
  targetId?: string;
  reason?: string;
  collidesWith?: string;
  changes?: AttributeDiff[];
}

interface PlanBase extends PlannedOutcome {
  connectorId: string;
  hubId: string;
  /** userName or displayName, for people reading the report. */
  name?: string;
  situation: Situation;
  /** The steps as operators read them: `scope: ...`, `match: ...`, `compare: ...`, `action: ...`. */
  steps: string[];
  /** The target calls the plan intends, in order. Empty for a skip. */
  calls: TargetCall[];
  /** Set when the plan cannot go on: the applier fails the change permanently with this message. */
  failure?: string;
}

export interface UserPlan extends PlanBase {
  kind: 'user';
  /** The link the plan starts from. */
  link?: Link;
  /** The hub user as the target should see it after the action (update and link). */
  wanted?: TargetAttributes;
  /** For `link`: the attribute and value that found the account. */
  matchedBy?: { attribute: string; value: string };
}

export interface GroupPlan extends PlanBase {
  kind: 'group';
  link?: Link;
  /** The hub group's displayName, when it is in scope. */
  displayName?: string;
  /** How a new link is made: a group mapping names the target group, or the hub creates it. */
  origin?: 'mapped' | 'created';
}

/** Whether a user belongs on the connector, and why not. */
export interface ScopeVerdict {
  inScope: boolean;
  /** Says why, for the step and the reason: `does not match the scope filter ...`. */
  reason?: string;
  /** In scope by a live temporary grant only. */
  byGrant?: AccessGrant;
}

/** What one lookup by a matching attribute found on the target. */
export interface MatchLookup {
  attribute: string;
  value: string;
  found?: TargetAccount;
  /** The hub user the found account is linked to already, if any. */
  owner?: string;
}

/** What the service gathered about one user for one connector. */
/** An account as a caller read it from the target: only its attributes enter the plan. */
export type ObservedAccount = Pick<TargetAccount, 'attributes'>;

export interface UserFacts {
  hubId: string;
  user: Json | undefined;
  link: Link | undefined;
  /** The user's hub groups; read only when the connector scopes by groups. */
  groupIds: string[];
  /** A temporary access grant to the connector, live or expired (the planner checks). */
  grant?: AccessGrant;
  /**
   * Lookups by the connector's matching attributes, in order, up to the first account found
   * (only made for an in-scope user without a link): see `matchQueries`.
   */
  matches: MatchLookup[];
  /**
   * The account as the target holds it now, when the caller read it (reconciliation): `null`
   * when the target no longer has it. Undefined means unknown: the link's `pushed` record stands
   * for the target, as in real time.
   */
  observed?: ObservedAccount | null;
  /** Deprovision whatever the scope says (an operator's on-demand deprovision). */
  forceDeprovision?: boolean;
  /**
   * The target's account ids of the hub users the user references (its manager), by hub id, from
   * their links; a referenced user missing here has no account on the target yet.
   */
  references?: ReadonlyMap<string, string>;
  /**
   * `rematch-after-conflict` is the one second pass after the target refused a create because
   * the account exists (made between our match and our create): it matches and never creates.
   */
  pass?: 'first' | 'rematch-after-conflict';
}

export interface GroupFacts {
  hubId: string;
  group: Json | undefined;
  link: Link | undefined;
  /** The target group a group mapping names, looked up for an in-scope group without a link. */
  mapped?: { found: TargetGroup | undefined; owner?: string };
  /**
   * The linked group as the target holds it now, when the caller read it (reconciliation):
   * `null` when the target no longer has it. Undefined: the link's `pushed` record stands for it.
   */
  observed?: { displayName: string } | null;
}

const SECRET = /password|secret|token/i;
const redact = (attribute: string, value: unknown) => (SECRET.test(attribute) && value !== undefined ? '[redacted]' : value);

/** The minimal change from what was pushed to what should be there now. */
export const diffAttributes = (pushed: TargetAttributes, wanted: TargetAttributes, keep: Set<string>): AttributeChange => {
  const set: TargetAttributes = {};
  for (const [key, value] of Object.entries(wanted)) if (stableJson(pushed[key]) !== stableJson(value)) set[key] = value;
  const unset = Object.keys(pushed).filter((key) => !(key in wanted) && !keep.has(key));
  return { set, unset };
};

/** Each attribute's old and new value of a change, secrets redacted. */
export const changesOf = (before: TargetAttributes, change: AttributeChange): AttributeDiff[] => [
  ...Object.entries(change.set).map(([attribute, value]) => ({ attribute, old: redact(attribute, before[attribute]), new: redact(attribute, value) })),
  ...change.unset.map((attribute) => ({ attribute, old: redact(attribute, before[attribute]) })),
];

const isEmpty = (change: AttributeChange) => Object.keys(change.set).length === 0 && change.unset.length === 0;

export const mappingsOf = (config: ConnectorConfig) => config.mapping ?? DEFAULT_MAPPINGS[config.type];

/** A grant counts until its `expiresAt`, whether or not DynamoDB's TTL has removed it yet. */
export const grantIsLive = (grant: AccessGrant | undefined, now: Date): grant is AccessGrant =>
  grant !== undefined && Date.parse(grant.expiresAt) > now.getTime();

/**
 * The connector's scope for one user: its filter, then its groups; a live temporary grant admits
 * the user whatever they say.
 */
export const userScope = (config: ConnectorConfig, user: Json, groupIds: string[], grant: AccessGrant | undefined, now: Date): ScopeVerdict => {
  const rules = scopeRules(config, user, groupIds);
  if (rules.ok) return { inScope: true };
  if (grantIsLive(grant, now)) return { inScope: true, byGrant: grant };
  return { inScope: false, reason: rules.reason ?? 'is out of scope' };
};

/** The lookups the match step makes, in order: each matching attribute the mapped user has a value for. */
export const matchQueries = (config: ConnectorConfig, user: Json): Array<{ attribute: string; value: string }> => {
  const wanted = mapUser(user, mappingsOf(config), 'create');
  const matching = config.matching ?? DEFAULT_MATCHING[config.type];
  return matching.flatMap((attribute) => {
    const value = wanted[attribute];
    return typeof value === 'string' && value !== '' ? [{ attribute, value }] : [];
  });
};

const collisionOf = (kind: 'user' | 'group', targetId: string, hubId: string, owner: string, how: string): PlannedOutcome => ({
  action: 'collision',
  status: 'skipped',
  targetId,
  collidesWith: owner,
  reason: `target ${kind} ${targetId} (${how}) is linked to hub ${kind} ${owner}, not to ${hubId}: nothing changed`,
});

/** Whether the facts say the user belongs on the connector now, with the step that says so. */
export const scopeStep = (config: ConnectorConfig, facts: UserFacts, now: Date): { verdict: ScopeVerdict; step: string } => {
  if (!facts.user) return { verdict: { inScope: false, reason: 'was deleted from the hub' }, step: 'scope: user deleted from the hub' };
  if (facts.forceDeprovision)
    return { verdict: { inScope: false, reason: 'is deprovisioned by an operator' }, step: 'scope: deprovision requested by an operator' };
  const verdict = userScope(config, facts.user, facts.groupIds, facts.grant, now);
  if (verdict.byGrant) return { verdict, step: `scope: in scope by temporary access until ${verdict.byGrant.expiresAt}` };
  return { verdict, step: `scope: ${verdict.inScope ? 'in scope' : `out of scope: user ${verdict.reason}`}` };
};

const planBase = (config: ConnectorConfig, hubId: string, name: string | undefined, link: Link | undefined, steps: string[]) => ({
  connectorId: config.id,
  hubId,
  ...(name ? { name } : {}),
  steps,
  calls: [] as TargetCall[],
  ...(link ? { link } : {}),
});

/**
 * Plans one user on one connector: scope, then (linked) compare or (not linked) match, then the
 * action, each as the connector's policy and enabled operations allow.
 */
export const planUser = (config: ConnectorConfig, facts: UserFacts, now: Date): UserPlan => {
  const { user, link, hubId } = facts;
  const steps: string[] = [];
  const name = typeof user?.userName === 'string' ? user.userName : (link?.name ?? (link?.pushed.userName as string | undefined));
  const { verdict, step } = scopeStep(config, facts, now);
  steps.push(step);
  const plan = (situation: Situation, outcome: PlannedOutcome, more: Partial<UserPlan> = {}): UserPlan => ({
    kind: 'user',
    ...planBase(config, hubId, name, link, steps),
    situation,
    ...outcome,
    ...more,
  });

  if (!user || !verdict.inScope) {
    if (!link) return plan('not-provisioned', { action: 'none', status: 'skipped', reason: `not provisioned, and the user ${verdict.reason}` });
    const situation = 'provisioned-out-of-scope';
    if (config.deprovision === 'delete') {
      if (!config.operations.delete)
        return plan(situation, { action: 'delete', status: 'skipped', targetId: link.targetId, reason: 'delete is not an enabled operation' });
      steps.push(`action: delete target account ${link.targetId} (deprovision policy: delete)`);
      return plan(
        situation,
        { action: 'delete', status: 'success', targetId: link.targetId },
        { calls: [{ operation: 'deleteUser', targetId: link.targetId }] },
      );
    }
    // Deprovisioning by disable keeps the link, also for a user deleted from the hub: the
    // disabled account stays owned by that person, so a later hub user who gets the same
    // userName meets a collision rather than re-adopting it.
    if (link.status === 'disabled' && facts.observed?.attributes.active !== true) {
      return plan(situation, { action: 'disable', status: 'skipped', targetId: link.targetId, reason: 'already disabled' });
    }
    if (!config.operations.disable)
      return plan(situation, { action: 'disable', status: 'skipped', targetId: link.targetId, reason: 'disable is not an enabled operation' });
    steps.push(`action: disable target account ${link.targetId} (deprovision policy: disable)`);
    const before = facts.observed?.attributes ?? link.pushed;
    return plan(
      situation,
      { action: 'disable', status: 'success', targetId: link.targetId, changes: [{ attribute: 'active', old: before.active, new: false }] },
      { calls: [{ operation: 'disableUser', targetId: link.targetId, full: { ...link.pushed, active: false } }] },
    );
  }

  const mappings = mappingsOf(config);
  // The hub's references (the manager's hub id) become the target's ids; one without an account there is left unset.
  const mapped = (phase: 'create' | 'update'): TargetAttributes => {
    const { attributes, unresolved } = resolveUserReferences(mapUser(user, mappings, phase), mappings, (id) => facts.references?.get(id));
    for (const reference of unresolved)
      steps.push(`reference: ${reference.attribute} names hub user ${reference.hubId}, who has no account on ${config.id} yet: left unset`);
    return attributes;
  };
  if (link) {
    if (facts.observed === null) {
      steps.push(`compare: target account ${link.targetId} is gone: linking again`);
      return plan('linked-gone', { action: 'relink', status: 'success', targetId: link.targetId });
    }
    const wanted = mapped('update');
    // What the target holds: read from it when the caller did, else what was pushed last.
    const before = facts.observed
      ? withUnreportedReferences(pick(facts.observed.attributes, [...Object.keys(wanted), ...Object.keys(link.pushed)]), link.pushed, mappings)
      : link.pushed;
    const change = diffAttributes(before, wanted, createOnlyTargets(mappings));
    if (facts.observed) change.unset = change.unset.filter((key) => key in link.pushed);
    if (isEmpty(change)) {
      steps.push('compare: target is up to date');
      return plan('linked-in-sync', { action: 'update', status: 'skipped', targetId: link.targetId, reason: 'no changes' });
    }
    if (!config.operations.update)
      return plan('linked-drifted', { action: 'update', status: 'skipped', targetId: link.targetId, reason: 'update is not an enabled operation' });
    const changes = changesOf(before, change);
    steps.push(`action: update ${changes.map((c) => c.attribute).join(', ')} on ${link.targetId}`);
    const full = { ...link.pushed, ...wanted };
    return plan(
      'linked-drifted',
      { action: 'update', status: 'success', targetId: link.targetId, changes },
      { wanted, calls: [{ operation: 'updateUser', targetId: link.targetId, change, full }] },
    );
  }

  // No link yet: match an existing account by the matching attributes, in order, else create.
  // Only attributes the connector names match (email only when its `matching` says so), and
  // an account linked to another hub user is a collision, never taken over.
  const update = facts.matches.some((lookup) => lookup.found) ? mapped('update') : {};
  for (const lookup of facts.matches) {
    steps.push(`match: ${lookup.attribute} = "${lookup.value}": ${lookup.found ? `found ${lookup.found.id}` : 'no account'}`);
    if (!lookup.found) continue;
    const how = `matched by ${lookup.attribute} = "${lookup.value}"`;
    if (lookup.owner !== undefined && lookup.owner !== hubId) {
      steps.push(`collision: ${lookup.found.id} is linked to hub user ${lookup.owner}`);
      return plan('collision', collisionOf('user', lookup.found.id, hubId, lookup.owner, how));
    }
    const change = diffAttributes(lookup.found.attributes, update, createOnlyTargets(mappings));
    const set = { set: change.set, unset: [] };
    steps.push(`action: link ${lookup.found.id}${Object.keys(change.set).length ? ` and update ${Object.keys(change.set).join(', ')}` : ''}`);
    return plan(
      'unlinked-match',
      { action: 'link', status: 'success', targetId: lookup.found.id, changes: changesOf(lookup.found.attributes, set) },
      {
        wanted: update,
        matchedBy: { attribute: lookup.attribute, value: lookup.value },
        calls: Object.keys(change.set).length ? [{ operation: 'updateUser', targetId: lookup.found.id, change: set, full: update }] : [],
      },
    );
  }
  const wanted = mapped('create');
  if (facts.pass === 'rematch-after-conflict') {
    return plan(
      'unmatched',
      { action: 'create', status: 'skipped', reason: 'the account exists on the target but no matching attribute finds it' },
      { failure: `${config.id}: the target refused to create ${name ?? hubId} because it exists, and no matching attribute finds it` },
    );
  }
  if (!config.operations.create) return plan('unmatched', { action: 'create', status: 'skipped', reason: 'create is not an enabled operation' });
  if (user.active === false) {
    steps.push('action: none (inactive in the hub and never provisioned)');
    return plan('unmatched', { action: 'create', status: 'skipped', reason: 'inactive users are not created' });
  }
  steps.push('action: create');
  return plan(
    'unmatched',
    { action: 'create', status: 'success', changes: changesOf({}, { set: wanted, unset: [] }) },
    { wanted, calls: [{ operation: 'createUser', attributes: wanted }] },
  );
};

const pick = (attributes: TargetAttributes, keys: string[]): TargetAttributes =>
  Object.fromEntries(keys.filter((key) => key in attributes).map((key) => [key, attributes[key]]));

/** Whether the connector provisions a hub group: a scoped group, every group, or a mapped one. */
export const groupInScope = (config: ConnectorConfig, groupId: string): boolean =>
  config.scope.groups ? config.scope.groups.includes(groupId) : config.groups.provision || config.groups.mappings.some((m) => m.hubGroup === groupId);

/**
 * Plans one hub group (not its members): create it, link the target group a group mapping
 * names, rename it, or delete it. A hub group never adopts a target group by its name alone:
 * without a mapping, a name taken on the target is a collision (found when the create fails).
 */
export const planGroup = (config: ConnectorConfig, facts: GroupFacts): GroupPlan => {
  const { group, link, hubId } = facts;
  const steps: string[] = [];
  const name = typeof group?.displayName === 'string' ? group.displayName : (link?.name ?? (link?.pushed.displayName as string | undefined));
  const plan = (situation: Situation, outcome: PlannedOutcome, more: Partial<GroupPlan> = {}): GroupPlan => ({
    kind: 'group',
    ...planBase(config, hubId, name, link, steps),
    situation,
    ...outcome,
    ...more,
  });
  const inScope = group !== undefined && groupInScope(config, hubId);
  steps.push(`scope: ${group ? (inScope ? 'in scope' : 'out of scope') : 'group deleted from the hub'}`);
  if (!inScope) {
    if (!link) return plan('not-provisioned', { action: 'none', status: 'skipped', reason: 'not provisioned and not in scope' });
    const situation = 'provisioned-out-of-scope';
    if (link.origin !== 'created') {
      steps.push('action: unlink (the target group was mapped or matched, so the hub never deletes it)');
      return plan(situation, { action: 'unlink', status: 'success', targetId: link.targetId });
    }
    if (!config.operations.delete)
      return plan(situation, { action: 'delete', status: 'skipped', targetId: link.targetId, reason: 'delete is not an enabled operation' });
    steps.push(`action: delete target group ${link.targetId}`);
    return plan(
      situation,
      { action: 'delete', status: 'success', targetId: link.targetId },
      { calls: [{ operation: 'deleteGroup', targetId: link.targetId }] },
    );
  }
  const displayName = String(group.displayName);
  if (link) {
    if (facts.observed === null) {
      steps.push(`compare: target group ${link.targetId} is gone: linking again`);
      return plan('linked-gone', { action: 'relink', status: 'success', targetId: link.targetId });
    }
    // The target's name when the caller read it (a rename made behind the hub's back), else what was pushed.
    const current = facts.observed ? facts.observed.displayName : link.pushed.displayName;
    if (current === displayName) {
      steps.push('compare: target group is linked and up to date');
      return plan('linked-in-sync', { action: 'none', status: 'skipped', targetId: link.targetId, reason: 'already linked' });
    }
    if (link.origin !== 'created') {
      // A mapped group keeps the target's own name: the mapping, not the hub, names it.
      steps.push("compare: displayName changed, but the target group is mapped: its name is not the hub's to change");
      return plan('linked-drifted', { action: 'rename', status: 'skipped', targetId: link.targetId, reason: 'mapped target groups keep their name' });
    }
    if (!config.operations.update)
      return plan('linked-drifted', { action: 'rename', status: 'skipped', targetId: link.targetId, reason: 'update is not an enabled operation' });
    steps.push(`action: rename target group ${link.targetId} from "${String(current)}" to "${displayName}"`);
    return plan(
      'linked-drifted',
      { action: 'rename', status: 'success', targetId: link.targetId, changes: [{ attribute: 'displayName', old: current, new: displayName }] },
      { displayName, calls: [{ operation: 'renameGroup', targetId: link.targetId, displayName, externalId: hubId }] },
    );
  }
  const mapping = config.groups.mappings.find((m) => m.hubGroup === hubId);
  if (mapping) {
    const target = facts.mapped?.found;
    if (!target) {
      return plan(
        'unmatched',
        { action: 'link', status: 'skipped', reason: 'the mapped target group does not exist' },
        { failure: `mapped target group ${mapping.targetId ?? mapping.targetDisplayName} does not exist on ${config.id}` },
      );
    }
    steps.push(`match: group mapping: found ${target.id}`);
    const owner = facts.mapped?.owner;
    if (owner !== undefined && owner !== hubId) {
      steps.push(`collision: ${target.id} is linked to hub group ${owner}`);
      return plan('collision', collisionOf('group', target.id, hubId, owner, 'named by a group mapping'));
    }
    return plan('unlinked-match', { action: 'link', status: 'success', targetId: target.id }, { displayName, origin: 'mapped' });
  }
  if (!config.operations.create) return plan('unmatched', { action: 'create', status: 'skipped', reason: 'create is not an enabled operation' });
  steps.push('action: create');
  return plan(
    'unmatched',
    { action: 'create', status: 'success', changes: [{ attribute: 'displayName', new: displayName }] },
    { displayName, origin: 'created', calls: [{ operation: 'createGroup', displayName, externalId: hubId }] },
  );
};

export { collisionOf };

/** The group mapping's lookup of its target group: by id, else by the mapped (or the hub's) name. */
export const mappedGroupQuery = (config: ConnectorConfig, groupId: string, displayName: string): { id: string } | { displayName: string } | undefined => {
  const mapping = config.groups.mappings.find((m) => m.hubGroup === groupId);
  if (!mapping) return undefined;
  return mapping.targetId ? { id: mapping.targetId } : { displayName: mapping.targetDisplayName ?? displayName };
};
