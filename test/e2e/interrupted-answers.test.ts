import SqliteDatabase from 'better-sqlite3';
import { countTokens, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAnthropicOptions, startFakeAnthropic } from '../support/fake-anthropic-upstream.js';
import { type FakeGeminiOptions, startFakeGemini } from '../support/fake-gemini-upstream.js';
import type { FakeUpstreamOptions } from '../support/fake-openai-upstream.js';
import { bearer, eventually, type Harness, startHarness } from '../support/harness.js';

/**
 * An answer the provider did not finish is never shown to the client as complete, and is charged
 * for what was relayed: an error event in OpenAI's shape instead of `[DONE]`, a usage record that
 * says the request failed mid-stream, and, when the provider's usage never came, an estimate made
 * with a real tokenizer. A JSON answer cut short is an upstream error and costs nothing.
 */
const PROMPT = [
  'You are reviewing the design of a billing gateway that sits between paying clients and several',
  'language model providers. Each request is authorised against a prepaid balance, a hold is placed',
  'for the worst case, the request is forwarded, and the actual usage reported by the provider is',
  'charged when the answer ends. Explain, in plain words, what can go wrong when the connection to',
  'the provider breaks half-way through a streamed answer, who pays for the tokens that were already',
  'generated, and how an operator can tell such requests apart from complete ones in the records.',
  'Give two short examples, one with a chat answer and one with a tool call whose arguments arrive',
  'in pieces. Keep it under three hundred words, and avoid jargon where a simpler word will do.',
].join(' ');

const REPLY = [
  'When the link to the provider drops in the middle of a streamed answer, the client has already',
  'received part of the text, and the provider has already done the work for it. The provider will',
  'usually bill for every token it generated, even though its final usage report never arrived. If',
  'the gateway charged nothing, the operator would pay for that work; if it charged the full hold,',
  'the client would pay for text it never saw. The fair middle is to count what was actually sent to',
  'the client, with the same kind of tokenizer the model uses, and to charge that.\n\n',
  'For a chat answer, suppose the model wrote two paragraphs and the connection broke after the',
  'first. The client sees the first paragraph followed by an error, not a normal ending, so its code',
  'knows the answer is incomplete and can retry. The record for the request says it failed mid-stream',
  'and that its usage was estimated.\n\nFor a tool call, the arguments arrive as small pieces of JSON.',
  'If the stream breaks after `{"city": "Par`, the client must not treat that as a finished call: the',
  'error event tells it so, and the pieces that did arrive are counted like any other output.',
].join(' ');

/** OpenAI-compatible servers stream one token an event or, like many hosted ones, a few: two here. */
const OPENAI_CHUNKS = pairs(encode(REPLY).map((token) => decode([token])));

function pairs(tokens: string[]): string[] {
  return Array.from({ length: Math.ceil(tokens.length / 2) }, (_, i) =>
    tokens.slice(2 * i, 2 * i + 2).join(''),
  );
}
/** Anthropic's text deltas carry a few words each. */
const ANTHROPIC_CHUNKS = REPLY.match(/(?:\S+\s*){1,4}/g) ?? [];
/** Gemini's chunks are a sentence or so. */
const GEMINI_CHUNKS = REPLY.match(/[^.]+(?:\.|$)\s*/g) ?? [];

interface UsageRow {
  status: number;
  outcome: string;
  usage_source: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}

/** A provider type behind its own Tollgate, with its fake's options to cut an answer short. */
interface Setup {
  readonly name: string;
  readonly h: Harness;
  /** The fake's options, as given, plus the realistic reply and tokenizer. */
  set(options: Record<string, unknown>): void;
  /** The cut that ends the stream in the middle of the content, without the provider's end. */
  readonly midContent: Record<string, unknown>;
  /** The cut after all the content, before the provider's usage report and its own end. */
  readonly beforeUsage: Record<string, unknown>;
  readonly relayedBeforeMidCut: string;
  close(): Promise<void>;
}

const PROVIDER_KEY = 'fake-provider-key-for-tests-only';

async function openAiSetup(): Promise<Setup> {
  const h = await startHarness();
  await h.listen();
  return {
    name: 'OpenAI-compatible',
    h,
    set(options) {
      h.upstream.options = {
        reply: () => OPENAI_CHUNKS,
        tokenizer: countTokens,
        ...options,
      } as FakeUpstreamOptions;
    },
    midContent: { cutStreamAt: 20 },
    beforeUsage: { cutStreamAt: 'finish' },
    relayedBeforeMidCut: OPENAI_CHUNKS.slice(0, 20).join(''),
    close: () => h.close(),
  };
}

async function anthropicSetup(): Promise<Setup> {
  const fake = await startFakeAnthropic({ apiKey: PROVIDER_KEY });
  const h = await startHarness({
    upstreamUrl: fake.url,
    providerType: 'anthropic',
    providerYaml: '    api_key_env: ANTHROPIC_API_KEY',
    env: { ANTHROPIC_API_KEY: PROVIDER_KEY },
  });
  await h.listen();
  return {
    name: 'Anthropic',
    h,
    set(options) {
      fake.options = {
        apiKey: PROVIDER_KEY,
        text: ANTHROPIC_CHUNKS,
        tokenizer: countTokens,
        ...options,
      } as FakeAnthropicOptions;
    },
    midContent: { cutStreamAt: 12 },
    beforeUsage: { cutStreamAt: 'message_delta' },
    relayedBeforeMidCut: ANTHROPIC_CHUNKS.slice(0, 12).join(''),
    close: async () => {
      await h.close();
      await fake.close();
    },
  };
}

async function geminiSetup(): Promise<Setup> {
  const fake = await startFakeGemini(PROVIDER_KEY);
  const h = await startHarness({
    upstreamUrl: fake.url,
    providerType: 'gemini',
    providerYaml: '    api_key_env: GEMINI_API_KEY',
    env: { GEMINI_API_KEY: PROVIDER_KEY },
  });
  await h.listen();
  return {
    name: 'Gemini',
    h,
    set(options) {
      fake.options = { pieces: GEMINI_CHUNKS, tokenizer: countTokens, ...options } as FakeGeminiOptions;
    },
    midContent: { cutStreamAt: 3 },
    beforeUsage: { cutStreamAt: 'finish' },
    relayedBeforeMidCut: GEMINI_CHUNKS.slice(0, 3).join(''),
    close: async () => {
      await h.close();
      await fake.close();
    },
  };
}

const setups: Setup[] = [];
beforeAll(async () => {
  setups.push(await openAiSetup(), await anthropicSetup(), await geminiSetup());
}, 60_000);
afterAll(async () => {
  for (const setup of setups) await setup.close();
});

function ask(h: Harness, key: string, stream: boolean): Promise<Response> {
  return fetch(`${h.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'deepseek/deepseek-v4-flash',
      messages: [
        { role: 'system', content: 'You are a careful technical writer.' },
        { role: 'user', content: PROMPT },
      ],
      max_tokens: 1000,
      stream,
    }),
  });
}

/** The data payloads of an SSE body, in order. */
function dataEvents(body: string): string[] {
  return body
    .split(/\r?\n\r?\n/)
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice(6));
}

/** The text a client assembles from the content deltas of a stream. */
function contentOf(events: string[]): string {
  return events
    .filter((e) => e !== '[DONE]')
    .map((e) => JSON.parse(e) as { choices?: { delta?: { content?: string } }[] })
    .map((chunk) => chunk.choices?.[0]?.delta?.content ?? '')
    .join('');
}

/** The request's usage record, once its settlement has been committed. */
async function usageRecord(h: Harness, requestId: string): Promise<UsageRow> {
  let row: UsageRow | undefined;
  await eventually(() => {
    const db = new SqliteDatabase(h.databaseFile, { readonly: true });
    try {
      row = db.prepare('SELECT * FROM usage_records WHERE request_id = ?').get(requestId) as
        | UsageRow
        | undefined;
    } finally {
      db.close();
    }
    return row !== undefined;
  }, 15_000);
  return row!;
}

/** Streams one answer with the given cut; returns what the client saw and the usage record. */
async function streamWith(setup: Setup, key: string, options: Record<string, unknown>) {
  setup.set(options);
  const response = await ask(setup.h, key, true);
  expect(response.status).toBe(200);
  const events = dataEvents(await response.text());
  const record = await usageRecord(setup.h, response.headers.get('x-request-id') ?? '');
  return { events, record };
}

describe.each(['OpenAI-compatible', 'Anthropic', 'Gemini'])('a %s stream cut short', (name) => {
  const setup = () => setups.find((s) => s.name === name)!;

  it.each(['end', 'reset'] as const)(
    'ends, when the body %ss mid-answer, with an error event and no [DONE], recorded as failed mid-stream',
    async (cutBy) => {
      const s = setup();
      const user = await s.h.seed({ usd: '10' });
      const { events, record } = await streamWith(s, user.key, { ...s.midContent, cutBy });
      expect(events).not.toContain('[DONE]');
      const last = JSON.parse(events.at(-1) ?? '{}');
      expect(last).toEqual({
        error: { message: expect.any(String), type: 'api_error', code: 'upstream_error', param: null },
      });
      expect(contentOf(events.slice(0, -1))).toBe(s.relayedBeforeMidCut);
      expect(record).toMatchObject({ status: 502, outcome: 'failed_mid_stream', usage_source: 'estimated' });
      // The relayed text is what is charged, counted with a tokenizer.
      const relayedTokens = countTokens(s.relayedBeforeMidCut);
      expect(record.completion_tokens).toBeGreaterThanOrEqual(relayedTokens - 2);
      expect(record.completion_tokens).toBeLessThanOrEqual(relayedTokens + 2);
      expect(record.cost_micros).toBeGreaterThan(0);
      const ledger = await s.h.ledgerOf(user.accountId);
      expect(ledger.settled).toBe(record.cost_micros);
      expect(ledger.openHolds).toBe(0);
    },
  );

  it('is charged, when cut after its content but before the usage report, within 10% of the uncut charge', async () => {
    const s = setup();
    const user = await s.h.seed({ usd: '10' });
    const uncut = await streamWith(s, user.key, {});
    expect(uncut.events.at(-1)).toBe('[DONE]');
    expect(uncut.record).toMatchObject({ status: 200, outcome: 'completed', usage_source: 'upstream' });
    const cut = await streamWith(s, user.key, s.beforeUsage);
    expect(cut.record).toMatchObject({ outcome: 'failed_mid_stream', usage_source: 'estimated' });
    expect(contentOf(cut.events.slice(0, -1))).toBe(REPLY);
    const ratio = cut.record.cost_micros / uncut.record.cost_micros;
    console.info(
      `${name}: uncut ${uncut.record.cost_micros} µ$ (${uncut.record.prompt_tokens}+${uncut.record.completion_tokens} tokens), ` +
        `cut before usage ${cut.record.cost_micros} µ$ (${cut.record.prompt_tokens}+${cut.record.completion_tokens} tokens)`,
    );
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
    for (const field of ['prompt_tokens', 'completion_tokens'] as const) {
      expect(Math.abs(cut.record[field] - uncut.record[field]) / uncut.record[field]).toBeLessThan(0.1);
    }
  });
});

describe('an OpenAI-compatible stream', () => {
  const setup = () => setups.find((s) => s.name === 'OpenAI-compatible')!;

  it('is complete when cut after its finish reason: [DONE] for the client, the usage estimated', async () => {
    const s = setup();
    const user = await s.h.seed({ usd: '10' });
    const { events, record } = await streamWith(s, user.key, { cutStreamAt: 'usage', cutBy: 'reset' });
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.some((e) => e.includes('"error"'))).toBe(false);
    expect(contentOf(events)).toBe(REPLY);
    expect(record).toMatchObject({ status: 200, outcome: 'completed', usage_source: 'estimated' });
  });

  it('is complete, and charged its reported usage, when only [DONE] is missing', async () => {
    const s = setup();
    const user = await s.h.seed({ usd: '10' });
    const { events, record } = await streamWith(s, user.key, { cutStreamAt: 'done' });
    expect(events.at(-1)).toBe('[DONE]');
    expect(record).toMatchObject({ status: 200, outcome: 'completed', usage_source: 'upstream' });
    expect(record.completion_tokens).toBe(countTokens(REPLY));
  });

  it('that the client leaves is recorded as closed by the client, and charged for what was relayed', async () => {
    const s = setup();
    const user = await s.h.seed({ usd: '10' });
    s.set({ chunkIntervalMs: 5 });
    const abort = new AbortController();
    const response = await fetch(`${s.h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'deepseek/deepseek-v4-flash',
        messages: [{ role: 'user', content: PROMPT }],
        stream: true,
      }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    while (contentOf(dataEvents(received)).length < 40) {
      const { value } = await reader.read();
      received += Buffer.from(value ?? []).toString();
    }
    abort.abort();
    const record = await usageRecord(s.h, response.headers.get('x-request-id') ?? '');
    expect(record).toMatchObject({ status: 499, outcome: 'client_closed', usage_source: 'estimated' });
    expect(record.completion_tokens).toBeGreaterThan(0);
    expect(record.completion_tokens).toBeLessThan(countTokens(REPLY));
    s.set({});
  });
});

describe.each(['OpenAI-compatible', 'Anthropic', 'Gemini'])('a %s JSON answer cut short', (name) => {
  const setup = () => setups.find((s) => s.name === name)!;

  it.each([
    ['ends early', 'end', 120],
    ['loses its connection', 'reset', 120],
    ['lacks only its last brace', 'end', -1],
  ] as const)('is a 502 upstream_error when the body %s, and costs nothing', async (_case, cutBy, at) => {
    const s = setup();
    const user = await s.h.seed({ usd: '10' });
    const before = await s.h.ledgerOf(user.accountId);
    s.set({ cutJsonAt: at, cutBy });
    const response = await ask(s.h, user.key, false);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_error', type: 'api_error' } });
    const record = await usageRecord(s.h, response.headers.get('x-request-id') ?? '');
    expect(record).toMatchObject({ status: 502, cost_micros: 0 });
    const after = await s.h.ledgerOf(user.accountId);
    expect(after.settled).toBe(before.settled);
    expect(after.balance).toBe(before.balance);
    s.set({});
  });
});
