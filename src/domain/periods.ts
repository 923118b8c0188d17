/**
 * Periods and windows of spend, as half-open intervals [from, until) of epoch milliseconds.
 * Resets are never events: the period containing a moment is computed from the clock, so a reset
 * happens exactly at its boundary and cannot run twice.
 */
export interface Window {
  readonly from: number;
  /** Exclusive; FOREVER for a lifetime limit. */
  readonly until: number;
}

export const FOREVER = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

export type LimitPeriod = 'lifetime' | 'day' | 'week' | 'month';
export const LIMIT_PERIODS: readonly LimitPeriod[] = ['lifetime', 'day', 'week', 'month'];

function startOfUtcDay(at: number): number {
  return at - (((at % DAY_MS) + DAY_MS) % DAY_MS);
}

/** A key's limit period: calendar periods in UTC (weeks start on Monday), or the key's whole life. */
export function calendarWindow(period: LimitPeriod, now: number): Window {
  if (period === 'lifetime') return { from: 0, until: FOREVER };
  const day = startOfUtcDay(now);
  if (period === 'day') return { from: day, until: day + DAY_MS };
  if (period === 'week') {
    // getUTCDay(): Sunday is 0; Monday-based weeks count Sunday as the seventh day.
    const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
    const from = day - sinceMonday * DAY_MS;
    return { from, until: from + 7 * DAY_MS };
  }
  const date = new Date(now);
  return {
    from: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    until: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/**
 * The n-th monthly period of a subscription: it starts on the anchor's day of the month at 00:00
 * UTC, or on the month's last day when the month is shorter (a subscription started on the 31st
 * renews on 28 or 29 February, then on 31 March again).
 */
function periodStart(anchorYear: number, anchorMonth: number, anchorDay: number, n: number): number {
  const year = anchorYear + Math.floor((anchorMonth + n) / 12);
  const month = (((anchorMonth + n) % 12) + 12) % 12;
  return Date.UTC(year, month, Math.min(anchorDay, daysInMonth(year, month)));
}

/** The monthly subscription period containing `now`, anchored to the day the subscription started. */
export function subscriptionWindow(startedAt: number, now: number): Window {
  const anchor = new Date(startedAt);
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth();
  const day = anchor.getUTCDate();
  const current = new Date(now);
  let n = Math.max(0, (current.getUTCFullYear() - year) * 12 + (current.getUTCMonth() - month));
  while (n > 0 && periodStart(year, month, day, n) > now) n--;
  while (periodStart(year, month, day, n + 1) <= now) n++;
  return { from: periodStart(year, month, day, n), until: periodStart(year, month, day, n + 1) };
}
