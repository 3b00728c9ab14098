/** Small formatting helpers shared by the pages. */

export const timeOf = (iso: string | number | undefined): string =>
  iso === undefined ? '-' : new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const percent = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 2 : 1)} %`;

/** A latency quantile: `-` when nothing was measured, `> 5 min` beyond the histogram's last bound. */
export const latency = (ms: number | null, measured: number): string => {
  if (measured === 0) return '-';
  if (ms === null) return '> 5 min';
  return ms < 1000 ? `≤ ${ms} ms` : `≤ ${ms / 1000} s`;
};
