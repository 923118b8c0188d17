import { describe, expect, it } from 'vitest';
import { TierCatalogue } from '../services/limits/tier-catalogue.js';
import { parseConfig } from './load-config.js';

const BASE = `
brand: llmbase
providers:
  - id: local
    type: openai-compatible
    base_url: http://127.0.0.1:11434/v1
models:
  - id: deepseek/deepseek-v4-flash
    aliases: [flash]
    provider: local
    upstream_model: deepseek-v4-flash
    input_usd_per_million: 0.27
    output_usd_per_million: 1.10
    max_output_tokens: 8192
  - id: big
    provider: local
    upstream_model: big
    input_usd_per_million: 3
    output_usd_per_million: 15
    max_output_tokens: 8192
`;

const parse = (extra: string) => parseConfig(`${BASE}${extra}`, 'tollgate.yaml', {});
const refusal = (extra: string) => {
  try {
    parse(extra);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('tiers in the configuration', () => {
  it('reads limits, models by id or alias, a default tier and a plan tier', () => {
    const config = parse(`
tiers:
  - id: free
    requests_per_minute: 20
    tokens_per_minute: 40000
    concurrent_requests: 2
    models: [flash]
  - id: pro
    requests_per_minute: 600
default_tier: free
plans:
  - id: team
    kind: inference
    monthly_budget_usd: 50
    tier: pro
`);
    const [free, pro] = config.tiers.tiers;
    expect(free?.limits).toEqual({ requestsPerMinute: 20, tokensPerMinute: 40000, concurrentRequests: 2 });
    expect(free?.models).toEqual(new Set(['deepseek/deepseek-v4-flash']));
    expect(pro?.models).toBe('all');
    expect(pro?.limits.tokensPerMinute).toBeUndefined();
    expect(config.tiers.defaultTier).toBe('free');
    expect(config.tiers.planTiers.get('team')).toBe('pro');
  });

  it('leaves a configuration without tiers unlimited', () => {
    const config = parse('');
    expect(config.tiers.tiers).toEqual([]);
    const catalogue = new TierCatalogue(config.tiers);
    expect(
      catalogue.tierFor(undefined, { inference: undefined, chat: undefined }, 'inference'),
    ).toBeUndefined();
  });

  it.each([
    ['default_tier: gold', 'default_tier: unknown tier "gold" (no tiers are declared)'],
    [
      'tiers:\n  - id: free\n    models: [gpt-9]',
      `tiers[0].models[0]: unknown model "gpt-9"; list ids or aliases from models, or '*'`,
    ],
    ['tiers:\n  - id: free\n  - id: free', 'tiers[1].id: duplicate tier id "free"'],
    ['tiers:\n  - id: none', `tiers[0].id: "none" is reserved: it clears an account's tier`],
    ['tiers:\n  - id: free\n    requests_per_minute: 0', 'tiers[0].requests_per_minute'],
    [
      'tiers:\n  - id: free\nplans:\n  - id: p\n    kind: inference\n    monthly_budget_usd: 5\n    tier: gold',
      'plans[0].tier: unknown tier "gold" (declared: free)',
    ],
  ])('refuses %j, naming the field', (extra, message) => {
    expect(refusal(extra)).toContain(message);
  });
});

describe('which tier a request runs under', () => {
  const config = parse(`
tiers:
  - id: free
  - id: pro
  - id: chat
default_tier: free
plans:
  - id: team
    kind: inference
    monthly_budget_usd: 50
    tier: pro
  - id: agents
    kind: chat
    agent_limits: [{ window_hours: 5, requests: 100 }]
    tier: chat
`);
  const tiers = new TierCatalogue(config.tiers);
  const subscribed = {
    inference: { planId: 'team', startedAt: 0 },
    chat: { planId: 'agents', startedAt: 0 },
  };
  const none = { inference: undefined, chat: undefined };

  it("takes the account's own tier over its plan's, the plan's over the default", () => {
    expect(tiers.tierFor('free', subscribed, 'inference')?.id).toBe('free');
    expect(tiers.tierFor(undefined, subscribed, 'inference')?.id).toBe('pro');
    expect(tiers.tierFor(undefined, none, 'inference')?.id).toBe('free');
  });

  it("takes the plan the key's requests spend: the chat plan for a chat-agent key", () => {
    expect(tiers.tierFor(undefined, subscribed, 'chat_agent')?.id).toBe('chat');
  });

  it('reads an account tier the configuration no longer declares as none', () => {
    expect(tiers.tierFor('retired', none, 'inference')?.id).toBe('free');
  });
});
