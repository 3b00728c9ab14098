/**
 * Time-bucketed operation counters: per connector and hour, how many operations of each status
 * and action the audit trail holds, and a histogram of their propagation latency. Charts and
 * percentiles read these, so they cost one item per hour (and shard) whatever the volume. Pure.
 */

/** Upper bounds (ms) of the latency histogram's buckets; the last one takes everything above. */
export const LATENCY_BOUNDS_MS = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, Number.POSITIVE_INFINITY] as const;

/** The histogram bucket of a latency: the first whose bound it does not exceed. */
export const latencyBucketOf = (ms: number): number => LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);

export interface OperationCounts {
  /** The hour bucket: `2026-11-29T21`. */
  hour: string;
  total: number;
  byStatus: Record<string, number>;
  byAction: Record<string, number>;
  /** Counts per LATENCY_BOUNDS_MS bucket, of the operations that carried a latency. */
  latency: number[];
}

export const emptyCounts = (hour: string): OperationCounts => ({
  hour,
  total: 0,
  byStatus: {},
  byAction: {},
  latency: LATENCY_BOUNDS_MS.map(() => 0),
});

const addInto = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [name, count] of Object.entries(from)) into[name] = (into[name] ?? 0) + count;
};

/** The sum of counts (shards of one hour, or hours of a range), under the given hour label. */
export const sumCounts = (hour: string, counts: OperationCounts[]): OperationCounts => {
  const sum = emptyCounts(hour);
  for (const c of counts) {
    sum.total += c.total;
    addInto(sum.byStatus, c.byStatus);
    addInto(sum.byAction, c.byAction);
    c.latency.forEach((n, i) => {
      sum.latency[i] = (sum.latency[i] ?? 0) + n;
    });
  }
  return sum;
};

/**
 * The q-quantile (0.5, 0.99) of a latency histogram, as the upper bound of the bucket that
 * holds it: an estimate no lower than the truth, to the histogram's resolution. undefined when
 * nothing was measured; Infinity when it lies beyond the last finite bound.
 */
export const latencyQuantile = (latency: number[], q: number): number | undefined => {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const [i, n] of latency.entries()) {
    seen += n;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i];
  }
  return Number.POSITIVE_INFINITY;
};

/** Statuses that count as errors in an error rate. */
export const ERROR_STATUSES = ['failed', 'dead-lettered'] as const;

/** Errors over all operations, 0 when there were none. */
export const errorRateOf = (counts: OperationCounts): number =>
  counts.total === 0 ? 0 : ERROR_STATUSES.reduce((sum, status) => sum + (counts.byStatus[status] ?? 0), 0) / counts.total;

/** Every hour bucket from `from` to `to` (ISO times), oldest first. */
export const hoursBetween = (from: string, to: string): string[] => {
  const hours: string[] = [];
  const end = Date.parse(to);
  for (let t = Math.floor(Date.parse(from) / 3_600_000) * 3_600_000; t <= end; t += 3_600_000) hours.push(new Date(t).toISOString().slice(0, 13));
  return hours;
};
