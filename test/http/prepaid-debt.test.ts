import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatUsd } from '../../src/domain/money.js';
import { costOf, type ModelPrice } from '../../src/domain/pricing.js';
import {
  bearer,
  expectedCharge,
  type Harness,
  type Seeded,
  startHarness,
  TEST_PRICE,
} from '../support/harness.js';

/**
 * A provider that reports more usage than the hold allowed (a mispriced model, a provider ignoring
 * max_tokens) is charged in full: the excess goes to the pools the hold drew on, prepaid credit
 * below zero if need be. A negative balance is a debt: requests that would draw on prepaid credit
 * are refused, naming it, until credits pay it; a subscription or the Pro chat quota still pays
 * for what it covers. The test model costs 1 micro-USD per input token and 1000 per output token.
 */
const extraYaml = `
plans:
  - id: starter
    kind: inference
    name: Starter
    monthly_budget_usd: 1
  - id: pro
    kind: chat
    agent_limits:
      - { window_hours: 5, requests: 100 }
`;

/** Output tokens the fake reports beyond the ones it sent: 40,000 micro-USD more than held. */
const EXTRA_TOKENS = 40;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ extraYaml });
});
afterAll(() => h.close());
beforeEach(() => {
  h.upstream.options = {};
});

function chat(key: string, body: Record<string, unknown> = { max_tokens: 10 }, base = '/v1') {
  return h.tollgate.app.inject({
    method: 'POST',
    url: `${base}/chat/completions`,
    headers: bearer(key),
    payload: { model: 'deepseek/deepseek-v4-flash', messages: [{ role: 'user', content: 'Hi' }], ...body },
  });
}

async function getJson(key: string, url: string): Promise<Record<string, unknown>> {
  const response = await h.tollgate.app.inject({ method: 'GET', url, headers: bearer(key) });
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** The usage records of the suite's database, read as an auditor would, once everything is committed. */
async function usageRecords(accountId?: string) {
  // Reading the ledger commits whatever is queued or journaled.
  await h.tollgate.services.ledger.entries(accountId ?? '');
  const db = new Database(h.databaseFile, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT request_id, account_id, model, prompt_tokens, completion_tokens, usage_source, cost_micros,
                pools, over_hold, status
           FROM usage_records ${accountId ? 'WHERE account_id = ?' : ''} ORDER BY rowid`,
      )
      .all(...(accountId ? [accountId] : [])) as {
      request_id: string;
      account_id: string;
      model: string;
      prompt_tokens: number;
      completion_tokens: number;
      usage_source: string;
      cost_micros: number;
      pools: string;
      over_hold: number;
      status: number;
    }[];
  } finally {
    db.close();
  }
}

describe('an account a provider over-reports into debt', () => {
  let user: Seeded;
  let charged: number;

  it('is charged all the provider reported, below zero, with the record marked, a warning logged and counted', async () => {
    user = await h.seed({ usd: '0.02', plans: ['starter', 'pro'] });
    h.upstream.options = { extraCompletionTokens: EXTRA_TOKENS };
    const usagesBefore = h.upstream.usages.length;
    const countedBefore = h.tollgate.services.metrics.overHoldSettlements;
    const response = await chat(user.key);
    expect(response.statusCode).toBe(200);
    expect((response.json() as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(
      10 + EXTRA_TOKENS,
    );
    charged = expectedCharge(h.upstream.usages.slice(usagesBefore));
    expect(charged).toBeGreaterThan(20_000);

    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger).toEqual({
      sum: 20_000 - charged,
      balance: 20_000 - charged,
      settled: charged,
      openHolds: 0,
    });
    const [record] = await usageRecords(user.accountId);
    expect(record).toMatchObject({ cost_micros: charged, pools: `{"prepaid":${charged}}`, over_hold: 1 });

    const requestId = response.headers['x-request-id'];
    const warnings = h.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'settlement above its hold: charged the reported cost');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ requestId, reportedMicros: charged, level: 40 });
    expect(warnings[0]?.heldMicros).toBeLessThan(charged);
    expect(JSON.stringify(warnings[0])).not.toContain(user.key);
    expect(h.tollgate.services.metrics.overHoldSettlements).toBe(countedBefore + 1);
  });

  it('shows the debt as a negative balance, rounded toward the debt', async () => {
    const balance = 20_000 - charged;
    const cents = Math.floor(balance / 10_000);
    expect(cents).toBeLessThan(0);
    expect(await getJson(user.key, '/v1/balance')).toMatchObject({ balance_usd_cents: cents });
    const agent = await h.tollgate.services.keys.create(user.accountId, 'agent', 'chat_agent', {
      billing: 'prepaid',
      overflow: false,
      limit: undefined,
    });
    if (!agent.ok) throw new Error(agent.error);
    expect(await getJson(agent.value.key, '/api/v1/agents/balance')).toMatchObject({
      balance_usd_cents: cents,
    });
  });

  it('refuses every request that would draw on prepaid credit, naming the debt, before calling the provider', async () => {
    const received = h.upstream.received.length;
    for (const body of [{ max_tokens: 10 }, {}, { max_tokens: 1 }]) {
      const response = await chat(user.key, body);
      expect(response.statusCode).toBe(402);
      const { error } = response.json() as { error: { code: string; type: string; message: string } };
      expect(error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });
      expect(error.message).toContain(`Your prepaid balance is ${formatUsd(20_000 - charged)}`);
    }
    expect(h.upstream.received.length).toBe(received);
  });

  it('still serves what the subscription or the Pro chat quota pays for in full', async () => {
    const spending = { billing: 'subscription' as const, overflow: true, limit: undefined };
    const subscriptionKey = await h.tollgate.services.keys.create(
      user.accountId,
      'sub',
      'inference',
      spending,
    );
    const agentKey = await h.tollgate.services.keys.create(user.accountId, 'agent2', 'chat_agent', {
      billing: 'prepaid',
      overflow: true,
      limit: undefined,
    });
    if (!subscriptionKey.ok || !agentKey.ok) throw new Error('could not create the keys');
    expect((await chat(subscriptionKey.value.key)).statusCode).toBe(200);
    expect((await chat(agentKey.value.key, { max_tokens: 10 }, '/api/v1/agents')).statusCode).toBe(200);
    const pools = await h.chargedByPool(user.accountId);
    expect(pools.subscription).toBeGreaterThan(10_000);
    expect(pools.agent_quota).toBeGreaterThan(10_000);
    expect(pools.prepaid).toBe(charged);
    // More than the subscription's budget left would need prepaid credit: refused, naming the debt.
    const tooLarge = await chat(subscriptionKey.value.key, { max_tokens: 1_000 });
    expect(tooLarge.statusCode).toBe(402);
    expect((tooLarge.json() as { error: { message: string } }).error.message).toContain(
      `Your prepaid balance is ${formatUsd(20_000 - charged)}`,
    );
  });

  it('pays the debt first from the next credits, and serves again once the balance is above zero', async () => {
    const { accounts } = h.tollgate.services;
    await accounts.addCredits(user.accountId, 10_000, 'a cent');
    expect((await h.ledgerOf(user.accountId)).balance).toBe(30_000 - charged);
    expect((await chat(user.key)).statusCode).toBe(402);
    await accounts.addCredits(user.accountId, 1_000_000, 'a dollar');
    const balance = 1_030_000 - charged;
    expect(await getJson(user.key, '/v1/balance')).toMatchObject({
      balance_usd_cents: Math.floor(balance / 10_000),
    });
    const usagesBefore = h.upstream.usages.length;
    expect((await chat(user.key)).statusCode).toBe(200);
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.balance).toBe(balance - expectedCharge(h.upstream.usages.slice(usagesBefore)));
    expect(ledger.sum).toBe(ledger.balance);
  });
});

describe('pools other than prepaid credit, over-reported', () => {
  it('run a subscription over its budget for the period, leaving prepaid credit it did not hold alone', async () => {
    const user = await h.seed({
      usd: '1',
      plans: ['starter'],
      spending: { billing: 'subscription', overflow: true, limit: undefined },
    });
    // 1,100 output tokens more than sent: about $1.11, more than the whole $1 budget.
    h.upstream.options = { extraCompletionTokens: 1_100 };
    const usagesBefore = h.upstream.usages.length;
    expect((await chat(user.key)).statusCode).toBe(200);
    const cost = expectedCharge(h.upstream.usages.slice(usagesBefore));
    expect(cost).toBeGreaterThan(1_000_000);
    expect(await h.chargedByPool(user.accountId)).toEqual({ prepaid: 0, subscription: cost, agent_quota: 0 });
    expect(await getJson(user.key, '/v1/balance')).toMatchObject({
      balance_usd_cents: 100,
      subscription: { remaining_usd_cents: 0 },
    });
    // The budget is spent for the period: the next request overflows into prepaid credit.
    h.upstream.options = {};
    expect((await chat(user.key)).statusCode).toBe(200);
    expect((await h.chargedByPool(user.accountId)).prepaid).toBeGreaterThan(0);
  });

  it('count the whole charge against a key spend limit', async () => {
    const user = await h.seed({
      usd: '1',
      spending: { billing: 'prepaid', overflow: false, limit: { micros: 50_000, period: 'day' } },
    });
    h.upstream.options = { extraCompletionTokens: 100 };
    expect((await chat(user.key)).statusCode).toBe(200);
    h.upstream.options = {};
    const refused = await chat(user.key, { max_tokens: 1 });
    expect(refused.statusCode).toBe(402);
    const { error } = refused.json() as { error: { pool: string; message: string } };
    expect(error.pool).toBe('key_limit');
    expect(error.message).toContain(
      `${formatUsd((await h.chargedByPool(user.accountId)).prepaid)} of $0.050000`,
    );
  });
});

describe('a streamed answer whose usage chunk reports more than the hold', () => {
  it('is charged in full and marked over its hold', async () => {
    const user = await h.seed({ usd: '1' });
    h.upstream.options = { extraCompletionTokens: EXTRA_TOKENS };
    const usagesBefore = h.upstream.usages.length;
    const response = await chat(user.key, { max_tokens: 10, stream: true });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('data: [DONE]');
    const cost = expectedCharge(h.upstream.usages.slice(usagesBefore));
    expect((await h.ledgerOf(user.accountId)).settled).toBe(cost);
    expect(await usageRecords(user.accountId)).toMatchObject([{ cost_micros: cost, over_hold: 1 }]);
  });
});

describe('an auditor recomputing every usage record of this suite', () => {
  it('finds each cost equal to its tokens times the price of the model that served it', async () => {
    const prices: Record<string, ModelPrice> = {
      'deepseek/deepseek-v4-flash': TEST_PRICE,
      mistral: { inputMicrosPerMillion: 250_000, outputMicrosPerMillion: 250_000 },
    };
    const records = await usageRecords();
    expect(records.filter((r) => r.over_hold === 1).length).toBeGreaterThanOrEqual(2);
    for (const record of records) {
      const price = prices[record.model];
      if (!price) throw new Error(`no price for ${record.model}`);
      const recomputed =
        record.usage_source === 'none'
          ? 0
          : costOf(price, { promptTokens: record.prompt_tokens, completionTokens: record.completion_tokens });
      expect({ request: record.request_id, cost: record.cost_micros }).toEqual({
        request: record.request_id,
        cost: recomputed,
      });
    }
  });
});
