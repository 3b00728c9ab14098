import type { RunRecord } from '#shared/sync/reconcile-run.ports.ts';

/** Items a run has classified so far: every situation counted. */
export const itemsOf = (run: RunRecord): number => Object.values(run.counters.situations).reduce((sum, n) => sum + (n ?? 0), 0);

const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
};

/**
 * One line of a run's progress: its state and phase, the items classified, the rate since the
 * watch began, and an ETA where the run knows its total (`expected`: the hub's and target's
 * size when the caller knows them; while applying, the plan's pages).
 */
export const progressLine = (run: RunRecord, watch: { startedAt: number; startItems: number; now: number; expected?: number }, width = 24): string => {
  const items = itemsOf(run);
  const seconds = Math.max(0.001, (watch.now - watch.startedAt) / 1000);
  const rate = (items - watch.startItems) / seconds;
  const [done, total] = run.phase === 'apply' ? [run.page, run.planPages] : [items, watch.expected];
  const fraction = total ? Math.min(1, done / Math.max(1, total)) : undefined;
  const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] `;
  const eta = fraction === undefined || run.phase === 'apply' || rate <= 0 ? '' : `  ETA ${duration(((total ?? 0) - done) / rate)}`;
  return `${run.runId} ${run.state}/${run.phase} ${bar}${items} items  ${rate.toFixed(1)}/s${eta}`;
};

/** The counters of a run in one line: `inSync 9980, drifted 20 | none 9980, update 20; groups: inSync 3 | none 3`. */
export const countersLine = (run: RunRecord): string => {
  const list = (counts: Record<string, number | undefined>) =>
    Object.entries(counts)
      .filter(([, n]) => n)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ') || '-';
  const { groups, memberships } = run.counters;
  const part = (label: string, counts: typeof groups) => (counts ? `; ${label}: ${list(counts.situations)} | ${list(counts.actions)}` : '');
  return `${list(run.counters.situations)} | ${list(run.counters.actions)}${part('groups', groups)}${part('members', memberships)}`;
};
