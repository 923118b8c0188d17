import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCharge, type Harness, startHarness } from '../support/harness.js';

/** The legacy POST /v1/completions through the official SDK: the same holds, limits and charges as chat. */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.listen();
});
afterAll(() => h.close());

describe('legacy completions', () => {
  it('completes a prompt, sending OpenAI’s default limit of 16 tokens explicitly, and charges the usage', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const completion = await sdk.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      prompt: 'Once upon a time',
    });
    expect(completion.choices[0]?.text).toContain('tok0');
    expect(h.upstream.received.at(-1)).toMatchObject({
      path: '/v1/completions',
      body: { model: 'fake-model', max_tokens: 16 },
    });
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(expectedCharge(h.upstream.usages.slice(-1)));
    expect(ledger.sum).toBe(ledger.balance);
  });

  it('streams, with the usage chunk only for a client that asked', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const stream = await sdk.completions.create({
      model: 'mistral',
      prompt: 'Hi',
      max_tokens: 5,
      stream: true,
    });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe('tok0 tok1 tok2 tok3 tok4 ');
    expect(sawUsage).toBe(false);
    expect(h.upstream.received.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    expect((await h.ledgerOf(user.accountId)).settled).toBeGreaterThan(0);
  });

  it('refuses an unaffordable max_tokens with 402 before calling the upstream', async () => {
    const user = await h.seed({ usd: '0.05' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const before = h.upstream.received.length;
    const error = await sdk.completions
      .create({ model: 'deepseek/deepseek-v4-flash', prompt: 'Hi', max_tokens: 900 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 402, code: 'insufficient_quota', param: 'max_tokens' });
    expect(h.upstream.received.length).toBe(before);
  });
});
