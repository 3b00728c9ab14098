/**
 * The org's rolling 24-hour API allocation as the connector last saw it, and the decision to
 * pause before it runs out. Salesforce publishes no per-second limit and never answers 429: the
 * allocation is shared by every integration of the org, and exhausting it stops them all. So
 * the connector stops itself when the reserve is reached, and looks again (`GET /limits`) at
 * its own pace until usage has fallen below the threshold.
 */
export interface AllocationReading {
  used: number;
  limit: number;
}

/** `Sforce-Limit-Info: api-usage=10018/100000` (REST API Developer Guide, "Limit Info Header"). */
export const parseLimitInfo = (header: string | null | undefined): AllocationReading | undefined => {
  const match = /api-usage=(\d+)\/(\d+)/.exec(header ?? '');
  if (!match) return undefined;
  const used = Number(match[1]);
  const limit = Number(match[2]);
  return limit > 0 ? { used, limit } : undefined;
};

export type AllocationState = { kind: 'open' } | { kind: 'paused'; reason: string; recheckAt: number } | { kind: 'recheck'; reason: string };

export class ApiAllocation {
  private reading: AllocationReading | undefined;
  private pausedUntil: number | undefined;
  private reason = '';

  constructor(
    /** The share of the limit left to others, in percent. */
    private readonly reservePercent: number,
    private readonly recheckMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The highest usage the connector lets itself reach. */
  threshold(limit: number): number {
    return Math.floor(limit * (1 - this.reservePercent / 100));
  }

  get last(): AllocationReading | undefined {
    return this.reading;
  }

  /** Takes a reading from a response; pauses when it reaches the threshold, resumes when it is below. */
  observe(reading: AllocationReading | undefined): void {
    if (!reading) return;
    this.reading = reading;
    if (reading.used >= this.threshold(reading.limit)) {
      this.pause(`the org's daily API allocation is ${reading.used}/${reading.limit} used, and ${this.reservePercent}% is kept in reserve`);
    } else {
      this.pausedUntil = undefined;
    }
  }

  /** Salesforce refused a call (REQUEST_LIMIT_EXCEEDED): pause at once, whatever the last reading said. */
  pause(reason: string): void {
    this.reason = reason;
    this.pausedUntil = this.now() + this.recheckMs;
  }

  /** May a call go out? `recheck`: the pause is over, read /limits before anything else. */
  state(): AllocationState {
    if (this.pausedUntil === undefined) return { kind: 'open' };
    if (this.now() < this.pausedUntil) return { kind: 'paused', reason: this.reason, recheckAt: this.pausedUntil };
    return { kind: 'recheck', reason: this.reason };
  }

  get recheckIntervalMs(): number {
    return this.recheckMs;
  }
}
