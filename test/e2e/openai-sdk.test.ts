import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCharge, type Harness, type Seeded, startHarness } from '../support/harness.js';

/** The real server on a loopback port, driven by the official `openai` SDK as a user's code would. */
let h: Harness;
let user: Seeded;

beforeAll(async () => {
  h = await startHarness();
  await h.listen();
  user = await h.seed({ usd: '5.00' });
});
afterAll(() => h.close());

function client(apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
}

describe('the official openai SDK against Tollgate', () => {
  it('gets a chat completion with usage', async () => {
    const completion = await client(user.key).chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.choices[0]?.message.content).toContain('tok0');
    expect(completion.usage?.completion_tokens).toBe(12);
  });

  it('streams a chat completion chunk by chunk, with usage when asked', async () => {
    const stream = await client(user.key).chat.completions.create({
      model: 'mistral',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(Array.from({ length: 12 }, (_, i) => `tok${i} `).join(''));
    expect(usage?.completion_tokens).toBe(12);
  });

  it('lists models with the key', async () => {
    const ids: string[] = [];
    for await (const model of client(user.key).models.list()) ids.push(model.id);
    expect(ids).toEqual(['deepseek/deepseek-v4-flash', 'mistral']);
  });

  it('reads the balance in cents', async () => {
    const other = await h.seed({ usd: '2.50' });
    const balance = await client(other.key).get('/balance');
    expect(balance).toEqual({ balance_usd_cents: 250 });
  });

  it('surfaces a bad key as AuthenticationError with code invalid_api_key', async () => {
    const error = await client('llmbase_wrong')
      .models.list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
    expect((error as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_/);
  });

  it('surfaces a revoked key as AuthenticationError with code api_key_revoked', async () => {
    const other = await h.seed();
    await h.tollgate.services.keys.revoke(other.keyId);
    const error = await client(other.key)
      .models.list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ code: 'api_key_revoked' });
  });

  it('surfaces a suspended account as PermissionDeniedError', async () => {
    const other = await h.seed();
    await h.tollgate.services.accounts.setSuspended(other.accountId, true);
    const error = await client(other.key)
      .models.list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, code: 'account_suspended' });
  });

  it('surfaces an unknown model as NotFoundError with code model_not_found', async () => {
    const error = await client(user.key)
      .chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('surfaces an empty balance as a 402 insufficient_quota APIError', async () => {
    const broke = await h.seed({ usd: '0' });
    const error = await client(broke.key)
      .chat.completions.create({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 402, code: 'insufficient_quota', type: 'insufficient_quota' });
  });

  it('surfaces an upstream rate limit as RateLimitError', async () => {
    h.upstream.options = { failStatus: 429 };
    try {
      const error = await client(user.key)
        .chat.completions.create({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error).toMatchObject({ code: 'upstream_rate_limited' });
    } finally {
      h.upstream.options = {};
    }
  });

  it('surfaces an invalid body as BadRequestError naming the parameter', async () => {
    const error = await client(user.key)
      .chat.completions.create({
        model: 'mistral',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 999_999,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param: 'max_tokens' });
  });

  it('leaves the ledger reconciled with every usage the upstream reported', async () => {
    const fresh = await h.seed({ usd: '1' });
    const before = h.upstream.usages.length;
    const sdk = client(fresh.key);
    for (const stream of [false, true]) {
      if (stream) {
        const s = await sdk.chat.completions.create({
          model: 'deepseek/deepseek-v4-flash',
          messages: [{ role: 'user', content: 'a b c' }],
          stream,
        });
        for await (const _ of s) {
          // drain
        }
      } else {
        await sdk.chat.completions.create({
          model: 'deepseek/deepseek-v4-flash',
          messages: [{ role: 'user', content: 'a b c' }],
        });
      }
    }
    const ledger = await h.ledgerOf(fresh.accountId);
    expect(ledger.settled).toBe(expectedCharge(h.upstream.usages.slice(before)));
    expect(ledger.sum).toBe(ledger.balance);
    expect(ledger.balance).toBe(1_000_000 - ledger.settled);
  });
});

describe('keys used at the other product’s base URL, through the SDK', () => {
  it('raises AuthenticationError for a chat-agent key at /v1 and an inference key at either agents base', async () => {
    const agent = await h.seed({ type: 'chat_agent' });
    const request = { model: 'mistral', messages: [{ role: 'user' as const, content: 'Hi' }] };
    const atV1 = await client(agent.key)
      .chat.completions.create(request)
      .catch((e: unknown) => e);
    expect(atV1).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((atV1 as Error).message).toMatch(/\/api\/v1\/agents/);
    for (const base of ['/api/v1/agents', '/api/chat-agent/v1']) {
      const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}${base}`, maxRetries: 0 });
      const error = await sdk.chat.completions.create(request).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
      expect((error as Error).message).toMatch(/Use it at \/v1/);
      const models = await sdk.models.list().catch((e: unknown) => e);
      expect(models).toBeInstanceOf(OpenAI.AuthenticationError);
    }
  });
});
