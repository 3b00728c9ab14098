/**
 * Exponential backoff with full jitter (a random wait between 0 and the exponential cap), so
 * retries from many workers do not arrive in waves.
 */
export const backoffMs = (attempt: number, options: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number => {
  const base = options.baseMs ?? 1_000;
  const max = options.maxMs ?? 300_000;
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round((options.random ?? Math.random)() * cap);
};
