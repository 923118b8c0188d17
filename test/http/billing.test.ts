import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectedCharge, type Harness, startHarness } from '../support/harness.js';

/**
 * Prepaid billing through the HTTP layer: a hold for the worst case before the upstream is called,
 * the exact cost from the upstream's usage afterwards, and a ledger that always sums to the balance.
 * The test model costs 1 micro-USD per input token and 1000 per output token.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const hi = [{ role: 'user', content: 'Hi there' }];

function chat(key: string, body: Record<string, unknown>) {
  return h.tollgate.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: bearer(key),
    payload: { model: 'deepseek/deepseek-v4-flash', messages: hi, ...body },
  });
}

async function balanceCents(key: string): Promise<unknown> {
  const response = await h.tollgate.app.inject({ method: 'GET', url: '/v1/balance', headers: bearer(key) });
  return response.json();
}

describe('prepaid credits', () => {
  it('reports the balance as {"balance_usd_cents": N} and nothing else', async () => {
    const user = await h.seed({ usd: '5.00' });
    expect(await balanceCents(user.key)).toEqual({ balance_usd_cents: 500 });
  });

  it('answers 402 insufficient_quota before the model runs when there is no balance', async () => {
    const user = await h.seed({ usd: '0' });
    const before = h.upstream.received.length;
    const response = await chat(user.key, {});
    expect(response.statusCode).toBe(402);
    expect(response.json()).toMatchObject({
      error: { code: 'insufficient_quota', type: 'insufficient_quota' },
    });
    expect(h.upstream.received.length).toBe(before);
  });

  it('charges exactly what the upstream reported, and the ledger sums to the balance', async () => {
    const user = await h.seed({ usd: '1' });
    const usagesBefore = h.upstream.usages.length;
    const response = await chat(user.key, { max_tokens: 50 });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      usage: { completion_tokens: number };
      choices: { message: { content: string } }[];
    };
    expect(body.usage.completion_tokens).toBe(12);
    const charge = expectedCharge(h.upstream.usages.slice(usagesBefore));
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger).toEqual({
      sum: 1_000_000 - charge,
      balance: 1_000_000 - charge,
      settled: charge,
      openHolds: 0,
    });
    expect(charge).toBeGreaterThan(12_000);
  });

  it('writes each request as a hold, a settlement and a release, in that order, request after request', async () => {
    const user = await h.seed({ usd: '1' });
    const usagesBefore = h.upstream.usages.length;
    // Concurrent, so that their entries are written in one commit.
    const responses = await Promise.all([10, 20, 30].map((max) => chat(user.key, { max_tokens: max })));
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const entries = await h.tollgate.services.ledger.entries(user.accountId);
    expect(entries[0]).toMatchObject({ kind: 'credit', amount: 1_000_000 });
    const requests = entries.slice(1);
    expect(requests).toHaveLength(9);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (let i = 0; i < requests.length; i += 3) {
      const [hold, settle, release] = requests.slice(i, i + 3);
      expect([hold?.kind, settle?.kind, release?.kind]).toEqual(['hold', 'settle', 'release']);
      expect(new Set([hold?.holdId, settle?.holdId, release?.holdId]).size).toBe(1);
      expect(hold?.amount).toBeLessThan(0);
      expect(release?.amount).toBe(-(hold?.amount ?? 0));
      expect(settle?.amount).toBeLessThan(0);
      expect(settle?.amount).toBeGreaterThanOrEqual(hold?.amount ?? 0);
      expect(hold?.keyId).toBe(user.keyId);
      expect(settle?.periodAt).toBe(hold?.createdAt);
    }
    const charged = -requests.filter((e) => e.kind === 'settle').reduce((total, e) => total + e.amount, 0);
    expect(charged).toBe(expectedCharge(h.upstream.usages.slice(usagesBefore)));
  });

  it('refuses a max_tokens the balance cannot pay for, saying how many tokens it affords', async () => {
    const user = await h.seed({ usd: '0.05' });
    const before = h.upstream.received.length;
    const response = await chat(user.key, { max_tokens: 900 });
    expect(response.statusCode).toBe(402);
    const { error } = response.json() as { error: { message: string; param: string; code: string } };
    expect(error.code).toBe('insufficient_quota');
    expect(error.param).toBe('max_tokens');
    // $0.05 is 50,000 micro-USD: the prompt's ceiling takes a little, output costs 1,000 a token.
    expect(error.message).toMatch(/affords at most 49 output tokens/);
    expect(h.upstream.received.length).toBe(before);
  });

  it('clamps a request without max_tokens to what the balance affords, and sends that limit upstream', async () => {
    const user = await h.seed({ usd: '0.005' });
    const response = await chat(user.key, {});
    expect(response.statusCode).toBe(200);
    const sent = h.upstream.received.at(-1)?.body;
    expect(sent?.max_tokens).toBe(4);
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.balance).toBeGreaterThanOrEqual(0);
    expect(ledger.sum).toBe(ledger.balance);
    expect(ledger.settled).toBe(expectedCharge(h.upstream.usages.slice(-1)));
  });

  it('bounds max_completion_tokens the same way for newer clients, sent in the field the provider reads', async () => {
    const user = await h.seed({ usd: '1' });
    const response = await chat(user.key, { max_completion_tokens: 3 });
    expect(response.statusCode).toBe(200);
    const sent = h.upstream.received.at(-1)?.body;
    expect(sent?.max_tokens).toBe(3);
    expect(sent?.max_completion_tokens).toBeUndefined();
  });

  it('charges an estimate, never $0, when the upstream reports no usage', async () => {
    const user = await h.seed({ usd: '1' });
    h.upstream.options = { omitUsage: true };
    try {
      const response = await chat(user.key, {});
      expect(response.statusCode).toBe(200);
    } finally {
      h.upstream.options = {};
    }
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBeGreaterThan(0);
    expect(ledger.sum).toBe(ledger.balance);
  });
});

describe('streaming', () => {
  function events(body: string): string[] {
    return body
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
  }

  it('always asks the upstream for usage but relays the usage chunk only to a client that asked', async () => {
    const user = await h.seed({ usd: '1' });
    const response = await chat(user.key, { stream: true });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(response.headers['x-request-id']).toMatch(/^req_/);
    expect(h.upstream.received.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    const relayed = events(response.body);
    expect(relayed.at(-1)).toBe('[DONE]');
    expect(relayed.some((e) => e.includes('"usage":{'))).toBe(false);
    // The ledger holds the charge as soon as the client has seen [DONE].
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(expectedCharge(h.upstream.usages.slice(-1)));
    expect(ledger.openHolds).toBe(0);
  });

  it('relays the usage chunk to a client that set stream_options.include_usage', async () => {
    const user = await h.seed({ usd: '1' });
    const response = await chat(user.key, { stream: true, stream_options: { include_usage: true } });
    const relayed = events(response.body);
    const usageChunk = relayed.find((e) => e.includes('"usage":{'));
    expect(usageChunk && JSON.parse(usageChunk)).toMatchObject({
      choices: [],
      usage: { completion_tokens: 12 },
    });
    expect(relayed.filter((e) => e.includes('"content":"tok')).length).toBe(12);
  });
});
