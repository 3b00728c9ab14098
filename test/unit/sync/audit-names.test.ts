import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import { makeChangeWorker } from '../../../shared/sync/change-worker.ts';
import { makeProvisionOnDemand } from '../../../shared/sync/on-demand.service.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeLane, FakeTarget, InMemoryBreakers, InMemoryGrantStore, syncFixture } from '../../builders/sync.fakes.ts';

/** Operators look failures up by person: every record names the user or group it is about. */
describe('audit records name their resource', () => {
  const setup = () => {
    const fixture = syncFixture();
    const target = new FakeTarget();
    const sync = makeSync(fixture);
    const lane = new FakeLane(fixture.now);
    const config = connectorConfig({ retry: { maxAttempts: 2 } });
    const worker = makeChangeWorker({ sync, breakers: new InMemoryBreakers(), queue: lane, audit: fixture.audit, clock: fixture.clock, maxReceiveCount: 10 });
    const batch = async () => {
      const received = lane.receive();
      lane.settle(received, await worker.process(config, async () => target, received));
    };
    return { ...fixture, target, sync, lane, config, batch };
  };

  it('names the user and the group of the worker’s failures', async () => {
    // Prepare
    const s = setup();
    s.hub.user('u-1', { userName: 'ada@example.com' });
    s.hub.group('g-1', 'Engineering', ['u-1']);
    s.target.failAlways('createUser', new ConnectorError('retryable', 'the target answered 503'));
    s.target.failAlways('createGroup', new ConnectorError('permanent', 'refused'));
    s.lane.send({ kind: 'user', connectorId: 'app', id: 'u-1', trigger: 'realtime' });
    s.lane.send({ kind: 'membership', connectorId: 'app', groupId: 'g-1', memberId: 'u-1', trigger: 'realtime' });

    // Act
    await s.batch();

    // Assess
    const failures = s.audit.entries.filter((e) => e.status === 'retrying' || e.status === 'dead-lettered');
    expect(failures.map((e) => [e.resourceType, e.name]).sort()).toEqual([
      ['Membership', 'Engineering'],
      ['User', 'ada@example.com'],
    ]);
  });

  it('names a user the hub has deleted by the name its link kept', async () => {
    // Prepare: ada is provisioned, then deleted from the hub; the target refuses the deprovision.
    const s = setup();
    s.hub.user('u-1', { userName: 'ada@example.com' });
    await s.sync.syncUser({ config: s.config, connector: s.target }, 'u-1', { trigger: 'realtime' });
    s.hub.users.delete('u-1');
    s.target.failAlways('disableUser', new ConnectorError('permanent', 'refused'));
    s.lane.send({ kind: 'user', connectorId: 'app', id: 'u-1', trigger: 'realtime' });

    // Act
    await s.batch();

    // Assess
    expect(s.audit.entries.at(-1)).toMatchObject({ status: 'dead-lettered', resourceId: 'u-1', name: 'ada@example.com' });
  });

  it('records an on-demand request the target failed, with the user’s name', async () => {
    // Prepare
    const s = setup();
    s.hub.user('u-1', { userName: 'ada@example.com' });
    s.target.failAlways('createUser', new ConnectorError('permanent', 'refused'));
    const provision = makeProvisionOnDemand({
      sync: s.sync,
      hub: { findUsers: async () => [{ id: 'u-1', userName: 'ada@example.com' }], findGroups: async () => [] },
      grants: new InMemoryGrantStore(),
      connector: async () => ({ config: s.config, connector: s.target }),
      enqueue: async () => {},
      clock: s.clock,
      audit: s.audit,
    });

    // Act
    const request = provision({ connectorId: 'app', subject: { user: 'ada@example.com' } });

    // Assess
    await expect(request).rejects.toBeInstanceOf(ConnectorError);
    expect(s.audit.entries).toMatchObject([
      { trigger: 'on-demand', status: 'failed', resourceId: 'u-1', name: 'ada@example.com', error: { code: 'connector.permanent' } },
    ]);
  });
});
