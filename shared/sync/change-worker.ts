import { ConnectorError } from '../connectors/connector.errors.ts';
import type { Connector } from '../connectors/connector.port.ts';
import type { ConnectorConfig } from '../connectors/connectors.schema.ts';
import { backoffMs } from '../connectors/resilience/backoff.ts';
import { type BreakerState, decide, onFailure, onSuccess } from '../connectors/resilience/circuit-breaker.ts';
import { type ChangeMessage, messageGroupOf } from './change-message.ts';
import type { OrphanApplier } from './reconcile-apply.ts';
import type { AuditLog } from './sync.ports.ts';
import type { ConnectorContext, SyncService } from './sync.service.ts';

/** One received queue message. */
export interface ReceivedChange {
  messageId: string;
  /** SQS's ApproximateReceiveCount of this copy: waits and attempts alike. */
  receiveCount: number;
  message: ChangeMessage;
  body: string;
}

export interface BreakerPort {
  get(connectorId: string): Promise<BreakerState>;
  compareAndSet(connectorId: string, expectedRevision: number, next: BreakerState): Promise<boolean>;
}

export interface QueuePort {
  /** Keeps the messages invisible for `ms` more (a wait: quarantine, throttling, a disabled connector). */
  delay(messageIds: string[], ms: number): Promise<void>;
  /**
   * Sends a fresh copy of the change (new deduplication id, same FIFO group, receive count back
   * to zero) carrying `message`; the worker then reports the original done, so it is deleted.
   */
  requeue(change: ReceivedChange, message: ChangeMessage): Promise<void>;
  /** Moves the message to the connector's DLQ (the caller then reports it done). */
  deadLetter(change: ReceivedChange, reason: string): Promise<void>;
}

export interface ChangeWorkerDeps {
  sync: SyncService;
  /** Disables or deletes the orphan accounts reconciliation runs send (`account` messages). */
  orphans?: OrphanApplier;
  breakers: BreakerPort;
  queue: QueuePort;
  audit: AuditLog;
  clock: () => Date;
  /**
   * The queue's redrive maxReceiveCount: SQS dead-letters a message received more often. Waits
   * are receives too, so a copy close to it is re-enqueued instead of waiting once more.
   */
  maxReceiveCount: number;
  /** How long a disabled connector's changes wait before they look again (default DISABLED_HOLD_MS). */
  disabledHoldMs?: number;
}

/** How long the changes of a disabled connector wait before they look again, unless told. */
export const DISABLED_HOLD_MS = 60_000;
/** Backoff of real attempts (5xx, timeouts): 1 s doubling to 5 min, with full jitter. */
const RETRY_BACKOFF = { baseMs: 1_000, maxMs: 300_000 };

const describe = (message: ChangeMessage) => {
  if (message.kind === 'membership') return { resourceType: 'Membership' as const, resourceId: message.groupId };
  if (message.kind === 'account') return { resourceType: 'User' as const, resourceId: message.targetId };
  return { resourceType: message.kind === 'user' ? ('User' as const) : ('Group' as const), resourceId: message.id };
};

const changedAtOf = (message: ChangeMessage) => (message.kind === 'account' ? undefined : message.changedAt);

/** Real attempts spent on a unit before this one. */
const attemptsOf = (unit: ReceivedChange[]) => Math.max(...unit.map((c) => c.message.attempts ?? 0));

/**
 * What becomes of a unit that did not finish: `wait` (nothing was tried, or the failure was the
 * connector's, not the change's: no attempt is spent), `retry` (a real attempt failed: one is
 * spent, and the change runs again after the backoff), or `done` (applied or dead-lettered).
 */
type Disposition = { kind: 'done' } | { kind: 'wait'; ms: number } | { kind: 'retry'; ms: number; attempts: number };

/**
 * Applies a batch of change messages for one connector, in order, and classifies what fails:
 *
 * - a real attempt that failed (a 5xx, a timeout, our own error) spends one of the connector's
 *   `retry.maxAttempts`; the count travels in the message, whose fresh copy is re-enqueued to
 *   run after the backoff, and the last one moves the change to the DLQ with an audit record;
 * - a change the target refuses for good (`permanent`, an unresolved conflict) goes to the DLQ
 *   at once;
 * - waits spend nothing: the circuit breaker's quarantine, a throttled answer (Retry-After), a
 *   target refusing our credentials (it counts toward the breaker instead), a connector that
 *   could not be built, a disabled connector holding its changes. A wait is a visibility delay,
 *   and a copy near the queue's maxReceiveCount is re-enqueued so SQS never dead-letters it.
 *
 * Returns the ids of messages to leave on the queue (a partial batch response). Consecutive
 * membership messages of one group become one minimal add/remove delta.
 */
export const makeChangeWorker = (deps: ChangeWorkerDeps) => {
  const now = () => deps.clock().getTime();

  const apply = (ctx: ConnectorContext, unit: ReceivedChange[]) => {
    const first = unit[0]?.message as ChangeMessage;
    const attempt = attemptsOf(unit) + 1;
    const options = {
      trigger: first.trigger,
      ...('actor' in first && first.actor ? { actor: first.actor } : {}),
      attempt,
      ...(changedAtOf(first) ? { changedAt: Math.min(...unit.map((c) => changedAtOf(c.message) ?? Number.MAX_SAFE_INTEGER)) } : {}),
    };
    if (first.kind === 'user') {
      // A run's reading of the account: its values, or `absent` for an account the target no longer holds.
      const observed = first.observed === undefined ? undefined : first.observed === 'absent' ? null : { attributes: first.observed };
      return deps.sync.syncUser(ctx, first.id, { ...options, ...(observed !== undefined ? { observed } : {}) });
    }
    if (first.kind === 'account') {
      if (!deps.orphans) throw new ConnectorError('permanent', `${ctx.config.id}: this worker cannot apply orphan account changes`);
      return deps.orphans(ctx, first, options);
    }
    if (first.kind === 'group') {
      const observed = first.observed === undefined ? undefined : first.observed === 'absent' ? null : { attributes: first.observed };
      return deps.sync.syncGroup(ctx, first.id, { ...options, ...(observed !== undefined ? { observed } : {}) });
    }
    const members = unit.flatMap((c) => (c.message.kind === 'membership' ? [c.message] : []));
    // A run's readings of the target group, member by member (real-time changes carry none).
    const observedMembers = new Map(members.flatMap((m) => (m.observed ? [[m.memberId, m.observed] as const] : [])));
    return deps.sync.syncMembers(
      ctx,
      (first as Extract<ChangeMessage, { kind: 'membership' }>).groupId,
      members.flatMap((m) => m.memberIds ?? [m.memberId]),
      { ...options, ...(observedMembers.size > 0 ? { observedMembers } : {}) },
    );
  };

  /** The name of the change's hub user or group (a membership's group); none for an orphan account. */
  const nameOf = async (connectorId: string, message: ChangeMessage): Promise<string | undefined> => {
    if (message.kind === 'account') return undefined;
    const [kind, id] = message.kind === 'membership' ? (['group', message.groupId] as const) : ([message.kind, message.id] as const);
    try {
      return await deps.sync.nameOf(connectorId, kind, id);
    } catch {
      // The failure is recorded even when the name cannot be read (the table may be what failed).
      return undefined;
    }
  };

  const recordFailure = async (config: ConnectorConfig, unit: ReceivedChange[], status: 'retrying' | 'dead-lettered', error: unknown, attempt: number) => {
    const first = unit[0] as ReceivedChange;
    const name = await nameOf(config.id, first.message);
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId: config.id,
      ...describe(first.message),
      ...(name ? { name } : {}),
      trigger: first.message.trigger,
      ...('actor' in first.message && first.message.actor ? { actor: first.message.actor } : {}),
      action: first.message.kind === 'membership' ? 'membership' : 'sync',
      status,
      steps: [],
      error: {
        code: error instanceof ConnectorError ? error.code : 'internal',
        message: error instanceof Error ? error.message : String(error),
      },
      attempt,
    });
  };

  const updateBreaker = async (config: ConnectorConfig, change: (state: BreakerState) => BreakerState) => {
    for (let i = 0; i < 3; i++) {
      const state = await deps.breakers.get(config.id);
      const next = change(state);
      if (next === state || next.revision === state.revision) return { before: state, after: state };
      if (await deps.breakers.compareAndSet(config.id, state.revision, next)) return { before: state, after: next };
    }
    return undefined;
  };

  const recordBreaker = async (config: ConnectorConfig, action: 'quarantine' | 'resume', reason: string) => {
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId: config.id,
      resourceType: 'Connector',
      resourceId: config.id,
      name: config.id,
      trigger: 'realtime',
      action,
      status: action === 'resume' ? 'success' : 'failed',
      steps: [],
      reason,
    });
  };

  /** A failure of the connector itself: one more toward its breaker, quarantine at the threshold. */
  const breakerFailure = async (config: ConnectorConfig, message: string) => {
    const changed = await updateBreaker(config, (state) =>
      onFailure(state, { failureThreshold: config.breaker.failureThreshold, probeIntervalMs: config.breaker.probeIntervalSeconds * 1000 }, now(), message),
    );
    if (changed && changed.before.state === 'closed' && changed.after.state === 'open') {
      await recordBreaker(config, 'quarantine', `${changed.after.consecutiveFailures} consecutive failures: ${message}`);
    }
  };

  /** Runs one unit and says what becomes of it. */
  const runUnit = async (
    config: ConnectorConfig,
    connect: () => Promise<Connector>,
    breakerOfBatch: () => Promise<BreakerState>,
    unit: ReceivedChange[],
  ): Promise<Disposition> => {
    const notBefore = Math.max(...unit.map((c) => c.message.notBefore ?? 0));
    if (notBefore > now()) return { kind: 'wait', ms: notBefore - now() };
    const breaker = await breakerOfBatch();
    const decision = decide(breaker, now());
    // Quarantined: the messages wait until the next probe.
    if (decision.kind === 'wait') return { kind: 'wait', ms: decision.untilMs - now() };
    // Exactly one worker wins the probe; the others wait like the rest.
    if (decision.kind === 'probe' && !(await deps.breakers.compareAndSet(config.id, breaker.revision, decision.next))) {
      return { kind: 'wait', ms: config.breaker.probeIntervalSeconds * 1000 };
    }
    let connector: Connector;
    try {
      connector = await connect();
    } catch (error) {
      // The connector could not be built (its secret unreadable, Secrets Manager throttling):
      // no change was tried, so none is at fault. The breaker quarantines a lasting failure.
      const message = `the connector could not be built: ${error instanceof Error ? error.message : String(error)}`;
      await breakerFailure(config, message);
      return { kind: 'wait', ms: backoffMs(Math.max(...unit.map((c) => c.receiveCount)), RETRY_BACKOFF) };
    }
    try {
      await apply({ config, connector }, unit);
      // The common case, a healthy connector, costs no second read of the breaker.
      if (breaker.state !== 'closed' || breaker.consecutiveFailures > 0 || decision.kind === 'probe') {
        const changed = await updateBreaker(config, onSuccess);
        if (changed && changed.before.state !== 'closed') await recordBreaker(config, 'resume', 'a probe succeeded: the target answers again');
      }
      return { kind: 'done' };
    } catch (error) {
      const kind = error instanceof ConnectorError ? error.kind : undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (kind === 'retryable' || kind === 'throttled' || kind === 'unauthorized') await breakerFailure(config, message);
      if (kind === 'throttled') {
        // The target asked us to slow down: a wait, not a failed attempt of this change.
        return { kind: 'wait', ms: (error as ConnectorError).retryAfterMs ?? backoffMs(Math.max(...unit.map((c) => c.receiveCount)), RETRY_BACKOFF) };
      }
      if (kind === 'unauthorized') {
        // Our credentials were refused even after reading the secret again: every change of
        // this connector would fail alike, so none is dead-lettered; the breaker opens instead.
        return { kind: 'wait', ms: backoffMs(Math.max(...unit.map((c) => c.receiveCount)), RETRY_BACKOFF) };
      }
      const attempts = attemptsOf(unit) + 1;
      if ((error instanceof ConnectorError && !error.retryable) || attempts >= config.retry.maxAttempts) {
        for (const change of unit) await deps.queue.deadLetter(change, message);
        await recordFailure(config, unit, 'dead-lettered', error, attempts);
        return { kind: 'done' };
      }
      await recordFailure(config, unit, 'retrying', error, attempts);
      return { kind: 'retry', attempts, ms: (error instanceof ConnectorError ? error.retryAfterMs : undefined) ?? backoffMs(attempts, RETRY_BACKOFF) };
    }
  };

  /**
   * Carries out a disposition for messages that did not finish; returns the ids to leave on the
   * queue. A retry, and a wait of a copy near the queue's maxReceiveCount, re-enqueue fresh
   * copies in order (the originals are reported done); other waits delay the originals.
   */
  const settle = async (changes: ReceivedChange[], disposition: Disposition): Promise<string[]> => {
    if (disposition.kind === 'done' || changes.length === 0) return [];
    const ms = Math.max(1_000, disposition.ms);
    if (disposition.kind === 'retry' || changes.some((c) => c.receiveCount >= deps.maxReceiveCount - 1)) {
      for (const change of changes) await deps.queue.requeue(change, { ...change.message, notBefore: now() + ms });
      return [];
    }
    const ids = changes.map((c) => c.messageId);
    await deps.queue.delay(ids, ms);
    return ids;
  };

  /** Runs one FIFO group's messages in order; after a failure the rest of the group waits with it. */
  const runGroup = async (
    config: ConnectorConfig,
    connect: () => Promise<Connector>,
    breakerOfBatch: () => Promise<BreakerState>,
    changes: ReceivedChange[],
  ): Promise<string[]> => {
    let index = 0;
    while (index < changes.length) {
      const first = changes[index] as ReceivedChange;
      const unit = [first];
      index++;
      // Consecutive membership changes of the group become one minimal delta.
      while (first.message.kind === 'membership' && changes[index]?.message.kind === 'membership') {
        unit.push(changes[index] as ReceivedChange);
        index++;
      }
      const disposition = await runUnit(config, connect, breakerOfBatch, unit);
      if (disposition.kind === 'done') continue;
      // The failed unit carries the attempts spent on it; the group's later changes wait with it.
      const failed = disposition.kind === 'retry' ? unit.map((c) => ({ ...c, message: { ...c.message, attempts: disposition.attempts } })) : unit;
      return settle([...failed, ...changes.slice(index)], disposition);
    }
    return [];
  };

  return {
    /**
     * Processes a batch for one connector: FIFO groups (one resource each) run side by side,
     * each group's messages in order, so a batch of ten different users takes as long as the
     * slowest, not the sum. `connect` builds (or returns the cached) connector; it is called
     * only when a change is about to run. A disabled connector's changes are held, not dropped
     * and not tried: they run when it is enabled again. Returns the ids to leave on the queue.
     */
    async process(config: ConnectorConfig, connect: () => Promise<Connector>, changes: ReceivedChange[]): Promise<string[]> {
      // An inbound source is read into the hub, never written: the hub's changes are not for it.
      if (config.direction === 'inbound') return [];
      const groups = new Map<string, ReceivedChange[]>();
      for (const change of changes) {
        const key = messageGroupOf(change.message);
        groups.set(key, [...(groups.get(key) ?? []), change]);
      }
      if (!config.enabled) {
        const held = await Promise.all([...groups.values()].map((group) => settle(group, { kind: 'wait', ms: deps.disabledHoldMs ?? DISABLED_HOLD_MS })));
        return held.flat();
      }
      // The breaker is read once for the batch, not once per change: its state changes only on
      // failures and probes, which write it conditionally on the revision read here.
      let breaker: Promise<BreakerState> | undefined;
      const breakerOfBatch = () => {
        breaker ??= deps.breakers.get(config.id);
        return breaker;
      };
      const failed = await Promise.all([...groups.values()].map((group) => runGroup(config, connect, breakerOfBatch, group)));
      return failed.flat();
    },
  };
};
