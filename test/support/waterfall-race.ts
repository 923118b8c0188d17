import OpenAI from 'openai';
import { expect } from 'vitest';
import type { KeyType } from '../../src/domain/api-key.js';
import type { KeySpending } from '../../src/domain/key-spending.js';
import { costOf } from '../../src/domain/pricing.js';
import type { FakeUpstream } from './fake-openai-upstream.js';
import { expectedCharge, TEST_PRICE } from './harness.js';
import type { LedgerFigures, PoolCharges } from './ledger-figures.js';

/**
 * The prepaid concurrency test of the gateway core, repeated for every path of the billing
 * waterfall: 100 parallel requests through the official `openai` SDK against pools that cover 20.
 * The upstream answers slowly so that every request is admitted or refused before any settles.
 * One table of paths, raced against one process (test/e2e) or several on one database (test/cluster).
 */
export const PARALLEL = 100;
export const COVERED = 20;
const MAX_TOKENS = 10;
const messages = [{ role: 'user' as const, content: 'Hi' }];
// The hold's prompt ceiling for this message: 2 bytes of text, 4 of role, 16 per message, 32 per request.
const HOLD = costOf(TEST_PRICE, { promptTokens: 2 + 4 + 16 + 32, completionTokens: MAX_TOKENS });

export function usd(micros: number): string {
  return (micros / 1_000_000).toFixed(6);
}

/** The plans the paths subscribe to, for the configuration's top level. */
export const WATERFALL_PLANS = `
plans:
  - id: sub-full
    kind: inference
    monthly_budget_usd: ${usd(HOLD * COVERED)}
  - id: sub-half
    kind: inference
    monthly_budget_usd: ${usd((HOLD * COVERED) / 2)}
  - id: agent-full
    kind: chat
    agent_limits:
      - { window_hours: 5, usd: ${usd(HOLD * COVERED)} }
      - { window_hours: 168, usd: 100 }
  - id: agent-half
    kind: chat
    agent_limits:
      - { window_hours: 5, usd: ${usd((HOLD * COVERED) / 2)} }
  - id: agent-requests
    kind: chat
    agent_limits:
      - { window_hours: 5, requests: ${COVERED} }
`;

export interface WaterfallPath {
  readonly name: string;
  readonly type: KeyType;
  readonly spending: KeySpending;
  readonly plans: string[];
  /** Prepaid credit of the account. */
  readonly prepaid: number;
  readonly base: string;
  /** What the 402s must name. */
  readonly exhausted: string;
  /** The most each pool may have been charged. */
  readonly caps: PoolCharges;
}

const subscription = (overflow: boolean): KeySpending => ({
  billing: 'subscription',
  overflow,
  limit: undefined,
});
const agent = (overflow: boolean): KeySpending => ({ billing: 'prepaid', overflow, limit: undefined });
const ALL = HOLD * COVERED;
const HALF = ALL / 2;
// An account rich in prepaid credit, for the paths that must never touch it.
const RICH = 5_000_000;

export const WATERFALL_PATHS: WaterfallPath[] = [
  {
    name: 'subscription only',
    type: 'inference',
    spending: subscription(false),
    plans: ['sub-full'],
    prepaid: RICH,
    base: '/v1',
    exhausted: 'subscription',
    caps: { prepaid: 0, subscription: ALL, agent_quota: 0 },
  },
  {
    name: 'subscription into prepaid overflow',
    type: 'inference',
    spending: subscription(true),
    plans: ['sub-half'],
    prepaid: HALF,
    base: '/v1',
    exhausted: 'prepaid',
    caps: { prepaid: HALF, subscription: HALF, agent_quota: 0 },
  },
  {
    name: 'agent quota only (USD windows), at /api/v1/agents',
    type: 'chat_agent',
    spending: agent(false),
    plans: ['agent-full'],
    prepaid: RICH,
    base: '/api/v1/agents',
    exhausted: 'agent_quota',
    caps: { prepaid: 0, subscription: 0, agent_quota: ALL },
  },
  {
    name: 'agent quota only (a request limit), at the legacy /api/chat-agent/v1',
    type: 'chat_agent',
    spending: agent(false),
    plans: ['agent-requests'],
    prepaid: RICH,
    base: '/api/chat-agent/v1',
    exhausted: 'agent_quota',
    caps: { prepaid: 0, subscription: 0, agent_quota: ALL },
  },
  {
    name: 'agent quota into prepaid overflow',
    type: 'chat_agent',
    spending: agent(true),
    plans: ['agent-half'],
    prepaid: HALF,
    base: '/api/v1/agents',
    exhausted: 'prepaid',
    caps: { prepaid: HALF, subscription: 0, agent_quota: HALF },
  },
  {
    name: 'a key spend limit on a prepaid key',
    type: 'inference',
    spending: { billing: 'prepaid', overflow: false, limit: { micros: ALL, period: 'month' } },
    plans: [],
    prepaid: RICH,
    base: '/v1',
    exhausted: 'key_limit',
    caps: { prepaid: ALL, subscription: 0, agent_quota: 0 },
  },
];

/** Where the race runs: one Tollgate (a harness) or several (a cluster), and how to read its ledger. */
export interface WaterfallTarget {
  readonly upstream: FakeUpstream;
  seed(options: {
    usd: string;
    type: KeyType;
    spending: KeySpending;
    plans: readonly string[];
  }): Promise<{ accountId: string; key: string }>;
  /** An SDK client for `key` at `base` (a path such as /v1); a cluster's spreads its requests. */
  client(key: string, base: string): OpenAI;
  ledgerOf(accountId: string): Promise<LedgerFigures>;
  chargedByPool(accountId: string): Promise<PoolCharges>;
}

/** Races PARALLEL requests on a new account of `path` and checks what was admitted and charged. */
export async function raceWaterfallPath(
  target: WaterfallTarget,
  path: WaterfallPath,
  stream: boolean,
): Promise<void> {
  const user = await target.seed({
    usd: usd(path.prepaid),
    type: path.type,
    spending: path.spending,
    plans: path.plans,
  });
  const sdk = target.client(user.key, path.base);
  const receivedBefore = target.upstream.received.length;
  const usagesBefore = target.upstream.usages.length;

  const results = await Promise.allSettled(
    Array.from({ length: PARALLEL }, async () => {
      const request = { model: 'deepseek/deepseek-v4-flash', messages, max_tokens: MAX_TOKENS };
      if (!stream) return sdk.chat.completions.create(request);
      const s = await sdk.chat.completions.create({ ...request, stream: true });
      for await (const _ of s) {
        // read the stream to its end
      }
      return s;
    }),
  );

  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  expect(admitted).toBe(COVERED);
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    expect(r.reason).toBeInstanceOf(OpenAI.APIError);
    expect(r.reason).toMatchObject({ status: 402, code: 'insufficient_quota' });
    expect((r.reason as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      pool: path.exhausted,
    });
  }
  expect(target.upstream.received.length - receivedBefore).toBe(admitted);

  const charged = await target.chargedByPool(user.accountId);
  const upstreamCost = expectedCharge(target.upstream.usages.slice(usagesBefore));
  expect(charged.prepaid + charged.subscription + charged.agent_quota).toBe(upstreamCost);
  expect(charged.prepaid).toBeLessThanOrEqual(path.caps.prepaid);
  expect(charged.subscription).toBeLessThanOrEqual(path.caps.subscription);
  expect(charged.agent_quota).toBeLessThanOrEqual(path.caps.agent_quota);
  const ledger = await target.ledgerOf(user.accountId);
  expect(ledger.balance).toBe(path.prepaid - charged.prepaid);
  expect(ledger.balance).toBeGreaterThanOrEqual(0);
  expect(ledger.sum).toBe(ledger.balance);
  expect(ledger.openHolds).toBe(0);
}
