import { describe, expect, it } from 'vitest';
import { planHold } from './hold-plan.js';
import { formatUsd, microsToWholeCents, parseUsd } from './money.js';
import { affordableOutputTokens, costOf } from './pricing.js';

describe('money', () => {
  it('parses decimal USD exactly, without floats', () => {
    expect(parseUsd('5.00')).toBe(5_000_000);
    expect(parseUsd('0.1')).toBe(100_000);
    expect(parseUsd('0.000001')).toBe(1);
    expect(parseUsd('123456789.123456')).toBe(123_456_789_123_456);
    for (const bad of ['', '-1', '1e3', '0.0000001', 'five', '1,00']) expect(parseUsd(bad)).toBeUndefined();
  });

  it('rounds cents down so that no money is shown that is not there', () => {
    expect(microsToWholeCents(4_999_999)).toBe(499);
    expect(microsToWholeCents(5_000_000)).toBe(500);
    expect(formatUsd(1_234_567)).toBe('$1.234567');
  });
});

const price = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 };

describe('pricing', () => {
  it('rounds a cost up to the next micro-USD', () => {
    expect(costOf(price, { promptTokens: 1, completionTokens: 0 })).toBe(1);
    expect(costOf(price, { promptTokens: 1_000_000, completionTokens: 1_000_000 })).toBe(1_370_000);
    expect(costOf(price, { promptTokens: 0, completionTokens: 0 })).toBe(0);
  });

  it('never overflows on huge counts', () => {
    const expensive = { inputMicrosPerMillion: 1_000_000_000, outputMicrosPerMillion: 1_000_000_000 };
    expect(costOf(expensive, { promptTokens: 10_000_000, completionTokens: 10_000_000 })).toBe(
      20_000_000_000,
    );
  });

  it('finds the most output tokens a budget pays for, and not one more', () => {
    for (const budget of [1, 999, 12_345, 1_000_000]) {
      const tokens = affordableOutputTokens(price, 100, budget) ?? 0;
      if (tokens >= 0)
        expect(costOf(price, { promptTokens: 100, completionTokens: tokens })).toBeLessThanOrEqual(budget);
      expect(costOf(price, { promptTokens: 100, completionTokens: tokens + 1 })).toBeGreaterThan(budget);
    }
    expect(
      affordableOutputTokens({ inputMicrosPerMillion: 1, outputMicrosPerMillion: 0 }, 10, 5),
    ).toBeUndefined();
  });
});

describe('hold planning', () => {
  const base = { price, promptTokensCeiling: 100, modelMaxOutputTokens: 4096 };

  it('holds the worst case for the requested max_tokens', () => {
    const plan = planHold({ ...base, requestedMaxTokens: 50, available: 10_000_000 });
    expect(plan).toEqual({
      kind: 'hold',
      maxTokens: 50,
      holdMicros: costOf(price, { promptTokens: 100, completionTokens: 50 }),
    });
  });

  it("uses the model's maximum when the client sets none and the balance allows it", () => {
    expect(planHold({ ...base, requestedMaxTokens: undefined, available: 10_000_000 })).toMatchObject({
      maxTokens: 4096,
    });
  });

  it('clamps to what the balance affords when the client sets none, and the hold then fits the balance', () => {
    const plan = planHold({ ...base, requestedMaxTokens: undefined, available: 1_000 });
    if (plan.kind !== 'hold') throw new Error(plan.kind);
    expect(plan.maxTokens).toBeLessThan(4096);
    expect(plan.holdMicros).toBeLessThanOrEqual(1_000);
  });

  it('refuses an unaffordable max_tokens and says what is affordable', () => {
    expect(planHold({ ...base, requestedMaxTokens: 4000, available: 1_000 })).toEqual({
      kind: 'requested-unaffordable',
      affordableTokens: 884,
    });
  });

  it('refuses when not even the prompt and one output token are covered', () => {
    expect(planHold({ ...base, requestedMaxTokens: undefined, available: 0 })).toEqual({
      kind: 'nothing-affordable',
    });
    expect(planHold({ ...base, requestedMaxTokens: 1, available: 28 })).toEqual({
      kind: 'nothing-affordable',
    });
  });
});
