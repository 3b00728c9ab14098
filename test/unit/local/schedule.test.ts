import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalFunction } from '../../../infra/local/lambda-runtime.ts';
import { parseScheduleExpression } from '../../../infra/local/schedule-expression.ts';
import { LocalScheduler } from '../../../infra/local/scheduler.ts';
import { connectorScheduleTriggers, reconcileSchedulesOf } from '../../../shared/topology/connector-schedules.ts';

const at = (iso: string) => new Date(iso);

describe('parseScheduleExpression', () => {
  it.each([
    ['rate(5 minutes)', '2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'],
    ['rate(1 hour)', '2026-01-01T00:30:00Z', '2026-01-01T01:30:00Z'],
    ['rate(2 days)', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'],
    ['cron(0 2 * * ? *)', '2026-01-01T03:00:00Z', '2026-01-02T02:00:00Z'],
    ['cron(15,45 * * * ? *)', '2026-01-01T00:16:00Z', '2026-01-01T00:45:00Z'],
    ['cron(0/20 9-10 ? * MON-FRI *)', '2026-01-02T10:50:00Z', '2026-01-05T09:00:00Z'],
    ['cron(0 0 1 JAN ? 2027)', '2026-06-01T00:00:00Z', '2027-01-01T00:00:00Z'],
  ])('%s after %s fires at %s', (expression, after, next) => {
    expect(parseScheduleExpression(expression).next(at(after)).toISOString()).toBe(at(next).toISOString());
  });

  it.each([
    ['rate(0 minutes)', /positive/],
    ['rate(1 minutes)', /1 minute/],
    ['rate(5 weeks)', /expected rate/],
    ['cron(0 2 * * *)', /6 fields/],
    ['cron(0 2 * * MON *)', /exactly one/],
    ['cron(0 25 * * ? *)', /out of range/],
    ['cron(0 2 L * ? *)', /not supported/],
  ])('refuses %s', (expression, message) => {
    expect(() => parseScheduleExpression(expression)).toThrowError(message);
  });
});

describe('LocalScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires on its expression with the event EventBridge sends', async () => {
    vi.useFakeTimers({ now: at('2026-01-01T00:00:30Z') });
    const events: unknown[] = [];
    const fn = { spec: { name: 'reconcile' }, invoke: async (event: unknown) => void events.push(event) } as unknown as LocalFunction;
    const scheduler = new LocalScheduler({ kind: 'schedule', expression: 'cron(* * * * ? *)', detail: { full: true } }, fn);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000);
    await vi.advanceTimersByTimeAsync(60_000);
    scheduler.stop();
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-01-01T00:01:00Z',
      detail: { full: true },
      resources: ['arn:aws:events:us-east-1:000000000000:rule/reconcile'],
    });
  });

  it("fires each connector's reconciliation schedule with the connector in the detail", async () => {
    // Prepare: the schedules of a connectors document, as npm start reads them.
    vi.useFakeTimers({ now: at('2026-01-01T01:59:00Z') });
    const schedules = reconcileSchedulesOf([
      { id: 'acme', enabled: true, reconcile: { schedule: 'cron(0 2 * * ? *)' } },
      { id: 'okta', enabled: true, reconcile: { schedule: 'rate(30 minutes)' } },
      { id: 'off', enabled: false, reconcile: { schedule: 'rate(1 minute)' } },
      { id: 'none', enabled: true },
    ]);
    const events: Array<{ detail: unknown }> = [];
    const fn = { spec: { name: 'reconcile' }, invoke: async (event: { detail: unknown }) => void events.push(event) } as unknown as LocalFunction;
    const schedulers = connectorScheduleTriggers(schedules).map((trigger) => new LocalScheduler(trigger, fn));
    // Act
    for (const scheduler of schedulers) scheduler.start();
    await vi.advanceTimersByTimeAsync(31 * 60_000);
    for (const scheduler of schedulers) scheduler.stop();
    // Assess: okta at 02:29, acme at 02:00.
    expect(events.map((e) => e.detail)).toEqual([{ connectorId: 'acme' }, { connectorId: 'okta' }]);
  });
});
