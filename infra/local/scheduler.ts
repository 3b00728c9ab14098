import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { ScheduleTrigger } from '#shared/topology/topology.types.ts';
import type { LocalFunction } from './lambda-runtime.ts';
import { parseScheduleExpression, type Schedule } from './schedule-expression.ts';

/** Invokes a function on its EventBridge schedule with the event EventBridge sends. */
export class LocalScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly schedule: Schedule;
  private stopped = false;
  fired = 0;

  constructor(
    private readonly trigger: ScheduleTrigger,
    private readonly fn: LocalFunction,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.schedule = parseScheduleExpression(trigger.expression);
  }

  start(): void {
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    const now = this.clock();
    const next = this.schedule.next(now);
    // Node timers cap at about 24.8 days; re-arm in steps for schedules further out.
    const delay = Math.min(next.getTime() - now.getTime(), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (this.clock().getTime() + 5 < next.getTime()) return this.arm();
      this.fire(next)
        .catch((error: unknown) => console.error(`scheduled ${this.fn.spec.name} failed:`, error))
        .finally(() => this.arm());
    }, delay);
  }

  private async fire(time: Date): Promise<void> {
    this.fired++;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'us-east-1',
      resources: [`arn:aws:events:us-east-1:000000000000:rule/${this.fn.spec.name}`],
      detail: this.trigger.detail ?? {},
    };
    await this.fn.invoke(event);
  }
}
