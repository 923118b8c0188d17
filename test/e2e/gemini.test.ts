import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGemini, startFakeGemini } from '../support/fake-gemini-upstream.js';
import { expectedCharge, type Harness, startHarness } from '../support/harness.js';

/** An OpenAI client, through Tollgate, to a provider that speaks the Gemini API. */
const PROVIDER_KEY = 'fake-gemini-key-for-tests-only';
let gemini: FakeGemini;
let h: Harness;

beforeAll(async () => {
  gemini = await startFakeGemini(PROVIDER_KEY);
  h = await startHarness({
    upstreamUrl: gemini.url,
    providerType: 'gemini',
    providerYaml: '    api_key_env: GEMINI_API_KEY',
    env: { GEMINI_API_KEY: PROVIDER_KEY },
  });
  await h.listen();
});
afterAll(async () => {
  await h.close();
  await gemini.close();
});

const charged = (usage: { promptTokenCount: number; candidatesTokenCount: number }) =>
  expectedCharge([{ prompt_tokens: usage.promptTokenCount, completion_tokens: usage.candidatesTokenCount }]);

describe('a Gemini provider behind Tollgate', () => {
  it('answers in OpenAI shape, sends the key as x-goog-api-key, and charges Gemini’s usage', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const completion = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 50,
    });
    expect(completion.choices[0]?.message.content).toBe('Bonjour from fake Gemini.');
    expect(completion.usage?.completion_tokens).toBe(5);
    const sent = gemini.received.at(-1);
    expect(sent?.path).toBe('/v1beta/models/fake-model:generateContent');
    expect(sent?.headers['x-goog-api-key']).toBe(PROVIDER_KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toMatchObject({ generationConfig: { maxOutputTokens: 50 } });
    expect((await h.ledgerOf(user.accountId)).settled).toBe(charged(gemini.usages.at(-1)!));
  });

  it('streams with alt=sse, ending the OpenAI stream when Gemini closes its own', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
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
    expect(text).toBe('Bonjour from fake Gemini.');
    expect(usage?.completion_tokens).toBe(5);
    expect(gemini.received.at(-1)?.path).toBe('/v1beta/models/fake-model:streamGenerateContent?alt=sse');
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(charged(gemini.usages.at(-1)!));
    expect(ledger.sum).toBe(ledger.balance);
  });
});
