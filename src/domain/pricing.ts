import type { Micros } from './money.js';

/**
 * Prices are kept as integer micro-USD per million tokens: "$0.27 per million" is 270_000.
 * Token counts times these prices can pass 2^53, so the products are taken in BigInt.
 */
export interface ModelPrice {
  readonly inputMicrosPerMillion: number;
  readonly outputMicrosPerMillion: number;
  /** Prompt tokens read from the provider's cache; the input price when absent. */
  readonly cacheReadMicrosPerMillion?: number;
  /** Prompt tokens written to the provider's cache; the input price when absent. */
  readonly cacheWriteMicrosPerMillion?: number;
}

/**
 * Tokens as the provider reported them. `promptTokens` counts the whole prompt, as OpenAI's
 * `prompt_tokens` does; the cache reads and writes are the parts of it that the provider bills at
 * other rates. Uncached prompt tokens are what remains.
 */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
}

/** A usage, with its cache parts only when there are any. */
export function tokenUsage(
  promptTokens: number,
  completionTokens: number,
  cacheReadTokens = 0,
  cacheWriteTokens = 0,
): TokenUsage {
  if (!cacheReadTokens && !cacheWriteTokens) return { promptTokens, completionTokens };
  return {
    promptTokens,
    completionTokens,
    ...(cacheReadTokens ? { cacheReadTokens } : {}),
    ...(cacheWriteTokens ? { cacheWriteTokens } : {}),
  };
}

/**
 * The prompt split into its three rates. A provider that reports more cached tokens than prompt
 * tokens is taken at its prompt count: the cache reads come first, then the writes, each bounded by
 * what is left, so that the parts always add up to the prompt.
 */
export function promptParts(usage: TokenUsage): { uncached: number; read: number; write: number } {
  const prompt = usage.promptTokens;
  const read = Math.min(usage.cacheReadTokens ?? 0, prompt);
  const write = Math.min(usage.cacheWriteTokens ?? 0, prompt - read);
  return { uncached: prompt - read - write, read, write };
}

const MILLION = 1_000_000n;
/** Below this, costOf's number arithmetic is exact (see there). */
const EXACT_LIMIT = 2 ** 50;

function scaledCost(price: ModelPrice, usage: TokenUsage): bigint {
  const { uncached, read, write } = promptParts(usage);
  return (
    BigInt(uncached) * BigInt(price.inputMicrosPerMillion) +
    BigInt(read) * BigInt(price.cacheReadMicrosPerMillion ?? price.inputMicrosPerMillion) +
    BigInt(write) * BigInt(price.cacheWriteMicrosPerMillion ?? price.inputMicrosPerMillion) +
    BigInt(usage.completionTokens) * BigInt(price.outputMicrosPerMillion)
  );
}

/** The charge for a usage, rounded up to the next micro-USD so that fractions never leak in the operator's disfavour. */
export function costOf(price: ModelPrice, usage: TokenUsage): Micros {
  if (usage.cacheReadTokens || usage.cacheWriteTokens) return cachedCostOf(price, usage);
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

/** costOf for a usage with cache reads or writes: four rates instead of two, the same rounding. */
function cachedCostOf(price: ModelPrice, usage: TokenUsage): Micros {
  const { uncached, read, write } = promptParts(usage);
  const readPrice = price.cacheReadMicrosPerMillion ?? price.inputMicrosPerMillion;
  const writePrice = price.cacheWriteMicrosPerMillion ?? price.inputMicrosPerMillion;
  // Every term is non-negative, so a sum within 2^50 has every term and partial sum within it too.
  const scaledNumber =
    uncached * price.inputMicrosPerMillion +
    read * readPrice +
    write * writePrice +
    usage.completionTokens * price.outputMicrosPerMillion;
  if (
    scaledNumber >= 0 &&
    scaledNumber <= EXACT_LIMIT &&
    [uncached, read, write, usage.completionTokens].every(Number.isInteger) &&
    [price.inputMicrosPerMillion, readPrice, writePrice, price.outputMicrosPerMillion].every(Number.isInteger)
  ) {
    return Math.ceil(scaledNumber / 1_000_000);
  }
  return Number((scaledCost(price, usage) + MILLION - 1n) / MILLION);
}

/**
 * A price times a multiplier of at most four decimals (1.25, 0.1), rounded up to a whole micro-USD
 * per million tokens. Exact: the product is taken in ten-thousandths, in BigInt.
 */
export function multipliedPrice(microsPerMillion: number, multiplier: number): number {
  const tenThousandths = BigInt(Math.round(multiplier * 10_000));
  return Number((BigInt(microsPerMillion) * tenThousandths + 9_999n) / 10_000n);
}

/**
 * The dearest rate any prompt token can be charged at: what a hold prices every prompt token at,
 * so that no mix of cache reads and writes can cost more than it.
 */
export function dearestPromptPrice(price: ModelPrice): number {
  return Math.max(
    price.inputMicrosPerMillion,
    price.cacheReadMicrosPerMillion ?? 0,
    price.cacheWriteMicrosPerMillion ?? 0,
  );
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
