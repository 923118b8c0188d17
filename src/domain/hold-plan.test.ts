import { describe, expect, it } from 'vitest';
import { type HoldRequest, planHold } from './hold-plan.js';
import { costOf, type ModelPrice } from './pricing.js';

const flash: ModelPrice = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 };

function request(overrides: Partial<HoldRequest>): HoldRequest {
  return {
    price: flash,
    promptTokensCeiling: 1_000,
    requestedMaxTokens: undefined,
    modelMaxOutputTokens: 8_192,
    generations: 1,
    available: 5_000_000,
    ...overrides,
  };
}

/** A small deterministic generator, so that the property check below is reproducible. */
function seeded(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

describe('planHold', () => {
  it('holds the worst case of the model maximum when the balance is ample and no max_tokens was sent', () => {
    const plan = planHold(request({}));
    expect(plan).toEqual({
      kind: 'hold',
      maxTokens: 8_192,
      holdMicros: costOf(flash, { promptTokens: 1_000, completionTokens: 8_192 }),
    });
  });

  it('holds exactly what the requested max_tokens can cost when it is affordable', () => {
    const plan = planHold(request({ requestedMaxTokens: 100 }));
    expect(plan).toEqual({
      kind: 'hold',
      maxTokens: 100,
      holdMicros: costOf(flash, { promptTokens: 1_000, completionTokens: 100 }),
    });
  });

  it('clamps the output to what the balance affords when the client sent no max_tokens', () => {
    // 1000 prompt tokens cost 270 micro-USD; 1000 micro-USD leaves room for 663 output tokens.
    const plan = planHold(request({ available: 1_000 }));
    expect(plan).toEqual({ kind: 'hold', maxTokens: 663, holdMicros: 1_000 });
  });

  it('refuses a requested max_tokens the balance cannot pay for, and says what it would pay for', () => {
    const plan = planHold(request({ available: 1_000, requestedMaxTokens: 664 }));
    expect(plan).toEqual({ kind: 'requested-unaffordable', affordableTokens: 663 });
  });

  it('accepts a requested max_tokens that uses the balance exactly', () => {
    const plan = planHold(request({ available: 1_000, requestedMaxTokens: 663 }));
    expect(plan).toEqual({ kind: 'hold', maxTokens: 663, holdMicros: 1_000 });
  });

  it('reports nothing affordable when the prompt plus one output token is over the balance', () => {
    // 1000 prompt tokens + 1 output token cost 270 + 1.1 = 271.1, rounded up to 272.
    expect(planHold(request({ available: 271 }))).toEqual({ kind: 'nothing-affordable' });
    expect(planHold(request({ available: 271, requestedMaxTokens: 1 }))).toEqual({
      kind: 'nothing-affordable',
    });
    expect(planHold(request({ available: 272 }))).toEqual({ kind: 'hold', maxTokens: 1, holdMicros: 272 });
  });

  it('reports nothing affordable for an empty or overdrawn balance', () => {
    expect(planHold(request({ available: 0 }))).toEqual({ kind: 'nothing-affordable' });
    expect(planHold(request({ available: -5_000 }))).toEqual({ kind: 'nothing-affordable' });
  });

  it('holds only the prompt for a model whose output is free, up to the model maximum', () => {
    const freeOutput: ModelPrice = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 0 };
    const plan = planHold(request({ price: freeOutput, available: 270 }));
    expect(plan).toEqual({ kind: 'hold', maxTokens: 8_192, holdMicros: 270 });
  });

  it('refuses a model with free output when the balance does not cover the prompt', () => {
    const freeOutput: ModelPrice = { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 0 };
    expect(planHold(request({ price: freeOutput, available: 269 }))).toEqual({ kind: 'nothing-affordable' });
  });

  it('serves a free model with a zero balance and holds nothing', () => {
    const free: ModelPrice = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 0 };
    expect(planHold(request({ price: free, available: 0 }))).toEqual({
      kind: 'hold',
      maxTokens: 8_192,
      holdMicros: 0,
    });
  });

  it('holds the output limit once for each generation of a prompt array', () => {
    // 1000 prompts of max_tokens 400: the provider may write 400 tokens for each of them.
    const plan = planHold(request({ requestedMaxTokens: 400, generations: 1_000, available: 10_000_000 }));
    expect(plan).toEqual({
      kind: 'hold',
      maxTokens: 400,
      holdMicros: costOf(flash, { promptTokens: 1_000, completionTokens: 400_000 }),
    });
  });

  it('shares what the balance affords between the generations, and says how much each may have', () => {
    // 1000 micro-USD leave room for 663 output tokens in all: 331 each for two prompts.
    expect(planHold(request({ available: 1_000, generations: 2 }))).toMatchObject({ maxTokens: 331 });
    expect(planHold(request({ available: 1_000, generations: 2, requestedMaxTokens: 332 }))).toEqual({
      kind: 'requested-unaffordable',
      affordableTokens: 331,
    });
    // Not even one token for each of 700 prompts.
    expect(planHold(request({ available: 1_000, generations: 700 }))).toEqual({ kind: 'nothing-affordable' });
  });

  it('never lets the hold exceed the balance or the output exceed the model maximum', () => {
    const next = seeded(4_242);
    for (let round = 0; round < 5_000; round++) {
      const price: ModelPrice = {
        inputMicrosPerMillion: next(5) === 0 ? 0 : 1 + next(20_000_000),
        outputMicrosPerMillion: next(5) === 0 ? 0 : 1 + next(60_000_000),
      };
      const modelMaxOutputTokens = 1 + next(100_000);
      const hold: HoldRequest = {
        price,
        promptTokensCeiling: next(200_000),
        requestedMaxTokens: next(2) === 0 ? undefined : 1 + next(modelMaxOutputTokens),
        modelMaxOutputTokens,
        generations: next(3) === 0 ? 1 + next(50) : 1,
        available: next(4) === 0 ? next(1_000) : next(50_000_000),
      };
      const plan = planHold(hold);
      if (plan.kind === 'hold') {
        expect(plan.maxTokens).toBeGreaterThanOrEqual(1);
        expect(plan.maxTokens).toBeLessThanOrEqual(modelMaxOutputTokens);
        if (hold.requestedMaxTokens !== undefined) expect(plan.maxTokens).toBe(hold.requestedMaxTokens);
        expect(plan.holdMicros).toBeLessThanOrEqual(hold.available);
        // The hold is the cost of the worst case the upstream may produce.
        expect(plan.holdMicros).toBe(
          costOf(price, {
            promptTokens: hold.promptTokensCeiling,
            completionTokens: plan.maxTokens * hold.generations,
          }),
        );
      } else if (plan.kind === 'requested-unaffordable') {
        expect(hold.requestedMaxTokens).toBeGreaterThan(plan.affordableTokens);
        expect(plan.affordableTokens).toBeGreaterThanOrEqual(1);
        const atLimit = costOf(price, {
          promptTokens: hold.promptTokensCeiling,
          completionTokens: plan.affordableTokens * hold.generations,
        });
        expect(atLimit).toBeLessThanOrEqual(hold.available);
      } else {
        expect(
          costOf(price, { promptTokens: hold.promptTokensCeiling, completionTokens: hold.generations }),
        ).toBeGreaterThan(hold.available);
      }
    }
  });
});
