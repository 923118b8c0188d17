import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../../domain/pricing.js';
import type { PoolUsage, SpendScope } from '../../domain/spend-scope.js';
import type { PoolPart } from '../../domain/waterfall.js';
import type { ChargeDecision, Ledger, Settlement, UsageFacts } from '../../ports/ledger.js';
import { InMemoryMetrics } from '../../ports/metrics.js';
import { Billing, MAX_CHARGE_MICROS } from './billing.js';
import { PlanCatalogue } from './plan-catalogue.js';

/** 1 micro-USD per prompt token and 1000 per output token. */
const price: ModelPrice = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 1_000_000_000 };

const scope: SpendScope = {
  accountId: 'acct_a',
  keyId: 'key_a',
  keyLimit: undefined,
  primary: {
    pool: 'subscription',
    period: { budget: 100_000, window: { from: 0, until: Number.MAX_SAFE_INTEGER } },
  },
  prepaid: true,
};

const facts: UsageFacts = {
  requestId: 'req_a',
  accountId: 'acct_a',
  keyId: 'key_a',
  basePath: '/v1',
  model: 'm',
  providerId: 'p',
  upstreamModel: 'u',
  promptTokens: 0,
  completionTokens: 0,
  usageSource: 'upstream',
  outcome: 'completed',
  status: 200,
  latencyMs: 1,
  clientIp: '',
  userAgent: '',
  createdAt: 1,
};

/** A ledger holding one hold, which runs the settlement decision as the real one does. */
function ledgerWith(parts: PoolPart[], usage: PoolUsage) {
  const seen: { usageRead: boolean; charged?: readonly PoolPart[] } = { usageRead: false };
  const amount = parts.reduce((sum, p) => sum + p.amount, 0);
  const ledger = {
    async settle(_holdId: string, decide: ChargeDecision): Promise<Settlement> {
      const charged = decide({
        scope,
        parts,
        amount,
        usage: () => {
          seen.usageRead = true;
          return usage;
        },
      });
      seen.charged = charged;
      return { holdWasOpen: true, charged, heldMicros: amount };
    },
  } as unknown as Ledger;
  return { ledger, seen, amount };
}

function billingOver(ledger: Ledger) {
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  const metrics = new InMemoryMetrics();
  const billing = new Billing(ledger, new PlanCatalogue([]), { now: () => 1 }, (p) => `${p}_1`, {
    log: { warn: (details, message) => warnings.push({ details, message }) },
    metrics,
  });
  return { billing, warnings, metrics };
}

const held: PoolPart[] = [
  { pool: 'subscription', amount: 6_000 },
  { pool: 'prepaid', amount: 4_000 },
];
/** The subscription has 2,000 of its budget again (another request settled low); 500,000 prepaid. */
const usageNow: PoolUsage = {
  prepaidAvailable: 500_000,
  keySpent: 0,
  subscriptionSpent: 98_000,
  agentWindows: [],
};

describe('Billing.settle', () => {
  it('charges a cost within the hold without reading the pools, and warns of nothing', async () => {
    const { ledger, seen, amount } = ledgerWith(held, usageNow);
    const { billing, warnings, metrics } = billingOver(ledger);
    const hold = { id: 'hold_1', amount, maxTokens: 10 };
    const result = await billing.settle(hold, price, { promptTokens: 10, completionTokens: 5 }, facts);
    expect(result).toEqual({ holdWasOpen: true, cost: 5_010 });
    expect(seen.usageRead).toBe(false);
    expect(seen.charged).toEqual([
      { pool: 'subscription', amount: 5_010 },
      { pool: 'prepaid', amount: 0 },
    ]);
    expect(warnings).toEqual([]);
    expect(metrics.overHoldSettlements).toBe(0);
  });

  it('charges all of a cost above the hold, the subscription’s room first, and warns once with the figures', async () => {
    const { ledger, seen, amount } = ledgerWith(held, usageNow);
    const { billing, warnings, metrics } = billingOver(ledger);
    const hold = { id: 'hold_1', amount, maxTokens: 10 };
    const result = await billing.settle(hold, price, { promptTokens: 0, completionTokens: 15 }, facts);
    expect(result).toEqual({ holdWasOpen: true, cost: 15_000 });
    expect(seen.charged).toEqual([
      { pool: 'subscription', amount: 8_000 },
      { pool: 'prepaid', amount: 7_000 },
    ]);
    expect(warnings).toEqual([
      {
        details: {
          requestId: 'req_a',
          model: 'm',
          providerId: 'p',
          heldMicros: 10_000,
          reportedMicros: 15_000,
        },
        message: 'settlement above its hold: charged the reported cost',
      },
    ]);
    expect(metrics.overHoldSettlements).toBe(1);
  });

  it('charges a nonsensical usage report the largest charge, and says so', async () => {
    const { ledger, seen, amount } = ledgerWith(held, usageNow);
    const { billing, warnings } = billingOver(ledger);
    const hold = { id: 'hold_1', amount, maxTokens: 10 };
    const result = await billing.settle(hold, price, { promptTokens: 0, completionTokens: 2 ** 52 }, facts);
    expect(result.cost).toBe(MAX_CHARGE_MICROS);
    expect(seen.charged?.reduce((sum, p) => sum + p.amount, 0)).toBe(MAX_CHARGE_MICROS);
    expect(warnings.map((w) => w.message)).toContain(
      'usage report beyond any real request: charged the largest charge instead',
    );
  });

  it('refuses usage counts that are not whole non-negative numbers, before the ledger is touched', async () => {
    const { ledger, seen, amount } = ledgerWith(held, usageNow);
    const { billing } = billingOver(ledger);
    const hold = { id: 'hold_1', amount, maxTokens: 10 };
    for (const usage of [
      { promptTokens: Number.NaN, completionTokens: 1 },
      { promptTokens: 1, completionTokens: -1 },
      { promptTokens: 1.5, completionTokens: 1 },
    ]) {
      await expect(billing.settle(hold, price, usage, facts)).rejects.toThrow(/non-negative integers/);
    }
    expect(seen.charged).toBeUndefined();
  });
});
