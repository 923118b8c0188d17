import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf } from '../../src/domain/pricing.js';
import { eventually, expectedCharge, type Harness, startHarness, TEST_PRICE } from '../support/harness.js';

/**
 * Money under pressure: many requests racing for one balance, and a client that walks away from a
 * stream. The upstream answers slowly so that every request is admitted or refused before any settles.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ upstream: { firstByteDelayMs: 400 } });
  await h.listen();
});
afterAll(() => h.close());

const PARALLEL = 100;
const COVERED = 20;
const MAX_TOKENS = 10;
const messages = [{ role: 'user' as const, content: 'Hi' }];
// The hold's prompt ceiling for this message: 2 bytes of text, 4 of role, 16 per message, 32 per request.
const PROMPT_CEILING = 2 + 4 + 16 + 32;
const HOLD = costOf(TEST_PRICE, { promptTokens: PROMPT_CEILING, completionTokens: MAX_TOKENS });

function usd(micros: number): string {
  return (micros / 1_000_000).toFixed(6);
}

describe('a balance raced by 100 parallel requests', () => {
  it.each([false, true])(
    'admits at most the requests it covers and never goes below zero (stream: %s)',
    async (stream) => {
      const user = await h.seed({ usd: usd(HOLD * COVERED) });
      const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
      const receivedBefore = h.upstream.received.length;
      const usagesBefore = h.upstream.usages.length;

      const results = await Promise.allSettled(
        Array.from({ length: PARALLEL }, async () => {
          if (!stream) {
            return sdk.chat.completions.create({
              model: 'deepseek/deepseek-v4-flash',
              messages,
              max_tokens: MAX_TOKENS,
            });
          }
          const s = await sdk.chat.completions.create({
            model: 'deepseek/deepseek-v4-flash',
            messages,
            max_tokens: MAX_TOKENS,
            stream: true,
          });
          for await (const _ of s) {
            // read the stream to its end
          }
          return s;
        }),
      );

      const admitted = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r) => r.status === 'rejected');
      expect(admitted).toBe(COVERED);
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toMatchObject({
          status: 402,
          code: 'insufficient_quota',
        });
      }
      expect(h.upstream.received.length - receivedBefore).toBe(admitted);

      const ledger = await h.ledgerOf(user.accountId);
      expect(ledger.balance).toBeGreaterThanOrEqual(0);
      expect(ledger.sum).toBe(ledger.balance);
      expect(ledger.openHolds).toBe(0);
      expect(ledger.settled).toBe(expectedCharge(h.upstream.usages.slice(usagesBefore)));
      expect(h.upstream.usages.length - usagesBefore).toBe(admitted);
    },
  );
});

describe('a stream the client abandons', () => {
  it('is charged for the tokens relayed before the client left, never $0', async () => {
    // " word" is one token of the tokenizer that counts a stream cut short: chunks and tokens agree.
    h.upstream.options = { reply: () => Array.from({ length: 400 }, () => ' word'), chunkIntervalMs: 10 };
    try {
      const user = await h.seed({ usd: '5' });
      const sdk = new OpenAI({ apiKey: user.key, baseURL: `${h.baseUrl}/v1`, maxRetries: 0 });
      const streamsBefore = h.upstream.streamedTokens.length;
      const stream = await sdk.chat.completions.create({
        model: 'deepseek/deepseek-v4-flash',
        messages,
        stream: true,
      });
      let received = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received++;
        if (received === 5) break; // leaving the loop aborts the HTTP request
      }

      await eventually(async () => (await h.ledgerOf(user.accountId)).settled > 0);
      const ledger = await h.ledgerOf(user.accountId);
      const upstreamSent = h.upstream.streamedTokens[streamsBefore] ?? 0;
      const chargedOutputTokens = Math.floor(ledger.settled / 1_000);
      expect(ledger.settled).toBeGreaterThan(0);
      expect(chargedOutputTokens).toBeGreaterThanOrEqual(received);
      expect(chargedOutputTokens).toBeLessThanOrEqual(upstreamSent);
      // The upstream connection was closed too: it did not keep generating for nobody.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(h.upstream.streamedTokens[streamsBefore]).toBeLessThan(400);
      expect(ledger.sum).toBe(ledger.balance);
    } finally {
      h.upstream.options = { firstByteDelayMs: 400 };
    }
  });
});
