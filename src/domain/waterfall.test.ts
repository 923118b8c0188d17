import { describe, expect, it } from 'vitest';
import type { Micros } from './money.js';
import { calendarWindow, subscriptionWindow } from './periods.js';
import type { AgentLimit } from './plans.js';
import { costOf, type ModelPrice } from './pricing.js';
import { type PoolUsage, roomOf, type SpendScope } from './spend-scope.js';
import { type PoolRoom, planWaterfall, UNLIMITED, type WaterfallRequest } from './waterfall.js';

/** 1 micro-USD per prompt token and 1000 per output token, so amounts are easy to follow. */
const price: ModelPrice = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 1_000_000_000 };
const PROMPT = 100;

function request(requestedMaxTokens: number | undefined, modelMaxOutputTokens = 1_000): WaterfallRequest {
  return { price, promptTokensCeiling: PROMPT, requestedMaxTokens, modelMaxOutputTokens, generations: 1 };
}

/** What a request of `tokens` output tokens can cost at most. */
const worstCase = (tokens: number): Micros =>
  costOf(price, { promptTokens: PROMPT, completionTokens: tokens });
/** The most output tokens `micros` pays for on top of the prompt. */
const tokensFor = (micros: Micros): number => Math.floor((micros - PROMPT) / 1_000);

const prepaidOnly = (prepaid: Micros): PoolRoom => ({ keyLimit: undefined, primary: undefined, prepaid });
const subscription = (room: Micros, prepaid?: Micros, keyLimit?: Micros): PoolRoom => ({
  keyLimit,
  primary: { pool: 'subscription', room, open: true },
  prepaid,
});

/** A small deterministic generator, so that the property checks below are reproducible. */
function seeded(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

describe('planWaterfall', () => {
  it('holds everything on prepaid credit for a prepaid key', () => {
    expect(planWaterfall(request(10), prepaidOnly(1_000_000))).toEqual({
      kind: 'hold',
      holdMicros: worstCase(10),
      maxTokens: 10,
      parts: [{ pool: 'prepaid', amount: worstCase(10) }],
    });
  });

  it('takes the subscription budget first and the rest from prepaid credit when overflow is on', () => {
    const plan = planWaterfall(request(10), subscription(5_000, 1_000_000));
    expect(plan).toEqual({
      kind: 'hold',
      holdMicros: worstCase(10),
      maxTokens: 10,
      parts: [
        { pool: 'subscription', amount: 5_000 },
        { pool: 'prepaid', amount: worstCase(10) - 5_000 },
      ],
    });
  });

  it('touches no prepaid credit while the subscription budget covers the whole hold', () => {
    const plan = planWaterfall(request(10), subscription(1_000_000, 1_000_000));
    expect(plan).toMatchObject({ kind: 'hold', parts: [{ pool: 'subscription', amount: worstCase(10) }] });
  });

  it('leaves an empty subscription budget out of the parts and holds on prepaid credit alone', () => {
    const plan = planWaterfall(request(10), subscription(0, 1_000_000));
    expect(plan).toMatchObject({ kind: 'hold', parts: [{ pool: 'prepaid', amount: worstCase(10) }] });
  });

  it('refuses naming the subscription when its budget is short and overflow is off', () => {
    const plan = planWaterfall(request(10), subscription(5_000));
    expect(plan).toEqual({
      kind: 'refused',
      exhausted: 'subscription',
      available: 5_000,
      affordableTokens: tokensFor(5_000),
    });
  });

  it('refuses naming the subscription when the budget cannot even pay for the prompt', () => {
    expect(planWaterfall(request(undefined), subscription(PROMPT - 1))).toMatchObject({
      kind: 'refused',
      exhausted: 'subscription',
      affordableTokens: undefined,
    });
  });

  it('refuses naming prepaid credit when the subscription and prepaid credit are both used up', () => {
    expect(planWaterfall(request(10), subscription(0, 0))).toEqual({
      kind: 'refused',
      exhausted: 'prepaid',
      available: 0,
      affordableTokens: undefined,
    });
    expect(planWaterfall(request(undefined), prepaidOnly(0))).toMatchObject({
      kind: 'refused',
      exhausted: 'prepaid',
    });
  });

  it('refuses naming the key limit when the key’s own limit is what binds', () => {
    const plan = planWaterfall(request(10), subscription(1_000_000, 1_000_000, 2_000));
    expect(plan).toEqual({
      kind: 'refused',
      exhausted: 'key_limit',
      available: 2_000,
      affordableTokens: tokensFor(2_000),
    });
  });

  it('names the pools, not the key limit, when the pools have less than the limit allows', () => {
    const plan = planWaterfall(request(10), { keyLimit: 1_000_000, primary: undefined, prepaid: 2_000 });
    expect(plan).toMatchObject({ kind: 'refused', exhausted: 'prepaid', available: 2_000 });
  });

  it('says how many tokens the pools pay for when the requested max_tokens is too many', () => {
    const plan = planWaterfall(request(10), prepaidOnly(worstCase(5)));
    expect(plan).toEqual({
      kind: 'refused',
      exhausted: 'prepaid',
      available: worstCase(5),
      affordableTokens: 5,
    });
  });

  it('counts the subscription and prepaid credit together for what is affordable', () => {
    const plan = planWaterfall(request(10), subscription(3_000, 2_100));
    expect(plan).toMatchObject({ kind: 'refused', exhausted: 'prepaid', affordableTokens: 5 });
  });

  it('clamps a request without max_tokens to what the pools together afford', () => {
    expect(planWaterfall(request(undefined), prepaidOnly(worstCase(5)))).toEqual({
      kind: 'hold',
      holdMicros: worstCase(5),
      maxTokens: 5,
      parts: [{ pool: 'prepaid', amount: worstCase(5) }],
    });
    expect(planWaterfall(request(undefined), subscription(3_000, 2_100))).toEqual({
      kind: 'hold',
      holdMicros: 5_100,
      maxTokens: 5,
      parts: [
        { pool: 'subscription', amount: 3_000 },
        { pool: 'prepaid', amount: 2_100 },
      ],
    });
  });

  it('clamps a request without max_tokens to the key limit when that is lower', () => {
    const plan = planWaterfall(request(undefined), subscription(1_000_000, 1_000_000, worstCase(3)));
    expect(plan).toMatchObject({ kind: 'hold', maxTokens: 3, holdMicros: worstCase(3) });
  });

  it('clamps a request without max_tokens to the model maximum when the pools are ample', () => {
    const plan = planWaterfall(request(undefined, 50), prepaidOnly(1_000_000_000));
    expect(plan).toMatchObject({ kind: 'hold', maxTokens: 50, holdMicros: worstCase(50) });
  });

  it('holds a chat-agent request on the agent quota, and names the quota when it is short', () => {
    const room: PoolRoom = {
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: 2_100, open: true },
      prepaid: undefined,
    };
    expect(planWaterfall(request(2), room)).toEqual({
      kind: 'hold',
      holdMicros: worstCase(2),
      maxTokens: 2,
      parts: [{ pool: 'agent_quota', amount: worstCase(2) }],
    });
    expect(planWaterfall(request(3), room)).toEqual({
      kind: 'refused',
      exhausted: 'agent_quota',
      available: 2_100,
      affordableTokens: 2,
    });
  });

  it('overflows from the agent quota to prepaid credit when overflow is on', () => {
    const room: PoolRoom = {
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: 2_100, open: true },
      prepaid: 9_000,
    };
    expect(planWaterfall(request(3), room)).toMatchObject({
      kind: 'hold',
      parts: [
        { pool: 'agent_quota', amount: 2_100 },
        { pool: 'prepaid', amount: worstCase(3) - 2_100 },
      ],
    });
  });

  it('lets an unlimited quota hold the model maximum without overflowing', () => {
    const room: PoolRoom = {
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: UNLIMITED, open: true },
      prepaid: UNLIMITED,
    };
    expect(planWaterfall(request(undefined), room)).toEqual({
      kind: 'hold',
      holdMicros: worstCase(1_000),
      maxTokens: 1_000,
      parts: [{ pool: 'agent_quota', amount: worstCase(1_000) }],
    });
  });

  it('never holds more than a pool has, more than the key limit, or out of waterfall order', () => {
    const random = seeded(7);
    for (let i = 0; i < 2_000; i++) {
      const pick = (max: number) => (random(4) === 0 ? 0 : random(max));
      const room: PoolRoom = {
        keyLimit: random(3) === 0 ? pick(20_000) : undefined,
        primary: random(3) === 0 ? undefined : { pool: 'subscription', room: pick(20_000), open: true },
        prepaid: random(3) === 0 ? undefined : pick(20_000),
      };
      const requested = random(2) === 0 ? undefined : 1 + random(30);
      const plan = planWaterfall(request(requested), room);
      const label = JSON.stringify({ room, requested });
      if (plan.kind === 'refused') {
        expect(plan.available, label).toBeLessThan(worstCase(requested ?? 1));
        continue;
      }
      const total = plan.parts.reduce((sum, p) => sum + p.amount, 0);
      expect(total, label).toBe(plan.holdMicros);
      expect(plan.holdMicros, label).toBe(worstCase(plan.maxTokens));
      if (requested !== undefined) expect(plan.maxTokens, label).toBe(requested);
      if (room.keyLimit !== undefined) expect(plan.holdMicros, label).toBeLessThanOrEqual(room.keyLimit);
      for (const part of plan.parts) {
        expect(part.amount, label).toBeGreaterThan(0);
        const had = part.pool === 'prepaid' ? room.prepaid : room.primary?.room;
        expect(part.amount, label).toBeLessThanOrEqual(had ?? 0);
      }
      const prepaid = plan.parts.find((p) => p.pool === 'prepaid');
      if (prepaid && room.primary) {
        // Prepaid credit is touched only once the primary pool has given all it has.
        expect(plan.parts[0], label).toEqual({ pool: 'subscription', amount: room.primary.room });
      }
    }
  });
});

describe('roomOf', () => {
  const now = Date.parse('2026-03-04T10:00:00Z');
  const HOUR = 3_600_000;
  const none: PoolUsage = { prepaidAvailable: 0, keySpent: 0, subscriptionSpent: 0, agentWindows: [] };
  const usage = (overrides: Partial<PoolUsage>): PoolUsage => ({ ...none, ...overrides });
  const base = { accountId: 'acct_1', keyId: 'key_1', keyLimit: undefined, primary: undefined };

  function agentScope(limits: readonly AgentLimit[] | undefined, prepaid = false): SpendScope {
    return { ...base, primary: { pool: 'agent_quota', limits }, prepaid };
  }

  it('gives a prepaid key its available balance and nothing else', () => {
    const scope: SpendScope = { ...base, prepaid: true };
    expect(roomOf(scope, usage({ prepaidAvailable: 4_200 }))).toEqual({
      keyLimit: undefined,
      primary: undefined,
      prepaid: 4_200,
    });
  });

  it('gives an overdrawn balance as no room rather than a negative one', () => {
    expect(roomOf({ ...base, prepaid: true }, usage({ prepaidAvailable: -300 })).prepaid).toBe(0);
  });

  it('gives a key without overflow no prepaid credit at all, however much the account has', () => {
    const scope: SpendScope = {
      ...base,
      primary: { pool: 'subscription', period: undefined },
      prepaid: false,
    };
    expect(roomOf(scope, usage({ prepaidAvailable: 1_000_000 })).prepaid).toBeUndefined();
  });

  it('gives the subscription budget minus what was spent this period, never below zero', () => {
    const scope: SpendScope = {
      ...base,
      primary: {
        pool: 'subscription',
        period: { budget: 10_000, window: subscriptionWindow(now - 5 * 24 * HOUR, now) },
      },
      prepaid: true,
    };
    expect(roomOf(scope, usage({ subscriptionSpent: 3_000, prepaidAvailable: 50 }))).toEqual({
      keyLimit: undefined,
      primary: { pool: 'subscription', room: 7_000, open: true },
      prepaid: 50,
    });
    expect(roomOf(scope, usage({ subscriptionSpent: 12_000 })).primary).toEqual({
      pool: 'subscription',
      room: 0,
      open: true,
    });
  });

  it('gives an empty subscription pool to an account without an inference subscription', () => {
    const scope: SpendScope = {
      ...base,
      primary: { pool: 'subscription', period: undefined },
      prepaid: false,
    };
    expect(roomOf(scope, usage({})).primary).toEqual({ pool: 'subscription', room: 0, open: false });
  });

  it('gives the key limit minus what the key spent this period, never below zero', () => {
    const scope: SpendScope = {
      ...base,
      keyLimit: { limit: 5_000, window: calendarWindow('day', now) },
      prepaid: true,
    };
    expect(roomOf(scope, usage({ keySpent: 2_000, prepaidAvailable: 9_000 })).keyLimit).toBe(3_000);
    expect(roomOf(scope, usage({ keySpent: 6_000 })).keyLimit).toBe(0);
  });

  it('gives no agent quota to an account without a Pro chat plan', () => {
    expect(roomOf(agentScope(undefined), usage({})).primary).toEqual({
      pool: 'agent_quota',
      room: 0,
      open: false,
    });
    expect(roomOf(agentScope([]), usage({})).primary).toEqual({ pool: 'agent_quota', room: 0, open: false });
  });

  it('closes the agent quota once any window’s request limit is reached', () => {
    const limits: AgentLimit[] = [
      { windowMs: 5 * HOUR, requests: 10, usd: 1_000_000 },
      { windowMs: 168 * HOUR, requests: 100, usd: undefined },
    ];
    const full = usage({
      agentWindows: [
        { usd: 1_000, requests: 10, oldestAt: now - HOUR },
        { usd: 1_000, requests: 10, oldestAt: now - HOUR },
      ],
    });
    expect(roomOf(agentScope(limits), full).primary).toEqual({ pool: 'agent_quota', room: 0, open: false });
    const weekFull = usage({
      agentWindows: [
        { usd: 0, requests: 0, oldestAt: undefined },
        { usd: 5_000, requests: 100, oldestAt: now - 100 * HOUR },
      ],
    });
    expect(roomOf(agentScope(limits), weekFull).primary).toEqual({
      pool: 'agent_quota',
      room: 0,
      open: false,
    });
  });

  it('does not cap the USD of a request while a request-only limit has room', () => {
    const limits: AgentLimit[] = [{ windowMs: 5 * HOUR, requests: 10, usd: undefined }];
    const room = roomOf(
      agentScope(limits),
      usage({ agentWindows: [{ usd: 50_000_000, requests: 9, oldestAt: now - HOUR }] }),
    );
    expect(room.primary?.room).toBeGreaterThanOrEqual(UNLIMITED);
  });

  it('gives the smallest USD room left across the windows', () => {
    const limits: AgentLimit[] = [
      { windowMs: 5 * HOUR, requests: undefined, usd: 1_000_000 },
      { windowMs: 168 * HOUR, requests: 50, usd: 5_000_000 },
    ];
    const spentInWeek = usage({
      agentWindows: [
        { usd: 400_000, requests: 3, oldestAt: now - HOUR },
        { usd: 4_800_000, requests: 20, oldestAt: now - 100 * HOUR },
      ],
    });
    expect(roomOf(agentScope(limits), spentInWeek).primary).toEqual({
      pool: 'agent_quota',
      room: Math.min(1_000_000 - 400_000, 5_000_000 - 4_800_000),
      open: true,
    });
    const spentInFiveHours = usage({
      agentWindows: [
        { usd: 900_000, requests: 3, oldestAt: now - HOUR },
        { usd: 1_000_000, requests: 20, oldestAt: now - 100 * HOUR },
      ],
    });
    expect(roomOf(agentScope(limits), spentInFiveHours).primary?.room).toBe(100_000);
    const over = usage({
      agentWindows: [
        { usd: 1_200_000, requests: 3, oldestAt: now - HOUR },
        { usd: 1_200_000, requests: 3, oldestAt: now - HOUR },
      ],
    });
    expect(roomOf(agentScope(limits), over).primary?.room).toBe(0);
  });

  it('counts a window the ledger reported nothing for as unused', () => {
    const limits: AgentLimit[] = [{ windowMs: 5 * HOUR, requests: 2, usd: 700 }];
    expect(roomOf(agentScope(limits), usage({ agentWindows: [] })).primary?.room).toBe(700);
  });

  it('lets a chat-agent key with overflow on draw prepaid credit too', () => {
    const limits: AgentLimit[] = [{ windowMs: 5 * HOUR, requests: 2, usd: undefined }];
    expect(
      roomOf(
        agentScope(limits, true),
        usage({ prepaidAvailable: 8_000, agentWindows: [{ usd: 0, requests: 2, oldestAt: now }] }),
      ),
    ).toEqual({
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: 0, open: false },
      prepaid: 8_000,
    });
  });
});

describe('a free model under a Pro plan', () => {
  const free = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 0 };
  const request = {
    price: free,
    promptTokensCeiling: 50,
    requestedMaxTokens: 10,
    modelMaxOutputTokens: 100,
    generations: 1,
  };

  it('still takes part in the agent quota, so that it counts against a request limit', () => {
    const plan = planWaterfall(request, {
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: UNLIMITED, open: true },
      prepaid: undefined,
    });
    expect(plan).toMatchObject({ kind: 'hold', holdMicros: 0, parts: [{ pool: 'agent_quota', amount: 0 }] });
  });

  it('is refused once a request limit is reached, although it costs nothing', () => {
    const plan = planWaterfall(request, {
      keyLimit: undefined,
      primary: { pool: 'agent_quota', room: 0, open: false },
      prepaid: undefined,
    });
    expect(plan).toMatchObject({ kind: 'refused', exhausted: 'agent_quota' });
  });
});

describe('a closed primary pool', () => {
  const closedSubscription = (prepaid: Micros | undefined): PoolRoom => ({
    keyLimit: undefined,
    primary: { pool: 'subscription', room: 0, open: false },
    prepaid,
  });

  it('refuses a subscription key of an account with no subscription, naming the subscription', () => {
    expect(planWaterfall(request(10), closedSubscription(undefined))).toMatchObject({
      kind: 'refused',
      exhausted: 'subscription',
      available: 0,
    });
  });

  it('sends everything to prepaid credit when the key has overflow on', () => {
    expect(planWaterfall(request(10), closedSubscription(1_000_000))).toEqual({
      kind: 'hold',
      holdMicros: worstCase(10),
      maxTokens: 10,
      parts: [{ pool: 'prepaid', amount: worstCase(10) }],
    });
  });

  it('lets a free request through on prepaid overflow once a request limit is reached', () => {
    const free: ModelPrice = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 0 };
    const plan = planWaterfall(
      { ...request(10), price: free },
      { keyLimit: undefined, primary: { pool: 'agent_quota', room: 0, open: false }, prepaid: 0 },
    );
    expect(plan).toMatchObject({ kind: 'hold', holdMicros: 0, maxTokens: 10 });
  });
});
