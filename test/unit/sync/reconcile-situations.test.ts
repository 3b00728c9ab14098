import { describe, expect, it } from 'vitest';
import type { TargetAccount } from '../../../shared/connectors/connector.port.ts';
import {
  accountedHubIds,
  classifyHubPage,
  classifyTargetPage,
  driftOf,
  exceedsDeletionThreshold,
  type HubUserView,
  matchQueries,
  membershipDrift,
  type TargetPageFacts,
} from '../../../shared/sync/reconcile-situations.ts';
import type { Link } from '../../../shared/sync/sync.ports.ts';
import { connectorConfig } from '../../builders/sync.fakes.ts';

type Json = Record<string, unknown>;

const hubUser = (id: string, data: Json = {}): HubUserView => ({ user: { id, userName: id, active: true, name: { givenName: 'Ada' }, ...data }, groupIds: [] });
/** The account the default SCIM mapping makes of a hub user, with the target's own extras. */
const accountOf = (targetId: string, hubId: string, overrides: Json = {}): TargetAccount => ({
  id: targetId,
  attributes: { userName: hubId, externalId: hubId, active: true, 'name.givenName': 'Ada', 'meta.created': '2026-01-01', ...overrides },
});
const link = (hubId: string, targetId: string, status: Link['status'] = 'active'): Link => ({
  connectorId: 'app',
  kind: 'user',
  hubId,
  targetId,
  status,
  pushed: {},
  hash: '',
  origin: 'created',
  updated: '2026-01-01T00:00:00.000Z',
});

/** Page facts from a few declarations: accounts, links (hub id -> target id), hub users, candidates. */
const facts = (input: {
  accounts: TargetAccount[];
  links?: Link[];
  users?: Array<[string, HubUserView]>;
  candidates?: Array<[string, string[]]>;
}): TargetPageFacts => ({
  accounts: input.accounts,
  owners: new Map((input.links ?? []).map((l) => [l.targetId, l.hubId])),
  links: new Map((input.links ?? []).map((l) => [l.hubId, l])),
  users: new Map(input.users ?? []),
  candidates: new Map(input.candidates ?? []),
});

describe('classifyTargetPage: linked accounts', () => {
  it("finds a linked account that holds what the hub wants in sync, ignoring the target's own attributes", () => {
    const [verdict] = classifyTargetPage(
      connectorConfig(),
      facts({ accounts: [accountOf('t1', 'ada')], links: [link('ada', 't1')], users: [['ada', hubUser('ada')]] }),
    );
    expect(verdict).toMatchObject({ situation: 'inSync', action: 'none', hubId: 'ada', targetId: 't1' });
  });

  it("finds drift against the target's actual values and plans an update with the target's observed state", () => {
    const account = accountOf('t1', 'ada', { 'name.givenName': 'Eve', active: false });
    const [verdict] = classifyTargetPage(connectorConfig(), facts({ accounts: [account], links: [link('ada', 't1')], users: [['ada', hubUser('ada')]] }));
    expect(verdict).toMatchObject({ situation: 'drifted', action: 'update', change: { set: { 'name.givenName': 'Ada', active: true }, unset: [] } });
    expect(verdict?.observed).toEqual({ userName: 'ada', externalId: 'ada', active: false, 'name.givenName': 'Eve' });
  });

  it('plans no update of a drifted account when update is not an enabled operation', () => {
    const config = connectorConfig({ operations: { update: false } });
    const [verdict] = classifyTargetPage(
      config,
      facts({ accounts: [accountOf('t1', 'ada', { 'name.givenName': 'Eve' })], links: [link('ada', 't1')], users: [['ada', hubUser('ada')]] }),
    );
    expect(verdict).toMatchObject({ situation: 'drifted', action: 'none' });
  });

  it.each([
    ['disable', 'disable'],
    ['delete', 'delete'],
  ] as const)('deprovisions (policy %s) the account of a hub user who left the scope', (deprovision, action) => {
    const config = connectorConfig({ deprovision, scope: { filter: 'title eq "Engineer"' } });
    const [verdict] = classifyTargetPage(
      config,
      facts({ accounts: [accountOf('t1', 'ada')], links: [link('ada', 't1')], users: [['ada', hubUser('ada', { title: 'Sales' })]] }),
    );
    expect(verdict).toMatchObject({ situation: 'outOfScope', action });
  });

  it('deprovisions the account of a hub user deleted from the hub, and counts an account disabled already as in sync', () => {
    const verdicts = classifyTargetPage(
      connectorConfig(),
      facts({ accounts: [accountOf('t1', 'gone'), accountOf('t2', 'old', { active: false })], links: [link('gone', 't1'), link('old', 't2', 'disabled')] }),
    );
    expect(verdicts.map((v) => [v.situation, v.action])).toEqual([
      ['outOfScope', 'disable'],
      ['inSync', 'none'],
    ]);
  });

  it("decides group scope from the hub user's groups", () => {
    const config = connectorConfig({ scope: { groups: ['eng'] } });
    const member = { ...hubUser('ada'), groupIds: ['eng'] };
    const verdicts = classifyTargetPage(
      config,
      facts({
        accounts: [accountOf('t1', 'ada'), accountOf('t2', 'bob')],
        links: [link('ada', 't1'), link('bob', 't2')],
        users: [
          ['ada', member],
          ['bob', hubUser('bob')],
        ],
      }),
    );
    expect(verdicts.map((v) => v.situation)).toEqual(['inSync', 'outOfScope']);
  });

  it('calls an account indexed to a hub user whose link names another account a collision', () => {
    const page = facts({ accounts: [accountOf('t1', 'ada')], users: [['ada', hubUser('ada')]] });
    const [verdict] = classifyTargetPage(connectorConfig(), { ...page, owners: new Map([['t1', 'ada']]), links: new Map([['ada', link('ada', 't9')]]) });
    expect(verdict).toMatchObject({ situation: 'collision', action: 'none', collidesWith: ['ada'] });
  });
});

describe('classifyTargetPage: unlinked accounts', () => {
  it('links an account one in-scope hub user matches, case-insensitively on userName', () => {
    const [verdict] = classifyTargetPage(
      connectorConfig(),
      facts({ accounts: [accountOf('t1', 'ADA')], users: [['ada', hubUser('ada')]], candidates: [['t1', ['ada']]] }),
    );
    expect(verdict).toMatchObject({ situation: 'unlinked', action: 'link', hubId: 'ada', targetId: 't1', reason: 'matched by userName = "ADA"' });
  });

  it('calls an account several hub users match a collision, naming them', () => {
    const config = connectorConfig({
      matching: ['emails'],
      mapping: [
        { target: 'userName', source: 'userName' },
        { target: 'emails', source: 'emails[primary eq true].value' },
      ],
    });
    const account = { id: 't1', attributes: { userName: 'x', emails: 'a@example.com' } };
    const shared = { emails: [{ value: 'a@example.com', primary: true }] };
    const [verdict] = classifyTargetPage(
      config,
      facts({
        accounts: [account],
        users: [
          ['ada', hubUser('ada', shared)],
          ['eve', hubUser('eve', shared)],
        ],
        candidates: [['t1', ['ada', 'eve']]],
      }),
    );
    expect(verdict).toMatchObject({ situation: 'collision', action: 'none', collidesWith: ['ada', 'eve'] });
  });

  it('calls an account whose one match is linked to another account a collision', () => {
    const [verdict] = classifyTargetPage(
      connectorConfig(),
      facts({ accounts: [accountOf('t2', 'ada')], links: [link('ada', 't1')], users: [['ada', hubUser('ada')]], candidates: [['t2', ['ada']]] }),
    );
    expect(verdict).toMatchObject({ situation: 'collision', hubId: 'ada', collidesWith: ['ada'] });
  });

  it('ignores a candidate whose mapped value does not really match (a loose hub lookup)', () => {
    const [verdict] = classifyTargetPage(
      connectorConfig(),
      facts({ accounts: [accountOf('t1', 'ada')], users: [['adam', hubUser('adam')]], candidates: [['t1', ['adam']]] }),
    );
    expect(verdict).toMatchObject({ situation: 'orphan', action: 'report' });
  });

  it.each([
    ['report', 'report'],
    ['disable', 'disable'],
    ['delete', 'delete'],
  ] as const)('applies the orphan policy %s to an account no hub user matches', (orphans, action) => {
    const [verdict] = classifyTargetPage(connectorConfig({ reconcile: { orphans } }), facts({ accounts: [accountOf('t1', 'stranger')] }));
    expect(verdict).toMatchObject({ situation: 'orphan', action, targetId: 't1', observedName: 'stranger' });
  });

  it('leaves alone an account matching a hub user who is out of scope and was never provisioned', () => {
    const config = connectorConfig({ scope: { filter: 'title eq "Engineer"' }, reconcile: { orphans: 'delete' } });
    const [verdict] = classifyTargetPage(
      config,
      facts({ accounts: [accountOf('t1', 'ada')], users: [['ada', hubUser('ada')]], candidates: [['t1', ['ada']]] }),
    );
    expect(verdict).toMatchObject({ situation: 'outOfScope', action: 'none' });
  });
});

describe('classifyHubPage', () => {
  it('creates in-scope hub users no target page accounted for, and re-creates the ones whose account is gone', () => {
    const verdicts = classifyHubPage(connectorConfig({ scope: { filter: 'title eq "Engineer"' } }), {
      users: [
        { id: 'new', ...hubUser('new', { title: 'Engineer' }) },
        { id: 'lost', ...hubUser('lost', { title: 'Engineer' }) },
        { id: 'seen', ...hubUser('seen', { title: 'Engineer' }) },
        { id: 'off', ...hubUser('off', { title: 'Engineer', active: false }) },
        { id: 'sales', ...hubUser('sales', { title: 'Sales' }) },
        { id: 'left', ...hubUser('left', { title: 'Sales' }) },
      ],
      links: new Map([
        ['lost', link('lost', 't1')],
        ['seen', link('seen', 't2')],
        ['left', link('left', 't3')],
      ]),
      accounted: new Set(['seen']),
    });
    expect(verdicts.map((v) => [v.hubId, v.situation, v.action])).toEqual([
      ['new', 'unmatched', 'create'],
      ['lost', 'gone', 'create'],
      ['off', 'unmatched', 'none'],
      ['left', 'gone', 'unlink'],
    ]);
  });

  it('skips the hub users a target page accounted for, collisions excepted', () => {
    const verdicts = classifyTargetPage(
      connectorConfig(),
      facts({
        accounts: [accountOf('t1', 'ada'), accountOf('t2', 'bob')],
        links: [link('ada', 't1'), link('bob', 't9')],
        users: [
          ['ada', hubUser('ada')],
          ['bob', hubUser('bob')],
        ],
        candidates: [['t2', ['bob']]],
      }),
    );
    expect(accountedHubIds(verdicts)).toEqual(['ada']);
  });
});

describe('matchQueries', () => {
  it('looks up the hub attribute each matching attribute is mapped from, in matching order', () => {
    expect(matchQueries(connectorConfig(), accountOf('t1', 'ada'))).toEqual([
      { targetAttribute: 'userName', hubAttribute: 'userName', value: 'ada' },
      { targetAttribute: 'externalId', hubAttribute: 'id', value: 'ada' },
    ]);
  });
});

describe('driftOf', () => {
  it('compares lists item by item, holding the wanted sub-attributes, and scalars by their text', () => {
    const config = connectorConfig({
      mapping: [
        { target: 'emails', source: 'emails' },
        { target: 'custom:level', constant: 3 },
      ],
    });
    const actual = { emails: [{ value: 'a@example.com', primary: true, display: 'A' }], 'custom:level': '3' };
    expect(driftOf(config, actual, { emails: [{ value: 'a@example.com', primary: true }], 'custom:level': 3 })).toEqual({ set: {}, unset: [] });
    expect(driftOf(config, actual, { emails: [{ value: 'b@example.com', primary: true }] })).toEqual({
      set: { emails: [{ value: 'b@example.com', primary: true }] },
      unset: ['custom:level'],
    });
  });

  it('leaves create-only attributes to the target', () => {
    const config = connectorConfig({
      mapping: [
        { target: 'userName', source: 'userName' },
        { target: 'userType', constant: 'Employee', apply: 'create' },
      ],
    });
    expect(driftOf(config, { userName: 'ada', userType: 'Contractor' }, { userName: 'ada' })).toEqual({ set: {}, unset: [] });
  });
});

describe('membershipDrift', () => {
  it('adds hub members missing on the target, removes managed accounts that left, and leaves unmanaged members', () => {
    const drift = membershipDrift({
      hubMembers: ['ada', 'bob', 'new'],
      userLinks: new Map([
        ['ada', link('ada', 't-ada')],
        ['bob', link('bob', 't-bob')],
        ['eve', link('eve', 't-eve')],
      ]),
      targetMembers: ['t-ada', 't-eve', 't-local'],
      owners: new Map([
        ['t-ada', 'ada'],
        ['t-eve', 'eve'],
      ]),
    });
    expect(drift).toEqual({ add: [{ hubId: 'bob', targetId: 't-bob' }], remove: [{ hubId: 'eve', targetId: 't-eve' }], unmanaged: ['t-local'] });
  });
});

describe('exceedsDeletionThreshold', () => {
  it.each([
    [12, 40, true],
    [8, 40, false],
    [9, 30, false],
    [10, 100, false],
    [21, 100, true],
  ])('%i disables or deletes out of %i accounts: %s (20%%, at least 10)', (destructive, total, expected) => {
    expect(exceedsDeletionThreshold({ orphans: 'report', deletionThreshold: { percent: 20, minimum: 10 } }, destructive, total)).toBe(expected);
  });
});
