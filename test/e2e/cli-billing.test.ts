import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_TOPUP_OFF } from '../../src/domain/auto-topup.js';
import { type KeySpending, PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { formatUsd, parseUsd } from '../../src/domain/money.js';
import { subscriptionWindow } from '../../src/domain/periods.js';
import { type CliResult, type CliServer, startCliServer } from '../support/cli-server.js';
import type { FakeUpstream } from '../support/fake-openai-upstream.js';
import { configYaml, eventually, expectedCharge } from '../support/harness.js';

/**
 * The billing commands of the `tollgate` CLI as an operator uses them: the built bin, run as a
 * separate process on the same SQLite database while `tollgate serve` is running. What a test only
 * needs in place (an account, a key to update) is seeded, and what it checks in the database is
 * read, through the same services in the test's own process: only the commands under test spawn
 * the CLI, which keeps the suite within its time on a busy machine.
 */

/** A budget that pays for a few requests of deepseek/deepseek-v4-flash ($1000 per million output tokens). */
const TINY_BUDGET_USD = '0.02';

const PLANS_YAML = `
plans:
  - id: tiny
    kind: inference
    name: Tiny
    monthly_budget_usd: ${TINY_BUDGET_USD}
  - id: starter
    kind: inference
    name: Starter
    monthly_budget_usd: 20
  - id: pro-chat
    kind: chat
    agent_limits:
      - window_hours: 5
        requests: 10
      - window_hours: 168
        usd: 5
`;

let s: CliServer;
let dir: string;
let upstream: FakeUpstream;
let baseUrl: string;
const cli = (args: string[]): Promise<CliResult> => s.cli(args);
const cliJson = <T>(args: string[]): Promise<T> => s.cliJson<T>(args);

/** A refusal as an operator sees it: exit code 1, one line on stderr matching `message`, no stack trace. */
async function expectRefused(args: string[], message: RegExp | string): Promise<void> {
  const result = await cli(args);
  expect(result.code, `tollgate ${args.join(' ')}`).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
}

/** An account with `usd` of prepaid credit, seeded in-process. */
const newAccount = (usd?: string): Promise<string> => s.seedAccount(usd === undefined ? {} : { usd });

/** The account's keys as stored. */
const storedKeys = (accountId: string) =>
  s.services(async ({ keys }) => {
    const listed = await keys.list(accountId);
    if (!listed.ok) throw new Error(listed.error);
    return listed.value;
  });

/** The account's auto top-up setting as stored. */
const storedAutoTopup = (accountId: string) =>
  s.services(async ({ accounts }) => (await accounts.find(accountId))?.autoTopup);

/** The account's live subscriptions as stored. */
const storedSubscriptions = (accountId: string) =>
  s.services(async ({ subscriptions }) => {
    const live = await subscriptions.live(accountId);
    if (!live.ok) throw new Error(live.error);
    return live.value;
  });

interface KeyJson {
  id: string;
  key: string;
  type: string;
  billing: string;
  overflow: boolean;
  limit_usd: string | null;
  limit_period: string | null;
}

interface ShownSubscriptions {
  account_id: string;
  inference: {
    plan: string;
    started_at: string;
    budget_usd: string;
    remaining_usd: string;
    resets_at: string;
  } | null;
  chat: {
    plan: string;
    started_at: string;
    windows: { window_hours: number; requests_used: number; requests_limit: number | null }[];
  } | null;
}

beforeAll(async () => {
  s = await startCliServer(PLANS_YAML);
  ({ dir, upstream, baseUrl } = s);
});

afterAll(() => s?.stop());

describe('tollgate plans', () => {
  it('lists the plans the configuration declares, with budgets and agent limits', async () => {
    expect(await cliJson(['plans'])).toEqual([
      {
        id: 'tiny',
        kind: 'inference',
        name: 'Tiny',
        monthly_budget_usd: formatUsd(parseUsd(TINY_BUDGET_USD)!),
      },
      { id: 'starter', kind: 'inference', name: 'Starter', monthly_budget_usd: formatUsd(20_000_000) },
      {
        id: 'pro-chat',
        kind: 'chat',
        // A plan without a name goes by its id.
        name: 'pro-chat',
        agent_limits: [
          { window_hours: 5, requests: 10, usd: null },
          { window_hours: 168, requests: null, usd: formatUsd(5_000_000) },
        ],
      },
    ]);
  });

  it('says so when the configuration declares no plans', async () => {
    const file = path.join(dir, 'no-plans.yaml');
    writeFileSync(file, configYaml(upstream.url));
    expect(await cliJson(['--config', file, 'plans'])).toEqual([]);
    const human = await cli(['--config', file, 'plans']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('no plans');
  });

  it('prints one readable line per plan', async () => {
    const result = await cli(['plans']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('starter');
    expect(lines[1]).toContain('$20.000000');
    expect(lines[2]).toContain('pro-chat');
    expect(lines[2]).toContain('10 requests');
  });
});

describe('tollgate subscriptions', () => {
  it('subscribes an account to an inference plan and shows its full budget until the next renewal', async () => {
    const accountId = await newAccount();
    const set = await cliJson<{ account_id: string; plan: { id: string } }>([
      'subscriptions',
      'set',
      accountId,
      '--plan',
      'starter',
    ]);
    expect(set).toMatchObject({ account_id: accountId, plan: { id: 'starter', kind: 'inference' } });
    const shown = await cliJson<ShownSubscriptions>(['subscriptions', 'show', accountId]);
    expect(shown.account_id).toBe(accountId);
    expect(shown.chat).toBeNull();
    expect(shown.inference).toMatchObject({
      plan: 'starter',
      budget_usd: formatUsd(20_000_000),
      remaining_usd: formatUsd(20_000_000),
    });
    const startedAt = Date.parse(shown.inference!.started_at);
    expect(Math.abs(startedAt - Date.now())).toBeLessThan(10 * 60_000);
    // The budget renews a month after the day the subscription started.
    expect(shown.inference!.resets_at).toBe(
      new Date(subscriptionWindow(startedAt, startedAt).until).toISOString(),
    );
  });

  it('keeps one subscription of each kind: a new inference plan replaces the old one, a chat plan sits beside it', async () => {
    const accountId = await newAccount();
    await cliJson(['subscriptions', 'set', accountId, '--plan', 'starter']);
    await cliJson(['subscriptions', 'set', accountId, '--plan', 'tiny']);
    await cliJson(['subscriptions', 'set', accountId, '--plan', 'pro-chat']);
    const shown = await cliJson<ShownSubscriptions>(['subscriptions', 'show', accountId]);
    expect(shown.inference?.plan).toBe('tiny');
    expect(shown.inference?.budget_usd).toBe(formatUsd(parseUsd(TINY_BUDGET_USD)!));
    expect(shown.chat).toMatchObject({
      plan: 'pro-chat',
      windows: [
        { window_hours: 5, requests_used: 0, requests_limit: 10 },
        { window_hours: 168, requests_used: 0, requests_limit: null },
      ],
    });
  });

  it('cancels one kind, then the rest, and says when there was nothing to cancel', async () => {
    const accountId = await s.seedAccount({ plans: ['starter', 'pro-chat'] });

    expect(await cliJson(['subscriptions', 'cancel', accountId, '--kind', 'chat'])).toEqual({
      account_id: accountId,
      canceled: 1,
    });
    let stored = await storedSubscriptions(accountId);
    expect(stored.chat).toBeUndefined();
    expect(stored.inference?.planId).toBe('starter');

    expect(await cliJson(['subscriptions', 'cancel', accountId])).toEqual({
      account_id: accountId,
      canceled: 1,
    });
    stored = await storedSubscriptions(accountId);
    expect(stored).toEqual({ inference: undefined, chat: undefined });

    const again = await cli(['subscriptions', 'cancel', accountId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no subscription to cancel');
  });

  it('shows an account without subscriptions in words', async () => {
    const accountId = await newAccount();
    const result = await cli(['subscriptions', 'show', accountId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('inference: no subscription');
    expect(result.stdout).toContain('chat: no Pro chat plan');
  });

  it('refuses an unknown plan, listing the plans there are', async () => {
    const accountId = await newAccount();
    await expectRefused(
      ['subscriptions', 'set', accountId, '--plan', 'gold'],
      'no plan with id gold (plans: tiny, starter, pro-chat)',
    );
    expect((await storedSubscriptions(accountId)).inference).toBeUndefined();
  });

  it.each([
    [['subscriptions', 'set', 'acct_nope', '--plan', 'starter'], 'no account with id acct_nope'],
    [['subscriptions', 'show', 'acct_nope'], 'no account with id acct_nope'],
    [['subscriptions', 'cancel', 'acct_nope'], 'no account with id acct_nope'],
    [
      ['subscriptions', 'cancel', 'acct_nope', '--kind', 'weekly'],
      '--kind: expected inference, chat or all, got "weekly"',
    ],
  ])('refuses %j with one clear line', async (args, message) => {
    await expectRefused(args, message);
  });
});

describe('tollgate keys and how they spend', () => {
  it('creates a prepaid inference key by default, with no overflow and no limit', async () => {
    const accountId = await newAccount();
    const key = await cliJson<KeyJson>(['keys', 'create', accountId, '--name', 'plain']);
    expect(key).toMatchObject({ billing: 'prepaid', overflow: false, limit_usd: null, limit_period: null });
  });

  it('creates a subscription key with overflow and a monthly limit, and lists it so', async () => {
    const accountId = await newAccount();
    const created = await cliJson<KeyJson>([
      'keys',
      'create',
      accountId,
      '--name',
      'app',
      '--billing',
      'subscription',
      '--overflow',
      '--limit-usd',
      '10',
      '--limit-period',
      'month',
    ]);
    expect(created).toMatchObject({
      type: 'inference',
      billing: 'subscription',
      overflow: true,
      limit_usd: formatUsd(10_000_000),
      limit_period: 'month',
    });
    const listed = await cliJson<KeyJson[]>(['keys', 'list', accountId]);
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, billing: 'subscription', overflow: true }),
    ]);
  });

  it('gives a limit without a period a lifetime period', async () => {
    const accountId = await newAccount();
    const key = await cliJson<KeyJson>(['keys', 'create', accountId, '--name', 'k', '--limit-usd', '2.5']);
    expect(key).toMatchObject({ limit_usd: formatUsd(2_500_000), limit_period: 'lifetime' });
  });

  it('lets a chat-agent key overflow onto prepaid credit', async () => {
    const accountId = await newAccount();
    const key = await cliJson<KeyJson>([
      'keys',
      'create',
      accountId,
      '--name',
      'bot',
      '--type',
      'chat-agent',
      '--overflow',
    ]);
    expect(key).toMatchObject({ type: 'chat-agent', billing: 'prepaid', overflow: true });
  });

  it('says how a key spends when created without --json', async () => {
    const accountId = await newAccount();
    const result = await cli([
      'keys',
      'create',
      accountId,
      '--name',
      'human',
      '--billing',
      'subscription',
      '--limit-usd',
      '3',
      '--limit-period',
      'week',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('spends subscription');
    expect(result.stdout).toContain('limit $3.000000 per week');
  });

  it.each([
    [
      'subscription billing on a chat-agent key',
      ['--type', 'chat-agent', '--billing', 'subscription'],
      '--billing applies to inference keys only',
    ],
    ['overflow on a prepaid inference key', ['--overflow'], 'a prepaid key already spends prepaid credit'],
    [
      'a limit that is not an amount',
      ['--limit-usd', 'abc'],
      '--limit-usd: expected a positive amount such as 10.00, got "abc"',
    ],
    ['a limit of zero', ['--limit-usd', '0'], '--limit-usd: expected a positive amount'],
    ['a negative limit', ['--limit-usd', '-5'], '--limit-usd'],
    ['a limit over a million dollars', ['--limit-usd', '1000001'], 'at most 1000000 USD'],
    [
      'a period that does not exist',
      ['--limit-usd', '5', '--limit-period', 'year'],
      '--limit-period: expected lifetime, day, week, month, got "year"',
    ],
    ['a period without a limit', ['--limit-period', 'day'], '--limit-period needs --limit-usd'],
    [
      'an unknown billing mode',
      ['--billing', 'postpaid'],
      '--billing: expected prepaid or subscription, got "postpaid"',
    ],
  ])('refuses %s with exit code 1 and creates no key', async (_name, flags, message) => {
    const accountId = await newAccount();
    await expectRefused(['keys', 'create', accountId, '--name', 'bad', ...flags], message);
    expect(await storedKeys(accountId)).toEqual([]);
  });

  it('turns overflow on and sets a limit, each change keeping the other', async () => {
    const accountId = await newAccount();
    const { id } = await s.seedKey(accountId, {
      spending: { billing: 'subscription', overflow: false, limit: undefined },
    });

    expect(await cliJson<KeyJson>(['keys', 'update', id, '--overflow', 'on'])).toMatchObject({
      id,
      billing: 'subscription',
      overflow: true,
      limit_usd: null,
    });
    expect(
      await cliJson<KeyJson>(['keys', 'update', id, '--limit-usd', '7', '--limit-period', 'day']),
    ).toMatchObject({
      overflow: true,
      limit_usd: formatUsd(7_000_000),
      limit_period: 'day',
    });
    // The change is stored, not just printed.
    expect(await storedKeys(accountId)).toEqual([
      expect.objectContaining({
        id,
        spending: { billing: 'subscription', overflow: true, limit: { micros: 7_000_000, period: 'day' } },
      }),
    ]);
  });

  it('turns overflow off and removes a limit, each change keeping the other', async () => {
    const accountId = await newAccount();
    const { id } = await s.seedKey(accountId, {
      spending: { billing: 'subscription', overflow: true, limit: { micros: 7_000_000, period: 'day' } },
    });

    expect(await cliJson<KeyJson>(['keys', 'update', id, '--overflow', 'off'])).toMatchObject({
      overflow: false,
      limit_usd: formatUsd(7_000_000),
      limit_period: 'day',
    });
    expect(await cliJson<KeyJson>(['keys', 'update', id, '--limit-usd', 'none'])).toMatchObject({
      overflow: false,
      limit_usd: null,
      limit_period: null,
    });
    expect(await storedKeys(accountId)).toEqual([
      expect.objectContaining({
        id,
        spending: { billing: 'subscription', overflow: false, limit: undefined },
      }),
    ]);
  });

  it('switches a subscription key back to prepaid billing, turning overflow off with it', async () => {
    const accountId = await newAccount();
    const { id } = await s.seedKey(accountId, {
      spending: { billing: 'subscription', overflow: true, limit: undefined },
    });
    // Overflow means nothing on a prepaid key, so billing alone cannot switch while it is on.
    await expectRefused(
      ['keys', 'update', id, '--billing', 'prepaid'],
      'a prepaid key already spends prepaid credit',
    );
    expect(
      await cliJson<KeyJson>(['keys', 'update', id, '--billing', 'prepaid', '--overflow', 'off']),
    ).toMatchObject({
      billing: 'prepaid',
      overflow: false,
    });
  });

  describe('refuses updates that make no sense and leaves the key as it was', () => {
    const LIMITED: KeySpending = {
      billing: 'prepaid',
      overflow: false,
      limit: { micros: 4_000_000, period: 'lifetime' },
    };
    let accountId: string;
    let keyIds: { prepaid: string; agent: string };

    beforeAll(async () => {
      accountId = await newAccount();
      const prepaid = await s.seedKey(accountId, { spending: LIMITED });
      const agent = await s.seedKey(accountId, { type: 'chat_agent' });
      keyIds = { prepaid: prepaid.id, agent: agent.id };
    });

    it.each([
      [
        'no change at all',
        'prepaid',
        [],
        'nothing to change: give --overflow, --billing, --limit-usd or --ip-allow',
      ],
      [
        'overflow on a prepaid key',
        'prepaid',
        ['--overflow', 'on'],
        'a prepaid key already spends prepaid credit',
      ],
      [
        'overflow neither on nor off',
        'prepaid',
        ['--overflow', 'maybe'],
        '--overflow: expected on or off, got "maybe"',
      ],
      [
        'a limit that is not an amount',
        'prepaid',
        ['--limit-usd', 'lots'],
        '--limit-usd: expected a positive amount such as 10.00 or none',
      ],
      [
        'a period with no limit to apply it to',
        'prepaid',
        ['--limit-usd', 'none', '--limit-period', 'day'],
        '--limit-period',
      ],
      ['a period without a limit', 'prepaid', ['--limit-period', 'week'], '--limit-period needs --limit-usd'],
      [
        'subscription billing on a chat-agent key',
        'agent',
        ['--billing', 'subscription'],
        '--billing applies to inference keys only',
      ],
    ] as const)('refuses %s', async (_name, which, flags, message) => {
      await expectRefused(['keys', 'update', keyIds[which], ...flags], message);
      const stored = await storedKeys(accountId);
      expect(stored.find((k) => k.id === keyIds.prepaid)?.spending).toEqual(LIMITED);
      expect(stored.find((k) => k.id === keyIds.agent)?.spending).toEqual(PREPAID_SPENDING);
    });

    it('refuses an unknown key', async () => {
      await expectRefused(['keys', 'update', 'key_nope', '--overflow', 'on'], 'no key with id key_nope');
    });
  });
});

describe('tollgate credits auto-topup and topups', () => {
  interface AccountJson {
    id: string;
    auto_topup: { threshold_usd: string; amount_usd: string } | null;
  }

  it('turns auto top-up on, and the account shows it', async () => {
    const accountId = await newAccount('1');
    const on = await cliJson<AccountJson>([
      'credits',
      'auto-topup',
      accountId,
      '--threshold-usd',
      '2',
      '--amount-usd',
      '25',
    ]);
    expect(on.auto_topup).toEqual({ threshold_usd: formatUsd(2_000_000), amount_usd: formatUsd(25_000_000) });
    expect((await cliJson<AccountJson>(['accounts', 'show', accountId])).auto_topup).toEqual(on.auto_topup);

    const human = await cli([
      'credits',
      'auto-topup',
      accountId,
      '--threshold-usd',
      '1.5',
      '--amount-usd',
      '10',
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('auto top-up of $10.000000 when the balance falls below $1.500000');
  });

  it('turns auto top-up off, and the account shows it', async () => {
    const accountId = await newAccount('1');
    await s.services(async ({ accounts }) => {
      const on = await accounts.setAutoTopup(accountId, {
        thresholdMicros: 2_000_000,
        amountMicros: 25_000_000,
      });
      if (!on.ok) throw new Error(on.error);
    });
    const off = await cliJson<AccountJson>(['credits', 'auto-topup', accountId, '--off']);
    expect(off.auto_topup).toBeNull();
    expect((await cliJson<AccountJson>(['accounts', 'show', accountId])).auto_topup).toBeNull();
  });

  it.each([
    [[], 'give --threshold-usd and --amount-usd, or --off'],
    [['--threshold-usd', '2'], 'give --threshold-usd and --amount-usd, or --off'],
    [['--amount-usd', '25'], 'give --threshold-usd and --amount-usd, or --off'],
    [['--off', '--threshold-usd', '2'], '--off takes no --threshold-usd or --amount-usd'],
    [['--threshold-usd', '0', '--amount-usd', '25'], '--threshold-usd: expected a positive amount'],
    [['--threshold-usd', 'two', '--amount-usd', '25'], '--threshold-usd: expected a positive amount'],
    [
      ['--threshold-usd', '2', '--amount-usd', 'abc'],
      '--amount-usd: expected a positive amount such as 25.00, got "abc"',
    ],
    [['--threshold-usd', '2', '--amount-usd', '1000001'], 'at most 1000000 USD'],
  ])('refuses auto-topup %j and leaves the setting as it was', async (flags, message) => {
    const accountId = await newAccount();
    await expectRefused(['credits', 'auto-topup', accountId, ...flags], message);
    expect(await storedAutoTopup(accountId)).toEqual(AUTO_TOPUP_OFF);
  });

  it('refuses auto-topup and topups for an unknown account', async () => {
    await expectRefused(
      ['credits', 'auto-topup', 'acct_nope', '--threshold-usd', '2', '--amount-usd', '25'],
      'no account with id acct_nope',
    );
    await expectRefused(['credits', 'topups', 'acct_nope'], 'no account with id acct_nope');
  });

  it('lists no top-ups for an account that never asked for one', async () => {
    const accountId = await newAccount('1');
    expect(await cliJson(['credits', 'topups', accountId])).toEqual([]);
    const human = await cli(['credits', 'topups', accountId]);
    expect(human.code).toBe(0);
    expect(human.stdout.trim()).toBe('no top-ups asked for');
  });
});

interface ChatAnswer {
  readonly error?: {
    readonly code?: string;
    readonly pool?: string;
    readonly message?: string;
    readonly resets_at?: string;
  };
}

describe('a subscription key through the running server', () => {
  async function chat(key: string) {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'deepseek/deepseek-v4-flash',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 5,
      }),
    });
    return { status: response.status, body: (await response.json()) as ChatAnswer };
  }

  // Read in-process, as `subscriptions show` and `accounts show` read them: polled after each request.
  const remainingOf = async (accountId: string) => (await s.balancesOf(accountId)).subscriptionRemaining;
  const balanceOf = async (accountId: string) => (await s.balancesOf(accountId)).prepaid;

  it('spends the included budget, is refused naming the subscription, then overflows to prepaid once the CLI turns overflow on', async () => {
    const prepaid = 1_000_000;
    const budget = parseUsd(TINY_BUDGET_USD)!;
    const accountId = await s.seedAccount({ usd: formatUsd(prepaid).slice(1), plans: ['tiny'] });
    const { key, id: keyId } = await s.seedKey(accountId, {
      spending: { billing: 'subscription', overflow: false, limit: undefined },
    });
    expect(await remainingOf(accountId)).toBe(budget);

    // Requests succeed while the budget lasts; each one's cost comes off the budget, not the balance.
    const usagesBefore = upstream.usages.length;
    let spent = 0;
    let refused: Awaited<ReturnType<typeof chat>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const answer = await chat(key);
      if (answer.status !== 200) {
        refused = answer;
        break;
      }
      spent = expectedCharge(upstream.usages.slice(usagesBefore));
      await eventually(async () => (await remainingOf(accountId)) === budget - spent);
    }
    const served = upstream.usages.length - usagesBefore;
    expect(served).toBeGreaterThan(0);
    expect(spent).toBeGreaterThan(0);
    expect(refused?.status).toBe(402);
    expect(refused?.body.error).toMatchObject({ code: 'insufficient_quota', pool: 'subscription' });
    expect(refused?.body.error?.message).toContain('overflow');
    // The 402 says when the budget renews, as `subscriptions show` does.
    expect(refused?.body.error?.resets_at).toBe(
      (await cliJson<ShownSubscriptions>(['subscriptions', 'show', accountId])).inference?.resets_at,
    );
    // The refusal came only once the budget could no longer pay for another request like the others
    // (the hold also covers a prompt-size ceiling, far under 1000 tokens for "Hi").
    const perRequest = spent / served;
    expect(budget - spent).toBeLessThan(perRequest + 1_000);
    expect(await balanceOf(accountId)).toBe(prepaid);
    // The refused request never reached the provider.
    expect(upstream.usages.length - usagesBefore).toBe(served);

    const updated = await cliJson<KeyJson>(['keys', 'update', keyId, '--overflow', 'on']);
    expect(updated.overflow).toBe(true);

    // The server picks the change up on its own; poll a bounded number of times.
    const remainingBefore = budget - spent;
    let answer = await chat(key);
    for (let i = 0; i < 50 && answer.status === 402; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await chat(key);
    }
    expect(answer.status).toBe(200);
    const cost = expectedCharge(upstream.usages.slice(-1));
    // What the budget had left pays first; prepaid credit pays the rest.
    const fromBudget = Math.min(cost, remainingBefore);
    await eventually(async () => (await remainingOf(accountId)) === remainingBefore - fromBudget);
    await eventually(async () => (await balanceOf(accountId)) === prepaid - (cost - fromBudget));
    expect(await balanceOf(accountId)).toBeLessThan(prepaid);

    // With the budget used up, further requests run on prepaid credit alone.
    const balance = await balanceOf(accountId);
    expect((await chat(key)).status).toBe(200);
    const next = expectedCharge(upstream.usages.slice(-1));
    await eventually(async () => (await balanceOf(accountId)) === balance - next);
    expect(await remainingOf(accountId)).toBe(0);
  });
  it('stops a key at its own spend limit, naming the key limit, until the CLI removes the limit', async () => {
    const accountId = await newAccount('1');
    const limit = parseUsd('0.01')!;
    const { key, id: keyId } = await s.seedKey(accountId, {
      spending: { billing: 'prepaid', overflow: false, limit: { micros: limit, period: 'lifetime' } },
    });
    const usagesBefore = upstream.usages.length;
    let refused: Awaited<ReturnType<typeof chat>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const answer = await chat(key);
      if (answer.status !== 200) refused = answer;
    }
    const spent = expectedCharge(upstream.usages.slice(usagesBefore));
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(limit);
    expect(refused?.status).toBe(402);
    expect(refused?.body.error).toMatchObject({ code: 'insufficient_quota', pool: 'key_limit' });
    // Plenty of prepaid credit is left: the key's limit, not the account, stopped it.
    expect(await balanceOf(accountId)).toBeGreaterThan(limit);

    await cliJson(['keys', 'update', keyId, '--limit-usd', 'none']);
    let answer = await chat(key);
    for (let i = 0; i < 50 && answer.status === 402; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await chat(key);
    }
    expect(answer.status).toBe(200);
  });
});
