import type { Micros } from './money.js';
import { affordableOutputTokens, costOf, type ModelPrice } from './pricing.js';

export interface HoldRequest {
  readonly price: ModelPrice;
  /** A number of prompt tokens the upstream cannot exceed (see prompt-tokens.ts). */
  readonly promptTokensCeiling: number;
  /** What the client asked for, if anything. */
  readonly requestedMaxTokens: number | undefined;
  readonly modelMaxOutputTokens: number;
  /**
   * Completions the provider generates, each up to the output limit: one for chat, one per prompt
   * for a legacy prompt array. The output hold is the limit times this.
   */
  readonly generations: number;
  readonly available: Micros;
}

export type HoldPlan =
  /** Hold `holdMicros` and send `maxTokens` (a generation) upstream: the cost can then never exceed the hold. */
  | { readonly kind: 'hold'; readonly holdMicros: Micros; readonly maxTokens: number }
  /** The client's max_tokens costs more than the balance; `affordableTokens` is what it would pay for. */
  | { readonly kind: 'requested-unaffordable'; readonly affordableTokens: number }
  /** Not even the prompt plus one output token is covered. */
  | { readonly kind: 'nothing-affordable' };

/**
 * Decides the worst-case hold for a request against an available balance.
 * A request with no max_tokens is clamped to what the balance affords instead of being refused,
 * because a client that never set a limit would otherwise be refused for a cost it would not incur.
 */
export function planHold(request: HoldRequest): HoldPlan {
  const { price, promptTokensCeiling, requestedMaxTokens, modelMaxOutputTokens, generations, available } =
    request;
  const affordableTotal = affordableOutputTokens(price, promptTokensCeiling, available);
  // Every generation gets the same limit: the provider takes one max_tokens for all of them.
  const affordable = affordableTotal === undefined ? undefined : Math.floor(affordableTotal / generations);
  const ceiling =
    affordable === undefined ? modelMaxOutputTokens : Math.min(affordable, modelMaxOutputTokens);
  if (
    ceiling < 1 ||
    costOf(price, { promptTokens: promptTokensCeiling, completionTokens: generations }) > available
  ) {
    return { kind: 'nothing-affordable' };
  }
  if (requestedMaxTokens !== undefined && requestedMaxTokens > ceiling) {
    return { kind: 'requested-unaffordable', affordableTokens: ceiling };
  }
  const maxTokens = requestedMaxTokens ?? ceiling;
  const holdMicros = costOf(price, {
    promptTokens: promptTokensCeiling,
    completionTokens: maxTokens * generations,
  });
  return { kind: 'hold', holdMicros, maxTokens };
}
