import { afterAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/** What an operator declares about a provider decides what Tollgate sends it, never a 500. */
const harnesses: Harness[] = [];
afterAll(() => Promise.all(harnesses.map((h) => h.close())));

async function sendWith(providerYaml: string) {
  const h = await startHarness({ providerYaml });
  harnesses.push(h);
  const user = await h.seed();
  const response = await h.tollgate.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: bearer(user.key),
    payload: {
      model: 'mistral',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
      stream: true,
      top_k: 40,
    },
  });
  return { response, sent: h.upstream.received.at(-1)?.body };
}

describe('provider quirks', () => {
  it('passes a field Tollgate does not know through by default', async () => {
    const { response, sent } = await sendWith('');
    expect(response.statusCode).toBe(200);
    expect(sent?.top_k).toBe(40);
    expect(sent?.stream_options).toEqual({ include_usage: true });
  });

  it('drops unknown fields and stream_options, and renames the limit, when the provider says so', async () => {
    const { response, sent } = await sendWith(
      '    unknown_fields: drop\n    stream_usage: false\n    max_tokens_field: max_completion_tokens',
    );
    expect(response.statusCode).toBe(200);
    expect(sent).not.toHaveProperty('top_k');
    expect(sent).not.toHaveProperty('stream_options');
    expect(sent?.max_completion_tokens).toBe(5);
    expect(sent).not.toHaveProperty('max_tokens');
    // Without a usage chunk the stream is charged on an estimate, never $0.
    expect(response.body).toContain('[DONE]');
  });
});
