import { describe, expect, it } from 'vitest';
import { countersLine, progressLine } from '../../../infra/cli/run-progress.ts';
import type { RunRecord } from '../../../shared/sync/reconcile-run.ports.ts';

const run = (extra: Partial<RunRecord> = {}): RunRecord => ({
  runId: 'run-1',
  connectorId: 'acme',
  state: 'planning',
  trigger: 'on-demand',
  dryRun: false,
  phase: 'target',
  page: 3,
  planPages: 0,
  targetAccounts: 300,
  counters: { situations: { inSync: 290, drifted: 10 }, actions: { none: 290, update: 10 } },
  created: '2026-03-01T00:00:00.000Z',
  updated: '2026-03-01T00:00:10.000Z',
  ...extra,
});

describe('the run progress line', () => {
  it('shows items, the rate since the watch began and, with a known total, a bar and an ETA', () => {
    expect(progressLine(run(), { startedAt: 0, startItems: 100, now: 10_000, expected: 1_000 }, 10)).toBe(
      'run-1 planning/target [###.......] 300 items  20.0/s  ETA 35s',
    );
  });

  it('shows no bar nor ETA without a total, and the plan pages sent while applying', () => {
    expect(progressLine(run(), { startedAt: 0, startItems: 0, now: 10_000 }, 10)).toBe('run-1 planning/target 300 items  30.0/s');
    expect(progressLine(run({ state: 'applying', phase: 'apply', page: 1, planPages: 4 }), { startedAt: 0, startItems: 300, now: 1_000 }, 8)).toBe(
      'run-1 applying/apply [##......] 300 items  0.0/s',
    );
  });

  it('sums up the counters per situation and per action', () => {
    expect(countersLine(run())).toBe('inSync 290, drifted 10 | none 290, update 10');
  });

  it('adds the groups and their members when the run compared them', () => {
    const counters = {
      situations: { inSync: 2 },
      actions: { none: 2 },
      groups: { situations: { drifted: 1 }, actions: { rename: 1 } },
      memberships: { situations: { drifted: 2 }, actions: { add: 1, remove: 1 } },
    };
    expect(countersLine(run({ counters }))).toBe('inSync 2 | none 2; groups: drifted 1 | rename 1; members: drifted 2 | add 1, remove 1');
  });
});
