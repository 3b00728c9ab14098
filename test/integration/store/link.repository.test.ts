import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../../shared/store/link.repository.ts';
import { type Link, LinkCollisionError, LinkConflictError, linkRef } from '../../../shared/sync/sync.ports.ts';
import { freshHubTable } from '../../support/dynamodb.ts';

const link = (hubId: string, targetId: string, extra: Partial<Link> = {}): Link => ({
  connectorId: 'app',
  kind: 'user',
  hubId,
  targetId,
  status: 'active',
  pushed: { userName: hubId },
  hash: 'h',
  origin: 'created',
  updated: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('DynamoLinkStore', () => {
  let store: DynamoLinkStore;
  let table: Awaited<ReturnType<typeof freshHubTable>>;

  beforeAll(async () => {
    table = await freshHubTable('links');
    store = new DynamoLinkStore(table.documents, table.tableName);
  });
  afterAll(() => table.raw.destroy());

  it('writes a link with its reverse, and rewrites it for the same hub id', async () => {
    await store.put(link('ada', 't-1'));
    await store.put(link('ada', 't-1', { status: 'disabled' }));

    expect(await store.get('app', 'user', 'ada')).toMatchObject({ targetId: 't-1', status: 'disabled' });
    expect(await store.ownerOf('app', 'user', 't-1')).toBe('ada');
  });

  it('refuses to link a target account owned by another hub user, writing nothing, and names the owner', async () => {
    const error = await store.put(link('bob', 't-1')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LinkCollisionError);
    expect((error as LinkCollisionError).ownerHubId).toBe('ada');
    expect(await store.get('app', 'user', 'bob')).toBeUndefined();
    expect(await store.ownerOf('app', 'user', 't-1')).toBe('ada');
  });

  it('lets exactly one of two racing hub users link the same account', async () => {
    const results = await Promise.allSettled([store.put(link('carol', 't-race')), store.put(link('dave', 't-race'))]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const owner = await store.ownerOf('app', 'user', 't-race');
    expect(['carol', 'dave']).toContain(owner);
    const loser = owner === 'carol' ? 'dave' : 'carol';
    expect(await store.get('app', 'user', loser)).toBeUndefined();
  });

  it('deletes a link and its reverse together, freeing the account', async () => {
    const ada = (await store.get('app', 'user', 'ada')) as Link;
    await store.delete(ada);

    expect(await store.get('app', 'user', 'ada')).toBeUndefined();
    expect(await store.ownerOf('app', 'user', 't-1')).toBeUndefined();
    await store.put(link('bob', 't-1'));
    expect(await store.ownerOf('app', 'user', 't-1')).toBe('bob');
  });

  it('moves the reverse when a link is rewritten to a new target id', async () => {
    await store.put(link('eng', 'Engineering', { kind: 'group' }));
    const group = (await store.get('app', 'group', 'eng')) as Link;
    await store.put({ ...group, targetId: 'R_D' }, group);

    expect(await store.ownerOf('app', 'group', 'Engineering')).toBeUndefined();
    expect(await store.ownerOf('app', 'group', 'R_D')).toBe('eng');
  });

  it('keeps no reverse for memberships: one account is a member of many groups', async () => {
    await store.put(link('g1#bob', 't-1', { kind: 'membership' }));
    await store.put(link('g2#bob', 't-1', { kind: 'membership' }));

    expect(await store.get('app', 'membership', 'g2#bob')).toMatchObject({ targetId: 't-1' });
    expect(await store.ownerOf('app', 'membership', 't-1')).toBeUndefined();
  });

  it('refuses a rewrite from a stale read, keeping the newer state another worker wrote', async () => {
    // Prepare: two workers read the same link.
    await store.put(link('erin', 't-erin', { pushed: { title: 'Engineer' } }));
    const realtime = (await store.get('app', 'user', 'erin')) as Link;
    const reconcile = (await store.get('app', 'user', 'erin')) as Link;

    // Act: the real-time change writes first; the reconciliation page writes from its older read.
    await store.put({ ...realtime, pushed: { title: 'Manager' } });
    const stale = await store.put({ ...reconcile, pushed: { title: 'Engineer', department: 'R&D' } }).catch((e: unknown) => e);

    // Assess
    expect(stale).toBeInstanceOf(LinkConflictError);
    expect(await store.get('app', 'user', 'erin')).toMatchObject({ pushed: { title: 'Manager' }, version: 2 });
    expect(await store.ownerOf('app', 'user', 't-erin')).toBe('erin');
  });

  it('lets exactly one of two workers rewrite a link they both read', async () => {
    await store.put(link('frank', 't-frank'));
    const read = (await store.get('app', 'user', 'frank')) as Link;

    const results = await Promise.allSettled([store.put({ ...read, status: 'disabled' }), store.put({ ...read, pushed: { title: 'Lead' } })]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(LinkConflictError);
  });

  it('refuses a new link over one to another target, and a delete from a stale read', async () => {
    // Prepare
    await store.put(link('gina', 't-gina-1', { kind: 'membership' }));
    const read = (await store.get('app', 'membership', 'gina')) as Link;
    await store.put({ ...read, status: 'disabled' });

    // Act
    const overwrite = await store.put(link('gina', 't-gina-2', { kind: 'membership' })).catch((e: unknown) => e);
    const staleDelete = await store.delete(read).catch((e: unknown) => e);
    const again = await store.put(link('gina', 't-gina-1', { kind: 'membership' })).catch((e: unknown) => e);

    // Assess: the link written twice to the same target is a repeat, not a conflict.
    expect(overwrite).toBeInstanceOf(LinkConflictError);
    expect(staleDelete).toBeInstanceOf(LinkConflictError);
    expect(again).toBeUndefined();
    expect(await store.get('app', 'membership', 'gina')).toMatchObject({ targetId: 't-gina-1', version: 3 });
  });

  it('reads the links of many hub resources batched past the 100 keys of one request, leaving out the ones that do not exist', async () => {
    const members = Array.from({ length: 120 }, (_, i) => `crowd-${i}`);
    await Promise.all(members.map((id, i) => store.put(link(`g9#${id}`, `t-crowd-${i}`, { kind: 'membership' }))));
    await store.put(link('crowd-0', 't-crowd-0'));

    const found = await store.getMany('app', [
      ...members.map((id) => ({ kind: 'membership' as const, hubId: `g9#${id}` })),
      { kind: 'user', hubId: 'crowd-0' },
      { kind: 'user', hubId: 'nobody' },
      { kind: 'membership', hubId: 'g9#crowd-0' },
    ]);

    expect(found.size).toBe(121);
    expect(found.get(linkRef('membership', 'g9#crowd-119'))).toMatchObject({ targetId: 't-crowd-119', kind: 'membership' });
    expect(found.get(linkRef('user', 'crowd-0'))).toMatchObject({ targetId: 't-crowd-0', kind: 'user' });
    expect(found.has(linkRef('user', 'nobody'))).toBe(false);
  });
});
