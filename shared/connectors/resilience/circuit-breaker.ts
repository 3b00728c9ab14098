/**
 * The circuit breaker of one connector, as a pure state machine; its state is kept in the hub
 * table so every worker instance sees the same quarantine.
 *
 * closed --(failureThreshold consecutive target failures)--> open (quarantined until nextProbeAt)
 * open --(nextProbeAt reached: one caller wins the probe)--> probing
 * probing --success--> closed; probing --failure--> open with a doubled interval (at most 15 min)
 */
export interface BreakerState {
  state: 'closed' | 'open' | 'probing';
  consecutiveFailures: number;
  /** Epoch ms; set while open. */
  nextProbeAt?: number;
  intervalMs?: number;
  reason?: string;
  /** Bumped on every change: the store writes conditionally on it. */
  revision: number;
}

export interface BreakerSettings {
  failureThreshold: number;
  probeIntervalMs: number;
}

export const MAX_PROBE_INTERVAL_MS = 15 * 60_000;

export const initialBreaker = (): BreakerState => ({ state: 'closed', consecutiveFailures: 0, revision: 0 });

export type BreakerDecision = { kind: 'pass' } | { kind: 'probe'; next: BreakerState } | { kind: 'wait'; untilMs: number };

/** May a call go to the target now? */
export const decide = (breaker: BreakerState, now: number): BreakerDecision => {
  if (breaker.state === 'closed') return { kind: 'pass' };
  const until = breaker.nextProbeAt ?? now;
  if (breaker.state === 'open' && now >= until) {
    return { kind: 'probe', next: { ...breaker, state: 'probing', nextProbeAt: now + (breaker.intervalMs ?? 0), revision: breaker.revision + 1 } };
  }
  // A probe that never reported back (its worker died) is retried once its interval has passed.
  if (breaker.state === 'probing' && now >= until) {
    return { kind: 'probe', next: { ...breaker, nextProbeAt: now + (breaker.intervalMs ?? 0), revision: breaker.revision + 1 } };
  }
  return { kind: 'wait', untilMs: until };
};

export const onSuccess = (breaker: BreakerState): BreakerState =>
  breaker.state === 'closed' && breaker.consecutiveFailures === 0 ? breaker : { state: 'closed', consecutiveFailures: 0, revision: breaker.revision + 1 };

export const onFailure = (breaker: BreakerState, settings: BreakerSettings, now: number, reason: string): BreakerState => {
  if (breaker.state === 'probing') {
    const intervalMs = Math.min(MAX_PROBE_INTERVAL_MS, (breaker.intervalMs ?? settings.probeIntervalMs) * 2);
    return {
      state: 'open',
      consecutiveFailures: breaker.consecutiveFailures + 1,
      intervalMs,
      nextProbeAt: now + intervalMs,
      reason,
      revision: breaker.revision + 1,
    };
  }
  const consecutiveFailures = breaker.consecutiveFailures + 1;
  if (breaker.state === 'closed' && consecutiveFailures >= settings.failureThreshold) {
    return {
      state: 'open',
      consecutiveFailures,
      intervalMs: settings.probeIntervalMs,
      nextProbeAt: now + settings.probeIntervalMs,
      reason,
      revision: breaker.revision + 1,
    };
  }
  return { ...breaker, consecutiveFailures, revision: breaker.revision + 1 };
};
