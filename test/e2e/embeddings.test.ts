import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCharge, type Harness, startHarness } from '../support/harness.js';

/** POST /v1/embeddings through the official SDK: authenticated, held and charged on input tokens. */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.listen();
});
afterAll(() => h.close());

describe('embeddings', () => {
  it('returns the vectors and charges the input tokens the upstream reported', async () => {
    const user = await h.seed({ usd: '1' });
    const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const result = await sdk.embeddings.create({
      model: 'mistral',
      input: ['hello world', 'three more words'],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[1]?.embedding).toHaveLength(8);
    expect(result.usage.prompt_tokens).toBe(5);
    expect(h.upstream.received.at(-1)?.body.model).toBe('fake-mistral');
    const ledger = await h.ledgerOf(user.accountId);
    // mistral costs $0.25 per million input tokens.
    expect(ledger.settled).toBe(
      expectedCharge([{ prompt_tokens: 5, completion_tokens: 0 }], {
        inputMicrosPerMillion: 250_000,
        outputMicrosPerMillion: 250_000,
      }),
    );
    expect(ledger.sum).toBe(ledger.balance);
  });

  it('needs a key and a balance, like chat', async () => {
    const anonymous = await fetch(`${h.baseUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', input: 'hi' }),
    });
    expect(anonymous.status).toBe(401);
    const broke = await h.seed({ usd: '0' });
    const sdk = new OpenAI({ apiKey: broke.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
    const error = await sdk.embeddings.create({ model: 'mistral', input: 'hi' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 402, code: 'insufficient_quota' });
  });

  it('names a bad input', async () => {
    const user = await h.seed();
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: { authorization: `Bearer ${user.key}` },
      payload: { model: 'mistral', input: [{ not: 'text' }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_request', param: 'input' } });
  });
});
