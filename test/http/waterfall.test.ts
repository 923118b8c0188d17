import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, eventually, type Harness, type SeedOptions, startHarness } from '../support/harness.js';

/**
 * The billing waterfall through the HTTP layer, on a clock the test moves: subscription periods
 * anchored to the day they started, rolling Pro chat windows, per-key limits, and requests in
 * flight across a boundary. The test model costs 1 micro-USD per input token and 1000 per output
 * token; the fake upstream answers max_tokens tokens.
 */
const START = Date.parse('2026-03-10T12:00:00Z');
const clock = { t: START, now: () => clock.t };

const extraYaml = `
plans:
  - id: starter
    kind: inference
    name: Starter
    monthly_budget_usd: 0.05
  - id: pro
    kind: chat
    agent_limits:
      - { window_hours: 5, requests: 3 }
      - { window_hours: 168, usd: 1 }
base_url_aliases:
  - { path: /openai/v1, same_as: /v1 }
  - { path: /agents-alias/v1, same_as: /api/v1/agents }
`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ clock, extraYaml });
});
afterAll(() => h.close());

const hi = [{ role: 'user', content: 'Hi' }];

function chat(key: string, base = '/v1', body: Record<string, unknown> = { max_tokens: 10 }) {
  return h.tollgate.app.inject({
    method: 'POST',
    url: `${base}/chat/completions`,
    headers: bearer(key),
    payload: { model: 'deepseek/deepseek-v4-flash', messages: hi, ...body },
  });
}

async function get(key: string, url: string): Promise<Record<string, unknown>> {
  const response = await h.tollgate.app.inject({ method: 'GET', url, headers: bearer(key) });
  expect(response.statusCode).toBe(200);
  return response.json();
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    param: string | null;
    pool: string;
    resets_at?: string;
    affordable_max_tokens?: number;
  };
}

const subscriptionKey = (overflow = false): SeedOptions => ({
  usd: '1',
  plans: ['starter'],
  spending: { billing: 'subscription', overflow, limit: undefined },
});
const agentKey = (overflow = false): SeedOptions => ({
  usd: '1',
  type: 'chat_agent',
  plans: ['pro'],
  spending: { billing: 'prepaid', overflow, limit: undefined },
});

/** Spends until refused; returns the refusal. */
async function exhaust(key: string, base = '/v1') {
  for (let i = 0; i < 50; i++) {
    const response = await chat(key, base);
    if (response.statusCode !== 200) return response;
  }
  throw new Error('never refused');
}

describe('subscription-backed inference keys', () => {
  it('spend the included budget first and leave prepaid credit alone', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    expect((await chat(user.key)).statusCode).toBe(200);
    const charged = await h.chargedByPool(user.accountId);
    expect(charged.subscription).toBeGreaterThan(10_000);
    expect(charged.prepaid).toBe(0);
    expect((await h.ledgerOf(user.accountId)).balance).toBe(1_000_000);
  });

  it('show the remaining budget and the reset time in /v1/balance, beside the unchanged balance field', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    expect(await get(user.key, '/v1/balance')).toEqual({
      balance_usd_cents: 100,
      subscription: {
        plan: 'starter',
        budget_usd_cents: 5,
        remaining_usd_cents: 5,
        // Anchored to the day the subscription started, 00:00 UTC.
        resets_at: '2026-04-10T00:00:00.000Z',
      },
    });
  });

  it('get 402 naming the subscription pool and its reset when the budget is used up and overflow is off', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    const before = h.upstream.received.length;
    const refused = await exhaust(user.key);
    expect(refused.statusCode).toBe(402);
    const { error } = refused.json() as ErrorBody;
    expect(error).toMatchObject({
      code: 'insufficient_quota',
      pool: 'subscription',
      resets_at: '2026-04-10T00:00:00.000Z',
    });
    expect(error.message).toMatch(/included budget cannot cover this request/);
    expect(error.message).toMatch(/prepaid overflow/);
    const admitted = h.upstream.received.length - before;
    // $0.05 pays for four requests of about $0.01 each, and the fifth is refused before the upstream.
    expect(admitted).toBe(4);
    expect((await h.chargedByPool(user.accountId)).subscription).toBeLessThanOrEqual(50_000);
    expect((await h.ledgerOf(user.accountId)).balance).toBe(1_000_000);
  });

  it('fall back to prepaid credit once the budget is used up when overflow is on', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey(true));
    for (let i = 0; i < 7; i++) expect((await chat(user.key)).statusCode).toBe(200);
    const charged = await h.chargedByPool(user.accountId);
    expect(charged.subscription).toBeGreaterThan(40_000);
    expect(charged.subscription).toBeLessThanOrEqual(50_000);
    expect(charged.prepaid).toBeGreaterThan(20_000);
    expect((await h.ledgerOf(user.accountId)).balance).toBe(1_000_000 - charged.prepaid);
  });

  it('see overflow turned on from their very next request', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    expect((await exhaust(user.key)).statusCode).toBe(402);
    const updated = await h.tollgate.services.keys.updateSpending(user.keyId, { overflow: true });
    expect(updated.ok).toBe(true);
    expect((await chat(user.key)).statusCode).toBe(200);
    expect((await h.chargedByPool(user.accountId)).prepaid).toBeGreaterThan(0);
  });

  it('start a fresh budget exactly at the anchored period boundary', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    await exhaust(user.key);
    clock.t = Date.parse('2026-04-09T23:59:59.999Z');
    expect((await chat(user.key)).statusCode).toBe(402);
    clock.t = Date.parse('2026-04-10T00:00:00.000Z');
    expect((await chat(user.key)).statusCode).toBe(200);
    const balance = (await get(user.key, '/v1/balance')).subscription as {
      remaining_usd_cents: number;
      resets_at: string;
    };
    expect(balance.resets_at).toBe('2026-05-10T00:00:00.000Z');
    expect(balance.remaining_usd_cents).toBe(3); // $0.05 less one request of about $0.01, rounded down
  });

  it('charge a request in flight across the boundary to the period that held it, leaving the new one whole', async () => {
    clock.t = START;
    const user = await h.seed(subscriptionKey());
    h.upstream.options = { firstByteDelayMs: 300 };
    try {
      clock.t = Date.parse('2026-04-09T23:59:59.000Z');
      const received = h.upstream.received.length;
      const inFlight = chat(user.key);
      await eventually(() => h.upstream.received.length > received);
      clock.t = Date.parse('2026-04-10T00:00:01.000Z');
      expect((await inFlight).statusCode).toBe(200);
    } finally {
      h.upstream.options = {};
    }
    const balance = (await get(user.key, '/v1/balance')).subscription as { remaining_usd_cents: number };
    expect(balance.remaining_usd_cents).toBe(5);
    const entries = await h.tollgate.services.ledger.entries(user.accountId);
    const settle = entries.find((e) => e.kind === 'settle' && e.pool === 'subscription');
    expect(settle?.amount).toBeLessThan(0);
    expect(settle?.periodAt).toBeLessThan(Date.parse('2026-04-10T00:00:00Z'));
    expect(settle?.createdAt).toBeGreaterThanOrEqual(Date.parse('2026-04-10T00:00:00Z'));
  });

  it('without a subscription on the account, are refused naming the subscription pool', async () => {
    clock.t = START;
    const user = await h.seed({ ...subscriptionKey(), plans: [] });
    const response = await chat(user.key);
    expect(response.statusCode).toBe(402);
    expect((response.json() as ErrorBody).error.pool).toBe('subscription');
    expect((response.json() as ErrorBody).error.message).toMatch(/has none/);
  });
});

describe('chat-agent keys and the agents API', () => {
  it('work at /api/v1/agents, the legacy /api/chat-agent/v1 and an alias, spending the Pro chat quota', async () => {
    clock.t = START;
    const user = await h.seed(agentKey());
    for (const base of ['/api/v1/agents', '/api/chat-agent/v1', '/agents-alias/v1']) {
      expect((await chat(user.key, base)).statusCode).toBe(200);
      const models = await get(user.key, `${base}/models`);
      expect(models.object).toBe('list');
    }
    const charged = await h.chargedByPool(user.accountId);
    expect(charged.agent_quota).toBeGreaterThan(30_000);
    expect(charged.prepaid).toBe(0);
  });

  it('are refused at /v1 with a message naming the agents base, and inference keys at the agents base name /v1', async () => {
    const agent = await h.seed(agentKey());
    const inference = await h.seed();
    const atV1 = await chat(agent.key, '/v1');
    expect(atV1.statusCode).toBe(401);
    expect((atV1.json() as ErrorBody).error).toMatchObject({ code: 'invalid_api_key' });
    expect((atV1.json() as ErrorBody).error.message).toMatch(/\/api\/v1\/agents/);
    for (const base of ['/api/v1/agents', '/api/chat-agent/v1', '/agents-alias/v1']) {
      const atAgents = await chat(inference.key, base);
      expect(atAgents.statusCode).toBe(401);
      expect((atAgents.json() as ErrorBody).error.message).toMatch(/Use it at \/v1/);
    }
    const atAlias = await chat(agent.key, '/openai/v1');
    expect(atAlias.statusCode).toBe(401);
  });

  it('stop at the rolling request limit and come back exactly when the oldest request leaves the window', async () => {
    clock.t = START;
    const user = await h.seed(agentKey());
    const base = '/api/v1/agents';
    for (let i = 0; i < 3; i++) {
      clock.t = START + i * 60_000;
      expect((await chat(user.key, base)).statusCode).toBe(200);
    }
    const refused = await chat(user.key, base);
    expect(refused.statusCode).toBe(402);
    const { error } = refused.json() as ErrorBody;
    const freesAt = START + 5 * 3_600_000;
    expect(error).toMatchObject({ pool: 'agent_quota', resets_at: new Date(freesAt).toISOString() });
    expect(error.message).toMatch(/3 of 3 requests in the last 5 hours/);
    clock.t = freesAt - 1;
    expect((await chat(user.key, base)).statusCode).toBe(402);
    clock.t = freesAt;
    expect((await chat(user.key, base)).statusCode).toBe(200);
  });

  it('spend prepaid credit only when overflow is on and the Pro agent limits are reached', async () => {
    clock.t = START;
    const user = await h.seed(agentKey(true));
    for (let i = 0; i < 3; i++) expect((await chat(user.key, '/api/v1/agents')).statusCode).toBe(200);
    expect((await h.chargedByPool(user.accountId)).prepaid).toBe(0);
    expect((await chat(user.key, '/api/v1/agents')).statusCode).toBe(200);
    const charged = await h.chargedByPool(user.accountId);
    expect(charged.prepaid).toBeGreaterThan(10_000);
  });

  it('without a Pro chat plan, are refused naming the agent quota', async () => {
    const user = await h.seed({ ...agentKey(), plans: [] });
    const response = await chat(user.key, '/api/v1/agents');
    expect(response.statusCode).toBe(402);
    expect((response.json() as ErrorBody).error.pool).toBe('agent_quota');
  });

  it('show the Pro quota at the agents base balance endpoint', async () => {
    clock.t = START;
    const user = await h.seed(agentKey());
    expect((await chat(user.key, '/api/v1/agents')).statusCode).toBe(200);
    const balance = await get(user.key, '/api/v1/agents/balance');
    expect(balance).toMatchObject({
      balance_usd_cents: 100,
      prepaid_overflow: false,
      agent_quota: {
        plan: 'pro',
        // The 5-hour window counts requests only and has room; the week's USD window is the one
        // that limits, and it frees its spend a week after the request.
        resets_at: new Date(START + 168 * 3_600_000).toISOString(),
        windows: [
          {
            window_hours: 5,
            requests_limit: 3,
            requests_used: 1,
            requests_remaining: 2,
            usd_limit_cents: null,
          },
          { window_hours: 168, requests_limit: null, requests_used: 1, usd_limit_cents: 100 },
        ],
      },
    });
    const [, week] = (balance.agent_quota as { windows: { usd_used_cents: number; frees_at: string }[] })
      .windows;
    expect(week?.usd_used_cents).toBeGreaterThan(0);
    expect(week?.frees_at).toBe(new Date(START + 168 * 3_600_000).toISOString());
  });
});

describe('per-key spend limits', () => {
  it('cap a key per UTC day and reset at midnight, whatever the pool', async () => {
    clock.t = START;
    const user = await h.seed({
      usd: '1',
      spending: { billing: 'prepaid', overflow: false, limit: { micros: 25_000, period: 'day' } },
    });
    const refused = await exhaust(user.key);
    const { error } = refused.json() as ErrorBody;
    expect(error).toMatchObject({ pool: 'key_limit', resets_at: '2026-03-11T00:00:00.000Z' });
    expect((await h.chargedByPool(user.accountId)).prepaid).toBeLessThanOrEqual(25_000);
    clock.t = Date.parse('2026-03-11T00:00:00.000Z');
    expect((await chat(user.key)).statusCode).toBe(200);
  });

  it('clamp a request without max_tokens to what the limit affords, and refuse a max_tokens it cannot pay', async () => {
    clock.t = START;
    const user = await h.seed({
      usd: '1',
      spending: { billing: 'prepaid', overflow: false, limit: { micros: 5_000, period: 'lifetime' } },
    });
    const tooMany = await chat(user.key, '/v1', { max_tokens: 100 });
    expect(tooMany.statusCode).toBe(402);
    const { error } = tooMany.json() as ErrorBody;
    expect(error).toMatchObject({ pool: 'key_limit', param: 'max_tokens' });
    expect(error.affordable_max_tokens).toBeGreaterThan(0);
    expect(error.affordable_max_tokens).toBeLessThan(5);
    expect(error.resets_at).toBeUndefined();
    const received = h.upstream.received.length;
    expect((await chat(user.key, '/v1', {})).statusCode).toBe(200);
    expect((h.upstream.received.at(received)?.body as { max_tokens?: number })?.max_tokens).toBe(
      error.affordable_max_tokens,
    );
  });
});

describe('a key limit changed while the server runs', () => {
  it('still counts every request in flight when widened from a day to the key’s lifetime', async () => {
    clock.t = START;
    const limit = 20_000;
    const user = await h.seed({
      usd: '1',
      spending: { billing: 'prepaid', overflow: false, limit: { micros: limit, period: 'day' } },
    });
    expect((await chat(user.key)).statusCode).toBe(200);
    const changed = await h.tollgate.services.keys.updateSpending(user.keyId, {
      limit: { micros: limit, period: 'lifetime' },
    });
    expect(changed.ok).toBe(true);
    h.upstream.options = { firstByteDelayMs: 100 };
    try {
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => chat(user.key, '/v1', { max_tokens: 4 })),
      );
      const refused = responses.filter((r) => r.statusCode === 402);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect((r.json() as ErrorBody).error.pool).toBe('key_limit');
    } finally {
      h.upstream.options = {};
    }
    expect((await h.chargedByPool(user.accountId)).prepaid).toBeLessThanOrEqual(limit);
  });
});

describe('base URL aliases', () => {
  it('serve the inference API exactly like /v1', async () => {
    const user = await h.seed();
    expect((await chat(user.key, '/openai/v1')).statusCode).toBe(200);
    expect(await get(user.key, '/openai/v1/balance')).toEqual(await get(user.key, '/v1/balance'));
    const unauthenticated = await h.tollgate.app.inject({ method: 'GET', url: '/openai/v1/models' });
    expect(unauthenticated.statusCode).toBe(401);
  });
});

describe('auto top-up', () => {
  it('records exactly one top-up request when concurrent settlements cross the threshold', async () => {
    clock.t = START;
    const user = await h.seed({ usd: '0.10' });
    const set = await h.tollgate.services.accounts.setAutoTopup(user.accountId, {
      thresholdMicros: 80_000,
      amountMicros: 25_000_000,
    });
    expect(set.ok).toBe(true);
    const responses = await Promise.all(Array.from({ length: 5 }, () => chat(user.key)));
    for (const response of responses) expect(response.statusCode).toBe(200);
    expect((await chat(user.key)).statusCode).toBe(200);
    const topups = await h.tollgate.services.accounts.topupRequests(user.accountId);
    expect(topups.ok && topups.value).toMatchObject([{ status: 'pending', amountMicros: 25_000_000 }]);
    if (topups.ok) expect(topups.value[0]?.balanceMicros).toBeLessThan(80_000);
  });

  it('asks for nothing while the balance stays above the threshold, or when turned off', async () => {
    const user = await h.seed({ usd: '1' });
    await h.tollgate.services.accounts.setAutoTopup(user.accountId, {
      thresholdMicros: 500_000,
      amountMicros: 1_000_000,
    });
    expect((await chat(user.key)).statusCode).toBe(200);
    await h.tollgate.services.accounts.setAutoTopup(user.accountId, undefined);
    const other = await h.seed({ usd: '0.02' });
    expect((await chat(other.key)).statusCode).toBe(200);
    for (const account of [user.accountId, other.accountId]) {
      const topups = await h.tollgate.services.accounts.topupRequests(account);
      expect(topups.ok && topups.value).toEqual([]);
    }
  });
});
