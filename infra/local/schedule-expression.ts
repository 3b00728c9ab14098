/**
 * EventBridge schedule expressions, so the local scheduler fires when EventBridge would.
 * `rate(value unit)` and `cron(minutes hours day-of-month month day-of-week year)` in UTC, with
 * `*`, `?`, ranges, lists, steps and month/day names. `L`, `W` and `#` are rejected with a clear
 * error rather than approximated.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
export interface Schedule {
  /** The first fire time strictly after `after`. */
  next(after: Date): Date;
}

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export const parseScheduleExpression = (expression: string): Schedule => {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = (rate[2] ?? '').replace(/s$/, '');
    if (value < 1) throw new Error(`invalid schedule ${expression}: the rate must be positive`);
    if ((value === 1) !== !rate[2]?.endsWith('s')) throw new Error(`invalid schedule ${expression}: use "1 ${unit}" or "N ${unit}s"`);
    const period = value * (RATE_UNITS[unit] ?? 0);
    return { next: (after) => new Date(after.getTime() + period) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron?.[1]) return parseCron(cron[1], expression);
  throw new Error(`invalid schedule ${expression}: expected rate(...) or cron(...)`);
};

const parseCron = (body: string, expression: string): Schedule => {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`invalid schedule ${expression}: cron needs 6 fields`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new Error(`invalid schedule ${expression}: exactly one of day-of-month and day-of-week must be "?"`);
  }
  const sets = {
    minutes: parseField(minutes, 0, 59, [], expression),
    hours: parseField(hours, 0, 23, [], expression),
    dayOfMonth: parseField(dayOfMonth, 1, 31, [], expression),
    month: parseField(month, 1, 12, MONTHS, expression),
    // EventBridge numbers days 1 (SUN) to 7 (SAT).
    dayOfWeek: parseField(dayOfWeek, 1, 7, DAYS, expression),
    year: parseField(year, 1970, 2199, [], expression),
  };
  return {
    next: (after) => {
      const candidate = new Date(after.getTime());
      candidate.setUTCSeconds(0, 0);
      candidate.setUTCMinutes(candidate.getUTCMinutes() + 1);
      // Walk forward minute by minute, skipping whole hours and days that cannot match;
      // bounded so an expression that never fires (a past year) fails instead of spinning.
      for (let steps = 0; steps < 1_000_000; steps++) {
        if (!sets.year.has(candidate.getUTCFullYear()) || !sets.month.has(candidate.getUTCMonth() + 1)) {
          candidate.setUTCMonth(candidate.getUTCMonth() + 1, 1);
          candidate.setUTCHours(0, 0);
          continue;
        }
        if (!sets.dayOfMonth.has(candidate.getUTCDate()) || !sets.dayOfWeek.has(candidate.getUTCDay() + 1)) {
          candidate.setUTCDate(candidate.getUTCDate() + 1);
          candidate.setUTCHours(0, 0);
          continue;
        }
        if (!sets.hours.has(candidate.getUTCHours())) {
          candidate.setUTCHours(candidate.getUTCHours() + 1, 0);
          continue;
        }
        if (!sets.minutes.has(candidate.getUTCMinutes())) {
          candidate.setUTCMinutes(candidate.getUTCMinutes() + 1);
          continue;
        }
        return candidate;
      }
      throw new Error(`schedule ${expression} never fires after ${after.toISOString()}`);
    },
  };
};

const parseField = (field: string, min: number, max: number, names: string[], expression: string): Set<number> => {
  const values = new Set<number>();
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    const number = named >= 0 ? named + 1 : Number(text);
    if (!Number.isInteger(number) || number < min || number > max) throw new Error(`invalid schedule ${expression}: "${text}" is out of range`);
    return number;
  };
  for (const part of field.split(',')) {
    if (/[LW#]/.test(part) && !names.some((name) => part.toUpperCase().includes(name))) {
      throw new Error(`invalid schedule ${expression}: L, W and # are not supported by the local scheduler`);
    }
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`invalid schedule ${expression}: bad step in "${part}"`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [start = '', end = ''] = range.split('-');
      from = value(start);
      to = value(end);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
};
