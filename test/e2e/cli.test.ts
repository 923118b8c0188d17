import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, type CliServer, startCliServer } from '../support/cli-server.js';
import type { FakeUpstream } from '../support/fake-openai-upstream.js';
import { configYaml } from '../support/harness.js';

/**
 * The `tollgate` command as an operator uses it: the built bin, run as a separate process on the
 * same SQLite database while `tollgate serve` is running. Accounts and keys a test only needs in
 * place are seeded through the same services in the test's own process, so that only the commands
 * under test spawn the CLI.
 */
let s: CliServer;
let dir: string;
let upstream: FakeUpstream;
let baseUrl: string;

const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> => s.cli(args, extraEnv);
const cliJson = <T>(args: string[]): Promise<T> => s.cliJson<T>(args);

beforeAll(async () => {
  s = await startCliServer();
  ({ dir, upstream, baseUrl } = s);
});

afterAll(() => s?.stop());

async function get(pathname: string, key: string) {
  const response = await fetch(`${baseUrl}${pathname}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tollgate CLI beside a running server', () => {
  it('creates an account, adds credits and a key that the running server accepts at once', async () => {
    const account = await cliJson<{ id: string; status: string }>([
      'accounts',
      'create',
      '--email',
      'ops@example.com',
    ]);
    expect(account.id).toMatch(/^acct_/);
    const credited = await cliJson<{ balance_micros: number }>([
      'credits',
      'add',
      account.id,
      '--usd',
      '5.00',
    ]);
    expect(credited.balance_micros).toBe(5_000_000);
    const created = await cliJson<{ id: string; key: string; hint: string }>([
      'keys',
      'create',
      account.id,
      '--name',
      'laptop',
    ]);
    expect(created.key).toMatch(/^llmbase_[0-9A-Za-z]{28}$/);
    expect(created.hint).toBe(`llmbase_…${created.key.slice(-4)}`);
    expect(await get('/v1/balance', created.key)).toEqual({ status: 200, body: { balance_usd_cents: 500 } });
  });

  it('lists a key without its secret and revokes it, which the running server refuses at once', async () => {
    const accountId = await s.seedAccount({ usd: '5.00' });
    const created = await s.seedKey(accountId, { name: 'laptop' });
    expect((await get('/v1/balance', created.key)).status).toBe(200);

    const listed = await cliJson<{ id: string; hint: string }[]>(['keys', 'list', accountId]);
    expect(listed).toEqual([
      expect.objectContaining({ id: created.id, hint: `llmbase_…${created.key.slice(-4)}` }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    const revoked = await cliJson<{ revoked: boolean }>(['keys', 'revoke', created.id]);
    expect(revoked.revoked).toBe(true);
    const after = await get('/v1/balance', created.key);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'api_key_revoked' } });
  });

  it('adds credits that a running server, which already knows the balance, sees on the next request', async () => {
    const accountId = await s.seedAccount({ usd: '1.00' });
    const { key } = await s.seedKey(accountId);
    expect(await get('/v1/balance', key)).toEqual({ status: 200, body: { balance_usd_cents: 100 } });
    await cliJson(['credits', 'add', accountId, '--usd', '2.50']);
    expect(await get('/v1/balance', key)).toEqual({ status: 200, body: { balance_usd_cents: 350 } });
  });

  it('summarises usage by model, key or day from the usage records', async () => {
    const accountId = await s.seedAccount({ usd: '1' });
    const { key, id: keyId } = await s.seedKey(accountId);
    for (const model of ['mistral', 'mistral', 'deepseek/deepseek-v4-flash']) {
      const response = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }),
      });
      expect(response.status).toBe(200);
    }
    const byModel = await cliJson<
      { model: string; requests: number; completion_tokens: number; cost_micros: number }[]
    >(['usage', accountId]);
    expect(byModel.map((l) => [l.model, l.requests, l.completion_tokens])).toEqual([
      ['deepseek/deepseek-v4-flash', 1, 5],
      ['mistral', 2, 10],
    ]);
    const byKey = await cliJson<{ key: string; requests: number }[]>(['usage', accountId, '--by', 'key']);
    expect(byKey).toMatchObject([{ key: keyId, requests: 3 }]);
    const byDay = await cliJson<{ day: string }[]>([
      'usage',
      accountId,
      '--by',
      'day',
      '--since',
      '2020-01-01',
    ]);
    expect(byDay[0]?.day).toBe(new Date().toISOString().slice(0, 10));
    expect(await cliJson(['usage', accountId, '--since', '2999-01-01'])).toEqual([]);
  });

  it('creates chat-agent keys with their own prefix', async () => {
    const accountId = await s.seedAccount();
    const created = await cliJson<{ key: string; type: string }>([
      'keys',
      'create',
      accountId,
      '--name',
      'bot',
      '--type',
      'chat-agent',
    ]);
    expect(created.type).toBe('chat-agent');
    expect(created.key).toMatch(/^llmbase_chat_[0-9A-Za-z]{28}$/);
  });

  it('suspends and unsuspends an account, which the server sees on the next request', async () => {
    const accountId = await s.seedAccount();
    const { key } = await s.seedKey(accountId);
    expect((await cliJson<{ status: string }>(['accounts', 'suspend', accountId])).status).toBe('suspended');
    expect((await get('/v1/models', key)).status).toBe(403);
    await cliJson(['accounts', 'unsuspend', accountId]);
    expect((await get('/v1/models', key)).status).toBe(200);
  });

  it('prints a human-readable key once, with a warning that it will not be shown again', async () => {
    const accountId = await s.seedAccount();
    const result = await cli(['keys', 'create', accountId, '--name', 'ci']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/llmbase_[0-9A-Za-z]{28}/);
    expect(result.stdout).toContain('only time');
  });

  it.each([
    [['credits', 'add', 'acct_x', '--usd', 'five'], /--usd: expected a positive amount/],
    [['credits', 'add', 'acct_x', '--usd', '-1'], /--usd/],
    [['credits', 'add', 'acct_nope', '--usd', '1'], /no account with id acct_nope/],
    [['keys', 'create', 'acct_nope', '--name', 'x'], /no account with id acct_nope/],
    [
      ['keys', 'create', 'acct_nope', '--name', 'x', '--type', 'admin'],
      /--type: expected inference or chat-agent/,
    ],
    [['keys', 'revoke', 'key_nope'], /no key with id key_nope/],
    [['accounts', 'create', '--email', 'not-an-email'], /not an email address/],
    [['accounts', 'create'], /required option '--email <email>' not specified/],
    [['accounts', 'frobnicate'], /unknown command 'frobnicate'/],
    [['usage', 'acct_x', '--by', 'colour'], /--by: expected model, key or day/],
    [['usage', 'acct_x', '--since', 'yesterday'], /--since: expected a date/],
  ])('refuses bad input %j with a clear message and a non-zero exit', async (args, message) => {
    const result = await cli(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports errors as JSON with --json', async () => {
    const result = await cli(['keys', 'revoke', 'key_nope', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toEqual({ error: { message: 'no key with id key_nope' } });
  });

  it('refuses to create keys without the hashing secret, naming the variable', async () => {
    const accountId = await s.seedAccount();
    const result = await cli(['keys', 'create', accountId, '--name', 'x'], { TOLLGATE_KEY_SECRET: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('TOLLGATE_KEY_SECRET');
  });
});

describe('tollgate serve with a bad configuration', () => {
  it.each([
    [
      'an unknown provider in a model',
      (yaml: string) =>
        yaml.replace(
          'provider: fake\n    upstream_model: fake-model',
          'provider: nope\n    upstream_model: fake-model',
        ),
      /models\[0\]\.provider: unknown provider "nope"/,
    ],
    [
      'a price that is not a number',
      (yaml: string) => yaml.replace('output_usd_per_million: 1000', 'output_usd_per_million: lots'),
      /models\[0\]\.output_usd_per_million/,
    ],
    ['broken YAML', (yaml: string) => `${yaml}\n  - id: [unclosed`, /invalid YAML/],
    ['a typo in a key', (yaml: string) => yaml.replace('brand:', 'brnad:'), /brnad|brand/],
  ])('stops at start-up with one message naming the field: %s', async (_name, mutate, message) => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, mutate(configYaml(upstream.url)));
    const result = await cli(['--config', file, 'serve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stops at start-up when the key secret is missing', async () => {
    const result = await cli(['serve'], { TOLLGATE_KEY_SECRET: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/TOLLGATE_KEY_SECRET: not set/);
  });

  it('stops at start-up when a provider key variable is missing', async () => {
    const file = path.join(dir, 'keyed.yaml');
    writeFileSync(file, configYaml(upstream.url, '    api_key_env: FAKE_PROVIDER_KEY'));
    const result = await cli(['--config', file, 'serve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAKE_PROVIDER_KEY is not set/);
  });
});

describe('one server per SQLite database', () => {
  it('refuses to start a second server on the database the first one serves', async () => {
    const result = await cli(['serve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/another Tollgate server \(pid \d+\) is serving/);
  });
});
