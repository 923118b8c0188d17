import { describe, expect, it } from 'vitest';
import { calendarWindow, FOREVER, subscriptionWindow } from './periods.js';

const at = (iso: string): number => Date.parse(iso);
const window = (from: string, until: string) => ({ from: at(from), until: at(until) });

/** A small deterministic generator, so that the property check below is reproducible. */
function seeded(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

function lastDayOf(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

describe('subscriptionWindow', () => {
  const started = at('2026-01-15T14:00:00Z');

  it('starts the first period at midnight UTC of the day the subscription started', () => {
    expect(subscriptionWindow(started, started)).toEqual(
      window('2026-01-15T00:00:00Z', '2026-02-15T00:00:00Z'),
    );
    expect(subscriptionWindow(started, at('2026-01-31T23:59:59Z'))).toEqual(
      window('2026-01-15T00:00:00Z', '2026-02-15T00:00:00Z'),
    );
  });

  it('keeps the last millisecond before the renewal in the old period', () => {
    expect(subscriptionWindow(started, at('2026-02-15T00:00:00Z') - 1)).toEqual(
      window('2026-01-15T00:00:00Z', '2026-02-15T00:00:00Z'),
    );
  });

  it('puts the moment exactly at the renewal in the new period', () => {
    expect(subscriptionWindow(started, at('2026-02-15T00:00:00Z'))).toEqual(
      window('2026-02-15T00:00:00Z', '2026-03-15T00:00:00Z'),
    );
  });

  it('uses the previous month’s renewal when this month’s renewal day is still ahead', () => {
    expect(subscriptionWindow(started, at('2026-03-10T12:00:00Z'))).toEqual(
      window('2026-02-15T00:00:00Z', '2026-03-15T00:00:00Z'),
    );
  });

  it('renews a subscription started on the 31st on the last day of February, then on 31 March', () => {
    const on31st = at('2026-01-31T09:30:00Z');
    expect(subscriptionWindow(on31st, at('2026-02-10T00:00:00Z'))).toEqual(
      window('2026-01-31T00:00:00Z', '2026-02-28T00:00:00Z'),
    );
    expect(subscriptionWindow(on31st, at('2026-02-28T00:00:00Z'))).toEqual(
      window('2026-02-28T00:00:00Z', '2026-03-31T00:00:00Z'),
    );
    expect(subscriptionWindow(on31st, at('2026-03-30T23:59:59Z'))).toEqual(
      window('2026-02-28T00:00:00Z', '2026-03-31T00:00:00Z'),
    );
    expect(subscriptionWindow(on31st, at('2026-03-31T00:00:00Z'))).toEqual(
      window('2026-03-31T00:00:00Z', '2026-04-30T00:00:00Z'),
    );
    expect(subscriptionWindow(on31st, at('2026-05-01T00:00:00Z'))).toEqual(
      window('2026-04-30T00:00:00Z', '2026-05-31T00:00:00Z'),
    );
  });

  it('renews on 29 February in a leap year', () => {
    const on31st = at('2028-01-31T18:00:00Z');
    expect(subscriptionWindow(on31st, at('2028-02-15T00:00:00Z'))).toEqual(
      window('2028-01-31T00:00:00Z', '2028-02-29T00:00:00Z'),
    );
    expect(subscriptionWindow(on31st, at('2028-02-29T00:00:00Z'))).toEqual(
      window('2028-02-29T00:00:00Z', '2028-03-31T00:00:00Z'),
    );
  });

  it('does not let a short month drag the renewal day down for good', () => {
    const on30th = at('2026-01-30T00:00:00Z');
    // February has no 30th; March does, so the anchor is the 30th again.
    expect(subscriptionWindow(on30th, at('2026-03-15T00:00:00Z'))).toEqual(
      window('2026-02-28T00:00:00Z', '2026-03-30T00:00:00Z'),
    );
  });

  it('finds the right period many months after the start', () => {
    expect(subscriptionWindow(started, at('2029-07-20T08:00:00Z'))).toEqual(
      window('2029-07-15T00:00:00Z', '2029-08-15T00:00:00Z'),
    );
    expect(subscriptionWindow(started, at('2029-07-14T08:00:00Z'))).toEqual(
      window('2029-06-15T00:00:00Z', '2029-07-15T00:00:00Z'),
    );
  });

  it('rolls over the year end', () => {
    const november = at('2026-11-20T10:00:00Z');
    expect(subscriptionWindow(november, at('2026-12-25T00:00:00Z'))).toEqual(
      window('2026-12-20T00:00:00Z', '2027-01-20T00:00:00Z'),
    );
    expect(subscriptionWindow(november, at('2027-01-05T00:00:00Z'))).toEqual(
      window('2026-12-20T00:00:00Z', '2027-01-20T00:00:00Z'),
    );
    expect(subscriptionWindow(november, at('2027-01-20T00:00:00Z'))).toEqual(
      window('2027-01-20T00:00:00Z', '2027-02-20T00:00:00Z'),
    );
  });

  it('always gives a period that contains the moment, starts on the anchor day (or the month’s last day) and lasts one calendar month', () => {
    const random = seeded(2026);
    for (let i = 0; i < 2_000; i++) {
      const startedAt = Date.UTC(2024 + random(4), random(12), 1 + random(31), random(24), random(60));
      const anchorDay = new Date(startedAt).getUTCDate();
      const now = startedAt + random(3 * 365) * 86_400_000 + random(86_400_000);
      const { from, until } = subscriptionWindow(startedAt, now);
      const label = `${new Date(startedAt).toISOString()} at ${new Date(now).toISOString()}`;
      expect(from <= now && now < until, label).toBe(true);
      for (const edge of [from, until]) {
        const date = new Date(edge);
        expect(edge % 86_400_000, label).toBe(0);
        expect(date.getUTCDate(), label).toBe(
          Math.min(anchorDay, lastDayOf(date.getUTCFullYear(), date.getUTCMonth())),
        );
      }
      const start = new Date(from);
      const end = new Date(until);
      const months =
        (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth();
      expect(months, label).toBe(1);
    }
  });
});

describe('calendarWindow', () => {
  it('gives the UTC day', () => {
    expect(calendarWindow('day', at('2026-03-04T10:15:00Z'))).toEqual(
      window('2026-03-04T00:00:00Z', '2026-03-05T00:00:00Z'),
    );
    expect(calendarWindow('day', at('2026-03-04T00:00:00Z'))).toEqual(
      window('2026-03-04T00:00:00Z', '2026-03-05T00:00:00Z'),
    );
    expect(calendarWindow('day', at('2026-03-05T00:00:00Z') - 1)).toEqual(
      window('2026-03-04T00:00:00Z', '2026-03-05T00:00:00Z'),
    );
  });

  it('gives a week from Monday to Monday', () => {
    // 2 March 2026 is a Monday.
    const week = window('2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z');
    expect(new Date(week.from).getUTCDay()).toBe(1);
    expect(calendarWindow('week', at('2026-03-02T00:00:00Z'))).toEqual(week);
    expect(calendarWindow('week', at('2026-03-04T17:00:00Z'))).toEqual(week);
  });

  it('counts a Sunday as the last day of the week that began the Monday before', () => {
    expect(new Date(at('2026-03-08T00:00:00Z')).getUTCDay()).toBe(0);
    expect(calendarWindow('week', at('2026-03-08T23:59:59Z'))).toEqual(
      window('2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z'),
    );
    expect(calendarWindow('week', at('2026-03-09T00:00:00Z'))).toEqual(
      window('2026-03-09T00:00:00Z', '2026-03-16T00:00:00Z'),
    );
  });

  it('gives a week that spans the end of a year', () => {
    // Thursday 31 December 2026 belongs to the week of Monday 28 December.
    expect(calendarWindow('week', at('2026-12-31T12:00:00Z'))).toEqual(
      window('2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z'),
    );
  });

  it('gives the calendar month, however long', () => {
    expect(calendarWindow('month', at('2026-03-31T23:59:59Z'))).toEqual(
      window('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
    );
    expect(calendarWindow('month', at('2028-02-29T12:00:00Z'))).toEqual(
      window('2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'),
    );
    expect(calendarWindow('month', at('2026-04-01T00:00:00Z'))).toEqual(
      window('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z'),
    );
  });

  it('runs December into January of the next year', () => {
    expect(calendarWindow('month', at('2026-12-15T00:00:00Z'))).toEqual(
      window('2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'),
    );
    expect(calendarWindow('month', at('2027-01-01T00:00:00Z'))).toEqual(
      window('2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z'),
    );
  });

  it('gives a lifetime window that never ends and contains every moment', () => {
    for (const moment of [0, at('2026-03-04T10:15:00Z'), at('2099-12-31T23:59:59Z')]) {
      const lifetime = calendarWindow('lifetime', moment);
      expect(lifetime.until).toBe(FOREVER);
      expect(lifetime.from <= moment && moment < lifetime.until).toBe(true);
    }
    expect(calendarWindow('lifetime', at('2026-01-01T00:00:00Z'))).toEqual(
      calendarWindow('lifetime', at('2030-06-01T00:00:00Z')),
    );
  });
});
