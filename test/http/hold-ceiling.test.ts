import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../support/fake-anthropic-upstream.js';
import { startFakeGemini } from '../support/fake-gemini-upstream.js';
import { bearer, type Harness, type HarnessOptions, startHarness } from '../support/harness.js';

/**
 * The hold is a real ceiling, whatever the request contains: every forwarded field counts, what
 * cannot be bounded is refused, a prompt array holds an output allowance per prompt, and the limit
 * that was held is the one the provider obeys. The test model costs 1 micro-USD per input token
 * and 1000 per output token.
 */
const harnesses: Harness[] = [];
/** A harness with the default configuration, shared by the tests that need nothing else. */
let shared: Harness;
beforeAll(async () => {
  shared = await harness();
});
afterAll(() => Promise.all(harnesses.map((h) => h.close())));

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}

function post(h: Harness, key: string, url: string, payload: Record<string, unknown>) {
  return h.tollgate.app.inject({ method: 'POST', url, headers: bearer(key), payload });
}

const chat = (h: Harness, key: string, body: Record<string, unknown>) =>
  post(h, key, '/v1/chat/completions', {
    model: 'flash',
    messages: [{ role: 'user', content: 'Hi' }],
    ...body,
  });

/** What the last request held, from the account's ledger. */
async function lastHold(h: Harness, accountId: string): Promise<number> {
  const holds = (await h.tollgate.services.ledger.entries(accountId)).filter((e) => e.kind === 'hold');
  const last = holds.at(-1);
  if (!last) throw new Error('no hold was placed');
  return holds.filter((e) => e.holdId === last.holdId).reduce((total, e) => total - e.amount, 0);
}

describe('every forwarded field counts in the hold', () => {
  it('holds reasoning, refusals, documents, predictions and unknown fields at their size', async () => {
    const h = shared;
    const user = await h.seed({ usd: '10' });
    const sizes = { reasoning: 20_000, unknownMessageField: 10_000, documents: 15_000, prediction: 8_000 };
    const response = await chat(h, user.key, {
      max_tokens: 1,
      messages: [
        { role: 'user', content: 'Summarise.' },
        {
          role: 'assistant',
          content: 'Done.',
          reasoning_content: 'r'.repeat(sizes.reasoning),
          refusal: 'no',
          vendor_trace: { text: 'v'.repeat(sizes.unknownMessageField) },
        },
        { role: 'user', content: 'Again.' },
      ],
      documents: [{ title: 'a', text: 'd'.repeat(sizes.documents) }],
      prediction: { type: 'content', content: 'p'.repeat(sizes.prediction) },
      vendor_context: 'u'.repeat(5_000),
    });
    expect(response.statusCode).toBe(200);
    const forwarded = Object.values(sizes).reduce((a, b) => a + b, 0) + 5_000;
    // One micro-USD a prompt token, 1000 for the one output token.
    expect(await lastHold(h, user.accountId)).toBeGreaterThanOrEqual(forwarded + 1_000);
  });

  it("holds an image at the model's allowance, not at the size of its data", async () => {
    const h = await harness({ modelYaml: '    image_tokens: 400' });
    const user = await h.seed({ usd: '10' });
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(20_000)}` } };
    const response = await chat(h, user.key, {
      max_tokens: 1,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, image, image] }],
    });
    expect(response.statusCode).toBe(200);
    const hold = await lastHold(h, user.accountId);
    expect(hold).toBeGreaterThanOrEqual(2 * 400 + 1_000);
    expect(hold).toBeLessThan(2 * 400 + 1_000 + 200);
  });
});

describe('fields whose cost cannot be bounded', () => {
  it.each([
    [
      'a chat template of its own',
      { chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' },
      'chat_template',
    ],
    ['best_of', { best_of: 5 }, 'best_of'],
    ['the priority service tier', { service_tier: 'priority' }, 'service_tier'],
    ['web search options', { web_search_options: {} }, 'web_search_options'],
    ['audio output', { modalities: ['text', 'audio'] }, 'modalities'],
    ['audio output parameters', { audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
    [
      'an earlier audio answer',
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', audio: { id: 'audio_abc' } },
          { role: 'user', content: 'Again' },
        ],
      },
      'messages.1.audio',
    ],
    ['processor settings', { mm_processor_kwargs: { max_pixels: 100_000_000 } }, 'mm_processor_kwargs'],
    [
      'a video fetched from a URL',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Describe it' },
              { type: 'video_url', video_url: { url: 'https://example.com/three-hours.mp4' } },
            ],
          },
        ],
      },
      'messages.0.content.1',
    ],
    [
      'audio fetched from a URL',
      {
        messages: [
          { role: 'user', content: [{ type: 'audio_url', audio_url: { url: 'https://example.com/a.mp3' } }] },
        ],
      },
      'messages.0.content.0',
    ],
  ])('are refused with 400 naming the field: %s', async (_name, body, param) => {
    const h = shared;
    const user = await h.seed({ usd: '10' });
    const before = h.upstream.received.length;
    const response = await chat(h, user.key, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_request', param } });
    expect(h.upstream.received.length).toBe(before);
  });

  it('passes the default and auto service tiers, and a null one', async () => {
    const h = shared;
    const user = await h.seed({ usd: '10' });
    for (const tier of ['auto', 'default', null]) {
      expect((await chat(h, user.key, { service_tier: tier })).statusCode).toBe(200);
    }
  });

  it("are forwarded when the model's configuration allows them", async () => {
    const h = await harness({ modelYaml: '    allow_fields: [chat_template, service_tier]' });
    const user = await h.seed({ usd: '10' });
    const response = await chat(h, user.key, { chat_template: '{{ x }}', service_tier: 'flex' });
    expect(response.statusCode).toBe(200);
    expect(h.upstream.received.at(-1)?.body).toMatchObject({
      chat_template: '{{ x }}',
      service_tier: 'flex',
    });
    const refused = await chat(h, user.key, { web_search_options: {} });
    expect(refused.statusCode).toBe(400);
  });
});

describe('legacy completions with a prompt array', () => {
  const prompts = Array.from({ length: 1_000 }, (_, i) => `Prompt number ${i}`);

  it('holds an output allowance for each prompt', async () => {
    const h = shared;
    const user = await h.seed({ usd: '500' });
    const response = await post(h, user.key, '/v1/completions', {
      model: 'flash',
      prompt: prompts,
      max_tokens: 400,
    });
    expect(response.statusCode).toBe(200);
    // 1000 prompts may each be answered with 400 tokens at 1000 micro-USD a token.
    expect(await lastHold(h, user.accountId)).toBeGreaterThanOrEqual(1_000 * 400 * 1_000);
  });

  it('refuses the array when the balance covers one answer but not one for each prompt', async () => {
    const h = shared;
    const user = await h.seed({ usd: '100' });
    const response = await post(h, user.key, '/v1/completions', {
      model: 'flash',
      prompt: prompts,
      max_tokens: 400,
    });
    expect(response.statusCode).toBe(402);
    expect(response.json()).toMatchObject({ error: { code: 'insufficient_quota' } });
  });

  it('never forwards a max_completion_tokens the completions API would not read', async () => {
    const h = shared;
    const user = await h.seed({ usd: '10' });
    const response = await post(h, user.key, '/v1/completions', {
      model: 'flash',
      prompt: 'Hi',
      max_tokens: 5,
      max_completion_tokens: 900,
    });
    expect(response.statusCode).toBe(200);
    const sent = h.upstream.received.at(-1)?.body;
    expect(sent?.max_tokens).toBe(5);
    expect(sent).not.toHaveProperty('max_completion_tokens');
  });
});

describe('the limit that was held is the limit the provider obeys', () => {
  it('bounds a max_completion_tokens sent to a provider that reads only max_tokens', async () => {
    const h = await harness({ upstream: { limitField: 'max_tokens', replyTokens: 50 } });
    const user = await h.seed({ usd: '10' });
    const response = await chat(h, user.key, { max_completion_tokens: 1 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ usage: { completion_tokens: 1 } });
    const sent = h.upstream.received.at(-1)?.body;
    expect(sent?.max_tokens).toBe(1);
    expect(sent).not.toHaveProperty('max_completion_tokens');
  });

  it('writes the held limit into max_completion_tokens alone for a provider configured to read it', async () => {
    const h = await harness({
      providerYaml: '    max_tokens_field: max_completion_tokens',
      upstream: { limitField: 'max_completion_tokens', replyTokens: 50 },
    });
    const user = await h.seed({ usd: '10' });
    const response = await chat(h, user.key, { max_tokens: 2 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ usage: { completion_tokens: 2 } });
    const sent = h.upstream.received.at(-1)?.body;
    expect(sent?.max_completion_tokens).toBe(2);
    expect(sent).not.toHaveProperty('max_tokens');
  });

  it('says in the log when a provider wrote more than the limit it was sent, naming the setting to check', async () => {
    // Configured for max_completion_tokens, while the server reads only max_tokens.
    const h = await harness({
      providerYaml: '    max_tokens_field: max_completion_tokens',
      upstream: { limitField: 'max_tokens', replyTokens: 50 },
    });
    const user = await h.seed({ usd: '10' });
    const response = await chat(h, user.key, { max_tokens: 2 });
    expect(response.statusCode).toBe(200);
    const line = h.logs.find((l) => l.includes('more output than the limit it was sent'));
    expect(line).toContain('max_tokens_field');
    expect(JSON.parse(line ?? '{}')).toMatchObject({ limit: 2, completionTokens: 50 });
  });

  it("writes the held limit into Anthropic's max_tokens and Gemini's maxOutputTokens", async () => {
    const anthropic = await startFakeAnthropic({ apiKey: 'fake-anthropic-key' });
    const gemini = await startFakeGemini('fake-gemini-key');
    try {
      const a = await harness({
        upstreamUrl: anthropic.url,
        providerType: 'anthropic',
        providerYaml: '    api_key_env: ANTHROPIC_API_KEY',
        env: { ANTHROPIC_API_KEY: 'fake-anthropic-key' },
      });
      const g = await harness({
        upstreamUrl: gemini.url,
        providerType: 'gemini',
        providerYaml: '    api_key_env: GEMINI_API_KEY',
        env: { GEMINI_API_KEY: 'fake-gemini-key' },
      });
      const onA = await a.seed({ usd: '10' });
      expect((await chat(a, onA.key, { max_completion_tokens: 7 })).statusCode).toBe(200);
      expect(anthropic.received.at(-1)?.body).toMatchObject({ max_tokens: 7 });
      expect(anthropic.received.at(-1)?.body).not.toHaveProperty('max_completion_tokens');
      // Anthropic's own tool-use system prompt is held on top of the request's text.
      expect(await lastHold(a, onA.accountId)).toBeGreaterThanOrEqual(600 + 7 * 1_000);
      const onG = await g.seed({ usd: '10' });
      expect((await chat(g, onG.key, { max_completion_tokens: 7 })).statusCode).toBe(200);
      expect(gemini.received.at(-1)?.body).toMatchObject({ generationConfig: { maxOutputTokens: 7 } });
    } finally {
      await anthropic.close();
      await gemini.close();
    }
  });
});
