import type { AttributeChange, TargetAccount, TargetAttributes } from '../connectors/connector.port.ts';
import type { ConnectorConfig, ReconcileSettings } from '../connectors/connectors.schema.ts';
import { createOnlyTargets, DEFAULT_MAPPINGS, DEFAULT_MATCHING, mapUser } from './attribute-mapping.ts';
import { scopeRules } from './scope.ts';
import type { Link } from './sync.ports.ts';
import { resolveUserReferences, withUnreportedReferences } from './user-references.ts';

/**
 * Reconciliation's classifier (pure): every pair of a target account and a hub user lands in one
 * named situation, with the action the connector's policy gives it. It decides with the rules of
 * real-time sync (the connector's mapping, scope and matching attributes), reading no state of
 * its own: the run's page handler gathers the facts (a page of target accounts, the links and
 * hub users relevant to them) and enqueues the resulting changes on the connector's lane.
 */
export type Situation =
  /** Linked, and the target holds what the hub wants. */
  | 'inSync'
  /** Linked, and the target's values differ from what the hub wants. */
  | 'drifted'
  /** Linked, but the account is no longer on the target. */
  | 'gone'
  /** Not linked, and exactly one in-scope hub user matches the account: link it. */
  | 'unlinked'
  /** An in-scope hub user with no account on the target: create it. */
  | 'unmatched'
  /** An account no hub user matches. */
  | 'orphan'
  /** Several hub users match the account, or the one that matches is linked to another account. */
  | 'collision'
  /** Provisioned, but the hub user left the connector's scope or the hub: deprovision. */
  | 'outOfScope';

export const SITUATIONS: readonly Situation[] = ['inSync', 'drifted', 'gone', 'unlinked', 'unmatched', 'orphan', 'collision', 'outOfScope'];

/** `rename` is a group's; `add` and `remove` are a group member's. */
export type ReconcileAction = 'none' | 'update' | 'create' | 'link' | 'disable' | 'delete' | 'report' | 'unlink' | 'rename' | 'add' | 'remove';

/** Actions that take an account away from someone: the accidental-deletion threshold counts these. */
export const DESTRUCTIVE_ACTIONS: ReadonlySet<ReconcileAction> = new Set(['disable', 'delete']);

export interface UserVerdict {
  situation: Situation;
  action: ReconcileAction;
  hubId?: string;
  targetId?: string;
  /** For a drift: what the target holds that the hub does not want (what the update will send). */
  change?: AttributeChange;
  /** The target's own values (mapped attributes only): the worker plans against these, not the link's record. */
  observed?: TargetAttributes;
  reason: string;
  /** For a collision: the hub users involved. */
  collidesWith?: string[];
  /** For an orphan: the account's name as the target knows it (its first matching attribute). */
  observedName?: string;
}

/** A hub user as the classifier needs it: the resource and the ids of its groups (for group scope). */
export interface HubUserView {
  user: Record<string, unknown>;
  groupIds: readonly string[];
  /**
   * When a live temporary access grant admits the user outside the connector's scope: until
   * then the user stays provisioned (not `outOfScope`, not counted toward the threshold).
   */
  grantedUntil?: string;
}

/** What the page handler read for one page of target accounts. */
export interface TargetPageFacts {
  accounts: readonly TargetAccount[];
  /** Target id -> hub user id, from the links' reverse index, for the page's linked accounts. */
  owners: ReadonlyMap<string, string>;
  /** Hub user id -> user link, for the owners, the candidates and the users the owners reference (their managers). */
  links: ReadonlyMap<string, Link>;
  /** Hub users by id: the owners and the candidates. An owner missing here was deleted from the hub. */
  users: ReadonlyMap<string, HubUserView>;
  /** Target id -> ids of the hub users a matching query found for an unlinked account. */
  candidates: ReadonlyMap<string, readonly string[]>;
}

/**
 * One lookup the page handler makes in the hub for an unlinked account: hub users whose
 * `hubAttribute` equals `value`, because the connector maps `hubAttribute` to the matching
 * attribute `targetAttribute`. Only matching attributes mapped straight from a hub attribute
 * can be looked up; the classifier checks every candidate through the full mapping anyway.
 */
export interface MatchQuery {
  targetAttribute: string;
  hubAttribute: string;
  value: string;
}

export const mappingsOf = (config: ConnectorConfig) => config.mapping ?? DEFAULT_MAPPINGS[config.type];
const matchingOf = (config: ConnectorConfig) => config.matching ?? DEFAULT_MATCHING[config.type];

/** The settings of a connector's runs, with the defaults of an entry that sets none. */
export const reconcileSettingsOf = (config: ConnectorConfig): ReconcileSettings =>
  config.reconcile ?? { orphans: 'report', deletionThreshold: { percent: 20, minimum: 10 } };

/** The hub lookups that find the candidates of an unlinked account, in matching order. */
export const matchQueries = (config: ConnectorConfig, account: TargetAccount): MatchQuery[] =>
  matchingOf(config).flatMap((targetAttribute) => {
    const value = account.attributes[targetAttribute];
    const mapping = mappingsOf(config).find((m) => m.target === targetAttribute && m.source !== undefined);
    return typeof value === 'string' && value !== '' && mapping?.source ? [{ targetAttribute, hubAttribute: mapping.source, value }] : [];
  });

/** Matching is the target's lookup: case-insensitive and in one Unicode form, as SCIM userName (RFC 7643 section 4.1.1). */
const sameKey = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' && a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();

/**
 * Whether the target's value holds the wanted one: objects hold every wanted sub-attribute
 * (targets add their own, such as `display` or `type`), lists hold each wanted item in order,
 * and scalars compare by their text (Cognito stores every attribute as a string).
 */
export const holds = (actual: unknown, wanted: unknown): boolean => {
  if (Array.isArray(wanted)) return Array.isArray(actual) && actual.length === wanted.length && wanted.every((item, i) => holds(actual[i], item));
  if (wanted !== null && typeof wanted === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(wanted).every(([key, value]) => holds((actual as Record<string, unknown>)[key], value));
  }
  if (actual === undefined || actual === null) return wanted === undefined || wanted === null;
  return String(actual) === String(wanted);
};

const isEmpty = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/**
 * The drift between what the target holds and what the hub wants, over the attributes the
 * connector maps (the target's own attributes, such as Cognito's `sub`, are none of ours).
 * `create`-only attributes are the target's after creation, and an account whose `active` the
 * target leaves out is active.
 */
export const driftOf = (config: ConnectorConfig, actual: TargetAttributes, wanted: TargetAttributes): AttributeChange => {
  const createOnly = createOnlyTargets(mappingsOf(config));
  const managed = new Set(
    mappingsOf(config)
      .map((m) => m.target)
      .filter((target) => !createOnly.has(target)),
  );
  const set: TargetAttributes = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (!managed.has(key)) continue;
    const current = key === 'active' && actual.active === undefined ? true : actual[key];
    if (!holds(current, value)) set[key] = value;
  }
  const unset = [...managed].filter((key) => !(key in wanted) && !isEmpty(actual[key]));
  return { set, unset };
};

/** The target's values of the attributes the connector maps: what a drifted account's worker compares with. */
export const observedOf = (config: ConnectorConfig, actual: TargetAttributes): TargetAttributes => {
  const targets = new Set(mappingsOf(config).map((m) => m.target));
  return Object.fromEntries(Object.entries(actual).filter(([key]) => targets.has(key)));
};

/** The action that deprovisions an account, as the connector's policy and enabled operations allow. */
const deprovision = (config: ConnectorConfig, account: TargetAccount, policy: 'disable' | 'delete'): { action: ReconcileAction; reason: string } => {
  if (policy === 'disable' && account.attributes.active === false) return { action: 'none', reason: 'already disabled' };
  if (!config.operations[policy]) return { action: 'none', reason: `${policy} is not an enabled operation` };
  return { action: policy, reason: `policy: ${policy}` };
};

/** The connector's scope over one hub user, a live temporary grant admitting whom the rules leave out (as the planner's `userScope`). */
const inScope = (config: ConnectorConfig, view: HubUserView | undefined) => {
  if (!view) return { ok: false, reason: 'was deleted from the hub' };
  const rules = scopeRules(config, view.user, view.groupIds);
  return rules.ok || view.grantedUntil === undefined ? rules : { ok: true };
};

/** Whether the connector takes the hub user: its scope rules, or a live temporary grant. */
export const admits = (config: ConnectorConfig, view: HubUserView): boolean => inScope(config, view).ok;

const classifyLinked = (config: ConnectorConfig, account: TargetAccount, owner: string, facts: TargetPageFacts): UserVerdict => {
  const link = facts.links.get(owner);
  const base = { hubId: owner, targetId: account.id };
  if (!link || link.targetId !== account.id) {
    // The reverse index names a hub user whose own link points elsewhere: never guess whose account it is.
    return {
      ...base,
      situation: 'collision',
      action: 'none',
      collidesWith: [owner],
      reason: `the account is indexed to hub user ${owner}, whose link names ${link?.targetId ?? 'no account'}`,
    };
  }
  const view = facts.users.get(owner);
  const scope = inScope(config, view);
  if (!view || !scope.ok) {
    const { action, reason } = deprovision(config, account, config.deprovision);
    return {
      ...base,
      situation: action === 'none' && reason === 'already disabled' ? 'inSync' : 'outOfScope',
      action,
      reason: `the hub user ${scope.reason}; ${reason}`,
    };
  }
  // The hub's references (the manager) as the target's ids, from the links the page read; a reference the listing leaves out stands as pushed.
  const mappings = mappingsOf(config);
  const wanted = resolveUserReferences(mapUser(view.user, mappings, 'update'), mappings, (hubId) => facts.links.get(hubId)?.targetId).attributes;
  const change = driftOf(config, withUnreportedReferences(account.attributes, link.pushed, mappings), wanted);
  if (Object.keys(change.set).length === 0 && change.unset.length === 0)
    return { ...base, situation: 'inSync', action: 'none', reason: 'the target holds what the hub wants' };
  const drifted = [...Object.keys(change.set), ...change.unset].join(', ');
  return {
    ...base,
    situation: 'drifted',
    action: config.operations.update ? 'update' : 'none',
    change,
    observed: observedOf(config, account.attributes),
    reason: `the target differs in ${drifted}${config.operations.update ? '' : '; update is not an enabled operation'}`,
  };
};

const classifyUnlinked = (config: ConnectorConfig, account: TargetAccount, facts: TargetPageFacts): UserVerdict => {
  const mappings = mappingsOf(config);
  const found = facts.candidates.get(account.id) ?? [];
  for (const attribute of matchingOf(config)) {
    const value = account.attributes[attribute];
    if (typeof value !== 'string' || value === '') continue;
    const matches = [...new Set(found)].filter((hubId) => {
      const view = facts.users.get(hubId);
      return view !== undefined && sameKey(mapUser(view.user, mappings, 'create')[attribute], value);
    });
    if (matches.length === 0) continue;
    if (matches.length > 1) {
      return {
        situation: 'collision',
        action: 'none',
        targetId: account.id,
        collidesWith: matches,
        reason: `${matches.length} hub users match ${attribute} = "${value}"`,
      };
    }
    const hubId = matches[0] as string;
    const link = facts.links.get(hubId);
    if (link && link.targetId !== account.id) {
      return {
        situation: 'collision',
        action: 'none',
        hubId,
        targetId: account.id,
        collidesWith: [hubId],
        reason: `hub user ${hubId} matches by ${attribute} = "${value}" but is linked to ${link.targetId}`,
      };
    }
    const scope = inScope(config, facts.users.get(hubId));
    if (!scope.ok) {
      // A hub user's account the hub never provisioned: not an orphan, and not ours to change.
      return {
        situation: 'outOfScope',
        action: 'none',
        hubId,
        targetId: account.id,
        reason: `matches hub user ${hubId}, who ${scope.reason} and was never provisioned: left alone`,
      };
    }
    return {
      situation: 'unlinked',
      action: 'link',
      hubId,
      targetId: account.id,
      observed: observedOf(config, account.attributes),
      reason: `matched by ${attribute} = "${value}"`,
    };
  }
  const policy = reconcileSettingsOf(config).orphans;
  // The account's name as the target knows it (its first matching attribute), for the plan and the audit.
  const name = matchingOf(config)
    .map((attribute) => account.attributes[attribute])
    .find((value): value is string => typeof value === 'string' && value !== '');
  const named = name === undefined ? {} : { observedName: name };
  if (policy === 'report')
    return { situation: 'orphan', action: 'report', targetId: account.id, ...named, reason: 'no hub user matches the account (orphan policy: report)' };
  const { action, reason } = deprovision(config, account, policy);
  return { situation: 'orphan', action, targetId: account.id, ...named, reason: `no hub user matches the account (orphan policy: ${policy}); ${reason}` };
};

/** Classifies one page of target accounts. */
export const classifyTargetPage = (config: ConnectorConfig, facts: TargetPageFacts): UserVerdict[] =>
  facts.accounts.map((account) => {
    const owner = facts.owners.get(account.id);
    return owner === undefined ? classifyUnlinked(config, account, facts) : classifyLinked(config, account, owner, facts);
  });

/** The hub users a target page accounted for (owners and matched candidates): the hub pages skip them. */
export const accountedHubIds = (verdicts: readonly UserVerdict[]): string[] =>
  verdicts.flatMap((v) => (v.hubId !== undefined && v.situation !== 'collision' ? [v.hubId] : []));

/** What the page handler read for one page of hub users, after the target pages. */
export interface HubPageFacts {
  users: ReadonlyArray<{ id: string } & HubUserView>;
  links: ReadonlyMap<string, Link>;
  /** Hub ids the target pages accounted for: their accounts exist. */
  accounted: ReadonlySet<string>;
}

/** Classifies one page of hub users whose accounts no target page showed: unmatched, or gone. */
export const classifyHubPage = (config: ConnectorConfig, facts: HubPageFacts): UserVerdict[] =>
  facts.users.flatMap((view): UserVerdict[] => {
    if (facts.accounted.has(view.id)) return [];
    const link = facts.links.get(view.id);
    const scope = inScope(config, view);
    if (link) {
      const targetId = link.targetId;
      if (!scope.ok)
        return [
          {
            situation: 'gone',
            action: 'unlink',
            hubId: view.id,
            targetId,
            reason: `the account is gone from the target and the hub user ${scope.reason}: the link goes`,
          },
        ];
      return [
        {
          situation: 'gone',
          action: config.operations.create ? 'create' : 'none',
          hubId: view.id,
          targetId,
          reason: 'the account is gone from the target: create it again',
        },
      ];
    }
    if (!scope.ok) return [];
    if (view.user.active === false) return [{ situation: 'unmatched', action: 'none', hubId: view.id, reason: 'inactive users are not created' }];
    return [{ situation: 'unmatched', action: config.operations.create ? 'create' : 'none', hubId: view.id, reason: 'no account on the target' }];
  });

/** The membership changes that bring one linked group's target members to the hub's. */
export interface MembershipDrift {
  /** Hub members whose accounts are not in the target group. */
  add: Array<{ hubId: string; targetId: string }>;
  /** Target members linked to hub users who are not in the hub group. */
  remove: Array<{ hubId: string; targetId: string }>;
  /** Target members the hub does not manage (no link): left as they are, and reported. */
  unmanaged: string[];
}

/**
 * Compares one linked group's members on the target with the hub group's. Only accounts the hub
 * manages move: a member no link names was put there by someone else and stays.
 */
export const membershipDrift = (facts: {
  hubMembers: readonly string[];
  /** Hub user id -> its user link (active links of the hub members, and of the owners below). */
  userLinks: ReadonlyMap<string, Link>;
  targetMembers: readonly string[];
  /** Target id -> hub user id, for the target members. */
  owners: ReadonlyMap<string, string>;
}): MembershipDrift => {
  const onTarget = new Set(facts.targetMembers);
  const inHub = new Set(facts.hubMembers);
  const add = facts.hubMembers.flatMap((hubId) => {
    const link = facts.userLinks.get(hubId);
    return link && link.status === 'active' && !onTarget.has(link.targetId) ? [{ hubId, targetId: link.targetId }] : [];
  });
  const remove: MembershipDrift['remove'] = [];
  const unmanaged: string[] = [];
  for (const targetId of facts.targetMembers) {
    const owner = facts.owners.get(targetId);
    if (owner === undefined) unmanaged.push(targetId);
    else if (!inHub.has(owner)) remove.push({ hubId: owner, targetId });
  }
  return { add, remove, unmanaged };
};

/**
 * Whether a run's disables and deletes pass the connector's accidental-deletion threshold: more
 * than `percent` of the target's accounts, and at least `minimum` of them. Such a run waits for
 * an operator's approval before it changes anything.
 */
export const exceedsDeletionThreshold = (settings: ReconcileSettings, destructive: number, targetAccounts: number): boolean => {
  const { percent, minimum } = settings.deletionThreshold;
  return destructive >= minimum && destructive * 100 > percent * targetAccounts;
};
