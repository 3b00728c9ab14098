import { ConnectorError } from '../connectors/connector.errors.ts';
import { backoffMs } from '../connectors/resilience/backoff.ts';
import { type BreakerState, decide, onFailure, onSuccess } from '../connectors/resilience/circuit-breaker.ts';
import type { ChangeMessage } from './change-message.ts';
import type { ConnectorContext, SyncService } from './sync.service.ts';
import type { AuditLog } from './sync.ports.ts';

/** One received queue message. */
export interface ReceivedChange {
  messageId: string;
  receiveCount: number;
  message: ChangeMessage;
  body: string;
}

export interface BreakerPort {
  get(connectorId: string): Promise<BreakerState>;
  compareAndSet(connectorId: string, expectedRevision: number, next: BreakerState): Promise<boolean>;
}

export interface QueuePort {
  /** Keeps the messages invisible for `ms` more (retry backoff, quarantine). */
  delay(messageIds: string[], ms: number): Promise<void>;
  /** Moves the message to the connector's DLQ (the caller then reports it done). */
  deadLetter(change: ReceivedChange, reason: string): Promise<void>;
}

export interface ChangeWorkerDeps {
  sync: SyncService;
  breakers: BreakerPort;
  queue: QueuePort;
  audit: AuditLog;
  clock: () => Date;
}

const describe = (message: ChangeMessage) =>
  message.kind === 'membership'
    ? { resourceType: 'Membership' as const, resourceId: message.groupId }
    : { resourceType: message.kind === 'user' ? ('User' as const) : ('Group' as const), resourceId: message.id };

/**
 * Applies a batch of change messages for one connector, in order: the circuit breaker decides
 * whether the target may be called; failures are classified, retried with backoff (honouring
 * Retry-After), and after the connector's maxAttempts moved to its DLQ with an audit record
 * saying so. Returns the ids of messages to leave on the queue (a partial batch response).
 * Consecutive membership messages of one group become one minimal add/remove delta.
 */
export const makeChangeWorker = (deps: ChangeWorkerDeps) => {
  const now = () => deps.clock().getTime();

  const apply = (ctx: ConnectorContext, unit: ReceivedChange[]) => {
    const first = unit[0]?.message as ChangeMessage;
    const attempt = Math.max(...unit.map((c) => c.receiveCount));
    const options = { trigger: first.trigger, attempt, ...(first.changedAt ? { changedAt: Math.min(...unit.map((c) => c.message.changedAt ?? Number.MAX_SAFE_INTEGER)) } : {}) };
    if (first.kind === 'user') return deps.sync.syncUser(ctx, first.id, options);
    if (first.kind === 'group') return deps.sync.syncGroup(ctx, first.id, options);
    return deps.sync.syncMembers(
      ctx,
      first.groupId,
      unit.map((c) => (c.message.kind === 'membership' ? c.message.memberId : '')),
      options,
    );
  };

  const recordFailure = async (ctx: ConnectorContext, unit: ReceivedChange[], status: 'retrying' | 'dead-lettered' | 'failed', error: unknown) => {
    const first = unit[0] as ReceivedChange;
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId: ctx.config.id,
      ...describe(first.message),
      trigger: first.message.trigger,
      action: first.message.kind === 'membership' ? 'membership' : 'sync',
      status,
      steps: [],
      error: {
        code: error instanceof ConnectorError ? error.code : 'internal',
        message: error instanceof Error ? error.message : String(error),
      },
      attempt: first.receiveCount,
    });
  };

  const updateBreaker = async (ctx: ConnectorContext, change: (state: BreakerState) => BreakerState) => {
    for (let i = 0; i < 3; i++) {
      const state = await deps.breakers.get(ctx.config.id);
      const next = change(state);
      if (next === state || next.revision === state.revision) return { before: state, after: state };
      if (await deps.breakers.compareAndSet(ctx.config.id, state.revision, next)) return { before: state, after: next };
    }
    return undefined;
  };

  const recordBreaker = async (ctx: ConnectorContext, action: 'quarantine' | 'resume', reason: string) => {
    await deps.audit.record({
      time: deps.clock().toISOString(),
      connectorId: ctx.config.id,
      resourceType: 'Connector',
      resourceId: ctx.config.id,
      trigger: 'realtime',
      action,
      status: action === 'resume' ? 'success' : 'failed',
      steps: [],
      reason,
    });
  };

  /** Runs one unit; returns the message ids that must stay on the queue. */
  const runUnit = async (ctx: ConnectorContext, unit: ReceivedChange[]): Promise<string[]> => {
    const ids = unit.map((c) => c.messageId);
    const breaker = await deps.breakers.get(ctx.config.id);
    const decision = decide(breaker, now());
    if (decision.kind === 'wait') {
      // Quarantined: the messages wait (invisible) until the next probe.
      await deps.queue.delay(ids, Math.max(1_000, decision.untilMs - now()));
      return ids;
    }
    if (decision.kind === 'probe') {
      // Exactly one worker wins the probe; the others wait like the rest.
      if (!(await deps.breakers.compareAndSet(ctx.config.id, breaker.revision, decision.next))) {
        await deps.queue.delay(ids, ctx.config.breaker.probeIntervalSeconds * 1000);
        return ids;
      }
    }
    try {
      await apply(ctx, unit);
      // The common case, a healthy connector, costs no second read of the breaker.
      if (breaker.state !== 'closed' || breaker.consecutiveFailures > 0 || decision.kind === 'probe') {
        const changed = await updateBreaker(ctx, onSuccess);
        if (changed && changed.before.state !== 'closed') await recordBreaker(ctx, 'resume', 'a probe succeeded: the target answers again');
      }
      return [];
    } catch (error) {
      const targetFailure = error instanceof ConnectorError && error.retryable;
      if (targetFailure) {
        const changed = await updateBreaker(ctx, (state) =>
          onFailure(state, { failureThreshold: ctx.config.breaker.failureThreshold, probeIntervalMs: ctx.config.breaker.probeIntervalSeconds * 1000 }, now(), (error as Error).message),
        );
        if (changed && changed.before.state === 'closed' && changed.after.state === 'open') {
          await recordBreaker(ctx, 'quarantine', `${changed.after.consecutiveFailures} consecutive failures: ${(error as Error).message}`);
        }
      }
      const permanent = error instanceof ConnectorError && !error.retryable;
      const attempts = Math.max(...unit.map((c) => c.receiveCount));
      if (permanent || attempts >= ctx.config.retry.maxAttempts) {
        for (const change of unit) await deps.queue.deadLetter(change, error instanceof Error ? error.message : String(error));
        await recordFailure(ctx, unit, 'dead-lettered', error);
        return [];
      }
      await recordFailure(ctx, unit, 'retrying', error);
      const wait = (error instanceof ConnectorError ? error.retryAfterMs : undefined) ?? backoffMs(attempts, { baseMs: 1_000, maxMs: 300_000 });
      await deps.queue.delay(ids, Math.max(1_000, wait));
      return ids;
    }
  };

  /** Runs one FIFO group's messages in order; after a failure the rest of the group waits too. */
  const runGroup = async (ctx: ConnectorContext, changes: ReceivedChange[]): Promise<string[]> => {
    const failed: string[] = [];
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
      if (failed.length > 0) {
        failed.push(...unit.map((c) => c.messageId));
        continue;
      }
      failed.push(...(await runUnit(ctx, unit)));
    }
    return failed;
  };

  return {
    /**
     * Processes a batch: FIFO groups (one resource each) run side by side, each group's messages
     * in order, so a batch of ten different users takes as long as the slowest, not the sum.
     * Returns the ids to leave on the queue: a failed message and the later ones of its group.
     */
    async process(ctx: ConnectorContext, changes: ReceivedChange[]): Promise<string[]> {
      const groups = new Map<string, ReceivedChange[]>();
      for (const change of changes) {
        const key = change.message.kind === 'membership' ? change.message.groupId : change.message.id;
        groups.set(key, [...(groups.get(key) ?? []), change]);
      }
      const failed = await Promise.all([...groups.values()].map((group) => runGroup(ctx, group)));
      return failed.flat();
    },
  };
};
