import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import type { InboundMemberVerdict } from './inbound-groups.ts';
import type { FeedRound, FeedState, RunFeed, RunRecord } from './reconcile-run.ports.ts';
import { mappingsOf, type Situation } from './reconcile-situations.ts';
import { stableHash } from './stable-hash.ts';

/**
 * An inbound source with a change feed (Entra's delta queries), read by reconciliation runs
 * (pure). The first run reads a full round: every user and group, classified as a listing is,
 * and the hub users and groups linked to the source that the round did not show are gone. The
 * round ends with a delta link per resource, which the run keeps; once it has applied its plan
 * (done, not a dry run), the links are stored for the connector. The next run follows them and
 * reads only what changed: changed users and groups land in the same situations, those the
 * source removed are `gone` (the same policy and deletion threshold), and a group's members
 * change by the feed's additions and removals. A link the source refuses (expired), settings
 * that changed since the links were taken, or an operator's `full` make the run a full round.
 *
 * A changes round sees only what changed at the source: a hub user edited in the hub keeps the
 * edit until the source changes the account or a full round runs.
 */

/** The run's mark of a source account whose hub user the run creates or links (beside the hub ids it accounted for). */
export const arrivingMark = (sourceId: string) => `source#${sourceId}`;

/** The settings an inbound run classifies under: links read under other settings do not hold. */
export const feedSettingsOf = (config: ConnectorConfig): string =>
  stableHash({ mapping: mappingsOf(config), groups: config.groups, operations: config.operations });

/** How a run reads the source, from the operator's wish, the stored state and the connector's settings. */
export const openFeed = (input: { full?: boolean; state?: FeedState; settings: string }): RunFeed => {
  const full = (reason: string): RunFeed => ({ users: { round: 'full', reason }, groups: { round: 'full', reason }, settings: input.settings });
  if (input.full) return full('an operator asked for a full round');
  if (!input.state) return full('no delta link is stored yet: the round reads every user and group');
  if (input.state.settings !== input.settings) return full("the connector's mapping, groups or operations changed since the stored delta links were taken");
  return {
    users: { round: 'changes', since: input.state.users, base: input.state.accounts },
    groups: input.state.groups
      ? { round: 'changes', since: input.state.groups, base: input.state.groupCount ?? 0 }
      : { round: 'full', reason: 'no delta link of groups is stored yet' },
    settings: input.settings,
  };
};

/** A changes round whose stored link the source refused becomes a full round, saying why. */
export const fallBack = (resource: 'users' | 'groups'): FeedRound => ({
  round: 'full',
  reason: `the source refused the stored delta link of ${resource} (expired or invalid): a full round instead`,
});

/** Where a round reads its next page: the page link of the round so far, else the stored link of a changes round. */
export const feedCursorOf = (round: FeedRound, cursor: string | undefined): string | undefined =>
  cursor ?? (round.round === 'changes' ? round.since : undefined);

/** Situations of items the hub had no link to: new to the source's count in a changes round. */
const ARRIVING: ReadonlySet<Situation> = new Set(['unmatched', 'unlinked', 'collision']);

/**
 * How a changes page moves the count of what the source holds (the deletion threshold's base):
 * items the hub had no link to arrive, removed ones leave.
 */
export const countChange = (verdicts: ReadonlyArray<{ situation: Situation }>, removed: number): number =>
  verdicts.filter((v) => ARRIVING.has(v.situation)).length - removed;

/** What the page handler read for one linked group's member changes. */
export interface MemberChangesFacts {
  sourceGroupId: string;
  /** The hub group linked to the source group. */
  groupId: string;
  /** Source account ids the feed says joined and left the group. */
  added: readonly string[];
  removed: readonly string[];
  /** Source account id -> the hub user linked to it. */
  owners: ReadonlyMap<string, string>;
  /** Source accounts whose hub user this run creates or links. */
  arriving: ReadonlySet<string>;
  /** The owners that are members of the hub group now. */
  inGroup: ReadonlySet<string>;
}

/**
 * A linked group's member changes from the feed: a joiner whose hub user is not in the hub group
 * is added, a leaver whose hub user is is removed; a joiner with no hub user is reported, and a
 * leaver with none is not the source's to remove. Members already in place make no verdict.
 */
export const classifyInboundMemberChanges = (facts: MemberChangesFacts): InboundMemberVerdict[] => {
  const base = { sourceGroupId: facts.sourceGroupId, groupId: facts.groupId };
  const verdicts: InboundMemberVerdict[] = [];
  for (const targetId of new Set(facts.added)) {
    const hubId = facts.owners.get(targetId);
    if (hubId !== undefined) {
      if (!facts.inGroup.has(hubId))
        verdicts.push({ ...base, situation: 'drifted', action: 'add', hubId, targetId, reason: 'joined the source group: missing from the hub group' });
    } else if (facts.arriving.has(targetId)) {
      verdicts.push({ ...base, situation: 'unmatched', action: 'add', targetId, reason: 'joined the source group; this run writes its hub user' });
    } else {
      verdicts.push({ ...base, situation: 'orphan', action: 'report', targetId, reason: 'joined the source group with no hub user: left out' });
    }
  }
  for (const targetId of new Set(facts.removed)) {
    const hubId = facts.owners.get(targetId);
    if (hubId !== undefined && facts.inGroup.has(hubId))
      verdicts.push({ ...base, situation: 'drifted', action: 'remove', hubId, targetId, reason: 'left the source group: still in the hub group' });
  }
  return verdicts;
};

/** The state a run that finished applying leaves for the next (none for a dry run, an unfinished one, or a run without a change feed). */
export const feedStateOf = (run: RunRecord, time: string): FeedState | undefined => {
  const feed = run.feed;
  if (!feed?.users.deltaLink || run.dryRun || run.state !== 'done') return undefined;
  return {
    connectorId: run.connectorId,
    users: feed.users.deltaLink,
    ...(feed.groups?.deltaLink ? { groups: feed.groups.deltaLink } : {}),
    accounts: Math.max(0, run.targetAccounts),
    ...(run.targetGroups !== undefined ? { groupCount: Math.max(0, run.targetGroups) } : {}),
    settings: feed.settings,
    runId: run.runId,
    runCreated: run.created,
    updated: time,
  };
};
