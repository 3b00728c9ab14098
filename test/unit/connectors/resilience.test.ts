import { describe, expect, it } from 'vitest';
import { ConnectorError, kindOfStatus, parseRetryAfter } from '../../../shared/connectors/connector.errors.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';
import { backoffMs } from '../../../shared/connectors/resilience/backoff.ts';
import {
  type BreakerState,
  decide,
  initialBreaker,
  MAX_PROBE_INTERVAL_MS,
  onFailure,
  onSuccess,
} from '../../../shared/connectors/resilience/circuit-breaker.ts';
import { RateLimiter } from '../../../shared/connectors/resilience/rate-limiter.ts';
import { withResilience } from '../../../shared/connectors/resilience/resilient.connector.ts';

describe('failure classification', () => {
  it.each([
    [429, 'throttled'],
    [503, 'retryable'],
    [500, 'retryable'],
    [408, 'retryable'],
    [404, 'notFound'],
    [409, 'conflict'],
    [400, 'permanent'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
  ])('classifies HTTP %i as %s', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('grows exponentially up to its cap, with full jitter', () => {
    expect(backoffMs(1, { baseMs: 100, random: () => 1 })).toBe(100);
    expect(backoffMs(4, { baseMs: 100, random: () => 1 })).toBe(800);
    expect(backoffMs(30, { baseMs: 100, maxMs: 5000, random: () => 1 })).toBe(5000);
    expect(backoffMs(4, { baseMs: 100, random: () => 0.5 })).toBe(400);
  });
});

describe('circuit breaker', () => {
  const settings = { failureThreshold: 3, probeIntervalMs: 1000 };

  it('opens after the threshold of consecutive failures and waits until the probe time', () => {
    let state = initialBreaker();
    state = onFailure(state, settings, 0, 'x');
    state = onFailure(state, settings, 0, 'x');
    expect(decide(state, 0)).toEqual({ kind: 'pass' });
    state = onFailure(state, settings, 0, 'down');
    expect(state).toMatchObject({ state: 'open', nextProbeAt: 1000, reason: 'down' });
    expect(decide(state, 500)).toEqual({ kind: 'wait', untilMs: 1000 });
  });

  it('lets one probe through, closes on its success and doubles the interval on its failure', () => {
    let state: BreakerState = { ...initialBreaker(), state: 'open', consecutiveFailures: 3, nextProbeAt: 1000, intervalMs: 1000, revision: 3 };
    const probe = decide(state, 1000);
    expect(probe.kind).toBe('probe');
    if (probe.kind !== 'probe') return;
    expect(decide(probe.next, 1001)).toEqual({ kind: 'wait', untilMs: 2000 });
    expect(onSuccess(probe.next)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    state = onFailure(probe.next, settings, 1000, 'still down');
    expect(state).toMatchObject({ state: 'open', intervalMs: 2000, nextProbeAt: 3000 });
  });

  it('caps the probe interval', () => {
    const probing = { state: 'probing' as const, consecutiveFailures: 9, intervalMs: MAX_PROBE_INTERVAL_MS, nextProbeAt: 0, revision: 1 };
    expect(onFailure(probing, settings, 0, 'x').intervalMs).toBe(MAX_PROBE_INTERVAL_MS);
  });
});

describe('RateLimiter', () => {
  /** A limiter on fake time: `sleep` advances the clock, and every call's start time is kept. */
  const onFakeTime = (rate: number) => {
    const clock = { now: 0 };
    const limiter = new RateLimiter(
      rate,
      () => clock.now,
      async (ms) => {
        clock.now += ms;
      },
    );
    const starts: number[] = [];
    const call = async () => {
      await limiter.acquire();
      starts.push(clock.now);
    };
    return { clock, starts, call };
  };
  /** The most calls that started within any one-second window [t, t + 1000). */
  const busiestSecond = (starts: number[]) => Math.max(...starts.map((t) => starts.filter((s) => s >= t && s < t + 1000).length));

  it.each([
    [50, 200],
    [2, 9],
    [12.5, 60],
  ])('sends at most %s calls in any one-second window, the first included (%i calls)', async (rate, calls) => {
    const { starts, call } = onFakeTime(rate);

    for (let i = 0; i < calls; i++) await call();

    expect(busiestSecond(starts)).toBeLessThanOrEqual(rate);
    // ... and no fewer than the whole calls per second the rate allows: the limit is used, not undercut.
    expect(busiestSecond(starts)).toBe(Math.floor(rate));
  });

  it("lets the first second's calls go at once, and the next ones a second after them (50/s: 100 calls take 1 s, not 0.5 s)", async () => {
    const { clock, starts, call } = onFakeTime(50);

    for (let i = 0; i < 100; i++) await call();

    expect(starts.slice(0, 50)).toEqual(Array(50).fill(0));
    expect(starts.slice(50)).toEqual(Array(50).fill(1000));
    expect(clock.now).toBe(1000);
  });

  it('spaces calls of a rate below one per second', async () => {
    const { starts, call } = onFakeTime(0.5);

    for (let i = 0; i < 3; i++) await call();

    expect(starts).toEqual([0, 2000, 4000]);
  });

  it('serves concurrent callers in arrival order, within the rate', async () => {
    const { starts, call } = onFakeTime(5);

    await Promise.all(Array.from({ length: 12 }, () => call()));

    expect(starts).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 2000, 2000]);
  });

  it('refuses a rate that is not above zero', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
  });
});

describe('withResilience', () => {
  const failing = (errors: ConnectorError[]): Connector & { calls: number } => {
    const connector = {
      id: 'c',
      calls: 0,
      probe: async () => {
        connector.calls++;
        const error = errors.shift();
        if (error) throw error;
      },
    } as unknown as Connector & { calls: number };
    return connector;
  };

  it('retries a throttled call after the short Retry-After it was given', async () => {
    const raw = failing([new ConnectorError('throttled', 'slow down', { retryAfterMs: 1500 })]);
    const waits: number[] = [];
    await withResilience(raw, { sleep: async (ms) => void waits.push(ms) }).probe();
    expect(raw.calls).toBe(2);
    expect(waits).toEqual([1500]);
  });

  it('leaves long waits and permanent errors to the caller', async () => {
    const long = failing([new ConnectorError('throttled', 'later', { retryAfterMs: 60_000 })]);
    await expect(withResilience(long, { sleep: async () => undefined }).probe()).rejects.toMatchObject({ kind: 'throttled', retryAfterMs: 60_000 });
    const permanent = failing([new ConnectorError('permanent', 'no')]);
    await expect(withResilience(permanent, { sleep: async () => undefined }).probe()).rejects.toMatchObject({ kind: 'permanent' });
    expect(permanent.calls).toBe(1);
  });
});
