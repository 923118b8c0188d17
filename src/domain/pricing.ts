import type { Micros } from './money.js';

/**
 * Prices are kept as integer micro-USD per million tokens: "$0.27 per million" is 270_000.
 * Token counts times these prices can pass 2^53, so the products are taken in BigInt.
 */
export interface ModelPrice {
  readonly inputMicrosPerMillion: number;
  readonly outputMicrosPerMillion: number;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

const MILLION = 1_000_000n;

function scaledCost(price: ModelPrice, usage: TokenUsage): bigint {
  return (
    BigInt(usage.promptTokens) * BigInt(price.inputMicrosPerMillion) +
    BigInt(usage.completionTokens) * BigInt(price.outputMicrosPerMillion)
  );
}

/** The charge for a usage, rounded up to the next micro-USD so that fractions never leak in the operator's disfavour. */
export function costOf(price: ModelPrice, usage: TokenUsage): Micros {
  const scaled = scaledCost(price, usage);
  return Number((scaled + MILLION - 1n) / MILLION);
}

/**
 * The most output tokens a budget pays for on top of a prompt, or undefined when output is free.
 * costOf(price, {prompt, result}) <= budget holds for the returned value, and fails for result + 1.
 */
export function affordableOutputTokens(
  price: ModelPrice,
  promptTokens: number,
  budget: Micros,
): number | undefined {
  if (price.outputMicrosPerMillion === 0) return undefined;
  const room = BigInt(budget) * MILLION - BigInt(promptTokens) * BigInt(price.inputMicrosPerMillion);
  if (room < 0n) return -1;
  return Number(room / BigInt(price.outputMicrosPerMillion));
}
