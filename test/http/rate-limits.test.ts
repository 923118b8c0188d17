import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/**
 * Tiers through the official openai SDK and plain HTTP: the tier issue (403), the three limits
 * (429 with retry-after), and OpenAI's x-ratelimit-* headers on every answer. The clock is the
 * test's, so windows are exact; requests run against the real server on a loopback port.
 */
const TIERS = `
tiers:
  - id: free
    requests_per_minute: 3
    tokens_per_minute: 5000
    models: [flash]
  - id: pro
    requests_per_minute: 1000
    tokens_per_minute: 1000000
    concurrent_requests: 1
  - id: tiny
    tokens_per_minute: 500
default_tier: free
plans:
  - id: team
    kind: inference
    monthly_budget_usd: 10
    tier: pro
  - id: agents
    kind: chat
    agent_limits: [{ window_hours: 5, requests: 100 }]
    tier: pro
`;

let h: Harness;
let now = Date.parse('2026-12-01T08:00:00Z');
const clock = { now: () => now };

beforeAll(async () => {
  h = await startHarness({ extraYaml: TIERS, clock });
  await h.listen();
});
afterAll(() => h?.close());
beforeEach(() => {
  h.upstream.options = {};
});

function client(apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
}

const ask = (apiKey: string, model = 'flash', extra: Record<string, unknown> = {}) =>
  client(apiKey)
    .chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 100,
      ...extra,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .withResponse();

async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

function limitHeaders(headers: Headers): Record<string, string | null> {
  const names = ['limit', 'remaining', 'reset'].flatMap((k) => [
    `x-ratelimit-${k}-requests`,
    `x-ratelimit-${k}-tokens`,
  ]);
  return Object.fromEntries(names.map((n) => [n, headers.get(n)]));
}

describe('the tier issue', () => {
  it('refuses a model outside the tier with 403 model_not_in_tier naming the tier, with the limit headers', async () => {
    const user = await h.seed();
    const error = await refusal(ask(user.key, 'mistral'));
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('model_not_in_tier');
    expect(error.type).toBe('permission_error');
    expect(error.message).toContain("The model 'mistral' is not available on the 'free' tier");
    expect(error.headers?.get('x-ratelimit-limit-requests')).toBe('3');
    expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('3');
    expect(h.upstream.received.filter((r) => r.body.model === 'fake-mistral')).toHaveLength(0);
  });

  it('lists only the models the tier allows, and refuses the others by id', async () => {
    const free = await h.seed();
    const ids: string[] = [];
    for await (const model of client(free.key).models.list()) ids.push(model.id);
    expect(ids).toEqual(['deepseek/deepseek-v4-flash']);
    const error = await refusal(client(free.key).models.retrieve('mistral'));
    expect(error.code).toBe('model_not_in_tier');

    const pro = await h.seed();
    await h.tollgate.services.tiers.set(pro.accountId, 'pro');
    const all: string[] = [];
    for await (const model of client(pro.key).models.list()) all.push(model.id);
    expect(all).toEqual(['deepseek/deepseek-v4-flash', 'mistral']);
  });

  it("gives a plan's tier while subscribed, and the account's own tier wins over it", async () => {
    const user = await h.seed({ plans: ['team'] });
    const onPlan = await ask(user.key, 'mistral');
    expect(onPlan.response.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    await h.tollgate.services.tiers.set(user.accountId, 'free');
    expect((await refusal(ask(user.key, 'mistral'))).code).toBe('model_not_in_tier');
    await h.tollgate.services.tiers.set(user.accountId, 'none');
    expect((await ask(user.key, 'mistral')).response.status).toBe(200);
  });
});

describe('the agents API', () => {
  it("runs a chat-agent key under its chat plan's tier, and refuses outside the default tier in the same envelope", async () => {
    const post = (key: string, model: string) =>
      fetch(`${h.baseUrl}/api/v1/agents/chat/completions`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
      });
    const subscribed = await h.seed({ type: 'chat_agent', plans: ['agents'] });
    const served = await post(subscribed.key, 'mistral');
    await served.arrayBuffer();
    expect(served.status).toBe(200);
    expect(served.headers.get('x-ratelimit-limit-requests')).toBe('1000');

    const unsubscribed = await h.seed({ type: 'chat_agent' });
    const refused = await post(unsubscribed.key, 'mistral');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: {
        message:
          "The model 'mistral' is not available on the 'free' tier. Check your account status and subscription tier in the dashboard.",
        type: 'permission_error',
        code: 'model_not_in_tier',
        param: 'model',
      },
    });
  });
});

describe('requests per minute', () => {
  it('admits the limit, then answers 429 rate_limit_exceeded with retry-after, and admits again once the window refills', async () => {
    const user = await h.seed();
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await ask(user.key);
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const error = await refusal(ask(user.key));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
    expect(error.message).toContain("on the 'free' tier for requests per minute (RPM): Limit 3, Used 3");
    // One request every 20 s refills a limit of 3 a minute.
    expect(error.headers?.get('retry-after')).toBe('20');
    expect(error.headers?.get('x-ratelimit-reset-requests')).toBe('1m0s');
    expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('0');

    now += 20_000;
    const { response } = await ask(user.key);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-reset-requests')).toBe('1m0s');
    now += 60_000;
  });

  it('counts every key of the account together', async () => {
    const user = await h.seed();
    const second = await h.tollgate.services.keys.create(user.accountId, 'second', 'inference', {
      billing: 'prepaid',
      overflow: false,
      limit: undefined,
    });
    if (!second.ok) throw new Error(second.error);
    await ask(user.key);
    await ask(second.value.key);
    await ask(user.key);
    expect((await refusal(ask(second.value.key))).status).toBe(429);
    now += 60_000;
  });
});

describe('tokens per minute', () => {
  it('counts the ceiling at admission and the real tokens once the request has settled', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'pro');
    const first = await ask(user.key);
    const afterFirst = Number(first.response.headers.get('x-ratelimit-remaining-tokens'));
    const ceiling = 1_000_000 - afterFirst;
    expect(ceiling).toBeGreaterThan(100);
    const used = first.data.usage?.total_tokens ?? 0;
    expect(used).toBeLessThan(ceiling);
    const second = await ask(user.key);
    // The first request's ceiling was given back down to what it used; the second counts its own.
    expect(Number(second.response.headers.get('x-ratelimit-remaining-tokens'))).toBe(
      1_000_000 - used - ceiling,
    );
    expect(second.response.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
    now += 60_000;
  });

  it('refuses a request whose ceiling is over the whole limit, telling SDKs not to retry', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'tiny');
    const error = await refusal(ask(user.key, 'flash', { max_tokens: 900 }));
    expect(error.status).toBe(429);
    expect(error.type).toBe('tokens');
    expect(error.message).toContain('Request too large');
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(error.headers?.get('retry-after')).toBeNull();
    // Requests-per-minute is not limited on this tier: only the token headers are sent.
    expect(limitHeaders(error.headers as Headers)).toMatchObject({
      'x-ratelimit-limit-requests': null,
      'x-ratelimit-limit-tokens': '500',
      'x-ratelimit-remaining-tokens': '500',
      'x-ratelimit-reset-tokens': '0s',
    });
  });

  it('is not retried by the openai SDK, which reads x-should-retry', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'tiny');
    const retrying = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 2 });
    const error = await refusal(
      retrying.chat.completions.create({
        model: 'flash',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 900,
      }),
    );
    expect(error.status).toBe(429);
    const answered = h.logs.filter((line) => line.includes(user.keyId) && line.includes('"status":429'));
    expect(answered).toHaveLength(1);
  });

  it('gives back every token of a request the upstream failed', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'tiny');
    h.upstream.options = { failStatus: 500 };
    const error = await refusal(ask(user.key, 'flash', { max_tokens: 50 }));
    expect(error.status).toBe(502);
    expect(Number(error.headers?.get('x-ratelimit-remaining-tokens'))).toBeLessThan(500);
    h.upstream.options = {};
    const { response } = await ask(user.key, 'flash', { max_tokens: 50 });
    const ceiling = 500 - Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(Number(error.headers?.get('x-ratelimit-remaining-tokens'))).toBe(500 - ceiling);
    now += 60_000;
  });
});

describe('concurrent requests', () => {
  it('refuses a second request while one streams, sends the headers with the first byte, and frees the place when the stream ends', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'pro');
    h.upstream.options = { chunkIntervalMs: 30, replyTokens: 10 };
    const streamed = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    expect(streamed.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    expect(streamed.headers.get('x-ratelimit-remaining-requests')).toBe('999');
    expect(streamed.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+ms$/);

    const error = await refusal(ask(user.key, 'mistral'));
    expect(error.status).toBe(429);
    expect(error.message).toContain("Too many requests in flight on the 'pro' tier: limit 1 concurrent");
    expect(error.headers?.get('retry-after')).toBe('1');

    await streamed.text();
    h.upstream.options = {};
    expect((await ask(user.key, 'mistral')).response.status).toBe(200);
  });

  it('frees the place of a request whose client went away mid-stream', async () => {
    const user = await h.seed();
    await h.tollgate.services.tiers.set(user.accountId, 'pro');
    h.upstream.options = { chunkIntervalMs: 50, replyTokens: 40 };
    const controller = new AbortController();
    const streamed = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      signal: controller.signal,
    });
    expect(streamed.status).toBe(200);
    controller.abort();
    h.upstream.options = {};
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = await ask(user.key, 'mistral').then(
        ({ response }) => response.status,
        (error: InstanceType<typeof OpenAI.APIError>) => error.status ?? 0,
      );
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
  });
});

describe('headers on every answer', () => {
  it('sends them on a 400 refused before admission, taking nothing', async () => {
    const user = await h.seed();
    const response = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flash' }),
    });
    expect(response.status).toBe(400);
    expect(limitHeaders(response.headers)).toEqual({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-limit-tokens': '5000',
      'x-ratelimit-remaining-requests': '3',
      'x-ratelimit-remaining-tokens': '5000',
      'x-ratelimit-reset-requests': '0s',
      'x-ratelimit-reset-tokens': '0s',
    });
  });

  it('sends them on embeddings', async () => {
    const user = await h.seed();
    const { response } = await client(user.key)
      .embeddings.create({ model: 'flash', input: 'hello' })
      .withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('2');
  });
});
