import { describe, expect, it } from 'vitest';
import {
  affordableOutputTokens,
  costOf,
  dearestPromptPrice,
  type ModelPrice,
  multipliedPrice,
  promptParts,
} from './pricing.js';

/** A small deterministic generator, so that the property checks below are reproducible. */
function seeded(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

const flash: ModelPrice = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 };

describe('costOf', () => {
  it('charges exact amounts when the tokens come to whole micro-USD', () => {
    expect(costOf(flash, { promptTokens: 1_000_000, completionTokens: 0 })).toBe(270_000);
    expect(costOf(flash, { promptTokens: 0, completionTokens: 1_000_000 })).toBe(1_100_000);
    expect(costOf(flash, { promptTokens: 100, completionTokens: 10 })).toBe(27 + 11);
  });

  it('costs nothing for no tokens', () => {
    expect(costOf(flash, { promptTokens: 0, completionTokens: 0 })).toBe(0);
  });

  it('rounds a fraction of a micro-USD up to the next micro-USD', () => {
    // One prompt token costs 0.27 micro-USD.
    expect(costOf(flash, { promptTokens: 1, completionTokens: 0 })).toBe(1);
    // 3 * 0.27 + 1 * 1.1 = 1.91 micro-USD.
    expect(costOf(flash, { promptTokens: 3, completionTokens: 1 })).toBe(2);
  });

  it('rounds the total, not each side separately', () => {
    // 0.27 + 0.73 = 1.00 exactly: separate rounding would charge 2.
    const price: ModelPrice = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 730_000 };
    expect(costOf(price, { promptTokens: 1, completionTokens: 1 })).toBe(1);
  });

  it('is exact for products far above 2^53', () => {
    const expensive: ModelPrice = {
      inputMicrosPerMillion: 1_000_000_000_000,
      outputMicrosPerMillion: 999_999_999_999,
    };
    // 10^7 * 10^12 = 10^19 is far beyond Number.MAX_SAFE_INTEGER.
    expect(costOf(expensive, { promptTokens: 10_000_000, completionTokens: 0 })).toBe(10_000_000_000_000);
    // 10_000_001 * 999_999_999_999 = 10_000_000_999_989_999_999; divided by 10^6 and rounded up.
    expect(costOf(expensive, { promptTokens: 0, completionTokens: 10_000_001 })).toBe(10_000_000_999_990);
  });

  it('is free for a free model', () => {
    const free: ModelPrice = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 0 };
    expect(costOf(free, { promptTokens: 123_456, completionTokens: 654_321 })).toBe(0);
  });
});

describe('affordableOutputTokens', () => {
  it('returns the most output tokens the budget pays for on top of the prompt', () => {
    // 1000 prompt tokens cost 270 micro-USD; 1000 - 270 = 730 micro-USD buys 663 output tokens at 1.1.
    expect(affordableOutputTokens(flash, 1000, 1000)).toBe(663);
    expect(costOf(flash, { promptTokens: 1000, completionTokens: 663 })).toBeLessThanOrEqual(1000);
    expect(costOf(flash, { promptTokens: 1000, completionTokens: 664 })).toBeGreaterThan(1000);
  });

  it('lets rounding up of a partial micro-USD use the whole budget', () => {
    // One prompt token (0.27) plus n output tokens (1.1 each) within 2 micro-USD: n = 1 (1.37 -> 2).
    expect(affordableOutputTokens(flash, 1, 2)).toBe(1);
  });

  it('returns undefined when output is free, whatever the budget', () => {
    const freeOutput: ModelPrice = { inputMicrosPerMillion: 500_000, outputMicrosPerMillion: 0 };
    expect(affordableOutputTokens(freeOutput, 1000, 0)).toBeUndefined();
    expect(affordableOutputTokens(freeOutput, 1000, 1_000_000)).toBeUndefined();
  });

  it('affords no output when the budget exactly pays for the prompt', () => {
    expect(affordableOutputTokens(flash, 1_000_000, 270_000)).toBe(0);
  });

  it('reports a negative count when the prompt alone is over budget', () => {
    const result = affordableOutputTokens(flash, 1_000_000, 269_999);
    expect(result).toBeLessThan(0);
  });

  it('affords output on a budget for a model whose input is free', () => {
    const freeInput: ModelPrice = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 2_000_000 };
    expect(affordableOutputTokens(freeInput, 10_000_000, 10)).toBe(5);
  });

  it('satisfies cost(result) <= budget < cost(result + 1) for many prices, prompts and budgets', () => {
    const next = seeded(20_260_101);
    for (let round = 0; round < 5_000; round++) {
      const price: ModelPrice = {
        inputMicrosPerMillion: next(3) === 0 ? 0 : next(100_000_000),
        outputMicrosPerMillion: 1 + next(200_000_000),
      };
      const promptTokens = next(2_000_000);
      const budget = next(10) === 0 ? next(100) : next(2_000_000_000);
      const result = affordableOutputTokens(price, promptTokens, budget);
      expect(result).toBeDefined();
      if (result === undefined) continue;
      if (result < 0) {
        // Not even the prompt fits.
        expect(costOf(price, { promptTokens, completionTokens: 0 })).toBeGreaterThan(budget);
        continue;
      }
      expect(costOf(price, { promptTokens, completionTokens: result })).toBeLessThanOrEqual(budget);
      expect(costOf(price, { promptTokens, completionTokens: result + 1 })).toBeGreaterThan(budget);
    }
  });
});

describe('prompt tokens the provider cached', () => {
  // Claude-like: $3 input, writes at 1.25x ($3.75), reads at 0.1x ($0.30), $15 output.
  const claude: ModelPrice = {
    inputMicrosPerMillion: 3_000_000,
    outputMicrosPerMillion: 15_000_000,
    cacheWriteMicrosPerMillion: 3_750_000,
    cacheReadMicrosPerMillion: 300_000,
  };

  it('are charged at their own rates, and the rest of the prompt at the input price', () => {
    // 1000 uncached * 3 + 2000 written * 3.75 + 10000 read * 0.3 + 100 out * 15 = 3000 + 7500 + 3000 + 1500.
    const usage = {
      promptTokens: 13_000,
      completionTokens: 100,
      cacheWriteTokens: 2_000,
      cacheReadTokens: 10_000,
    };
    expect(costOf(claude, usage)).toBe(15_000);
  });

  it('round the total up once, not each rate', () => {
    // 1 uncached (3) + 1 read (0.3) + 1 written (3.75) = 7.05 micro-USD: 8, where rounding each would give 3+1+4.
    expect(
      costOf(claude, { promptTokens: 3, completionTokens: 0, cacheReadTokens: 1, cacheWriteTokens: 1 }),
    ).toBe(8);
  });

  it('cost the input price when the model has no cache prices', () => {
    expect(costOf(flash, { promptTokens: 1_000_000, completionTokens: 0, cacheReadTokens: 400_000 })).toBe(
      270_000,
    );
  });

  it('never count for more than the prompt, however many the provider reports', () => {
    expect(
      promptParts({ promptTokens: 10, completionTokens: 0, cacheReadTokens: 8, cacheWriteTokens: 5 }),
    ).toEqual({
      uncached: 0,
      read: 8,
      write: 2,
    });
  });

  it('are exact far above 2^53', () => {
    const huge: ModelPrice = { ...claude, cacheWriteMicrosPerMillion: 999_999_999_999 };
    // 10_000_001 * 999_999_999_999 / 10^6, rounded up, plus nothing else.
    expect(
      costOf(huge, { promptTokens: 10_000_001, completionTokens: 0, cacheWriteTokens: 10_000_001 }),
    ).toBe(10_000_000_999_990);
  });

  it('never cost more than the same prompt at the dearest prompt rate, which is what a hold charges', () => {
    const next = seeded(7);
    const hold: ModelPrice = {
      inputMicrosPerMillion: dearestPromptPrice(claude),
      outputMicrosPerMillion: claude.outputMicrosPerMillion,
    };
    expect(hold.inputMicrosPerMillion).toBe(3_750_000);
    for (let i = 0; i < 2_000; i++) {
      const promptTokens = next(200_000);
      const usage = {
        promptTokens,
        completionTokens: next(10_000),
        cacheReadTokens: next(promptTokens + 1),
        cacheWriteTokens: next(promptTokens + 1),
      };
      expect(costOf(claude, usage)).toBeLessThanOrEqual(
        costOf(hold, { promptTokens, completionTokens: usage.completionTokens }),
      );
    }
  });
});

describe('multipliedPrice', () => {
  it('is exact in ten-thousandths and rounds a fraction of a micro-USD per million up', () => {
    expect(multipliedPrice(3_000_000, 1.25)).toBe(3_750_000);
    expect(multipliedPrice(3_000_000, 0.1)).toBe(300_000);
    expect(multipliedPrice(270_001, 1.25)).toBe(337_502);
    expect(multipliedPrice(1_000_000_000_000, 100)).toBe(100_000_000_000_000);
  });
});
