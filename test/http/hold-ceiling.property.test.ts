import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenAiQuirks, parseConfig } from '../../src/config/load-config.js';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { costOf, type TokenUsage } from '../../src/domain/pricing.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import type { UpstreamResponse, Upstreams } from '../../src/ports/upstream.js';
import { openAiCompatibleFormat } from '../../src/upstream/openai-compatible/wire-format.js';
import { bearer, configYaml, TEST_KEY_SECRET, TEST_PRICE } from '../support/harness.js';

/**
 * The hold is a real ceiling: whatever shape a request has, the largest usage it could honestly
 * cause costs no more than what was held for it. Requests of every shape (messages with any
 * field, content parts, images, files, audio, tools, unknown fields, both limit fields, prompt
 * arrays, streaming) go through Tollgate in-process to a provider that answers with the most it
 * could bill for what it received:
 * - prompt tokens: one a UTF-8 byte of every text and value the model could read, a chat
 *   template's framing (16 tokens a message, 32 a prompt), the provider's own overhead, and the
 *   model's declared allowance for each image and file part, each prompt of an array on its own;
 * - completion tokens: the limit in the one field the provider reads, for each generation;
 *   no limit there, or a template sent by the client, and the usage has no bound.
 */
const IMAGE_TOKENS = 300;
const FILE_TOKENS = 2_000;
const OVERHEAD_TOKENS = 50;
/** What a provider with nothing to stop it may produce: far beyond any hold. */
const UNBOUNDED = 100_000_000;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
/** What one value costs the model to read: its text, or its JSON. */
const valueTokens = (value: unknown): number =>
  value === undefined || value === null ? 0 : utf8(typeof value === 'string' ? value : JSON.stringify(value));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function partTokens(part: unknown): number {
  if (!isObject(part)) return valueTokens(part);
  // A template joins text parts with a separator of its own.
  if (part.type === 'text' && typeof part.text === 'string') return utf8(part.text) + 1;
  if (part.type === 'image_url') return IMAGE_TOKENS;
  if (part.type === 'file') return FILE_TOKENS;
  if (part.type === 'input_audio' && isObject(part.input_audio)) return valueTokens(part.input_audio.data);
  return valueTokens(part);
}

function messageTokens(message: unknown): number {
  if (!isObject(message)) return 16;
  let tokens = 16;
  for (const [key, value] of Object.entries(message)) {
    if (key !== 'content') tokens += valueTokens(value);
    else if (Array.isArray(value)) for (const part of value) tokens += partTokens(part);
    else tokens += valueTokens(value);
  }
  return tokens;
}

/** Fields the provider acts on without reading them as prompt. */
const NOT_PROMPT = new Set(['model', 'messages', 'prompt', 'stream', 'stream_options', 'n', 'best_of']);

function sharedTokens(body: Record<string, unknown>, limitField: string): number {
  let tokens = 32 + OVERHEAD_TOKENS;
  for (const [key, value] of Object.entries(body)) {
    if (!NOT_PROMPT.has(key) && key !== limitField) tokens += valueTokens(value);
  }
  return tokens;
}

function positive(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1;
}

/** The largest usage a request could cause at an honest provider that reads `limitField` alone. */
function worstCase(pathName: string, body: Record<string, unknown>, limitField: string): TokenUsage {
  const legacy = pathName === '/completions';
  const field = legacy ? 'max_tokens' : limitField;
  const limit = body[field];
  let promptTokens = 0;
  let prompts = 1;
  if (legacy) {
    const prompt = body.prompt;
    const list =
      typeof prompt === 'string'
        ? [prompt]
        : Array.isArray(prompt) && typeof prompt[0] === 'number'
          ? [prompt]
          : (prompt as unknown[]);
    prompts = Math.max(1, list.length);
    for (const one of list) promptTokens += 16 + (Array.isArray(one) ? one.length : utf8(String(one)));
    promptTokens += prompts * sharedTokens(body, field);
  } else {
    for (const message of body.messages as unknown[]) promptTokens += messageTokens(message);
    promptTokens += sharedTokens(body, field);
  }
  if (body.chat_template !== undefined && body.chat_template !== null) promptTokens += UNBOUNDED;
  const generations = prompts * positive(body.n) * positive(body.best_of);
  const perGeneration = typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : UNBOUNDED;
  return { promptTokens, completionTokens: perGeneration * generations };
}

function answer(chunks: readonly string[]): UpstreamResponse {
  const buffers = chunks.map((chunk) => Buffer.from(chunk));
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: (async function* () {
      yield* buffers;
    })(),
    abort() {},
    readAll: async () => Buffer.concat(buffers),
  };
}

/** A provider, in OpenAI's wire format, that bills the most the request it received allows. */
class WorstCaseProvider implements Upstreams {
  readonly reported: TokenUsage[] = [];
  private readonly format;

  constructor(private readonly quirks: OpenAiQuirks) {
    this.format = openAiCompatibleFormat(quirks);
  }

  chatFormat() {
    return this.format;
  }

  async postJson(_providerId: string, pathName: string, raw: string): Promise<UpstreamResponse> {
    const body = JSON.parse(raw) as Record<string, unknown>;
    const usage = worstCase(pathName, body, this.quirks.maxTokensField);
    this.reported.push(usage);
    const wireUsage = {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
    };
    const legacy = pathName === '/completions';
    const base = { id: 'fake-1', created: 0, model: body.model };
    if (body.stream !== true) {
      const choice = legacy
        ? { index: 0, text: 'x', finish_reason: 'length' }
        : { index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'length' };
      const object = legacy ? 'text_completion' : 'chat.completion';
      return answer([JSON.stringify({ ...base, object, choices: [choice], usage: wireUsage })]);
    }
    const object = legacy ? 'text_completion' : 'chat.completion.chunk';
    const choice = legacy
      ? { index: 0, text: 'x', finish_reason: 'length' }
      : { index: 0, delta: { content: 'x' }, finish_reason: 'length' };
    return answer([
      `data: ${JSON.stringify({ ...base, object, choices: [choice] })}\n\n`,
      `data: ${JSON.stringify({ ...base, object, choices: [], usage: wireUsage })}\n\n`,
      'data: [DONE]\n\n',
    ]);
  }
}

interface Gateway {
  readonly tollgate: Tollgate;
  readonly provider: WorstCaseProvider;
  readonly accountId: string;
  readonly key: string;
  readonly seenHolds: Set<string>;
}

const directories: string[] = [];
const gateways: Gateway[] = [];

async function gateway(providerYaml: string, quirks: OpenAiQuirks): Promise<Gateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-property-'));
  directories.push(dir);
  const env = { TOLLGATE_KEY_SECRET: TEST_KEY_SECRET, PORT: '0', HOST: '127.0.0.1' };
  const config = parseConfig(
    configYaml(
      'http://127.0.0.1:9',
      `${providerYaml}\n    prompt_overhead_tokens: ${OVERHEAD_TOKENS}`,
      'openai-compatible',
      '',
      `    image_tokens: ${IMAGE_TOKENS}\n    file_tokens: ${FILE_TOKENS}`,
    ),
    'property.yaml',
    { ...env, TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}` },
  );
  const provider = new WorstCaseProvider(quirks);
  const tollgate = await createTollgate(config, env, { upstreams: provider, logLevel: 'silent' });
  const account = await tollgate.services.accounts.create(`property-${directories.length}@example.com`);
  if (!account.ok) throw new Error(account.error);
  await tollgate.services.accounts.addCredits(account.value.id, 1_000_000 * 1_000_000, 'property test');
  const created = await tollgate.services.keys.create(
    account.value.id,
    'property',
    'inference',
    PREPAID_SPENDING,
  );
  if (!created.ok) throw new Error(created.error);
  const g = {
    tollgate,
    provider,
    accountId: account.value.id,
    key: created.value.key,
    seenHolds: new Set<string>(),
  };
  gateways.push(g);
  return g;
}

/** The amount of the hold the last request placed, if it placed one. */
async function newHold(g: Gateway): Promise<number | undefined> {
  let amount: number | undefined;
  for (const entry of await g.tollgate.services.ledger.entries(g.accountId)) {
    if (entry.kind !== 'hold' || entry.holdId === null || g.seenHolds.has(entry.holdId)) continue;
    amount = (amount ?? 0) - entry.amount;
  }
  for (const entry of await g.tollgate.services.ledger.entries(g.accountId)) {
    if (entry.holdId) g.seenHolds.add(entry.holdId);
  }
  return amount;
}

// Request shapes, kept under the test configuration's 64 KB body limit most of the time.
const text = fc.string({ unit: 'binary', maxLength: 40 });
const longText = fc.oneof(text, fc.string({ unit: 'grapheme', minLength: 100, maxLength: 600 }));
const base64 = fc.integer({ min: 0, max: 500 }).map((n) => 'QUJD'.repeat(n));
const key = fc.stringMatching(/^[a-z][a-z_]{0,11}$/);
const json = fc.jsonValue({ maxDepth: 2 });
/** Mostly absent: for fields that get a request refused, so that most requests are served. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary, weight: 1 });
// The model's maximum is 1000: a larger limit is refused.
const limit = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: 1, max: 1_000 }),
  rarely(fc.constant(1_200)),
);

const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: longText }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.record(
      {
        url: fc.oneof(
          base64.map((b) => `data:image/png;base64,${b}`),
          fc.webUrl(),
        ),
        detail: fc.constantFrom('low', 'high'),
      },
      { requiredKeys: ['url'] },
    ),
  }),
  fc.record({ type: fc.constant('file'), file: fc.record({ filename: text, file_data: base64 }) }),
  fc.record({
    type: fc.constant('input_audio'),
    input_audio: fc.record({ data: base64, format: fc.constant('wav') }),
  }),
  fc.record({ type: fc.constant('video_url'), video_url: fc.record({ url: fc.webUrl() }) }),
);

const message = fc.record(
  {
    role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'),
    content: fc.oneof(longText, fc.constant(null), fc.array(part, { maxLength: 4 })),
    name: text,
    tool_call_id: text,
    reasoning_content: longText,
    refusal: text,
    tool_calls: fc.array(
      fc.record({
        id: text,
        type: fc.constant('function'),
        function: fc.record({ name: text, arguments: longText }),
      }),
      { maxLength: 2 },
    ),
    vendor_field: json,
  },
  { requiredKeys: ['role'] },
);

const tool = fc.record({
  type: fc.constant('function'),
  function: fc.record({ name: key, description: longText, parameters: json }),
});

/** Fields any request may carry, Tollgate's own and others. */
const common = {
  max_tokens: limit,
  stream: fc.boolean(),
  stream_options: fc.record({ include_usage: fc.boolean() }),
  n: fc.oneof(fc.constant(1), rarely(fc.constant(2))),
  best_of: fc.oneof(fc.constant(1), rarely(fc.constant(3))),
  chat_template: rarely(text),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  vendor_options: json,
};

const chatRequest = fc.record(
  {
    ...common,
    model: fc.constant('flash'),
    messages: fc.array(message, { minLength: 1, maxLength: 5 }),
    max_completion_tokens: limit,
    tools: fc.array(tool, { maxLength: 3 }),
    response_format: fc.constant({ type: 'json_object' }),
    documents: fc.array(fc.record({ title: text, text: longText }), { maxLength: 2 }),
    prediction: fc.record({ type: fc.constant('content'), content: longText }),
    service_tier: fc.constantFrom('auto', 'default'),
  },
  { requiredKeys: ['model', 'messages'] },
);

const tokens = fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 200 });
const completionsRequest = fc.record(
  {
    ...common,
    model: fc.constant('flash'),
    prompt: fc.oneof(
      longText,
      fc.array(longText, { minLength: 1, maxLength: 30 }),
      tokens,
      fc.array(tokens, { minLength: 1, maxLength: 10 }),
    ),
    max_completion_tokens: limit,
    suffix: text,
    echo: fc.boolean(),
  },
  { requiredKeys: ['model', 'prompt'] },
);

const request = fc.oneof(
  chatRequest.map((body) => ({ url: '/v1/chat/completions', body })),
  completionsRequest.map((body) => ({ url: '/v1/completions', body })),
);

beforeAll(async () => {
  await gateway('', { unknownFields: 'pass', streamUsage: true, maxTokensField: 'max_tokens' });
  await gateway('    max_tokens_field: max_completion_tokens\n    unknown_fields: drop', {
    unknownFields: 'drop',
    streamUsage: true,
    maxTokensField: 'max_completion_tokens',
  });
});

afterAll(async () => {
  for (const g of gateways) await g.tollgate.close();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

describe('the hold, for requests of every shape', () => {
  it('is never exceeded by the most an honest provider could bill for what it was sent', async () => {
    let served = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1), request, async (which, { url, body }) => {
        const g = gateways[which]!;
        const reportedBefore = g.provider.reported.length;
        const response = await g.tollgate.app.inject({
          method: 'POST',
          url,
          headers: bearer(g.key),
          payload: body,
        });
        // A request is served, or refused as a client error before the provider is called.
        expect([200, 400, 413], response.body).toContain(response.statusCode);
        if (response.statusCode !== 200) {
          expect(g.provider.reported.length).toBe(reportedBefore);
          return;
        }
        served++;
        const usage = g.provider.reported.at(-1)!;
        const hold = await newHold(g);
        expect(hold).toBeDefined();
        expect(costOf(TEST_PRICE, usage)).toBeLessThanOrEqual(hold!);
      }),
      { numRuns: 150 },
    );
    // The property says something only about requests that were served.
    expect(served).toBeGreaterThan(30);
  }, 60_000);
});
