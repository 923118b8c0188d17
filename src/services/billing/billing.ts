import { type Failure, failure } from '../../domain/errors.js';
import type { Micros } from '../../domain/money.js';
import { costOf, type ModelPrice, type TokenUsage } from '../../domain/pricing.js';
import { type PoolUsage, roomOf } from '../../domain/spend-scope.js';
import { planWaterfall, type WaterfallPlan } from '../../domain/waterfall.js';
import type { Ledger, UsageFacts, UsageRecord } from '../../ports/ledger.js';
import type { Clock } from '../../ports/system.js';
import type { Principal } from '../authenticate.js';
import type { PlanCatalogue } from './plan-catalogue.js';
import { quotaRefusal } from './quota-refusal.js';
import { spendScopeOf } from './spend-scope-of.js';

export interface AdmitRequest {
  readonly principal: Principal;
  readonly requestId: string;
  readonly price: ModelPrice;
  readonly promptTokensCeiling: number;
  readonly requestedMaxTokens: number | undefined;
  /** The request field that carried max tokens, named in errors. */
  readonly maxTokensParam: string;
  readonly modelMaxOutputTokens: number;
  /** Completions the provider generates, each up to the output limit (a legacy prompt array: one a prompt). */
  readonly generations: number;
}

export interface Hold {
  readonly id: string;
  readonly amount: Micros;
  /** The output limit sent upstream, so that the cost can never pass the hold. */
  readonly maxTokens: number;
}

export type Admission =
  | { readonly ok: true; readonly hold: Hold }
  | { readonly ok: false; readonly failure: Failure };

/**
 * Holds the worst-case cost across the billing waterfall before the upstream is called, and
 * settles the real cost afterwards. Placing the hold is the ledger's atomic "every pool has room?
 * then reserve" step, so no pool can go below zero however many requests race for it.
 */
export class Billing {
  constructor(
    private readonly ledger: Ledger,
    private readonly plans: PlanCatalogue,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
  ) {}

  async admit(request: AdmitRequest): Promise<Admission> {
    const now = this.clock.now();
    const scope = spendScopeOf(request.principal, this.plans, now);
    const id = this.newId('hold');
    // Filled in by the decision, which the ledger runs inside its atomic step.
    const decided: { plan?: WaterfallPlan; usage?: PoolUsage } = {};
    const outcome = await this.ledger.placeHold({ id, requestId: request.requestId, scope, now }, (usage) => {
      const plan = planWaterfall(request, roomOf(scope, usage));
      decided.plan = plan;
      decided.usage = usage;
      return plan.kind === 'hold' ? plan.parts : undefined;
    });
    const { plan, usage } = decided;
    if (outcome === 'placed' && plan?.kind === 'hold') {
      return { ok: true, hold: { id, amount: plan.holdMicros, maxTokens: plan.maxTokens } };
    }
    if (outcome === 'refused' && plan?.kind === 'refused' && usage) {
      return {
        ok: false,
        failure: quotaRefusal({
          exhausted: plan.exhausted,
          scope,
          usage,
          affordableTokens: plan.affordableTokens,
          requestedMaxTokens: request.requestedMaxTokens,
          maxTokensParam: request.maxTokensParam,
        }),
      };
    }
    // The key's account is gone (deleted between authentication and now).
    return { ok: false, failure: failure('invalid_api_key') };
  }

  /** Charges the real cost (never more than the hold) pool by pool, and releases the rest, with the usage record. */
  async settle(hold: Hold, price: ModelPrice, usage: TokenUsage, record: UsageFacts) {
    const cost = costOf(price, usage);
    const { holdWasOpen } = await this.ledger.settle(hold.id, cost, record);
    return { holdWasOpen, cost: holdWasOpen ? Math.min(cost, hold.amount) : cost };
  }

  async release(hold: Hold, record: UsageRecord | undefined): Promise<void> {
    await this.ledger.release(hold.id, record, this.clock.now());
  }
}
