import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness } from '../support/harness.js';

/**
 * Streams are relayed chunk by chunk, never buffered whole: a client reads the first tokens while
 * the upstream is still generating. An upstream that stalls mid-stream ends the client's stream
 * with an error event in OpenAI's shape, and the client is charged only for what reached it.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    upstream: { stallAfterTokens: 3 },
    providerYaml: '    timeouts: { idle_ms: 400 }',
  });
  await h.listen();
});
afterAll(() => h.close());

async function readUntil(body: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

describe('streaming relay', () => {
  it('delivers tokens while the upstream is still generating, then ends a stalled stream with an error event', async () => {
    const user = await h.seed({ usd: '1' });
    const response = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    });
    expect(response.status).toBe(200);
    if (!response.body) throw new Error('no body');
    // The upstream has sent three tokens and stopped without ending: they must already be here.
    const early = await readUntil(response.body, (text) => text.includes('tok2'));
    expect(early).toContain('tok0');
    expect(early).not.toContain('[DONE]');

    const rest = await readUntil(response.body, () => false);
    const errorEvent = rest
      .split('\n\n')
      .find((e) => e.includes('"error"'))
      ?.replace(/^data: /, '');
    expect(errorEvent && JSON.parse(errorEvent)).toMatchObject({
      error: { code: 'upstream_timeout', type: 'api_error' },
    });
    expect(rest).not.toContain('[DONE]');

    await eventually(async () => (await h.ledgerOf(user.accountId)).settled > 0);
    const ledger = await h.ledgerOf(user.accountId);
    expect(ledger.sum).toBe(ledger.balance);
    // Three output tokens at $0.25 per million, plus the prompt: a few micro-dollars, not a full hold.
    expect(ledger.settled).toBeLessThan(10);
  });
});
