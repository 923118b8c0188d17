import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText, tool } from 'ai';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { costOf } from '../../src/domain/pricing.js';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fake-anthropic-upstream.js';
import { expectedCharge, type Harness, startHarness, TEST_PRICE } from '../support/harness.js';

/**
 * An OpenAI client, through Tollgate, to a provider that speaks Anthropic's Messages API: the same
 * response shapes as any OpenAI-compatible provider, billed from Anthropic's reported usage.
 */
const PROVIDER_KEY = 'fake-anthropic-key-for-tests-only';
let anthropic: FakeAnthropic;
let h: Harness;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: PROVIDER_KEY });
  h = await startHarness({
    upstreamUrl: anthropic.url,
    providerType: 'anthropic',
    providerYaml: '    api_key_env: ANTHROPIC_API_KEY',
    env: { ANTHROPIC_API_KEY: PROVIDER_KEY },
  });
  await h.listen();
});
afterAll(async () => {
  await h.close();
  await anthropic.close();
});

const charged = (usage: { input_tokens: number; output_tokens: number }) =>
  expectedCharge([{ prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens }]);

describe('an Anthropic provider behind Tollgate', () => {
  it('answers a chat completion in OpenAI shape and charges Anthropic’s usage', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const completion = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 100,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake Claude.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const sent = anthropic.received.at(-1);
    expect(sent?.headers['x-api-key']).toBe(PROVIDER_KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toMatchObject({ model: 'fake-model', max_tokens: 100, system: 'Be brief.' });
    expect(completion.usage).toMatchObject({
      prompt_tokens: anthropic.usages.at(-1)?.input_tokens,
      completion_tokens: anthropic.usages.at(-1)?.output_tokens,
    });
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(charged(anthropic.usages.at(-1)!));
    expect(ledger.sum).toBe(ledger.balance);
  });

  it('streams Anthropic events as OpenAI chunks, with the usage chunk when asked', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from the fake Claude.');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(anthropic.usages.at(-1)?.output_tokens);
    expect((await h.ledgerOf(user.accountId)).settled).toBe(charged(anthropic.usages.at(-1)!));
  });

  it('turns tool use into tool_calls, streaming and not', async () => {
    anthropic.options = { apiKey: PROVIDER_KEY, toolUse: true };
    try {
      const user = await h.seed({ usd: '1' });
      const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
      const tools: OpenAI.ChatCompletionTool[] = [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { location: { type: 'string' } } },
          },
        },
      ];
      const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];
      const plain = await sdk.chat.completions.create({ model: 'mistral', messages, tools });
      const call = plain.choices[0]?.message.tool_calls?.[0];
      expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });
      expect(anthropic.received.at(-1)?.body.tools).toEqual([
        {
          name: 'get_weather',
          input_schema: { type: 'object', properties: { location: { type: 'string' } } },
        },
      ]);

      const stream = await sdk.chat.completions.create({ model: 'mistral', messages, tools, stream: true });
      let name = '';
      let args = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.tool_calls?.[0];
        name += delta?.function?.name ?? '';
        args += delta?.function?.arguments ?? '';
      }
      expect(name).toBe('get_weather');
      expect(JSON.parse(args)).toEqual({ location: 'Paris' });
    } finally {
      anthropic.options = { apiKey: PROVIDER_KEY };
    }
  });
});

describe('the Vercel AI SDK through Tollgate to the Anthropic-format provider', () => {
  it('streams text', async () => {
    const user = await h.seed({ usd: '1' });
    const provider = createOpenAICompatible({
      name: 'tollgate',
      baseURL: `${h.baseUrl}/v1`,
      apiKey: user.key,
      includeUsage: true,
    });
    const result = streamText({ model: provider('deepseek/deepseek-v4-flash'), prompt: 'Hi', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello from the fake Claude.');
    expect((await result.usage).outputTokens).toBe(anthropic.usages.at(-1)?.output_tokens);
  });

  it('makes a tool call, streaming', async () => {
    anthropic.options = { apiKey: PROVIDER_KEY, toolUse: true };
    try {
      const user = await h.seed({ usd: '1' });
      const provider = createOpenAICompatible({
        name: 'tollgate',
        baseURL: `${h.baseUrl}/v1`,
        apiKey: user.key,
      });
      const result = streamText({
        model: provider('mistral'),
        prompt: 'Weather in Paris?',
        maxRetries: 0,
        tools: {
          get_weather: tool({
            description: 'Current weather',
            inputSchema: z.object({ location: z.string() }),
          }),
        },
      });
      const calls = await result.toolCalls;
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ toolName: 'get_weather', input: { location: 'Paris' } });
      expect(await result.finishReason).toBe('tool-calls');
    } finally {
      anthropic.options = { apiKey: PROVIDER_KEY };
    }
  });
});

describe('prompt caching on the Anthropic-format provider', () => {
  async function cacheColumns(requestId: string | null) {
    // Committed on the server's next turn once journaled (settlement-journal.ts).
    await new Promise((resolve) => setImmediate(resolve));
    const db = new Database(h.databaseFile, { readonly: true });
    try {
      return db
        .prepare(
          'SELECT prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, cost_micros FROM usage_records WHERE request_id = ?',
        )
        .get(requestId);
    } finally {
      db.close();
    }
  }

  for (const stream of [false, true]) {
    it(`charges cache writes at 1.25 times the input price and reads at 0.1 (${stream ? 'streaming' : 'JSON'}), and records them`, async () => {
      anthropic.options = { apiKey: PROVIDER_KEY, cache: { write: 2_000, read: 10_000 } };
      try {
        const user = await h.seed({ usd: '1' });
        const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
        const request = {
          model: 'deepseek/deepseek-v4-flash',
          messages: [{ role: 'user' as const, content: 'Hi' }],
        };
        let requestId: string | null;
        if (stream) {
          const { data, response } = await sdk.chat.completions
            .create({ ...request, stream: true })
            .withResponse();
          for await (const _ of data) {
            // drained: the charge is settled before the stream ends
          }
          requestId = response.headers.get('x-request-id');
        } else {
          const { response } = await sdk.chat.completions.create(request).withResponse();
          requestId = response.headers.get('x-request-id');
        }
        const usage = anthropic.usages.at(-1)!;
        const prompt = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
        // The test model's input price is 1 micro-USD a token: writes 1.25, reads 0.1.
        const expected = costOf(
          { ...TEST_PRICE, cacheWriteMicrosPerMillion: 1_250_000, cacheReadMicrosPerMillion: 100_000 },
          {
            promptTokens: prompt,
            completionTokens: usage.output_tokens,
            cacheWriteTokens: 2_000,
            cacheReadTokens: 10_000,
          },
        );
        expect(expected).toBe(usage.input_tokens + 2_500 + 1_000 + usage.output_tokens * 1_000);
        expect((await h.ledgerOf(user.accountId)).settled).toBe(expected);
        expect(await cacheColumns(requestId)).toEqual({
          prompt_tokens: prompt,
          completion_tokens: usage.output_tokens,
          cache_read_tokens: 10_000,
          cache_write_tokens: 2_000,
          cost_micros: expected,
        });
      } finally {
        anthropic.options = { apiKey: PROVIDER_KEY };
      }
    });
  }
});
