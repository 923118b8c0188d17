import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitCharge } from './split-charge.js';
import type { PoolPart, PoolRoom } from './waterfall.js';

const held: PoolPart[] = [
  { pool: 'subscription', amount: 5_000 },
  { pool: 'prepaid', amount: 5_100 },
];

/** What the pools can still give at settlement: nothing but the prepaid balance, unless told. */
function room(prepaid: number, primaryRoom = 0): PoolRoom {
  return { keyLimit: undefined, primary: { pool: 'subscription', room: primaryRoom, open: true }, prepaid };
}

describe('splitCharge within the hold', () => {
  it('charges the primary pool first when the charge is less than what it held', () => {
    expect(splitCharge(held, 3_000)).toEqual([
      { pool: 'subscription', amount: 3_000 },
      { pool: 'prepaid', amount: 0 },
    ]);
  });

  it('charges prepaid credit only for what the primary pool held too little for', () => {
    expect(splitCharge(held, 7_000)).toEqual([
      { pool: 'subscription', amount: 5_000 },
      { pool: 'prepaid', amount: 2_000 },
    ]);
  });

  it('charges every part in full when the charge equals the hold', () => {
    expect(splitCharge(held, 10_100)).toEqual(held);
  });

  it('charges nothing for a free request', () => {
    expect(splitCharge(held, 0)).toEqual([
      { pool: 'subscription', amount: 0 },
      { pool: 'prepaid', amount: 0 },
    ]);
  });

  it('charges a single-pool hold entirely to that pool', () => {
    expect(splitCharge([{ pool: 'agent_quota', amount: 800 }], 650)).toEqual([
      { pool: 'agent_quota', amount: 650 },
    ]);
  });
});

describe('splitCharge above the hold', () => {
  it('charges the whole reported cost, the excess to prepaid credit, below zero if need be', () => {
    expect(splitCharge(held, 1_000_000, room(200))).toEqual([
      { pool: 'subscription', amount: 5_000 },
      { pool: 'prepaid', amount: 995_000 },
    ]);
  });

  it('gives the excess first to budget the primary pool has again, then to the last pool', () => {
    // Another request gave 300 back to the subscription budget while this one ran.
    expect(splitCharge(held, 11_000, room(0, 300))).toEqual([
      { pool: 'subscription', amount: 5_300 },
      { pool: 'prepaid', amount: 5_700 },
    ]);
  });

  it('runs a subscription-only hold over its budget rather than touching prepaid credit it did not hold', () => {
    const subscriptionOnly: PoolPart[] = [{ pool: 'subscription', amount: 2_000 }];
    expect(splitCharge(subscriptionOnly, 9_000, room(1_000_000, 500))).toEqual([
      { pool: 'subscription', amount: 9_000 },
    ]);
  });

  it('runs the Pro chat quota over its limit when the hold drew on nothing else', () => {
    const agentRoom: PoolRoom = {
      keyLimit: 0,
      primary: { pool: 'agent_quota', room: 0, open: false },
      prepaid: undefined,
    };
    expect(splitCharge([{ pool: 'agent_quota', amount: 800 }], 1_500, agentRoom)).toEqual([
      { pool: 'agent_quota', amount: 1_500 },
    ]);
  });

  it('without the pools’ room, puts all the excess on the last pool the hold drew on', () => {
    expect(splitCharge(held, 10_600)).toEqual([
      { pool: 'subscription', amount: 5_000 },
      { pool: 'prepaid', amount: 5_600 },
    ]);
  });

  it('charges prepaid credit for a hold that drew on no pool', () => {
    expect(splitCharge([], 42)).toEqual([{ pool: 'prepaid', amount: 42 }]);
    expect(splitCharge([], 0)).toEqual([]);
  });
});

const pool = fc.constantFrom('subscription' as const, 'agent_quota' as const);
const amount = fc.integer({ min: 0, max: 1_000_000 });
const heldParts = fc.oneof(
  fc.tuple(pool, amount).map(([p, a]) => [{ pool: p, amount: a }]),
  fc.tuple(pool, amount, amount).map(([p, a, b]) => [
    { pool: p, amount: a },
    { pool: 'prepaid' as const, amount: b },
  ]),
  amount.map((a) => [{ pool: 'prepaid' as const, amount: a }]),
);
const poolRoom = fc.record({
  keyLimit: fc.option(amount, { nil: undefined }),
  primary: fc.option(fc.record({ pool, room: amount, open: fc.boolean() }), { nil: undefined }),
  prepaid: fc.option(amount, { nil: undefined }),
});

describe('splitCharge, for any hold, charge and room', () => {
  it('charges exactly the charge, no part negative, the held pools in order and each up to its hold first', () => {
    fc.assert(
      fc.property(heldParts, fc.integer({ min: 0, max: 5_000_000 }), poolRoom, (parts, charge, rooms) => {
        const split = splitCharge(parts, charge, rooms);
        expect(split.reduce((sum, p) => sum + p.amount, 0)).toBe(charge);
        expect(split.map((p) => p.pool)).toEqual(parts.map((p) => p.pool));
        let before = 0;
        for (const [i, part] of split.entries()) {
          expect(part.amount).toBeGreaterThanOrEqual(0);
          expect(Number.isSafeInteger(part.amount)).toBe(true);
          // Each held part is paid up to what it held before any later part pays anything.
          const heldHere = parts[i]!.amount;
          expect(part.amount).toBeGreaterThanOrEqual(Math.min(heldHere, Math.max(0, charge - before)));
          before += heldHere;
        }
        const hold = parts.reduce((sum, p) => sum + p.amount, 0);
        if (charge <= hold) {
          for (const [i, part] of split.entries()) expect(part.amount).toBeLessThanOrEqual(parts[i]!.amount);
        }
        // Above the hold, a pool other than the last takes no more than the room it had.
        split.slice(0, -1).forEach((part, i) => {
          const roomHere =
            part.pool === 'prepaid'
              ? (rooms.prepaid ?? 0)
              : rooms.primary?.pool === part.pool
                ? rooms.primary.room
                : 0;
          expect(part.amount).toBeLessThanOrEqual(parts[i]!.amount + roomHere);
        });
      }),
      { numRuns: 500 },
    );
  });
});
