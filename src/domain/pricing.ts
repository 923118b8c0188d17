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
/** Below this, costOf's number arithmetic is exact (see there). */
const EXACT_LIMIT = 2 ** 50;

function scaledCost(price: ModelPrice, usage: TokenUsage): bigint {
  return (
    BigInt(usage.promptTokens) * BigInt(price.inputMicrosPerMillion) +
    BigInt(usage.completionTokens) * BigInt(price.outputMicrosPerMillion)
  );
}

/** The charge for a usage, rounded up to the next micro-USD so that fractions never leak in the operator's disfavour. */
export function costOf(price: ModelPrice, usage: TokenUsage): Micros {
  // Every request prices its hold and its settlement; plain numbers give the same result as BigInt
  // without allocating, as long as the product is an exact integer below 2^50: the quotient by 10^6
  // is then below 2^30, where a double resolves far finer than the 10^-6 that separates a fraction
  // from the next integer, so Math.ceil cannot round the wrong way. Larger products, and the
  // non-integers that BigInt refuses, take the exact path below.
  const scaledNumber =
    usage.promptTokens * price.inputMicrosPerMillion + usage.completionTokens * price.outputMicrosPerMillion;
  if (
    scaledNumber >= 0 &&
    scaledNumber <= EXACT_LIMIT &&
    Number.isInteger(usage.promptTokens) &&
    Number.isInteger(usage.completionTokens) &&
    Number.isInteger(price.inputMicrosPerMillion) &&
    Number.isInteger(price.outputMicrosPerMillion)
  ) {
    return Math.ceil(scaledNumber / 1_000_000);
  }
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
