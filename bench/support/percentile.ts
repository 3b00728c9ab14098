/** The nearest-rank percentile `p` (0 to 100) of the values; throws on none. */
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  if (value === undefined) throw new Error('no values to take a percentile of');
  return value;
};
