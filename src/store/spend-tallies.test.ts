import { describe, expect, it } from 'vitest';
import { FOREVER } from '../domain/periods.js';
import { PeriodTally, RollingTally } from './spend-tallies.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A loader that counts how often the ledger is read. */
function counted<A extends unknown[], T>(read: (...args: A) => T) {
  const calls: A[] = [];
  const load = (...args: A): T => {
    calls.push(args);
    return read(...args);
  };
  return { load, calls };
}

describe('PeriodTally', () => {
  const january = { from: Date.parse('2026-01-15T00:00:00Z'), until: Date.parse('2026-02-15T00:00:00Z') };
  const february = { from: january.until, until: Date.parse('2026-03-15T00:00:00Z') };
  const lifetime = { from: 0, until: FOREVER };
  const inJanuary = january.from + DAY;
  const inFebruary = february.from + DAY;

  it('reads the ledger once per period and answers from memory afterwards', () => {
    const tally = new PeriodTally();
    const ledger = counted(() => 1_500);
    expect(tally.used('sub:acct_1', january, ledger.load)).toBe(1_500);
    expect(tally.used('sub:acct_1', january, ledger.load)).toBe(1_500);
    expect(tally.used('sub:acct_1', january, ledger.load)).toBe(1_500);
    expect(ledger.calls).toHaveLength(1);
  });

  it('adds holds, settlements and releases of the current period to its figure', () => {
    const tally = new PeriodTally();
    tally.used('sub:acct_1', january, () => 1_000);
    tally.add('sub:acct_1', inJanuary, 400);
    tally.add('sub:acct_1', inJanuary, 250);
    tally.add('sub:acct_1', inJanuary, -400);
    expect(tally.used('sub:acct_1', january, () => Number.NaN)).toBe(1_250);
  });

  it('starts a new period from what the ledger says, not from the old figure', () => {
    const tally = new PeriodTally();
    tally.used('sub:acct_1', january, () => 9_000);
    tally.add('sub:acct_1', inJanuary, 500);
    const ledger = counted(() => 0);
    expect(tally.used('sub:acct_1', february, ledger.load)).toBe(0);
    expect(ledger.calls).toHaveLength(1);
    tally.add('sub:acct_1', inFebruary, 300);
    expect(tally.used('sub:acct_1', february, ledger.load)).toBe(300);
    expect(ledger.calls).toHaveLength(1);
  });

  it('leaves the new period alone when a request held in the old one settles after the boundary', () => {
    const tally = new PeriodTally();
    tally.used('sub:acct_1', january, () => 100);
    tally.used('sub:acct_1', february, () => 0);
    tally.add('sub:acct_1', inJanuary, 700);
    expect(tally.used('sub:acct_1', february, () => Number.NaN)).toBe(0);
  });

  it('counts holds placed before a limit is widened to a period that began earlier (day to lifetime)', () => {
    const tally = new PeriodTally();
    tally.used('key:key_1', february, () => 5_000);
    tally.add('key:key_1', inFebruary, 6_000); // a hold in flight
    // The limit becomes a lifetime one: the ledger gives settled spend plus that hold.
    expect(tally.used('key:key_1', lifetime, () => 11_000)).toBe(11_000);
    // The hold settles for less: the lifetime figure follows, since the hold was placed within it.
    tally.add('key:key_1', inFebruary, -2_000);
    expect(tally.used('key:key_1', lifetime, () => Number.NaN)).toBe(9_000);
  });

  it('ignores a change for a scope it has never loaded, and loads it afresh when asked', () => {
    const tally = new PeriodTally();
    tally.add('key:key_1', inJanuary, 999);
    expect(tally.used('key:key_1', january, () => 999)).toBe(999);
  });

  it('keeps each scope apart', () => {
    const tally = new PeriodTally();
    tally.used('key:key_1', january, () => 10);
    tally.used('key:key_2', january, () => 20);
    tally.add('key:key_1', inJanuary, 5);
    expect(tally.used('key:key_1', january, () => Number.NaN)).toBe(15);
    expect(tally.used('key:key_2', january, () => Number.NaN)).toBe(20);
  });
});

describe('RollingTally', () => {
  const now = Date.parse('2026-03-04T12:00:00Z');
  const FIVE_HOURS = 5 * HOUR;
  const WEEK = 7 * DAY;
  const windowsMs = [FIVE_HOURS, WEEK];

  it('sums in each window only the spend made inside it', () => {
    const tally = new RollingTally();
    const ledger = counted((_since: number) => [
      { at: now - 3 * DAY, usd: 300 },
      { at: now - 6 * HOUR, usd: 200 },
      { at: now - HOUR, usd: 100 },
    ]);
    expect(tally.windows('acct_1', now, windowsMs, ledger.load)).toEqual([
      { usd: 100, requests: 1, oldestAt: now - HOUR },
      { usd: 600, requests: 3, oldestAt: now - 3 * DAY },
    ]);
    // The ledger is read once, for the longest window.
    expect(ledger.calls).toEqual([[now - WEEK]]);
  });

  it('gives no oldest time for a window with no spend', () => {
    const tally = new RollingTally();
    expect(tally.windows('acct_1', now, windowsMs, () => [{ at: now - 2 * DAY, usd: 50 }])).toEqual([
      { usd: 0, requests: 0, oldestAt: undefined },
      { usd: 50, requests: 1, oldestAt: now - 2 * DAY },
    ]);
  });

  it('lets a spend leave a window exactly one window length after it was made', () => {
    const tally = new RollingTally();
    const spentAt = now - HOUR;
    tally.windows('acct_1', now, [FIVE_HOURS], () => [{ at: spentAt, usd: 100 }]);
    const later = (at: number) => tally.windows('acct_1', at, [FIVE_HOURS], () => [])[0];
    expect(later(spentAt + FIVE_HOURS - 1)).toEqual({ usd: 100, requests: 1, oldestAt: spentAt });
    expect(later(spentAt + FIVE_HOURS)).toEqual({ usd: 0, requests: 0, oldestAt: undefined });
  });

  it('counts holds in flight in every window, and forgets them when released', () => {
    const tally = new RollingTally();
    tally.windows('acct_1', now, windowsMs, () => [{ at: now - 2 * DAY, usd: 50 }]);
    tally.hold('acct_1', 400);
    tally.hold('acct_1', 600);
    expect(tally.windows('acct_1', now, windowsMs, () => [])).toEqual([
      { usd: 1_000, requests: 2, oldestAt: undefined },
      { usd: 1_050, requests: 3, oldestAt: now - 2 * DAY },
    ]);
    tally.close('acct_1', 400, undefined);
    tally.close('acct_1', 600, undefined);
    expect(tally.windows('acct_1', now, windowsMs, () => [])).toEqual([
      { usd: 0, requests: 0, oldestAt: undefined },
      { usd: 50, requests: 1, oldestAt: now - 2 * DAY },
    ]);
  });

  it('turns a settled hold into spend dated when it was held', () => {
    const tally = new RollingTally();
    tally.windows('acct_1', now, windowsMs, () => []);
    tally.hold('acct_1', 900);
    tally.close('acct_1', 900, { at: now, usd: 350 });
    const later = now + 2 * HOUR;
    expect(tally.windows('acct_1', later, windowsMs, () => [])).toEqual([
      { usd: 350, requests: 1, oldestAt: now },
      { usd: 350, requests: 1, oldestAt: now },
    ]);
    // Five hours after it was held, not after it settled, it leaves the short window.
    expect(tally.windows('acct_1', now + FIVE_HOURS, windowsMs, () => [])[0]).toEqual({
      usd: 0,
      requests: 0,
      oldestAt: undefined,
    });
  });

  it('keeps settlements in the order they were held when they settle out of order', () => {
    const tally = new RollingTally();
    tally.windows('acct_1', now, windowsMs, () => []);
    const first = now;
    const second = now + 30 * 60_000;
    tally.hold('acct_1', 100);
    tally.hold('acct_1', 100);
    // The later request finishes first.
    tally.close('acct_1', 100, { at: second, usd: 70 });
    tally.close('acct_1', 100, { at: first, usd: 80 });
    const soon = second + 60_000;
    expect(tally.windows('acct_1', soon, windowsMs, () => [])[0]).toEqual({
      usd: 150,
      requests: 2,
      oldestAt: first,
    });
    // Once the first leaves the short window, only the second remains, and it is now the oldest.
    const afterFirst = first + FIVE_HOURS;
    expect(tally.windows('acct_1', afterFirst, windowsMs, () => [])).toEqual([
      { usd: 70, requests: 1, oldestAt: second },
      { usd: 150, requests: 2, oldestAt: first },
    ]);
  });

  it('drops spend older than the longest window without reading the ledger again', () => {
    const tally = new RollingTally();
    const ledger = counted((_since: number) => [
      { at: now - 6 * DAY, usd: 10 },
      { at: now - HOUR, usd: 20 },
    ]);
    tally.windows('acct_1', now, windowsMs, ledger.load);
    const twoDaysLater = now + 2 * DAY;
    expect(tally.windows('acct_1', twoDaysLater, windowsMs, ledger.load)).toEqual([
      { usd: 0, requests: 0, oldestAt: undefined },
      { usd: 20, requests: 1, oldestAt: now - HOUR },
    ]);
    const aWeekLater = now + WEEK;
    expect(tally.windows('acct_1', aWeekLater, windowsMs, ledger.load)).toEqual([
      { usd: 0, requests: 0, oldestAt: undefined },
      { usd: 0, requests: 0, oldestAt: undefined },
    ]);
    expect(ledger.calls).toHaveLength(1);
  });

  it('ignores a settlement dated before everything any window still covers', () => {
    const tally = new RollingTally();
    tally.windows('acct_1', now, windowsMs, () => []);
    tally.hold('acct_1', 500);
    tally.close('acct_1', 500, { at: now - WEEK - HOUR, usd: 300 });
    expect(tally.windows('acct_1', now, windowsMs, () => [])).toEqual([
      { usd: 0, requests: 0, oldestAt: undefined },
      { usd: 0, requests: 0, oldestAt: undefined },
    ]);
  });

  it('reads the ledger again when a longer window is asked for, keeping the holds in flight', () => {
    const tally = new RollingTally();
    const short = counted((_since: number) => [{ at: now - HOUR, usd: 20 }]);
    tally.windows('acct_1', now, [FIVE_HOURS], short.load);
    tally.hold('acct_1', 1_000);
    const long = counted((_since: number) => [
      { at: now - 3 * DAY, usd: 30 },
      { at: now - HOUR, usd: 20 },
    ]);
    expect(tally.windows('acct_1', now, windowsMs, long.load)).toEqual([
      { usd: 1_020, requests: 2, oldestAt: now - HOUR },
      { usd: 1_050, requests: 3, oldestAt: now - 3 * DAY },
    ]);
    expect(long.calls).toEqual([[now - WEEK]]);
  });

  it('keeps each account apart', () => {
    const tally = new RollingTally();
    tally.windows('acct_1', now, windowsMs, () => [{ at: now - HOUR, usd: 20 }]);
    tally.windows('acct_2', now, windowsMs, () => []);
    tally.hold('acct_2', 500);
    expect(tally.windows('acct_1', now, windowsMs, () => [])[0]).toEqual({
      usd: 20,
      requests: 1,
      oldestAt: now - HOUR,
    });
    expect(tally.windows('acct_2', now, windowsMs, () => [])[0]).toEqual({
      usd: 500,
      requests: 1,
      oldestAt: undefined,
    });
  });
});
