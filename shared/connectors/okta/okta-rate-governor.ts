/**
 * Okta's rate limits as Okta reports them. Okta meters each org per endpoint family and per
 * minute ("Management rate limits", https://developer.okta.com/docs/reference/rl-global-mgmt/)
 * and tells every client where it stands on every response: `X-Rate-Limit-Limit`,
 * `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (UTC epoch seconds). Over a limit it answers
 * 429 E0000047 with no `Retry-After` ("Rate limit best practices",
 * https://developer.okta.com/docs/reference/rl-best-practices/).
 *
 * The governor keeps the last report per bucket and holds a request back while the bucket's
 * remaining allowance is down to its reserve, until the bucket resets: the org-wide counters
 * include every other client and every other worker container, so the connector slows down
 * before a 429 rather than after one. It also caps the requests in flight, since Okta refuses
 * the first request over 75 concurrent ones per org.
 */

import { ConnectorError } from '../connector.errors.ts';

/** Okta's rate-limit families, one per row of the management rate limits page. */
export type OktaBucket = 'users' | 'user' | 'groups' | 'group' | 'other';

/**
 * The bucket a request counts against: `GET`/`POST /api/v1/users` (create or list users),
 * `POST`/`PUT`/`DELETE /api/v1/users/{id}` (update or delete a user by id), `/api/v1/groups`
 * (create or list groups), `/api/v1/groups/{id}` only (get, update or delete a group), and the
 * catch-all "most other API actions" (a user by id with GET, memberships, lifecycle calls).
 */
export const oktaBucketOf = (method: string, path: string): OktaBucket => {
  const segments = path.split('?')[0]?.replace(/\/+$/, '').split('/').slice(1) ?? [];
  const [api, version, collection, id, ...rest] = segments;
  if (api !== 'api' || version !== 'v1' || rest.length > 0) return 'other';
  if (collection === 'users') {
    if (id === undefined) return 'users';
    return method.toUpperCase() === 'GET' ? 'other' : 'user';
  }
  if (collection === 'groups') return id === undefined ? 'groups' : 'group';
  return 'other';
};

/** Where a bucket stood at its last report, on our clock. */
export interface BucketReport {
  limit: number;
  remaining: number;
  /** When the bucket resets, epoch ms on our clock. */
  resetAt: number;
}

export interface RateGovernorOptions {
  /** Requests in flight at once (the concurrent limit's share of this client). */
  maxConcurrent: number;
  /**
   * The share of each bucket's limit left to other clients and containers: the governor waits
   * for the reset once `remaining` is down to it. Default 10%, at least one request.
   */
  reserveFraction?: number;
  /**
   * The longest wait for a reset spent here; a longer one (Okta's windows are a minute) fails
   * the request as `throttled` with that wait, before it is sent, and the worker leaves the
   * change on its queue for that long instead of holding a Lambda. Default 2 s, as the shared
   * resilience layer's inline waits.
   */
  maxWaitMs?: number;
  /** Names the connector in messages. */
  label?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Headers as fetch's `Headers` exposes them. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** Clock differences under this are the `Date` header's one-second precision, not skew. */
const SKEW_TOLERANCE_MS = 2_000;

export class OktaRateGovernor {
  private readonly buckets = new Map<OktaBucket, BucketReport>();
  private readonly waiting: Array<() => void> = [];
  private inFlight = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly reserveFraction: number;
  private readonly maxWaitMs: number;
  /** Requests held back until a reset, since this governor was made (the benchmark reports it). */
  heldBack = 0;

  constructor(private readonly options: RateGovernorOptions) {
    if (!(options.maxConcurrent >= 1)) throw new RangeError(`at least one request must be allowed in flight, not ${options.maxConcurrent}`);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.reserveFraction = options.reserveFraction ?? 0.1;
    this.maxWaitMs = options.maxWaitMs ?? 2_000;
  }

  /** The last report of a bucket, if it has not reset since. */
  report(bucket: OktaBucket): BucketReport | undefined {
    const report = this.buckets.get(bucket);
    return report && this.now() < report.resetAt ? report : undefined;
  }

  /**
   * Waits until the bucket has allowance beyond its reserve and a slot is free, then counts the
   * request against both. Call `release` when its answer has arrived.
   */
  async acquire(bucket: OktaBucket): Promise<void> {
    for (;;) {
      const report = this.report(bucket);
      if (!report || report.remaining > this.reserveOf(report)) {
        if (report) report.remaining--;
        break;
      }
      this.heldBack++;
      const wait = Math.max(1, report.resetAt - this.now());
      if (wait > this.maxWaitMs) {
        throw new ConnectorError(
          'throttled',
          `${this.options.label ?? 'okta'}: Okta's ${bucket} rate limit is down to its reserve (${report.remaining} of ${report.limit} left) until it resets in ${Math.ceil(wait / 1000)} s`,
          { retryAfterMs: wait },
        );
      }
      await this.sleep(wait);
    }
    if (this.inFlight < this.options.maxConcurrent) {
      this.inFlight++;
      return;
    }
    // The slot is handed over by `release`, so the count never exceeds the cap.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /**
   * Takes in what a response says about its bucket. Reports of one window can arrive out of
   * order (requests run side by side), so within a window the lowest `remaining` wins. A 429
   * empties the bucket until its reset, so every caller of this container waits for it.
   * Returns the milliseconds until the bucket resets, when the response said.
   */
  observe(bucket: OktaBucket, headers: HeaderSource, status: number): number | undefined {
    const limit = Number(headers.get('x-rate-limit-limit'));
    const remaining = Number(headers.get('x-rate-limit-remaining'));
    const reset = Number(headers.get('x-rate-limit-reset'));
    if (!headers.get('x-rate-limit-reset') || !Number.isFinite(reset)) return undefined;
    const now = this.now();
    const resetAt = reset * 1000 + this.skewOf(headers, now);
    const known = this.buckets.get(bucket);
    const left = status === 429 ? 0 : Number.isFinite(remaining) ? remaining : 0;
    if (known && known.resetAt === resetAt) known.remaining = Math.min(known.remaining, left);
    else if (!known || resetAt > known.resetAt || now >= known.resetAt)
      this.buckets.set(bucket, { limit: Number.isFinite(limit) && limit > 0 ? limit : left, remaining: left, resetAt });
    return Math.max(0, resetAt - now);
  }

  private reserveOf(report: BucketReport): number {
    return Math.max(1, Math.ceil(report.limit * this.reserveFraction));
  }

  /** Our clock minus Okta's, from the response's `Date` header, so a reset time means the same instant to both. */
  private skewOf(headers: HeaderSource, now: number): number {
    const date = Date.parse(headers.get('date') ?? '');
    if (Number.isNaN(date)) return 0;
    const skew = now - date;
    // Whole seconds, as both headers count: reports of one window then name the same reset.
    return Math.abs(skew) < SKEW_TOLERANCE_MS ? 0 : Math.round(skew / 1000) * 1000;
  }
}
