import { type Failure, failure } from '../domain/errors.js';
import { planHold } from '../domain/hold-plan.js';
import { formatUsd, type Micros } from '../domain/money.js';
import { costOf, type ModelPrice, type TokenUsage } from '../domain/pricing.js';
import type { Ledger, UsageRecord } from '../ports/ledger.js';
import type { Clock } from '../ports/system.js';

export interface AdmitRequest {
  readonly accountId: string;
  readonly keyId: string;
  readonly requestId: string;
  readonly price: ModelPrice;
  readonly promptTokensCeiling: number;
  readonly requestedMaxTokens: number | undefined;
  /** The request field that carried max tokens, named in errors. */
  readonly maxTokensParam: string;
  readonly modelMaxOutputTokens: number;
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

/** A concurrent request may take the balance between our read and our hold; re-plan a few times, then refuse. */
const HOLD_ATTEMPTS = 5;

/**
 * Holds the worst-case cost before the upstream is called and settles the real cost afterwards.
 * Placing the hold is the ledger's atomic "covered? then reserve" step, so the balance cannot go
 * below zero however many requests race for it.
 */
export class Billing {
  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    private readonly holdTtlMs: number,
  ) {}

  async admit(request: AdmitRequest): Promise<Admission> {
    for (let attempt = 0; attempt < HOLD_ATTEMPTS; attempt++) {
      const available = await this.ledger.available(request.accountId);
      if (available === undefined) return { ok: false, failure: failure('invalid_api_key') };
      const plan = planHold({
        price: request.price,
        promptTokensCeiling: request.promptTokensCeiling,
        requestedMaxTokens: request.requestedMaxTokens,
        modelMaxOutputTokens: request.modelMaxOutputTokens,
        available,
      });
      if (plan.kind === 'nothing-affordable') {
        const minimum = costOf(request.price, {
          promptTokens: request.promptTokensCeiling,
          completionTokens: 1,
        });
        return {
          ok: false,
          failure: failure(
            'insufficient_quota',
            `Insufficient credits: this request needs up to ${formatUsd(minimum)} before any output, and the available balance is ${formatUsd(available)}. Add credits to continue.`,
          ),
        };
      }
      if (plan.kind === 'requested-unaffordable') {
        return {
          ok: false,
          failure: failure(
            'insufficient_quota',
            `Insufficient credits for ${request.maxTokensParam}=${request.requestedMaxTokens}: the available balance affords at most ${plan.affordableTokens} output tokens for this request. Lower ${request.maxTokensParam} or add credits.`,
            request.maxTokensParam,
          ),
        };
      }
      const now = this.clock.now();
      const hold = { id: this.newId('hold'), amount: plan.holdMicros, maxTokens: plan.maxTokens };
      const placed = await this.ledger.placeHold({
        id: hold.id,
        accountId: request.accountId,
        keyId: request.keyId,
        requestId: request.requestId,
        amount: hold.amount,
        now,
        expiresAt: now + this.holdTtlMs,
      });
      if (placed) return { ok: true, hold };
    }
    return {
      ok: false,
      failure: failure(
        'insufficient_quota',
        'Insufficient credits: the balance was spent by concurrent requests.',
      ),
    };
  }

  /** Charges the real cost (never more than the hold) and releases the rest, with the usage record. */
  async settle(hold: Hold, price: ModelPrice, usage: TokenUsage, record: Omit<UsageRecord, 'costMicros'>) {
    const cost = costOf(price, usage);
    const settled = await this.ledger.settle(hold.id, cost, { ...record, costMicros: cost });
    return { settled, cost: Math.min(cost, hold.amount) };
  }

  async release(hold: Hold, record: UsageRecord | undefined): Promise<void> {
    await this.ledger.release(hold.id, record, this.clock.now());
  }
}
