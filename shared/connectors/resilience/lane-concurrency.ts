/**
 * Rate limits across Lambda containers. Each worker container keeps its own token buckets, so
 * a lane with N containers would send N times the connector's rate. Rather than share one
 * bucket through the table (a conditional write per request, itself throttled under load),
 * the lane's SQS event source mapping caps its containers (`ScalingConfig.MaximumConcurrency`,
 * at least 2, the SQS minimum) and every container takes an equal share of each rate: the sum
 * stays within the target's limit whatever Lambda scales to.
 *
 * The count comes from the connector's rate: one container sustains about
 * CONTAINER_REQUESTS_PER_SECOND (ten FIFO groups of a batch in parallel, about 100 ms per target
 * call), so more containers only help above that. The stack is synthesised without the
 * connectors document (it lives in SSM and changes without a deployment), so lanes are deployed
 * with `laneMaxConcurrency()` = 2; the worker divides by `laneMaxConcurrency(rate)`, which is
 * never less, so a lane never exceeds its rate (a configured rate above 200/s is under-used
 * until the stack is given that rate).
 *
 * The initial load of 10 000 users into a Cognito pool, under Cognito's quotas per account and
 * Region: AdminCreateUser (UserCreation) 50/s, so 10 000 / 50 = 200 s at best; the lookup before
 * each create (AdminGetUser, metered at the ListUsers rate of 30/s to stay safe for either) takes
 * 10 000 / 30 = 334 s; a group membership per user is one AdminAddUserToGroup at the UserUpdate
 * 25/s: 10 000 / 25 = 400 s. With 2 containers each holds 25 creates, 15 lookups and 12
 * membership calls in any one second (the rate limiter counts whole calls per window); the
 * operations run side by side, so the load is bounded by the slowest quota in use: about 5.6
 * minutes for the users alone, 7 minutes with one group each, never throttled by Cognito.
 */

/** The SQS event source mapping's smallest MaximumConcurrency. */
export const MIN_LANE_CONCURRENCY = 2;
/** SQS event source mappings accept at most 1000. */
export const MAX_LANE_CONCURRENCY = 1000;
/** Requests per second one worker container sustains on its own. */
export const CONTAINER_REQUESTS_PER_SECOND = 100;

/** The containers a lane may run for a connector limited to `requestsPerSecond` (unknown: the minimum). */
export const laneMaxConcurrency = (requestsPerSecond?: number): number =>
  Math.min(MAX_LANE_CONCURRENCY, Math.max(MIN_LANE_CONCURRENCY, Math.ceil((requestsPerSecond ?? 0) / CONTAINER_REQUESTS_PER_SECOND)));

/** One container's share of a rate, when `containers` run side by side. */
export const containerShare = (requestsPerSecond: number, containers: number): number => requestsPerSecond / containers;
