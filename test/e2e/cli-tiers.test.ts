import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliServer, startCliServer } from '../support/cli-server.js';

/** `tollgate accounts set-tier` beside a running server: the server applies the tier at once. */
let s: CliServer;

beforeAll(async () => {
  s = await startCliServer(`
tiers:
  - id: free
    requests_per_minute: 100
    models: [flash]
  - id: pro
    requests_per_minute: 1000
`);
});
afterAll(() => s?.stop());

async function chat(key: string, model: string) {
  const response = await fetch(`${s.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = (await response.json()) as { error?: { code: string } };
  return {
    status: response.status,
    code: body.error?.code,
    limit: response.headers.get('x-ratelimit-limit-requests'),
  };
}

describe('tollgate accounts set-tier', () => {
  it('gives an account a tier the running server applies to its next request, and none clears it', async () => {
    const accountId = await s.seedAccount({ usd: '5' });
    const { key } = await s.seedKey(accountId);
    // No default tier: an account without one is not limited.
    expect(await chat(key, 'mistral')).toEqual({ status: 200, code: undefined, limit: null });

    const set = await s.cliJson<{ id: string; tier: string | null }>([
      'accounts',
      'set-tier',
      accountId,
      'free',
    ]);
    expect(set).toMatchObject({ id: accountId, tier: 'free' });
    expect(await chat(key, 'mistral')).toEqual({ status: 403, code: 'model_not_in_tier', limit: '100' });
    expect(await chat(key, 'flash')).toMatchObject({ status: 200, limit: '100' });

    const human = await s.cli(['accounts', 'set-tier', accountId, 'pro']);
    expect(human.stdout).toBe(`account ${accountId} is now on the pro tier\n`);
    expect(await chat(key, 'mistral')).toMatchObject({ status: 200, limit: '1000' });

    const cleared = await s.cliJson<{ tier: string | null }>(['accounts', 'set-tier', accountId, 'none']);
    expect(cleared.tier).toBeNull();
    expect(await chat(key, 'mistral')).toEqual({ status: 200, code: undefined, limit: null });
    expect(await s.cliJson<{ tier: string | null }>(['accounts', 'show', accountId])).toMatchObject({
      tier: null,
    });
  });

  it('refuses a tier the configuration does not declare, naming those it does, with exit code 1', async () => {
    const accountId = await s.seedAccount();
    const result = await s.cli(['accounts', 'set-tier', accountId, 'gold']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'unknown tier "gold": the configuration declares free, pro (or none to clear the account\'s tier)',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await s.cliJson<{ tier: string | null }>(['accounts', 'show', accountId])).toMatchObject({
      tier: null,
    });
  });

  it('refuses an account that does not exist, with exit code 1', async () => {
    const result = await s.cli(['accounts', 'set-tier', 'acct_nope', 'free']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no account with id acct_nope');
  });
});
