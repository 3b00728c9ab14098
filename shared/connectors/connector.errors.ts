import { AppError } from '../errors.ts';

/**
 * How a target's failure is handled: `retryable` and `throttled` are retried with backoff
 * (throttled honours the target's Retry-After), `conflict` and `notFound` are resolved by the
 * planner (match again, or re-create), `unauthorized` (the target refused our credentials after
 * one refresh of the secret) is the connector's fault, not the message's: it counts toward the
 * circuit breaker and never dead-letters a message; `permanent` fails the operation at once.
 */
export type FailureKind = 'retryable' | 'throttled' | 'conflict' | 'notFound' | 'unauthorized' | 'permanent';

export class ConnectorError extends AppError {
  readonly kind: FailureKind;
  /** Milliseconds the target asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  /** The SCIM error's `scimType` (RFC 7644 section 3.12), when the target sent one. */
  readonly scimType: string | undefined;

  constructor(kind: FailureKind, message: string, options: { cause?: unknown; retryAfterMs?: number; status?: number; scimType?: string } = {}) {
    super(`connector.${kind}`, message, { cause: options.cause, retryable: kind === 'retryable' || kind === 'throttled' });
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.scimType = options.scimType;
  }
}

/**
 * A source refused a round's link to its changes (expired or invalid: the source forgot the
 * round's state). Nothing is lost: the caller reads everything again in a full round.
 */
export class ChangesExpiredError extends ConnectorError {
  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super('permanent', message, options);
  }
}

/** The classification of an HTTP answer, shared by every HTTP-based connector. */
export const kindOfStatus = (status: number): FailureKind => {
  if (status === 429) return 'throttled';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 408 || status >= 500) return 'retryable';
  return 'permanent';
};

/** Retry-After as seconds or an HTTP date (RFC 9110 section 10.2.3), in milliseconds. */
export const parseRetryAfter = (value: string | null | undefined, now = Date.now()): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};
