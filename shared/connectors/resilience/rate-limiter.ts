/**
 * At most `ratePerSecond` calls in any one-second window, counted from when each call went out
 * (a sliding window log). Vendors publish their limits per second (Cognito AdminCreateUser 50/s)
 * and enforce them over windows, so a token bucket that starts full and refills while it drains
 * would send up to twice the rate in the first second and be throttled for it.
 *
 * A rate of one or more allows `floor(ratePerSecond)` calls per second: 12.5/s (a container's
 * half of 25/s) sends 12. A rate below one allows one call per `1 / ratePerSecond` seconds.
 * One per connector operation per container; callers wait for their turn rather than being
 * refused, in arrival order, so a connector's throughput is bounded by the target's published
 * limit and not by errors.
 */
export class RateLimiter {
  /** Calls allowed per window. */
  readonly perWindow: number;
  readonly windowMs: number;
  /** When the last `perWindow` calls went out, oldest first. */
  private readonly sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`a rate limit must be above 0 calls per second, not ${ratePerSecond}`);
    this.perWindow = Math.max(1, Math.floor(ratePerSecond));
    this.windowMs = Math.max(1000, Math.ceil((1000 * this.perWindow) / ratePerSecond));
  }

  /** Resolves when a call may go out. Calls are served in arrival order. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      const oldest = this.sent[0];
      if (this.sent.length < this.perWindow || (oldest !== undefined && now - oldest >= this.windowMs)) {
        if (this.sent.length >= this.perWindow) this.sent.shift();
        this.sent.push(now);
        return;
      }
      await this.sleep((oldest as number) + this.windowMs - now);
    }
  }
}
