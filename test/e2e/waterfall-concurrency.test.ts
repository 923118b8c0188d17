import OpenAI from 'openai';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { raceWaterfallPath, WATERFALL_PATHS, WATERFALL_PLANS } from '../support/waterfall-race.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ upstream: { firstByteDelayMs: 400 }, extraYaml: WATERFALL_PLANS });
  await h.listen();
});
afterAll(() => h.close());

describe('every waterfall path raced by 100 parallel requests', () => {
  for (const stream of [false, true]) {
    it.each(WATERFALL_PATHS)(
      `admits only what $name covers, never overspends a pool (stream: ${stream})`,
      (path) =>
        raceWaterfallPath(
          {
            upstream: h.upstream,
            seed: (options) => h.seed(options),
            client: (key, base) => new OpenAI({ apiKey: key, baseURL: `${h.baseUrl}${base}`, maxRetries: 0 }),
            ledgerOf: (accountId) => h.ledgerOf(accountId),
            chargedByPool: (accountId) => h.chargedByPool(accountId),
          },
          path,
          stream,
        ),
    );
  }
});
