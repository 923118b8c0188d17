import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/**
 * A Pro chat quota whose USD window is partly spent: the request that no longer fits is told when
 * the window frees up, and the balance never shows more used than the limit. The test model costs
 * 1 micro-USD per input token and 1000 per output token; the fake upstream answers max_tokens tokens.
 */
const START = Date.parse('2026-03-10T12:00:00Z');
const clock = { t: START, now: () => clock.t };
const FIVE_HOURS = 5 * 3_600_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    clock,
    extraYaml: `
plans:
  - id: pro
    kind: chat
    agent_limits:
      - { window_hours: 5, usd: 0.025 }
      - { window_hours: 168, usd: 1 }
`,
  });
});
afterAll(() => h.close());

function agentChat(key: string) {
  return h.tollgate.app.inject({
    method: 'POST',
    url: '/api/v1/agents/chat/completions',
    headers: bearer(key),
    payload: {
      model: 'deepseek/deepseek-v4-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 10,
    },
  });
}

describe('an agent quota with a partly spent USD window', () => {
  it('gives resets_at in the 402 and the balance, and never shows more used than the limit', async () => {
    const user = await h.seed({
      type: 'chat_agent',
      plans: ['pro'],
      spending: { billing: 'prepaid', overflow: false, limit: undefined },
    });
    // Two answers of 10 output tokens: about 2.0 of the 2.5 cents the 5-hour window allows.
    for (const offset of [0, 60_000]) {
      clock.t = START + offset;
      expect((await agentChat(user.key)).statusCode).toBe(200);
    }
    clock.t = START + 120_000;
    const refused = await agentChat(user.key);
    expect(refused.statusCode).toBe(402);
    const resetsAt = new Date(START + FIVE_HOURS).toISOString();
    expect(refused.json()).toMatchObject({ error: { pool: 'agent_quota', resets_at: resetsAt } });
    expect(refused.json().error.message).toContain(`It resets at ${resetsAt}.`);

    const response = await h.tollgate.app.inject({
      method: 'GET',
      url: '/api/v1/agents/balance',
      headers: bearer(user.key),
    });
    const quota = response.json().agent_quota as {
      resets_at: string | null;
      windows: { usd_limit_cents: number; usd_used_cents: number; usd_remaining_cents: number }[];
    };
    expect(quota.resets_at).toBe(resetsAt);
    expect(quota.windows[0]).toMatchObject({ usd_limit_cents: 2, usd_used_cents: 2, usd_remaining_cents: 0 });
    for (const w of quota.windows) expect(w.usd_used_cents).toBeLessThanOrEqual(w.usd_limit_cents);

    // The window frees its oldest spend exactly then, and the request fits again.
    clock.t = START + FIVE_HOURS;
    expect((await agentChat(user.key)).statusCode).toBe(200);
  });
});
