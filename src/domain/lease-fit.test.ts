import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Drained, fitLease, type LeaseParts, leasable, sliceOf } from './lease-fit.js';
import type { ModelPrice } from './pricing.js';
import { type PoolUsage, roomOf, type SpendScope } from './spend-scope.js';
import { planWaterfall, type WaterfallRequest } from './waterfall.js';

const MONTH = { from: 0, until: 1_000 };
const PRICE: ModelPrice = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 1_000_000_000 };

const prepaidScope: SpendScope = {
  accountId: 'acct',
  keyId: 'key',
  keyLimit: undefined,
  primary: undefined,
  prepaid: true,
};
const overflowScope: SpendScope = {
  ...prepaidScope,
  primary: { pool: 'subscription', period: { budget: 1_000_000, window: MONTH } },
};

function request(maxTokens: number | undefined): WaterfallRequest {
  return {
    price: PRICE,
    promptTokensCeiling: 50,
    requestedMaxTokens: maxTokens,
    modelMaxOutputTokens: 100,
    generations: 1,
  };
}

/** The billing service's decision: the waterfall over the room the usage leaves. */
function decision(scope: SpendScope, req: WaterfallRequest) {
  return (usage: PoolUsage) => {
    const plan = planWaterfall(req, roomOf(scope, usage));
    return plan.kind === 'hold' ? plan.parts : undefined;
  };
}

const notDrained: Drained = { primary: false, prepaid: false, keyLimit: false };

describe('sliceOf', () => {
  it('takes the slice from the primary pool first, then prepaid credit', () => {
    const room = {
      keyLimit: undefined,
      primary: { pool: 'subscription' as const, room: 300, open: true },
      prepaid: 10_000,
    };
    expect(sliceOf(room, 1_000, 2)).toEqual({
      parts: { primary: 300, prepaid: 700 },
      drained: { primary: true, prepaid: false, keyLimit: false },
    });
  });

  it('takes no lease while the room is not more than two slices per instance', () => {
    const room = { keyLimit: undefined, primary: undefined, prepaid: 4_000 };
    expect(sliceOf(room, 1_000, 2)).toBeUndefined();
    expect(sliceOf({ ...room, prepaid: 4_001 }, 1_000, 2)).toBeDefined();
    expect(sliceOf({ ...room, keyLimit: 4_000, prepaid: 1e9 }, 1_000, 2)).toBeUndefined();
  });

  it('never leases a Pro chat quota, which counts requests', () => {
    expect(leasable({ ...prepaidScope, primary: { pool: 'agent_quota', limits: [] } })).toBe(false);
    expect(leasable(overflowScope)).toBe(true);
    const room = {
      keyLimit: undefined,
      primary: { pool: 'agent_quota' as const, room: 1e9, open: true },
      prepaid: 1e9,
    };
    expect(sliceOf(room, 1_000, 1)).toBeUndefined();
  });
});

describe('fitLease', () => {
  it('holds a request with max_tokens that the slice covers', () => {
    const parts = fitLease(
      prepaidScope,
      { primary: 0, prepaid: 50_000 },
      notDrained,
      decision(prepaidScope, request(10)),
    );
    expect(parts).toEqual([{ pool: 'prepaid', amount: 10_050 }]);
  });

  it('sends a request without max_tokens to the database when the slice would clamp it', () => {
    // 100 output tokens cost 100,050: the slice affords fewer, the account more.
    const decide = decision(prepaidScope, request(undefined));
    expect(fitLease(prepaidScope, { primary: 0, prepaid: 50_000 }, notDrained, decide)).toBeUndefined();
    expect(fitLease(prepaidScope, { primary: 0, prepaid: 200_000 }, notDrained, decide)).toEqual([
      { pool: 'prepaid', amount: 100_050 },
    ]);
  });

  it('clamps locally when the slice drained the account: the database has no more either', () => {
    const drained = { primary: true, prepaid: true, keyLimit: false };
    const parts = fitLease(
      prepaidScope,
      { primary: 0, prepaid: 50_000 },
      drained,
      decision(prepaidScope, request(undefined)),
    );
    // 49 output tokens: all the slice affords in whole tokens.
    expect(parts).toEqual([{ pool: 'prepaid', amount: 49_050 }]);
  });

  it('sends a request the subscription part cannot cover alone to the database unless it drained the budget', () => {
    const decide = decision(overflowScope, request(10));
    const lease: LeaseParts = { primary: 5_000, prepaid: 20_000 };
    expect(fitLease(overflowScope, lease, notDrained, decide)).toBeUndefined();
    expect(fitLease(overflowScope, lease, { ...notDrained, primary: true }, decide)).toEqual([
      { pool: 'subscription', amount: 5_000 },
      { pool: 'prepaid', amount: 5_050 },
    ]);
  });

  it('never holds more than the lease has left', () => {
    expect(
      fitLease(
        prepaidScope,
        { primary: 0, prepaid: 10_049 },
        notDrained,
        decision(prepaidScope, request(10)),
      ),
    ).toBeUndefined();
  });

  it('decides what the database would, for any room the database may have beyond the slice', () => {
    const scopes: SpendScope[] = [
      prepaidScope,
      overflowScope,
      { ...overflowScope, prepaid: false },
      { ...overflowScope, keyLimit: { limit: 3_000_000, window: MONTH } },
      { ...prepaidScope, keyLimit: { limit: 500_000, window: MONTH } },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...scopes),
        fc.record({ primary: fc.nat(300_000), prepaid: fc.nat(300_000) }),
        fc.record({ primary: fc.boolean(), prepaid: fc.boolean(), keyLimit: fc.boolean() }),
        fc.record({ primary: fc.nat(2_000_000), prepaid: fc.nat(2_000_000), key: fc.nat(2_000_000) }),
        fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined }),
        (scope, lease, drained, extra, maxTokens) => {
          const decide = decision(scope, request(maxTokens));
          const local = fitLease(scope, lease, drained, decide);
          if (!local) return;
          // The database's room: the lease's parts, plus more in every limit the slice did not drain.
          const primaryRoom = lease.primary + (drained.primary ? 0 : extra.primary);
          const prepaidRoom = lease.prepaid + (drained.prepaid ? 0 : extra.prepaid);
          const keyRoom = lease.primary + lease.prepaid + (drained.keyLimit ? 0 : extra.key);
          const budget = scope.primary?.pool === 'subscription' ? (scope.primary.period?.budget ?? 0) : 0;
          const usage: PoolUsage = {
            prepaidAvailable: prepaidRoom,
            subscriptionSpent: budget - primaryRoom,
            keySpent: scope.keyLimit ? scope.keyLimit.limit - keyRoom : 0,
            agentWindows: [],
          };
          expect(decide(usage)).toEqual(local);
          let primary = 0;
          let prepaid = 0;
          for (const part of local) {
            if (part.pool === 'prepaid') prepaid += part.amount;
            else primary += part.amount;
          }
          expect(primary).toBeLessThanOrEqual(lease.primary);
          expect(prepaid).toBeLessThanOrEqual(lease.prepaid);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
