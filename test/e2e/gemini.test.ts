import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type FakeGemini,
  GEMINI_BLOCK_MARKER,
  GEMINI_TOOL_ANSWER,
  startFakeGemini,
} from '../support/fake-gemini-upstream.js';
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

/** A strict OpenAI tool, as the `openai` SDK's zodFunction or a hand-written strict tool sends it. */
const STRICT_WEATHER_TOOL: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    strict: true,
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        location: { type: 'string', minLength: 1 },
        unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit', null] },
        when: { $ref: '#/definitions/when', description: 'Moment of the forecast' },
      },
      required: ['location', 'unit', 'when'],
      additionalProperties: false,
      definitions: { when: { type: 'string', format: 'date-time', default: 'now' } },
    },
  },
};

describe('JSON Schemas as Gemini accepts them', () => {
  it('sends a strict tool with additionalProperties, $schema and $ref, which Gemini refuses in `parameters`', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const completion = await sdk.chat.completions.create({
      model: 'mistral',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [STRICT_WEATHER_TOOL],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const sentTools = gemini.received.at(-1)?.body.tools as { functionDeclarations: unknown[] }[];
    const declaration = sentTools[0]?.functionDeclarations[0];
    expect(declaration).toMatchObject({
      name: 'get_weather',
      parametersJsonSchema: {
        type: 'object',
        additionalProperties: false,
        properties: { when: { $ref: '#/$defs/when' } },
        $defs: { when: { type: 'string', format: 'date-time' } },
      },
    });
  });

  it('turns a json_schema response_format into responseJsonSchema', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    await sdk.chat.completions.create({
      model: 'mistral',
      messages: [{ role: 'user', content: 'Hi' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'greeting',
          strict: true,
          schema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'object',
            properties: { text: { type: 'string', maxLength: 80 } },
            required: ['text'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(gemini.received.at(-1)?.body.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object', required: ['text'], additionalProperties: false },
    });
  });

  it('sends a zod tool schema from the Vercel AI SDK', async () => {
    const user = await h.seed({ usd: '1' });
    const provider = createOpenAICompatible({
      name: 'tollgate',
      baseURL: `${h.baseUrl}/v1`,
      apiKey: user.key,
    });
    const result = await generateText({
      model: provider('mistral'),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      tools: {
        get_weather: tool({
          description: 'Current weather',
          inputSchema: z.object({
            location: z.string().min(1),
            unit: z.enum(['celsius', 'fahrenheit']).nullable(),
            days: z.number().int().positive().max(7).optional(),
          }),
        }),
      },
    });
    expect(result.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { location: 'Paris' } });
  });
});

describe('a Gemini 3 tool loop (thought signatures)', () => {
  const tools = [STRICT_WEATHER_TOOL];
  const question = { role: 'user' as const, content: 'Weather in Paris?' };

  it('survives a round trip through the openai SDK, answering with the assistant message as received', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const first = await sdk.chat.completions.create({ model: 'mistral', messages: [question], tools });
    const message = first.choices[0]!.message;
    const call = message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    const second = await sdk.chat.completions.create({
      model: 'mistral',
      tools,
      messages: [question, message, { role: 'tool', tool_call_id: call!.id, content: '{"celsius":18}' }],
    });
    expect(second.choices[0]?.message.content).toBe(GEMINI_TOOL_ANSWER);
    const contents = gemini.received.at(-1)?.body.contents as {
      role: string;
      parts: Record<string, unknown>[];
    }[];
    expect(contents[1]?.role).toBe('model');
    expect(gemini.signatures.has(String(contents[1]?.parts[0]?.thoughtSignature))).toBe(true);
  });

  it('survives a round trip through the openai SDK when the call was streamed and rebuilt from its deltas', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({
      model: 'mistral',
      messages: [question],
      tools,
      stream: true,
    });
    let id = '';
    let name = '';
    let args = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0];
      id += delta?.id ?? '';
      name += delta?.function?.name ?? '';
      args += delta?.function?.arguments ?? '';
    }
    const second = await sdk.chat.completions.create({
      model: 'mistral',
      tools,
      stream: true,
      messages: [
        question,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name, arguments: args } }],
        },
        { role: 'tool', tool_call_id: id, content: '{"celsius":18}' },
      ],
    });
    let text = '';
    for await (const chunk of second) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(GEMINI_TOOL_ANSWER);
  });

  for (const streaming of [false, true]) {
    it(`survives a two-step tool loop in the Vercel AI SDK (${streaming ? 'streamText' : 'generateText'})`, async () => {
      const user = await h.seed({ usd: '1' });
      const provider = createOpenAICompatible({
        name: 'tollgate',
        baseURL: `${h.baseUrl}/v1`,
        apiKey: user.key,
      });
      const options = {
        model: provider('mistral'),
        prompt: 'Weather in Paris?',
        maxRetries: 0,
        stopWhen: stepCountIs(2),
        tools: {
          get_weather: tool({
            description: 'Current weather',
            inputSchema: z.object({ location: z.string() }),
            execute: async () => ({ celsius: 18 }),
          }),
        },
      };
      const text = streaming ? await streamText(options).text : (await generateText(options)).text;
      expect(text).toBe(GEMINI_TOOL_ANSWER);
    });
  }

  it('refuses, as Gemini 3 does, a model turn whose call lost its signature', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const refused = await sdk.chat.completions
      .create({
        model: 'mistral',
        tools,
        messages: [
          question,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":18}' },
        ],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('a prompt Gemini blocks', () => {
  it('answers with finish_reason content_filter and charges the prompt tokens Gemini counted', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const completion = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: `Something ${GEMINI_BLOCK_MARKER}` }],
    });
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'content_filter',
      message: { content: '' },
    });
    expect(completion.usage?.completion_tokens).toBe(0);
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(charged(gemini.usages.at(-1)!));
    expect(ledger.settled).toBeGreaterThan(0);
  });

  it('ends a stream with an error that says the prompt was blocked, and charges the prompt', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: `Something ${GEMINI_BLOCK_MARKER}` }],
      stream: true,
    });
    const failed = await (async () => {
      for await (const _ of stream) {
        // nothing arrives before the error
      }
    })().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(String((failed as Error).message)).toMatch(/prompt was blocked/);
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.settled).toBe(charged(gemini.usages.at(-1)!));
    expect(ledger.openHolds).toBe(0);
  });
});
