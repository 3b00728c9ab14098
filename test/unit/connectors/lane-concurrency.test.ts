import { describe, expect, it } from 'vitest';
import { containerShare, laneMaxConcurrency } from '../../../shared/connectors/resilience/lane-concurrency.ts';
import { RateLimiter } from '../../../shared/connectors/resilience/rate-limiter.ts';

describe('lane concurrency', () => {
  it.each([
    [undefined, 2],
    [50, 2],
    [200, 2],
    [250, 3],
    [10_000, 100],
  ])('a connector limited to %s requests/s runs at most %i containers', (rate, expected) => {
    expect(laneMaxConcurrency(rate)).toBe(expected);
  });

  it('gives each container a share so that all of them together stay within the rate: Cognito AdminCreateUser 50/s', async () => {
    const containers = laneMaxConcurrency();
    let now = 0;
    const limiter = new RateLimiter(
      containerShare(50, containers),
      () => now,
      async (ms) => {
        now += ms;
      },
    );

    // One container: 75 calls at its share of 25/s.
    for (let i = 0; i < 75; i++) await limiter.acquire();

    // 25 in each of three seconds: the lane's containers together make 2 x 25 = 50/s.
    expect(now).toBeGreaterThanOrEqual(2_000);
    expect(containers * containerShare(50, containers)).toBe(50);
  });
});
