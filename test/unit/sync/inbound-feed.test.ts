import { describe, expect, it } from 'vitest';
import {
  classifyInboundMemberChanges,
  countChange,
  fallBack,
  feedCursorOf,
  feedSettingsOf,
  feedStateOf,
  openFeed,
  type MemberChangesFacts,
} from '../../../shared/sync/inbound-feed.ts';
import { classifyInboundPage } from '../../../shared/sync/inbound-situations.ts';
import type { FeedState, RunRecord } from '../../../shared/sync/reconcile-run.ports.ts';
import { connectorConfig } from '../../builders/sync.fakes.ts';

const config = connectorConfig({ id: 'entra', direction: 'inbound' });
const settings = feedSettingsOf(config);
const stored: FeedState = {
  connectorId: 'entra',
  users: 'https://graph/v1.0/users/delta?$deltatoken=u7',
  groups: 'https://graph/v1.0/groups/delta?$deltatoken=g7',
  accounts: 40,
  groupCount: 3,
  settings,
  runId: 'run-1',
  runCreated: '2026-03-01T00:00:00.000Z',
  updated: '2026-03-01T00:05:00.000Z',
};

describe("an inbound run's change feed: which round it reads", () => {
  it('follows the stored links when the settings they were read under still hold, counting on from what the source held', () => {
    expect(openFeed({ state: stored, settings })).toEqual({
      users: { round: 'changes', since: stored.users, base: 40 },
      groups: { round: 'changes', since: stored.groups, base: 3 },
      settings,
    });
  });

  it.each([
    ['no link is stored yet', { settings }, /no delta link is stored yet/],
    ['an operator asked for one', { full: true, state: stored, settings }, /an operator asked/],
    [
      'the mapping changed since',
      { state: stored, settings: feedSettingsOf(connectorConfig({ id: 'entra', direction: 'inbound', mapping: [] })) },
      /changed since/,
    ],
  ])('reads a full round of users and groups when %s, and says why', (_, input, why) => {
    const feed = openFeed(input);
    expect(feed.users).toEqual({ round: 'full', reason: expect.stringMatching(why) });
    expect(feed.groups).toEqual({ round: 'full', reason: expect.stringMatching(why) });
  });

  it('reads users by their link and groups in full when only a link of users is stored', () => {
    const { groups: _, ...usersOnly } = stored;
    const feed = openFeed({ state: usersOnly, settings });
    expect(feed.users.round).toBe('changes');
    expect(feed.groups).toEqual({ round: 'full', reason: 'no delta link of groups is stored yet' });
  });

  it("starts a changes round at the stored link and goes on by the round's page links; a full round starts without one", () => {
    expect(feedCursorOf({ round: 'changes', since: stored.users }, undefined)).toBe(stored.users);
    expect(feedCursorOf({ round: 'changes', since: stored.users }, 'next-page')).toBe('next-page');
    expect(feedCursorOf({ round: 'full' }, undefined)).toBeUndefined();
    expect(fallBack('users')).toEqual({ round: 'full', reason: expect.stringContaining('refused the stored delta link of users') });
  });
});

describe("an inbound run's change feed: what it leaves for the next run", () => {
  const run = (overrides: Partial<RunRecord>): RunRecord => ({
    runId: 'run-2',
    connectorId: 'entra',
    state: 'done',
    trigger: 'schedule',
    dryRun: false,
    phase: 'apply',
    page: 1,
    planPages: 1,
    targetAccounts: 41,
    targetGroups: 3,
    counters: { situations: {}, actions: {} },
    created: '2026-03-02T00:00:00.000Z',
    updated: '2026-03-02T00:01:00.000Z',
    feed: { users: { round: 'changes', since: stored.users, deltaLink: 'users-8' }, groups: { round: 'changes', deltaLink: 'groups-8' }, settings },
    ...overrides,
  });

  it('stores the links its rounds ended with once it is done applying', () => {
    expect(feedStateOf(run({}), '2026-03-02T00:02:00.000Z')).toEqual({
      connectorId: 'entra',
      users: 'users-8',
      groups: 'groups-8',
      accounts: 41,
      groupCount: 3,
      settings,
      runId: 'run-2',
      runCreated: '2026-03-02T00:00:00.000Z',
      updated: '2026-03-02T00:02:00.000Z',
    });
  });

  it.each([
    ['a dry run', { dryRun: true }],
    ['a failed run', { state: 'failed' as const }],
    ['a rejected run', { state: 'cancelled' as const }],
    ['a run awaiting approval', { state: 'awaiting-approval' as const }],
    ['a run whose users round did not end', { feed: { users: { round: 'changes' as const, since: stored.users }, settings } }],
    ['a run that read no change feed', { feed: undefined }],
  ])('leaves the stored links as they are after %s', (_, overrides) => {
    expect(feedStateOf(run(overrides), '2026-03-02T00:02:00.000Z')).toBeUndefined();
  });
});

describe("an inbound run's change feed: what changed", () => {
  it('counts accounts new to the hub in and removed ones out of what the source holds', () => {
    const verdicts = [
      { situation: 'unmatched' as const },
      { situation: 'unlinked' as const },
      { situation: 'drifted' as const },
      { situation: 'gone' as const },
    ];
    expect(countChange(verdicts, 1)).toBe(1);
  });

  it("keeps a linked user's enabled state when the changed account does not carry it, and follows it when it does", () => {
    // Prepare: a hub user deactivated by an earlier run; the source sends a changed name only, then the account re-enabled.
    const owners = new Map([['src-ada', 'hub-ada']]);
    const users = new Map([['hub-ada', { userName: 'ada', name: { givenName: 'Ada' }, active: false }]]);
    const renamed = { id: 'src-ada', attributes: { userName: 'ada', 'name.givenName': 'Augusta' } };
    const enabled = { id: 'src-ada', attributes: { active: true } };
    // Act
    const [partial] = classifyInboundPage(config, { accounts: [renamed], owners, users, candidates: new Map(), partial: true });
    const [listed] = classifyInboundPage(config, { accounts: [renamed], owners, users, candidates: new Map() });
    const [again] = classifyInboundPage(config, { accounts: [enabled], owners, users, candidates: new Map(), partial: true });
    // Assess: a listing's account is whole, so a missing enabled state there means enabled.
    expect(partial).toMatchObject({ situation: 'drifted', action: 'update', values: { name: { givenName: 'Augusta' } } });
    expect(partial?.values).not.toHaveProperty('active');
    expect(listed?.values).toMatchObject({ active: true });
    expect(again).toMatchObject({ situation: 'drifted', action: 'update', values: { active: true } });
  });

  const members = (overrides: Partial<MemberChangesFacts>): MemberChangesFacts => ({
    sourceGroupId: 'src-crew',
    groupId: 'hub-crew',
    added: [],
    removed: [],
    owners: new Map([
      ['src-ada', 'hub-ada'],
      ['src-bob', 'hub-bob'],
    ]),
    arriving: new Set(),
    inGroup: new Set(['hub-bob']),
    ...overrides,
  });

  it.each([
    [
      'a joiner whose hub user is not in the hub group is added',
      { added: ['src-ada'] },
      [{ situation: 'drifted', action: 'add', hubId: 'hub-ada', targetId: 'src-ada' }],
    ],
    ['a joiner in the hub group already makes no change', { added: ['src-bob'] }, []],
    [
      'a joiner whose hub user this run writes is added by its account',
      { added: ['src-cy'], arriving: new Set(['src-cy']) },
      [{ situation: 'unmatched', action: 'add', targetId: 'src-cy' }],
    ],
    ['a joiner with no hub user is reported', { added: ['src-dan'] }, [{ situation: 'orphan', action: 'report', targetId: 'src-dan' }]],
    ['a leaver in the hub group is removed', { removed: ['src-bob'] }, [{ situation: 'drifted', action: 'remove', hubId: 'hub-bob', targetId: 'src-bob' }]],
    ['a leaver out of the hub group already makes no change', { removed: ['src-ada'] }, []],
    ['a leaver with no hub user is not the source to remove', { removed: ['src-eve'] }, []],
  ])('%s', (_, overrides, expected) => {
    const verdicts = classifyInboundMemberChanges(members(overrides as Partial<MemberChangesFacts>));
    expect(verdicts).toEqual(expected.map((v) => expect.objectContaining({ ...v, sourceGroupId: 'src-crew', groupId: 'hub-crew' })));
  });
});
