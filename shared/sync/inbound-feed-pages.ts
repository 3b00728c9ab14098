import { ChangesExpiredError } from '../connectors/connector.errors.ts';
import type { ChangeFeed, ChangePage, Connector, GroupChange, TargetAccount, TargetGroup } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { arrivingMark, countChange, classifyInboundMemberChanges, fallBack, feedCursorOf, feedSettingsOf, openFeed } from './inbound-feed.ts';
import { classifyInboundGroupGone, type InboundGroupVerdict, type InboundMemberVerdict } from './inbound-groups.ts';
import { classifyInboundGone, type InboundVerdict } from './inbound-situations.ts';
import type { FeedRound, FeedStore, ReconcileHub, ReconcileLinks, RunFeed, RunRecord, RunStore } from './reconcile-run.ports.ts';
import type { Link } from './sync.ports.ts';

/** The link of the hub resource a source account or group is linked to: its owner by the reverse index, then that link. */
export const linkOfTarget = async (links: Pick<ReconcileLinks, 'ownerOf' | 'get'>, connectorId: string, kind: 'user' | 'group', targetId: string) => {
  const owner = await links.ownerOf(connectorId, kind, targetId);
  return owner === undefined ? undefined : links.get(connectorId, kind, owner);
};

/** The run's mark of a source group it classified (a group may come on several pages of a round). */
const groupMark = (sourceGroupId: string) => `sourceGroup#${sourceGroupId}`;
/** The run's mark of a source group whose members it compared in full (later pages' member changes are in that already). */
const membersMark = (sourceGroupId: string) => `sourceMembers#${sourceGroupId}`;

export interface InboundFeedPagesDeps {
  runs: Pick<RunStore, 'markAccounted' | 'accountedAmong'>;
  links: ReconcileLinks;
  hub: Pick<ReconcileHub, 'usersByIds' | 'groupsByIds'>;
  feeds: FeedStore;
  /** The run's classification of source accounts (reconcile-run.ts), `partial` for a changes round's. */
  classifyAccounts(config: ConnectorConfig, accounts: TargetAccount[], partial: boolean): Promise<InboundVerdict[]>;
  /** The run's classification of one source group, without its members. */
  groupVerdict(config: ConnectorConfig, source: TargetGroup): Promise<InboundGroupVerdict>;
  /** The run's classification of source groups with all their members (as a listing's page is), marking the hub groups they account for. */
  groupList(
    config: ConnectorConfig,
    connector: Connector,
    run: RunRecord,
    groups: TargetGroup[],
  ): Promise<{ groups: InboundGroupVerdict[]; members: InboundMemberVerdict[] }>;
  /** One source group's members read in full, against its hub group's. */
  members(config: ConnectorConfig, connector: Connector, run: RunRecord, sourceGroupId: string, groupId: string | undefined): Promise<InboundMemberVerdict[]>;
}

/**
 * The planning pages of an inbound source read through its change feed (see inbound-feed.ts):
 * a full round classifies every user and group as a listing's pages do; a changes round
 * classifies what changed with the same logic, makes the removed ones `gone`, and changes the
 * members of linked groups by the feed's additions and removals. Each page returns the run's
 * feed as it stands after it (the round it reads, and on its last page the round's delta link)
 * and how it moves the count of what the source holds.
 */
export const makeInboundFeedPages = (deps: InboundFeedPagesDeps) => {
  /**
   * A page of the round: the stored link's round refused at its first page becomes a full round
   * (the run says why); a page link refused half-way rejects, and the run stops (see reconcile-run.ts).
   */
  const readRound = async <T>(
    round: FeedRound,
    cursor: string | undefined,
    read: (cursor?: string) => Promise<ChangePage<T>>,
    resource: 'users' | 'groups',
  ): Promise<{ round: FeedRound; page: ChangePage<T> }> => {
    try {
      return { round, page: await read(feedCursorOf(round, cursor)) };
    } catch (error) {
      if (!(error instanceof ChangesExpiredError) || round.round !== 'changes' || cursor !== undefined) throw error;
      return { round: fallBack(resource), page: await read() };
    }
  };

  const ended = <T>(round: FeedRound, page: ChangePage<T>): FeedRound =>
    page.next === undefined && page.deltaLink ? { ...round, deltaLink: page.deltaLink } : round;

  /** Hub users linked to the removed source accounts: gone from the source. */
  const usersGone = async (config: ConnectorConfig, removed: string[]): Promise<InboundVerdict[]> => {
    const links = new Map<string, Link>();
    await Promise.all(
      removed.map(async (targetId) => {
        const link = await linkOfTarget(deps.links, config.id, 'user', targetId);
        if (link) links.set(link.hubId, link);
      }),
    );
    const views = await deps.hub.usersByIds([...links.keys()], false);
    return classifyInboundGone(config, { users: [...views].map(([id, view]) => ({ id, user: view.user })), links, accounted: new Set() });
  };

  /** A page of the users' round. The first page of a run opens its feed: the stored links and the settings decide the rounds. */
  const users = async (config: ConnectorConfig, connector: Connector & ChangeFeed, run: RunRecord) => {
    const opened: RunFeed = run.feed ?? openFeed({ full: run.full, state: await deps.feeds.get(config.id), settings: feedSettingsOf(config) });
    const { round, page } = await readRound(opened.users, run.cursor, (cursor) => connector.userChanges(cursor), 'users');
    const feed: RunFeed = { ...opened, users: ended(round, page) };
    if (round.round === 'full')
      return { verdicts: await deps.classifyAccounts(config, page.changed, false), next: page.next, accounts: page.changed.length, feed };
    const verdicts = [...(await deps.classifyAccounts(config, page.changed, true)), ...(await usersGone(config, page.removed))];
    const base = run.cursor === undefined ? (round.base ?? 0) : 0;
    return { verdicts, next: page.next, accounts: base + countChange(verdicts, page.removed.length), feed };
  };

  /** One group's appearances on a page, merged (its members may come split between them). */
  const merged = (changes: GroupChange[]): GroupChange[] => {
    const byId = new Map<string, GroupChange>();
    for (const change of changes) {
      const seen = byId.get(change.id);
      byId.set(
        change.id,
        seen
          ? {
              ...seen,
              ...change,
              membersAdded: [...seen.membersAdded, ...change.membersAdded],
              membersRemoved: [...seen.membersRemoved, ...change.membersRemoved],
            }
          : change,
      );
    }
    return [...byId.values()];
  };

  const named = (change: GroupChange): change is GroupChange & TargetGroup => typeof change.displayName === 'string';

  /** A linked group's member changes: by its source members' links, and the hub groups of their hub users. */
  const memberChanges = async (config: ConnectorConfig, run: RunRecord, change: GroupChange, groupId: string): Promise<InboundMemberVerdict[]> => {
    const ids = [...new Set([...change.membersAdded, ...change.membersRemoved])];
    if (ids.length === 0) return [];
    const owners = new Map<string, string>();
    await Promise.all(
      ids.map(async (targetId) => {
        const owner = await deps.links.ownerOf(config.id, 'user', targetId);
        if (owner !== undefined) owners.set(targetId, owner);
      }),
    );
    const unowned = change.membersAdded.filter((id) => !owners.has(id));
    const marked = unowned.length > 0 ? await deps.runs.accountedAmong(run.runId, unowned.map(arrivingMark)) : new Set<string>();
    const views = await deps.hub.usersByIds([...new Set(owners.values())], true);
    const inGroup = new Set([...views].flatMap(([hubId, view]) => (view.groupIds.includes(groupId) ? [hubId] : [])));
    return classifyInboundMemberChanges({
      sourceGroupId: change.id,
      groupId,
      added: change.membersAdded,
      removed: change.membersRemoved,
      owners,
      arriving: new Set(unowned.filter((id) => marked.has(arrivingMark(id)))),
      inGroup,
    });
  };

  /** The hub group linked to a source group, while the hub has it. */
  const linkedGroup = async (
    config: ConnectorConfig,
    sourceGroupId: string,
  ): Promise<{ link: Link; group: { id: string; displayName: string } } | undefined> => {
    const link = await linkOfTarget(deps.links, config.id, 'group', sourceGroupId);
    const group = link ? (await deps.hub.groupsByIds([link.hubId])).get(link.hubId) : undefined;
    return link && group ? { link, group } : undefined;
  };

  /** One changed group of a changes round: its own change once per run, then its members (in full for a group new to the hub). */
  const changedGroup = async (config: ConnectorConfig, connector: Connector, run: RunRecord, change: GroupChange, seen: ReadonlySet<string>) => {
    const verdict = named(change) && !seen.has(groupMark(change.id)) ? await deps.groupVerdict(config, change) : undefined;
    if (verdict && (verdict.action === 'create' || verdict.action === 'link')) {
      await deps.runs.markAccounted(run.runId, [membersMark(change.id)]);
      return { verdicts: [verdict], members: await deps.members(config, connector, run, change.id, verdict.action === 'create' ? undefined : verdict.hubId) };
    }
    if (seen.has(membersMark(change.id)) || (verdict && verdict.situation !== 'inSync' && verdict.action !== 'rename'))
      return { verdicts: verdict ? [verdict] : [], members: [] };
    const linked = await linkedGroup(config, change.id);
    return { verdicts: verdict ? [verdict] : [], members: linked ? await memberChanges(config, run, change, linked.group.id) : [] };
  };

  /** A page of the groups' round. */
  const groups = async (config: ConnectorConfig, connector: Connector & ChangeFeed, run: RunRecord & { feed: RunFeed }) => {
    const opened = run.feed.groups ?? { round: 'full' as const };
    const { round, page } = await readRound(opened, run.cursor, (cursor) => connector.groupChanges(cursor), 'groups');
    const feed: RunFeed = { ...run.feed, groups: ended(round, page) };
    const changes = merged(page.changed);
    const seen =
      changes.length > 0
        ? await deps.runs.accountedAmong(
            run.runId,
            changes.flatMap((c) => [groupMark(c.id), membersMark(c.id)]),
          )
        : new Set<string>();
    await deps.runs.markAccounted(
      run.runId,
      changes.filter(named).map((c) => groupMark(c.id)),
    );
    if (round.round === 'full') {
      const fresh = changes.filter(named).filter((c) => !seen.has(groupMark(c.id)));
      return { ...(await deps.groupList(config, connector, run, fresh)), next: page.next, sourceGroups: fresh.length, feed };
    }
    const results = await Promise.all(changes.map((change) => changedGroup(config, connector, run, change, seen)));
    const gone = await Promise.all(
      page.removed.map(async (sourceGroupId) => {
        const linked = await linkedGroup(config, sourceGroupId);
        return linked ? [classifyInboundGroupGone(config, linked.group, linked.link)] : [];
      }),
    );
    const verdicts = [...results.flatMap((r) => r.verdicts), ...gone.flat()];
    const base = run.cursor === undefined ? (round.base ?? 0) : 0;
    return {
      groups: verdicts,
      members: results.flatMap((r) => r.members),
      next: page.next,
      sourceGroups: base + countChange(verdicts, page.removed.length),
      feed,
    };
  };

  return { users, groups };
};
