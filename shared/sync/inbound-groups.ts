import type { TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import type { ReconcileAction, Situation } from './reconcile-situations.ts';
import type { Link } from './sync.ports.ts';

/**
 * An inbound source's groups and memberships (pure): each group the source holds becomes the hub
 * group it stands for, in the situations of a user's inbound run. The safety rules are the
 * users': a hub group is linked to a source group only by a match rule (a group mapping that names
 * the source group, or the group's own externalId: a group this source made, whose link write was
 * lost), never by its name alone; a name the hub holds already for a group from elsewhere is a
 * `collision`, and nothing changes. Members follow the source for hub users linked to the source;
 * a hub member that came from elsewhere is left as it is.
 */

/** A hub group as an inbound run reads it. */
export interface HubGroupView {
  id: string;
  displayName: string;
  externalId?: string;
}

/** What the page handler read about one source group. */
export interface InboundGroupFacts {
  source: TargetGroup;
  /** The link to the source group (hub group id -> source group id), when there is one. */
  link?: Link;
  /** The linked hub group, or undefined when the hub no longer has it. */
  linked?: HubGroupView;
  /** The hub group a group mapping names for this source group (by its id or its name). */
  mapped?: HubGroupView;
  /** The hub group holding the source group's displayName, when it is not linked. */
  sameName?: HubGroupView;
}

export interface InboundGroupVerdict {
  situation: Situation;
  action: ReconcileAction;
  /** The hub group (absent for a group to create). */
  hubId?: string;
  /** The source group. */
  targetId: string;
  /** The hub group's attributes to write: `displayName` and, for a create, `externalId`. */
  values?: Record<string, unknown>;
  reason: string;
  collidesWith?: string[];
  /** For `link`: a group mapping names the source group, or the source made the hub group. */
  origin?: 'mapped' | 'created';
}

/** The group mapping that names a source group, by its id or its name. */
export const inboundMappingOf = (config: ConnectorConfig, source: TargetGroup) =>
  config.groups.mappings.find((m) => (m.targetId !== undefined ? m.targetId === source.id : m.targetDisplayName === source.displayName));

/** Classifies one source group against the hub. */
export const classifyInboundGroup = (config: ConnectorConfig, facts: InboundGroupFacts): InboundGroupVerdict => {
  const { source, link, linked } = facts;
  const targetId = source.id;
  if (link) {
    if (!linked)
      return { situation: 'gone', action: 'none', hubId: link.hubId, targetId, reason: 'its hub group was deleted in the hub: the hub keeps its deletion' };
    // A mapped group keeps the hub's name: the mapping, not the source, names it.
    if (linked.displayName === source.displayName || link.origin !== 'created')
      return { situation: 'inSync', action: 'none', hubId: linked.id, targetId, reason: 'the hub group is there under its name' };
    return {
      situation: 'drifted',
      action: config.operations.update ? 'rename' : 'none',
      hubId: linked.id,
      targetId,
      values: { displayName: source.displayName },
      reason: `the source names it "${source.displayName}", the hub "${linked.displayName}"`,
    };
  }
  if (inboundMappingOf(config, source)) {
    if (!facts.mapped) return { situation: 'unmatched', action: 'none', targetId, reason: 'the hub group its mapping names does not exist' };
    return { situation: 'unlinked', action: 'link', hubId: facts.mapped.id, targetId, origin: 'mapped', reason: 'a group mapping names it' };
  }
  const same = facts.sameName;
  if (same) {
    // Only a hub group this source made (its externalId is the source group's id) is ours to link.
    if (same.externalId === source.id)
      return { situation: 'unlinked', action: 'link', hubId: same.id, targetId, origin: 'created', reason: 'the hub group this source made' };
    return {
      situation: 'collision',
      action: 'none',
      targetId,
      collidesWith: [same.id],
      reason: `the hub has a group named "${source.displayName}" from elsewhere; without a group mapping it is never adopted`,
    };
  }
  return {
    situation: 'unmatched',
    action: config.operations.create ? 'create' : 'none',
    targetId,
    values: { displayName: source.displayName, externalId: source.id },
    reason: `no hub group${config.operations.create ? ': create it' : '; create is not an enabled operation'}`,
  };
};

/** One member whose place differs between the source group and its hub group. */
export interface InboundMemberVerdict {
  situation: Situation;
  action: ReconcileAction;
  /** The source group (its hub group is found by the group's link when the change is applied). */
  sourceGroupId: string;
  /** The hub group, when it exists at planning. */
  groupId?: string;
  /** The hub user, when it exists at planning. */
  hubId?: string;
  /** The member's source account. */
  targetId?: string;
  reason: string;
}

/** What the page handler read about one source group's members. */
export interface InboundMembersFacts {
  sourceGroupId: string;
  groupId?: string;
  /** The source group's members (source account ids). */
  sourceMembers: readonly string[];
  /** Source account id -> the hub user linked to it. */
  owners: ReadonlyMap<string, string>;
  /** Source accounts whose hub user this run creates or links (their owner is known only once applied). */
  arriving: ReadonlySet<string>;
  /** The hub group's user members (none for a group to create). */
  hubMembers: readonly string[];
  /** Hub user id -> its link to this source, for the hub members. */
  hubLinks: ReadonlyMap<string, Link>;
}

/**
 * The membership changes of one source group: a source member whose hub user is not in the hub
 * group is added, a hub member linked to the source but no longer in the source group is
 * removed, and a source member with no hub user is reported. Members in place make no verdict.
 */
export const classifyInboundMembers = (facts: InboundMembersFacts): InboundMemberVerdict[] => {
  const base = { sourceGroupId: facts.sourceGroupId, ...(facts.groupId !== undefined ? { groupId: facts.groupId } : {}) };
  const inHub = new Set(facts.hubMembers);
  const inSource = new Set(facts.sourceMembers);
  const verdicts: InboundMemberVerdict[] = [];
  for (const targetId of inSource) {
    const hubId = facts.owners.get(targetId);
    if (hubId !== undefined) {
      if (!inHub.has(hubId))
        verdicts.push({ ...base, situation: 'drifted', action: 'add', hubId, targetId, reason: 'a source member missing from the hub group' });
    } else if (facts.arriving.has(targetId)) {
      verdicts.push({ ...base, situation: 'unmatched', action: 'add', targetId, reason: 'a source member whose hub user this run writes' });
    } else {
      verdicts.push({ ...base, situation: 'orphan', action: 'report', targetId, reason: 'a source member with no hub user: left out' });
    }
  }
  for (const hubId of facts.hubMembers) {
    const link = facts.hubLinks.get(hubId);
    // A hub member from elsewhere (no link to this source) is not the source's to remove.
    if (link && !inSource.has(link.targetId))
      verdicts.push({
        ...base,
        situation: 'drifted',
        action: 'remove',
        hubId,
        targetId: link.targetId,
        reason: 'in the hub group, no longer in the source group',
      });
  }
  return verdicts;
};

/** A hub group linked to the source whose source group no page showed: gone from the source. */
export const classifyInboundGroupGone = (config: ConnectorConfig, group: HubGroupView, link: Link): InboundGroupVerdict => {
  if (link.origin !== 'created')
    return {
      situation: 'gone',
      action: 'unlink',
      hubId: group.id,
      targetId: link.targetId,
      reason: 'its mapped source group is gone: unlinked, the hub group stays',
    };
  return {
    situation: 'gone',
    action: config.operations.delete ? 'delete' : 'none',
    hubId: group.id,
    targetId: link.targetId,
    reason: `the source group is gone${config.operations.delete ? ': the hub group it made is deleted' : '; delete is not an enabled operation'}`,
  };
};
