import { type Failure, failure } from '../../domain/errors.js';
import type { Micros } from '../../domain/money.js';
import { costOf, type ModelPrice, type TokenUsage } from '../../domain/pricing.js';
import { type PoolUsage, roomOf } from '../../domain/spend-scope.js';
import { splitCharge } from '../../domain/split-charge.js';
import { planWaterfall, UNLIMITED, type WaterfallPlan } from '../../domain/waterfall.js';
import type { ChargeDecision, Ledger, Settlement, UsageFacts, UsageRecord } from '../../ports/ledger.js';
import type { Metrics } from '../../ports/metrics.js';
import type { Clock, Warn } from '../../ports/system.js';
import type { Principal } from '../authenticate.js';
import type { ClosingRetries, RetryOutcome } from './closing-retries.js';
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
  /** The output limit sent upstream, so that an honest provider's cost cannot pass the hold. */
  readonly maxTokens: number;
}

/**
 * The most one request is charged: far beyond any real request (about $1.1 billion), and small
 * enough that sums of charges stay exact integers. Only a nonsensical usage report reaches it.
 */
export const MAX_CHARGE_MICROS: Micros = UNLIMITED;

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** The decision the ledger runs when it closes the hold: the pools' room is read only above the hold. */
function chargeDecision(cost: Micros): ChargeDecision {
  return (hold) => {
    const usage = cost > hold.amount ? hold.usage() : undefined;
    return splitCharge(hold.parts, cost, usage && roomOf(hold.scope, usage));
  };
}

export type Admission =
  | { readonly ok: true; readonly hold: Hold }
  | { readonly ok: false; readonly failure: Failure };

/**
 * Holds the worst-case cost across the billing waterfall before the upstream is called, and
 * settles the real cost afterwards. Placing the hold is the ledger's atomic "every pool has room?
 * then reserve" step, so no hold can take a pool below zero however many requests race for it;
 * only a provider reporting more than the hold allowed can, and then it is charged all the same.
 */
export class Billing {
  /**
   * Holds placed here and not yet closed, so that the in-flight gauge counts each hold's end once,
   * whichever of settle and release comes first (a release after a failed settlement, say).
   */
  private readonly open = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly plans: PlanCatalogue,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    private readonly watch: { readonly log: Warn; readonly metrics: Metrics },
    /** Where settlements and releases go when the database cannot be reached (PostgreSQL). */
    private readonly retries?: ClosingRetries,
  ) {}

  async admit(request: AdmitRequest): Promise<Admission> {
    const now = this.clock.now();
    const scope = spendScopeOf(request.principal, this.plans, now);
    const id = this.newId('hold');
    // Filled in by the decision, which the ledger runs inside its atomic step.
    const decided: { plan?: WaterfallPlan; usage?: PoolUsage } = {};
    const outcome = await this.ledger
      .placeHold({ id, requestId: request.requestId, scope, now }, (usage) => {
        const plan = planWaterfall(request, roomOf(scope, usage));
        decided.plan = plan;
        decided.usage = usage;
        return plan.kind === 'hold' ? plan.parts : undefined;
      })
      .catch((error: unknown) => {
        // The hold may have been placed with only the answer lost: released once the database is back.
        if (this.retries?.inDoubt(error))
          this.retries.keep(id, 'release', async () => {
            await this.ledger.release(id, undefined, this.clock.now(), 'again');
            return 'closed';
          });
        throw error;
      });
    const { plan, usage } = decided;
    if (outcome === 'placed' && plan?.kind === 'hold') {
      this.open.add(id);
      this.watch.metrics.holdsInFlight(1);
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

  /**
   * Charges what the provider reported, pool by pool (domain/split-charge.ts), even when it is more
   * than the hold, and releases the rest, with the usage record. A charge above the hold is logged
   * and counted: it means a mispriced model or a provider reporting more than it was allowed.
   */
  async settle(hold: Hold, price: ModelPrice, usage: TokenUsage, record: UsageFacts) {
    const cost = this.costOf(price, usage, record);
    const decide = chargeDecision(cost);
    const settlement = await this.ledger.settle(hold.id, decide, record).catch((error: unknown) => {
      // The provider served the request: it is charged once the database is back.
      this.keep(error, hold.id, 'settlement', async () => {
        const again = await this.ledger.settle(hold.id, decide, record, 'again');
        this.settled(hold, usage, record, cost, again);
        return again.repeated ? 'repeated' : 'closed';
      });
      throw error;
    });
    this.settled(hold, usage, record, cost, settlement);
    return { holdWasOpen: settlement.holdWasOpen, cost };
  }

  private settled(hold: Hold, usage: TokenUsage, record: UsageFacts, cost: Micros, settlement: Settlement) {
    this.closed(hold);
    this.watch.metrics.usageCharged({
      model: record.model,
      provider: record.providerId,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      costMicros: cost,
    });
    if (settlement.holdWasOpen && cost > settlement.heldMicros) {
      this.watch.log.warn(
        {
          requestId: record.requestId,
          model: record.model,
          providerId: record.providerId,
          heldMicros: settlement.heldMicros,
          reportedMicros: cost,
        },
        'settlement above its hold: charged the reported cost',
      );
      this.watch.metrics.overHoldSettlement();
    }
  }

  private costOf(price: ModelPrice, usage: TokenUsage, record: UsageFacts): Micros {
    // Providers' counts are checked where they are parsed; anything else here is a bug of ours.
    if (!isCount(usage.promptTokens) || !isCount(usage.completionTokens))
      throw new Error(`usage counts must be non-negative integers, got ${JSON.stringify(usage)}`);
    const cost = costOf(price, usage);
    if (cost <= MAX_CHARGE_MICROS) return cost;
    this.watch.log.warn(
      {
        requestId: record.requestId,
        model: record.model,
        providerId: record.providerId,
        reportedMicros: cost,
      },
      'usage report beyond any real request: charged the largest charge instead',
    );
    return MAX_CHARGE_MICROS;
  }

  async release(hold: Hold, record: UsageRecord | undefined): Promise<void> {
    // A settlement kept for retry closes this hold: the request was served and is charged.
    if (this.retries?.settling(hold.id)) return;
    this.closed(hold);
    const now = this.clock.now();
    await this.ledger.release(hold.id, record, now).catch((error: unknown) => {
      this.keep(error, hold.id, 'release', async () => {
        await this.ledger.release(hold.id, record, now, 'again');
        return 'closed';
      });
      throw error;
    });
  }

  /** Keeps a closing the database could not take for a retry; other errors only propagate. */
  private keep(
    error: unknown,
    holdId: string,
    kind: 'settlement' | 'release',
    retry: () => Promise<RetryOutcome>,
  ) {
    if (this.retries?.mendable(error)) this.retries.keep(holdId, kind, retry);
  }

  private closed(hold: Hold): void {
    if (this.open.delete(hold.id)) this.watch.metrics.holdsInFlight(-1);
  }
}
