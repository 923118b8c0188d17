import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitToLimits, FRESH_WINDOWS, MINUTE_MS, reportOf } from './account-limits.js';
import { goDuration } from './go-duration.js';
import {
  correctWindow,
  FULL_WINDOW,
  remainingInWindow,
  resetOfWindow,
  takeFromWindow,
  type WindowLimit,
  type WindowState,
} from './rate-window.js';

const windowArb = fc.record({
  limit: fc.integer({ min: 1, max: 100_000 }),
  windowMs: fc.constantFrom(1_000, MINUTE_MS, 3_600_000),
});

/** Takes one unit at a time at `now` until refused; returns how many were taken. */
function drain(window: WindowLimit, now: number): { taken: number; state: WindowState } {
  let state = FULL_WINDOW;
  let taken = 0;
  for (; taken <= window.limit; taken++) {
    const step = takeFromWindow(window, state, 1, now);
    if (!step.ok) break;
    state = step.state;
  }
  return { taken, state };
}

describe('a rate window', () => {
  it('admits exactly the limit at one instant from full, then refuses', () => {
    fc.assert(
      fc.property(
        windowArb.filter((w) => w.limit <= 2_000),
        fc.integer({ min: 0, max: 1e12 }),
        (window, now) => {
          expect(drain(window, now).taken).toBe(window.limit);
        },
      ),
    );
  });

  it('never admits more than the limit plus what refilled over any stretch of time', () => {
    fc.assert(
      fc.property(
        fc.record({ limit: fc.integer({ min: 1, max: 50 }), windowMs: fc.constant(MINUTE_MS) }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 1, max: 10 })), {
          maxLength: 60,
        }),
        (window, steps) => {
          let now = 1_000_000;
          const start = now;
          let state = FULL_WINDOW;
          let admitted = 0;
          for (const [wait, cost] of steps) {
            now += wait;
            const step = takeFromWindow(window, state, cost, now);
            if (step.ok) {
              state = step.state;
              admitted += cost;
            }
          }
          const refilled = ((now - start) * window.limit) / window.windowMs;
          expect(admitted).toBeLessThanOrEqual(window.limit + refilled + 1e-6);
        },
      ),
    );
  });

  it('reports remaining from 0 to the limit, and a refusal exactly when the remaining is below the cost', () => {
    fc.assert(
      fc.property(
        windowArb,
        fc.integer({ min: 0, max: 2 * MINUTE_MS }),
        fc.integer({ min: 1, max: 100_000 }),
        (window, used, cost) => {
          const now = 1_764_576_000_000;
          const state = { debt: (used % (window.windowMs + 1)) * window.limit, at: now };
          const remaining = remainingInWindow(window, state, now);
          expect(remaining).toBeGreaterThanOrEqual(0);
          expect(remaining).toBeLessThanOrEqual(window.limit);
          expect(takeFromWindow(window, state, cost, now).ok).toBe(cost <= remaining);
        },
      ),
    );
  });

  it('waits exactly the retry-after it gives, and no less', () => {
    fc.assert(
      fc.property(
        windowArb.filter((w) => w.limit <= 1_000),
        fc.integer({ min: 1, max: 1_000 }),
        (window, cost) => {
          fc.pre(cost <= window.limit);
          const now = 1_764_576_000_000;
          const { state } = drain(window, now);
          const refused = takeFromWindow(window, state, cost, now);
          if (refused.ok) return;
          const wait = refused.retryAfterMs ?? Number.NaN;
          expect(takeFromWindow(window, state, cost, now + wait).ok).toBe(true);
          expect(takeFromWindow(window, state, cost, now + wait - 1).ok).toBe(false);
        },
      ),
    );
  });

  it('refuses a cost above the whole limit with no retry-after: waiting never helps', () => {
    expect(takeFromWindow({ limit: 10, windowMs: MINUTE_MS }, FULL_WINDOW, 11, 0)).toEqual({
      ok: false,
      retryAfterMs: undefined,
    });
  });

  it('gives back what a correction returns, never beyond full', () => {
    fc.assert(
      fc.property(windowArb, fc.integer({ min: 0, max: 100_000 }), (window, give) => {
        const now = 1_764_576_000_000;
        const taken = takeFromWindow(window, FULL_WINDOW, window.limit, now);
        if (!taken.ok) throw new Error('a full window takes its whole limit');
        const corrected = correctWindow(window, taken.state, -give, now);
        expect(remainingInWindow(window, corrected, now)).toBe(Math.min(window.limit, give));
      }),
    );
  });

  it('resets to its initial state after the time it reports', () => {
    const window = { limit: 3, windowMs: MINUTE_MS };
    const { state } = drain(window, 1_000);
    expect(resetOfWindow(window, state, 1_000)).toBe(MINUTE_MS);
    expect(remainingInWindow(window, state, 1_000 + MINUTE_MS)).toBe(3);
    expect(remainingInWindow(window, state, 21_000)).toBe(1);
    expect(remainingInWindow(window, state, 20_999)).toBe(0);
  });
});

describe("an account's limits together", () => {
  const limits = { requestsPerMinute: 2, tokensPerMinute: 100, concurrentRequests: 1 };

  it('takes nothing from any limit when one of them refuses', () => {
    const admitted = admitToLimits(limits, FRESH_WINDOWS, 90, 0);
    if (!admitted.ok) throw new Error('the first request fits');
    const windows = { ...admitted.windows, inFlight: 0 };
    const refused = admitToLimits(limits, windows, 20, 0);
    expect(refused).toMatchObject({ ok: false, exceeded: 'tokens' });
    expect(reportOf(limits, windows, 0).requests?.remaining).toBe(1);
  });

  it('refuses past the concurrent limit, whatever room the windows have', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (concurrent) => {
        const own = {
          requestsPerMinute: undefined,
          tokensPerMinute: undefined,
          concurrentRequests: concurrent,
        };
        let windows = FRESH_WINDOWS;
        for (let i = 0; i < concurrent; i++) {
          const step = admitToLimits(own, windows, 1, 0);
          if (!step.ok) throw new Error('under the limit');
          windows = step.windows;
        }
        expect(admitToLimits(own, windows, 1, 0)).toMatchObject({ ok: false, exceeded: 'concurrent' });
      }),
    );
  });
});

describe("OpenAI's duration format", () => {
  it.each([
    [0, '0s'],
    [20, '20ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [7_660, '7.66s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [179_560, '2m59.56s'],
    [3_723_500, '1h2m3.5s'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});

describe('a rate window read by clocks that disagree', () => {
  it('never gives more room when a clock steps back', () => {
    fc.assert(
      fc.property(windowArb, fc.integer({ min: 1, max: 10_000 }), (window, back) => {
        const now = 1_764_576_000_000;
        const { state } = drain(window, now);
        expect(remainingInWindow(window, state, now - back)).toBe(0);
        expect(takeFromWindow(window, state, 1, now - back).ok).toBe(false);
      }),
    );
  });
});
