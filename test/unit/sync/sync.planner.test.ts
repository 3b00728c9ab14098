import { describe, expect, it } from 'vitest';
import type { AccessGrant } from '../../../shared/sync/grant.ports.ts';
import { type GroupFacts, planGroup, planUser, type UserFacts } from '../../../shared/sync/sync.planner.ts';
import type { Link } from '../../../shared/sync/sync.ports.ts';
import { connectorConfig } from '../../builders/sync.fakes.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');

const ada = { id: 'ada', userName: 'ada', active: true, displayName: 'Ada Lovelace', name: { givenName: 'Ada', familyName: 'Lovelace' } };

/** What the default SCIM mapping makes of `ada`. */
const adaMapped = { userName: 'ada', externalId: 'ada', active: true, displayName: 'Ada Lovelace', 'name.givenName': 'Ada', 'name.familyName': 'Lovelace' };

const userLink = (pushed: Record<string, unknown> = adaMapped, status: Link['status'] = 'active'): Link => ({
  connectorId: 'app',
  kind: 'user',
  hubId: 'ada',
  targetId: 't-1',
  status,
  pushed,
  hash: 'h',
  origin: 'created',
  updated: '2026-03-01T00:00:00.000Z',
});

const facts = (overrides: Partial<UserFacts> = {}): UserFacts => ({ hubId: 'ada', user: ada, link: undefined, groupIds: [], matches: [], ...overrides });

const grant = (expiresAt: string): AccessGrant => ({ connectorId: 'app', userId: 'ada', expiresAt, grantedAt: '2026-03-01T11:00:00.000Z' });

describe('planner: users', () => {
  it('plans a create with every mapped attribute from nothing, after the match lookups found no account', () => {
    // Prepare
    const input = facts({
      matches: [
        { attribute: 'userName', value: 'ada' },
        { attribute: 'externalId', value: 'ada' },
      ],
    });
    // Act
    const plan = planUser(connectorConfig(), input, NOW);
    // Assess
    expect(plan).toMatchObject({ situation: 'unmatched', action: 'create', status: 'success' });
    expect(plan.steps).toEqual(['scope: in scope', 'match: userName = "ada": no account', 'match: externalId = "ada": no account', 'action: create']);
    expect(plan.calls).toEqual([{ operation: 'createUser', attributes: adaMapped }]);
    expect(plan.changes).toContainEqual({ attribute: 'displayName', old: undefined, new: 'Ada Lovelace' });
  });

  it('plans only the changed attributes of a linked user, old and new, against what was pushed', () => {
    // Prepare
    const link = userLink({ ...adaMapped, displayName: 'Ada King', title: 'Countess' });
    // Act
    const plan = planUser(connectorConfig(), facts({ link }), NOW);
    // Assess
    expect(plan).toMatchObject({ situation: 'linked-drifted', action: 'update', targetId: 't-1' });
    expect(plan.changes).toEqual([
      { attribute: 'displayName', old: 'Ada King', new: 'Ada Lovelace' },
      { attribute: 'title', old: 'Countess' },
    ]);
    expect(plan.calls).toEqual([
      {
        operation: 'updateUser',
        targetId: 't-1',
        change: { set: { displayName: 'Ada Lovelace' }, unset: ['title'] },
        full: { ...adaMapped, title: 'Countess' },
      },
    ]);
  });

  it('is in sync when the link holds what the hub wants: no call', () => {
    const plan = planUser(connectorConfig(), facts({ link: userLink() }), NOW);

    expect(plan).toMatchObject({ situation: 'linked-in-sync', action: 'update', status: 'skipped', reason: 'no changes' });
    expect(plan.calls).toEqual([]);
  });

  it("plans against the observed account when the caller read it: drift behind the hub's back is seen", () => {
    // Prepare: the link says all was pushed, but someone changed the name on the target.
    const observed = { id: 't-1', attributes: { ...adaMapped, displayName: 'Changed on the target', department: 'not mapped' } };
    // Act
    const plan = planUser(connectorConfig(), facts({ link: userLink(), observed }), NOW);
    // Assess: only mapped attributes are compared; the target's own extra attribute is left alone.
    expect(plan).toMatchObject({ situation: 'linked-drifted', action: 'update' });
    expect(plan.changes).toEqual([{ attribute: 'displayName', old: 'Changed on the target', new: 'Ada Lovelace' }]);
  });

  it('sees a linked account gone from the target as linked-gone and relinks', () => {
    const plan = planUser(connectorConfig(), facts({ link: userLink(), observed: null }), NOW);

    expect(plan).toMatchObject({ situation: 'linked-gone', action: 'relink' });
  });

  it('links the account a matching attribute found, updating what differs', () => {
    // Prepare
    const found = { id: 't-9', attributes: { ...adaMapped, displayName: 'Old' } };
    // Act
    const plan = planUser(connectorConfig(), facts({ matches: [{ attribute: 'userName', value: 'ada', found }] }), NOW);
    // Assess
    expect(plan).toMatchObject({ situation: 'unlinked-match', action: 'link', targetId: 't-9', matchedBy: { attribute: 'userName', value: 'ada' } });
    expect(plan.changes).toEqual([{ attribute: 'displayName', old: 'Old', new: 'Ada Lovelace' }]);
    expect(plan.calls).toEqual([{ operation: 'updateUser', targetId: 't-9', change: { set: { displayName: 'Ada Lovelace' }, unset: [] }, full: adaMapped }]);
  });

  it('never takes over an account linked to another hub user: collision, no call', () => {
    const found = { id: 't-9', attributes: { userName: 'ada' } };

    const plan = planUser(connectorConfig(), facts({ matches: [{ attribute: 'userName', value: 'ada', found, owner: 'bob' }] }), NOW);

    expect(plan).toMatchObject({ situation: 'collision', action: 'collision', status: 'skipped', collidesWith: 'bob', targetId: 't-9' });
    expect(plan.calls).toEqual([]);
  });

  it.each([
    ['disable', { operation: 'disableUser', targetId: 't-1', full: { ...adaMapped, active: false } }],
    ['delete', { operation: 'deleteUser', targetId: 't-1' }],
  ])('deprovisions a linked user who left the scope by policy %s', (deprovision, call) => {
    const plan = planUser(connectorConfig({ deprovision, scope: { filter: 'title eq "Engineer"' } }), facts({ link: userLink() }), NOW);

    expect(plan).toMatchObject({ situation: 'provisioned-out-of-scope', action: deprovision, status: 'success' });
    expect(plan.steps[0]).toBe('scope: out of scope: user does not match the scope filter title eq "Engineer"');
    expect(plan.calls).toEqual([call]);
  });

  it('deprovisions an in-scope user when an operator asks for it', () => {
    const plan = planUser(connectorConfig(), facts({ link: userLink(), forceDeprovision: true }), NOW);

    expect(plan).toMatchObject({ action: 'disable', status: 'success', changes: [{ attribute: 'active', old: true, new: false }] });
    expect(plan.steps[0]).toBe('scope: deprovision requested by an operator');
  });

  it('admits a user outside the scope by a live grant, and treats an expired one as absent', () => {
    // Prepare
    const config = connectorConfig({ scope: { groups: ['eng'] } });
    // Act
    const live = planUser(config, facts({ grant: grant('2026-03-01T12:00:01.000Z') }), NOW);
    const expired = planUser(config, facts({ link: userLink(), grant: grant('2026-03-01T12:00:00.000Z') }), NOW);
    // Assess
    expect(live).toMatchObject({ action: 'create', status: 'success' });
    expect(live.steps[0]).toBe('scope: in scope by temporary access until 2026-03-01T12:00:01.000Z');
    expect(expired).toMatchObject({ situation: 'provisioned-out-of-scope', action: 'disable', status: 'success' });
  });

  it('does nothing for a user out of scope and never provisioned', () => {
    const plan = planUser(connectorConfig({ scope: { filter: 'title eq "Engineer"' } }), facts(), NOW);

    expect(plan).toMatchObject({ situation: 'not-provisioned', action: 'none', status: 'skipped', calls: [] });
  });

  it('refuses to go on after a create conflict that no matching attribute explains', () => {
    const plan = planUser(connectorConfig(), facts({ pass: 'rematch-after-conflict', matches: [{ attribute: 'userName', value: 'ada' }] }), NOW);

    expect(plan.failure).toContain('because it exists');
    expect(plan.calls).toEqual([]);
  });

  it('redacts secrets in the diff', () => {
    const config = connectorConfig({
      mapping: [
        { target: 'password', constant: 'hunter2' },
        { target: 'userName', source: 'userName' },
      ],
    });

    const plan = planUser(config, facts(), NOW);

    expect(plan.changes).toContainEqual({ attribute: 'password', old: undefined, new: '[redacted]' });
  });
});

describe('planner: groups', () => {
  const groupLink: Link = { ...userLink({ displayName: 'Engineering' }), kind: 'group', hubId: 'eng', targetId: 'g-1' };
  const groupFacts = (overrides: Partial<GroupFacts> = {}): GroupFacts => ({
    hubId: 'eng',
    group: { id: 'eng', displayName: 'Engineering' },
    link: undefined,
    ...overrides,
  });

  it('plans the create of a group the connector provisions', () => {
    const plan = planGroup(connectorConfig(), groupFacts());

    expect(plan).toMatchObject({
      situation: 'unmatched',
      action: 'create',
      calls: [{ operation: 'createGroup', displayName: 'Engineering', externalId: 'eng' }],
    });
  });

  it('plans a rename with the old and new name', () => {
    const plan = planGroup(connectorConfig(), groupFacts({ group: { id: 'eng', displayName: 'R&D' }, link: groupLink }));

    expect(plan).toMatchObject({ action: 'rename', changes: [{ attribute: 'displayName', old: 'Engineering', new: 'R&D' }] });
  });

  it('unlinks, never deletes, a mapped group that left the scope', () => {
    const plan = planGroup(connectorConfig(), groupFacts({ group: undefined, link: { ...groupLink, origin: 'mapped' } }));

    expect(plan).toMatchObject({ situation: 'provisioned-out-of-scope', action: 'unlink', calls: [] });
  });

  it('fails a mapping whose target group does not exist', () => {
    const config = connectorConfig({ groups: { provision: false, mappings: [{ hubGroup: 'eng', targetDisplayName: 'Missing' }] } });

    const plan = planGroup(config, groupFacts({ mapped: { found: undefined } }));

    expect(plan.failure).toContain('does not exist');
  });
});
