import { describe, expect, it } from 'vitest';
import type { AttributeChange } from '../../../shared/connectors/connector.port.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeTarget, syncFixture } from '../../builders/sync.fakes.ts';

/** A target whose next update is held until released: the call reaches it late, after another worker's. */
class SlowTarget extends FakeTarget {
  private held: { release: () => void; reached: Promise<void> } | undefined;

  holdNextUpdate(): { reached: Promise<void>; release: () => void } {
    let release = () => {};
    let reached = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const arrived = new Promise<void>((resolve) => {
      reached = resolve;
    });
    this.held = {
      reached: arrived,
      release: () => {
        this.held = undefined;
        release();
      },
    };
    const held = this.held;
    const original = this.updateUser.bind(this);
    this.updateUser = async (targetId: string, change: AttributeChange) => {
      this.updateUser = original;
      reached();
      await gate;
      return original(targetId, change);
    };
    return held;
  }
}

describe('sync engine: two workers on one link', () => {
  it('a stale worker whose call lands after a newer one plans again and leaves the newer state on the target and in the link', async () => {
    // Prepare: ada is provisioned; then the hub changes her twice, and two workers take the changes.
    const fixture = syncFixture();
    const sync = makeSync(fixture);
    const target = new SlowTarget();
    const ctx = { config: connectorConfig(), connector: target };
    fixture.hub.user('ada', { displayName: 'Ada L.' });
    await sync.syncUser(ctx, 'ada', { trigger: 'realtime' });
    const accountId = (await fixture.links.get('app', 'user', 'ada'))?.targetId as string;

    // Act: the real-time worker reads the link and calls the target, which answers late; the
    // reconciliation page meanwhile brings the later state and writes the link.
    fixture.hub.user('ada', { displayName: 'Ada Lovelace' });
    const held = target.holdNextUpdate();
    const stale = sync.syncUser(ctx, 'ada', { trigger: 'realtime' });
    await held.reached;
    fixture.hub.user('ada', { displayName: 'Ada King' });
    await sync.syncUser(ctx, 'ada', { trigger: 'schedule' });
    held.release();
    const outcome = await stale;

    // Assess: the late call briefly wrote the older name; the conflict on the link sent the hub's state again.
    expect(target.accounts.get(accountId)).toMatchObject({ displayName: 'Ada King' });
    expect(await fixture.links.get('app', 'user', 'ada')).toMatchObject({ pushed: expect.objectContaining({ displayName: 'Ada King' }), name: 'ada' });
    expect(outcome.steps).toContain('the link changed meanwhile: planning again');
    expect(outcome.status).toBe('success');
  });

  it('a membership link another worker wrote meanwhile counts as done', async () => {
    // Prepare
    const fixture = syncFixture();
    const sync = makeSync(fixture);
    const target = new FakeTarget();
    const ctx = { config: connectorConfig(), connector: target };
    fixture.hub.user('ada');
    fixture.hub.group('eng', 'Engineering', ['ada']);
    await sync.syncGroup(ctx, 'eng', { trigger: 'realtime' });
    await sync.syncUser(ctx, 'ada', { trigger: 'realtime' });
    const racing = sync.syncMembers(ctx, 'eng', ['ada'], { trigger: 'realtime' });
    const other = sync.syncMembers(ctx, 'eng', ['ada'], { trigger: 'schedule' });

    // Act
    const results = await Promise.allSettled([racing, other]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await fixture.links.get('app', 'membership', 'eng#ada')).toMatchObject({ targetId: (await fixture.links.get('app', 'user', 'ada'))?.targetId });
  });
});
