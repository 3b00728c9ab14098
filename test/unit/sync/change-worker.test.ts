import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../shared/connectors/connector.errors.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';
import type { ConnectorConfig } from '../../../shared/connectors/connectors.schema.ts';
import type { ChangeMessage } from '../../../shared/sync/change-message.ts';
import { DISABLED_HOLD_MS, makeChangeWorker } from '../../../shared/sync/change-worker.ts';
import { makeSync } from '../../../shared/sync/sync.service.ts';
import { connectorConfig, FakeLane, FakeTarget, InMemoryBreakers, syncFixture } from '../../builders/sync.fakes.ts';

const MAX_RECEIVE_COUNT = 10;

/** A connector lane end to end in memory: fanout sends, the worker receives, the lane settles. */
const setup = (config: Record<string, unknown> = {}) => {
  const fixture = syncFixture();
  const target = new FakeTarget();
  const lane = new FakeLane(fixture.now);
  const breakers = new InMemoryBreakers();
  const worker = makeChangeWorker({
    sync: makeSync(fixture),
    breakers,
    queue: lane,
    audit: fixture.audit,
    clock: fixture.clock,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
  let current: ConnectorConfig = connectorConfig({ breaker: { failureThreshold: 3, probeIntervalSeconds: 30 }, retry: { maxAttempts: 3 }, ...config });
  let connect: () => Promise<Connector> = async () => target;
  return {
    ...fixture,
    target,
    lane,
    breakers,
    configure: (change: Record<string, unknown>) => {
      current = connectorConfig({ ...current, ...change });
    },
    connectWith: (build: () => Promise<Connector>) => {
      connect = build;
    },
    /** One receive, one worker run, one partial batch response; returns what was received. */
    batch: async () => {
      const received = lane.receive();
      if (received.length > 0) lane.settle(received, await worker.process(current, connect, received));
      return received;
    },
    /** Runs batches, moving the clock past each wait, until the lane is empty or `max` batches ran. */
    drain: async (max = 200) => {
      for (let i = 0; i < max && lane.messages.length > 0; i++) {
        const received = lane.receive();
        if (received.length > 0) lane.settle(received, await worker.process(current, connect, received));
        const next = Math.min(...lane.messages.map((m) => m.visibleAt));
        if (Number.isFinite(next) && next > fixture.now()) fixture.advance(next - fixture.now());
      }
    },
  };
};

const userChange = (id: string): ChangeMessage => ({ kind: 'user', connectorId: 'app', id, trigger: 'realtime' });

describe('change worker: failures', () => {
  it('dead-letters a change after retry.maxAttempts real attempts, however many waits came between', async () => {
    const s = setup();
    s.hub.user('ada');
    s.target.failAlways('createUser', new ConnectorError('retryable', 'the target answered 503'));
    // Throttled answers between the real attempts: waits, not attempts.
    s.target.failNext('findUser', new ConnectorError('throttled', 'slow down', { retryAfterMs: 2_000 }), 5);
    s.lane.send(userChange('ada'));

    await s.drain();

    expect(s.target.calls.filter((c) => c.operation === 'createUser')).toHaveLength(3);
    expect(s.lane.deadLetters).toHaveLength(1);
    expect(s.audit.of({ resourceId: 'ada' }).map((e) => [e.status, e.attempt])).toEqual([
      ['retrying', 1],
      ['retrying', 2],
      ['dead-lettered', 3],
    ]);
  });

  it('keeps a change through a quarantine longer than maxReceiveCount receives: re-enqueued, never dead-lettered', async () => {
    const s = setup({ breaker: { failureThreshold: 1, probeIntervalSeconds: 30 } });
    s.hub.user('ada');
    s.lane.send(userChange('ada'));

    // A quarantine that outlasts MAX_RECEIVE_COUNT * 3 receives: every probe time is put off.
    for (let i = 0; i < MAX_RECEIVE_COUNT * 3; i++) {
      s.breakers.state = { state: 'open', consecutiveFailures: 5, intervalMs: 300_000, nextProbeAt: s.now() + 300_000, revision: i + 1 };
      await s.batch();
      s.advance(300_000);
    }

    expect(s.lane.deadLetters).toHaveLength(0);
    expect(s.lane.requeues.length).toBeGreaterThan(0);
    expect(s.lane.messages.every((m) => m.receiveCount < MAX_RECEIVE_COUNT)).toBe(true);
    expect(s.lane.messages[0]?.message.attempts ?? 0).toBe(0);

    s.breakers.state = { state: 'closed', consecutiveFailures: 0, revision: 100 };
    await s.drain();
    expect([...s.target.accounts.values()]).toMatchObject([{ userName: 'ada' }]);
  });

  it('repeated authentication failures open the breaker (quarantine record) instead of dead-lettering', async () => {
    const s = setup();
    for (const id of ['ada', 'bob', 'carol', 'dan']) {
      s.hub.user(id);
      s.lane.send(userChange(id));
    }
    s.target.failAlways('findUser', new ConnectorError('unauthorized', 'the target answered 401', { status: 401 }));

    for (let i = 0; i < 20; i++) {
      await s.batch();
      s.advance(60_000);
    }

    expect(s.lane.deadLetters).toHaveLength(0);
    expect(s.breakers.state.state).not.toBe('closed');
    expect(s.audit.of({ action: 'quarantine' })).toHaveLength(1);
    expect(s.lane.messages.every((m) => (m.message.attempts ?? 0) === 0)).toBe(true);
  });

  it('builds the connector again on the next batch after its construction failed, losing no change', async () => {
    const s = setup();
    s.hub.user('ada');
    s.lane.send(userChange('ada'));
    let builds = 0;
    s.connectWith(async () => {
      builds++;
      if (builds === 1) throw new Error('ThrottlingException: Rate exceeded (Secrets Manager)');
      return s.target;
    });

    await s.drain();

    expect(builds).toBe(2);
    expect(s.lane.deadLetters).toHaveLength(0);
    expect([...s.target.accounts.values()]).toMatchObject([{ userName: 'ada' }]);
  });

  it('dead-letters a change the target refuses for good at once', async () => {
    const s = setup();
    s.hub.user('ada');
    s.target.failAlways('createUser', new ConnectorError('permanent', 'invalid value', { status: 400 }));
    s.lane.send(userChange('ada'));

    await s.drain();

    expect(s.target.calls.filter((c) => c.operation === 'createUser')).toHaveLength(1);
    expect(s.lane.deadLetters).toHaveLength(1);
  });
});

describe('change worker: cost per batch', () => {
  it('reads the circuit breaker once per batch, not once per change', async () => {
    const s = setup();
    const ids = Array.from({ length: 10 }, (_, i) => `u${i}`);
    for (const id of ids) {
      s.hub.user(id);
      s.lane.send(userChange(id));
    }

    const received = await s.batch();

    expect(received).toHaveLength(10);
    expect(s.breakers.reads).toBe(1);
    expect(s.target.accounts.size).toBe(10);
  });
});

describe('change worker: a disabled connector', () => {
  it('holds its changes without trying them, and they run when it is enabled again', async () => {
    const s = setup();
    s.hub.user('ada');
    s.lane.send(userChange('ada'));
    await s.drain();
    const [accountId] = [...s.target.accounts.keys()];

    s.configure({ enabled: false });
    s.hub.user('ada', { active: false });
    s.lane.send(userChange('ada'));
    for (let i = 0; i < MAX_RECEIVE_COUNT * 2; i++) {
      await s.batch();
      s.advance(DISABLED_HOLD_MS);
    }
    expect(s.target.accounts.get(accountId as string)).toMatchObject({ active: true });
    expect(s.lane.messages).toHaveLength(1);
    expect(s.lane.deadLetters).toHaveLength(0);

    s.configure({ enabled: true });
    await s.drain();

    expect(s.target.accounts.get(accountId as string)).toMatchObject({ active: false });
    expect(s.lane.messages).toHaveLength(0);
  });
});
