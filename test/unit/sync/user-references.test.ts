import { describe, expect, it } from 'vitest';
import type { AttributeMapping } from '../../../shared/connectors/connectors.schema.ts';
import { inboundUserOf } from '../../../shared/sync/inbound-situations.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { referencedUserIds, referenceTargets, resolveUserReferences, withUnreportedReferences } from '../../../shared/sync/user-references.ts';
import { reconcileHarness } from '../../builders/reconcile.harness.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../../builders/sync.fakes.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const MANAGER = `${ENTERPRISE}:manager.value`;
const realtime = { trigger: 'realtime' as const };
const managedBy = (managerId: string) => ({ [ENTERPRISE]: { manager: { value: managerId } } });
const mapping = (target: string, source: string): AttributeMapping => ({ target, source, apply: 'always' });

describe('user references: the pure translation', () => {
  const mappings = [
    mapping('userName', 'userName'),
    mapping('boss', MANAGER),
    mapping('bossObject', `${ENTERPRISE}:manager`),
    mapping('name', `${ENTERPRISE}:department`),
  ];

  it('knows the manager by its source, with or without the sub-attribute, and nothing else', () => {
    expect([...referenceTargets(mappings)]).toEqual(['boss', 'bossObject']);
    expect([...referenceTargets([mapping('x', `${ENTERPRISE}:manager.displayName`), mapping('y', 'manager[value eq "a"].value')])]).toEqual([]);
  });

  it("puts the target's id in place of the hub id, in the shape the hub held it, and leaves out one without an account", () => {
    const resolved = resolveUserReferences({ userName: 'ada', boss: 'hub-b', bossObject: { value: 'hub-b' } }, mappings, (id) =>
      id === 'hub-b' ? 'target-b' : undefined,
    );
    expect(resolved).toEqual({ attributes: { userName: 'ada', boss: 'target-b', bossObject: { value: 'target-b' } }, unresolved: [] });

    const missing = resolveUserReferences({ userName: 'ada', boss: 'hub-c' }, mappings, () => undefined);
    expect(missing).toEqual({ attributes: { userName: 'ada' }, unresolved: [{ attribute: 'boss', hubId: 'hub-c' }] });
  });

  it('reads the referenced hub ids, never the user itself', () => {
    expect(referencedUserIds({ id: 'ada', ...managedBy('bob') }, 'ada', mappings)).toEqual(['bob']);
    expect(referencedUserIds({ id: 'ada', ...managedBy('ada') }, 'ada', mappings)).toEqual([]);
    expect(referencedUserIds({ id: 'ada' }, 'ada', mappings)).toEqual([]);
  });

  it("takes a reference the target's listing leaves out as last pushed, and keeps one it reports", () => {
    expect(withUnreportedReferences({ userName: 'ada' }, { boss: 't-1' }, mappings)).toEqual({ userName: 'ada', boss: 't-1' });
    expect(withUnreportedReferences({ boss: 't-2' }, { boss: 't-1' }, mappings)).toEqual({ boss: 't-2' });
  });
});

describe("user references: the sync engine sends the target's id of the manager", () => {
  const setup = (config: Record<string, unknown> = {}) => {
    const fixture = syncFixture();
    const target = new FakeTarget();
    return { ...fixture, target, sync: makeSync(fixture), ctx: { config: connectorConfig(config), connector: target } };
  };

  it("creates the report with the manager's account id on the target (SCIM default mapping)", async () => {
    const { hub, sync, ctx, target, links } = setup();
    hub.user('boss');
    hub.user('ada', managedBy('boss'));
    await sync.syncUser(ctx, 'boss', realtime);
    const bossAccount = (await links.get('app', 'user', 'boss'))?.targetId as string;

    await sync.syncUser(ctx, 'ada', realtime);

    const ada = (await links.get('app', 'user', 'ada'))?.targetId as string;
    expect(bossAccount).not.toBe('boss');
    expect(target.accounts.get(ada)?.[MANAGER]).toBe(bossAccount);
  });

  it("leaves a manager without an account unset, and sets it with the report's next change once the manager is linked", async () => {
    const { hub, sync, ctx, target, links } = setup();
    hub.user('boss');
    hub.user('ada', managedBy('boss'));

    const first = await sync.syncUser(ctx, 'ada', realtime);
    const ada = (await links.get('app', 'user', 'ada'))?.targetId as string;
    expect(target.accounts.get(ada)).not.toHaveProperty(MANAGER);
    expect(first.steps).toContain(`reference: ${MANAGER} names hub user boss, who has no account on app yet: left unset`);

    await sync.syncUser(ctx, 'boss', realtime);
    hub.user('ada', { ...managedBy('boss'), displayName: 'Ada L.' });
    await sync.syncUser(ctx, 'ada', realtime);

    const bossAccount = (await links.get('app', 'user', 'boss'))?.targetId as string;
    const updates = target.writes().filter((c) => c.operation === 'updateUser');
    expect(updates).toEqual([{ operation: 'updateUser', args: [ada, { set: { displayName: 'Ada L.', [MANAGER]: bossAccount }, unset: [] }] }]);
  });

  it('clears the manager on the target when the hub clears it', async () => {
    const { hub, sync, ctx, target, links } = setup();
    hub.user('boss');
    hub.user('ada', managedBy('boss'));
    await sync.syncUser(ctx, 'boss', realtime);
    await sync.syncUser(ctx, 'ada', realtime);

    hub.user('ada');
    await sync.syncUser(ctx, 'ada', realtime);

    const ada = (await links.get('app', 'user', 'ada'))?.targetId as string;
    expect(target.accounts.get(ada)).not.toHaveProperty(MANAGER);
    expect(target.writes().at(-1)).toEqual({ operation: 'updateUser', args: [ada, { set: {}, unset: [MANAGER] }] });
  });

  it.each([
    [
      'okta',
      { type: 'okta', orgUrl: 'https://acme.okta.com', apiToken: 'token', mapping: [mapping('login', 'userName'), mapping('managerId', MANAGER)] },
      'managerId',
    ],
    [
      'salesforce',
      {
        type: 'salesforce',
        loginUrl: 'https://login.salesforce.com',
        clientId: 'id',
        clientSecret: 'secret',
        profile: 'Standard User',
        mapping: [mapping('Username', 'userName'), mapping('ManagerId', MANAGER)],
        matching: ['Username'],
      },
      'ManagerId',
    ],
  ])('translates the manager for %s where the mapping maps it', async (_, config, attribute) => {
    const { hub, sync, ctx, links } = setup({ baseUrl: undefined, bearerToken: undefined, ...config });
    hub.user('boss');
    hub.user('ada', managedBy('boss'));
    await sync.syncUser(ctx, 'boss', realtime);
    const bossAccount = (await links.get('app', 'user', 'boss'))?.targetId as string;

    const plan = await sync.planUser(ctx, 'ada', realtime);

    expect(plan.calls).toEqual([{ operation: 'createUser', attributes: expect.objectContaining({ [attribute]: bossAccount }) }]);
  });
});

describe('user references: a reconciliation run', () => {
  it("sets a manager whose account appeared after the report's, and then finds the report in sync", async () => {
    const t = reconcileHarness();
    t.hub.user('boss');
    t.hub.user('ada', managedBy('boss'));
    await t.provision('ada', 'boss');
    const ada = (await t.links.get('app', 'user', 'ada'))?.targetId as string;
    const bossAccount = (await t.links.get('app', 'user', 'boss'))?.targetId as string;
    expect(t.target.accounts.get(ada)).not.toHaveProperty(MANAGER);

    await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    await t.applyLane();

    expect(t.target.accounts.get(ada)?.[MANAGER]).toBe(bossAccount);
    const second = await t.reconciliation.start(t.config, { trigger: 'schedule', dryRun: false });
    await t.runPages();
    expect((await t.runs.get(second.runId))?.counters.situations).toEqual({ inSync: 2 });
  });
});

describe('user references: an inbound source', () => {
  it("never reads a source account's manager back into the hub: it is the source's id, not a hub id", () => {
    const user = inboundUserOf(connectorConfig({ direction: 'inbound' }), { id: 'src-1', attributes: { userName: 'ada', [MANAGER]: 'src-2' } });
    expect(user).toEqual({ externalId: 'src-1', active: true, userName: 'ada' });
  });
});
