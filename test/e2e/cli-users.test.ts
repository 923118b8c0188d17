import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliServer, startCliServer } from '../support/cli-server.js';
import { PASSWORD } from '../support/dashboard-fixture.js';

/**
 * The operator's way in, from the built CLI beside a running server: the first user, invites,
 * reset links and key rotation, all acting on the server's database at once.
 */
let s: CliServer;
let accountId: string;

beforeAll(async () => {
  s = await startCliServer();
  accountId = (await s.cliJson<{ id: string }>(['accounts', 'create', '--email', 'billing@example.com'])).id;
  await s.cliJson(['credits', 'add', accountId, '--usd', '5']);
});
afterAll(() => s?.stop());

/** A browser session against the running server: the cookie of the last sign-in. */
async function signIn(email: string, password: string) {
  const response = await fetch(`${s.baseUrl}/dashboard/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const cookie = response.headers
    .getSetCookie()
    .find((c) => c.startsWith('tollgate_session='))
    ?.split(';')[0];
  return { status: response.status, cookie, body: (await response.json()) as Record<string, unknown> };
}

async function sessionStatus(cookie: string | undefined): Promise<number> {
  const response = await fetch(`${s.baseUrl}/dashboard/api/session`, { headers: { cookie: cookie ?? '' } });
  await response.arrayBuffer();
  return response.status;
}

function tokenOf(link: string | undefined, kind: 'reset' | 'invite'): string {
  const match = new RegExp(`/${kind}/([A-Za-z0-9_-]{43})$`).exec(link ?? '');
  if (!match?.[1]) throw new Error(`no ${kind} link in ${link}`);
  return match[1];
}

describe('tollgate users', () => {
  it('creates the first owner with a password from stdin, who can then sign in', async () => {
    const created = await s.cli(
      [
        'users',
        'create',
        '--email',
        'Owner@Example.com',
        '--account',
        accountId,
        '--role',
        'owner',
        '--password-stdin',
        '--json',
      ],
      {},
      `${PASSWORD}\n`,
    );
    expect(created.code, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), email: 'owner@example.com', operator: false },
      membership: { account_id: accountId, role: 'owner' },
    });
    expect(created.stdout + created.stderr).not.toContain(PASSWORD);
    const signedIn = await signIn('owner@example.com', PASSWORD);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.memberships).toEqual([expect.objectContaining({ accountId, role: 'owner' })]);
  });

  it('prints a one-time set-password link for a user created without a password', async () => {
    const created = await s.cli(['users', 'create', '--email', 'ops@example.com', '--operator']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created user usr_');
    expect(created.stdout).toContain('operator');
    const link = /(http:\/\/\S+\/reset\/\S+)/.exec(created.stdout)?.[1];
    const token = tokenOf(link, 'reset');
    const reset = await fetch(`${s.baseUrl}/dashboard/api/auth/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: PASSWORD }),
    });
    expect(reset.status).toBe(204);
    const signedIn = await signIn('ops@example.com', PASSWORD);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ operator: true });
  });

  it('refuses a second user with the same email, a weak password and an unknown account', async () => {
    const twice = await s.cli(['users', 'create', '--email', 'owner@example.com'], {}, '');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('already exists');
    const weak = await s.cli(
      ['users', 'create', '--email', 'weak@example.com', '--password-stdin'],
      {},
      'password123\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('common');
    const nowhere = await s.cli(['users', 'create', '--email', 'lost@example.com', '--account', 'acct_nope']);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('no account');
  });

  it('invites someone with a link the running server honours once', async () => {
    const invited = await s.cliJson<{ invite: { id: string; role: string }; link: string }>([
      'users',
      'invite',
      '--email',
      'viewer@example.com',
      '--account',
      accountId,
      '--role',
      'viewer',
    ]);
    expect(invited.invite.role).toBe('viewer');
    const token = tokenOf(invited.link, 'invite');
    const info = await fetch(`${s.baseUrl}/dashboard/api/auth/invite/${token}`);
    expect(info.status).toBe(200);
    expect(await info.json()).toEqual({
      email: 'viewer@example.com',
      accountName: 'billing@example.com',
      role: 'viewer',
    });
    const accept = async () =>
      fetch(`${s.baseUrl}/dashboard/api/auth/invite/accept`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, password: PASSWORD }),
      });
    const first = await accept();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { memberships: { role: string }[] }).memberships[0]?.role).toBe('viewer');
    const second = await accept();
    expect(second.status).toBe(404);
  });

  it('prints a reset link that sets a new password', async () => {
    const reset = await s.cliJson<{ user: { email: string }; link: string }>([
      'users',
      'reset-password',
      '--email',
      'viewer@example.com',
    ]);
    const response = await fetch(`${s.baseUrl}/dashboard/api/auth/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokenOf(reset.link, 'reset'), password: `${PASSWORD} 2` }),
    });
    expect(response.status).toBe(204);
    expect((await signIn('viewer@example.com', `${PASSWORD} 2`)).status).toBe(200);
    const unknown = await s.cli(['users', 'reset-password', '--email', 'nobody@example.com']);
    expect(unknown.code).toBe(1);
  });

  it("ends the members' sessions when the operator suspends the account", async () => {
    const owner = await signIn('owner@example.com', PASSWORD);
    expect(await sessionStatus(owner.cookie)).toBe(200);
    await s.cliJson(['accounts', 'suspend', accountId]);
    expect(await sessionStatus(owner.cookie)).toBe(401);
    await s.cliJson(['accounts', 'unsuspend', accountId]);
  });
});

describe('tollgate keys rotate', () => {
  async function models(key: string): Promise<{ status: number; code?: string }> {
    const response = await fetch(`${s.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, ...(body.error ? { code: body.error.code } : {}) };
  }

  it('prints a new secret for the same key, keeps the old one for the grace period, and records it as done by the CLI', async () => {
    const created = await s.cliJson<{ id: string; key: string }>([
      'keys',
      'create',
      accountId,
      '--name',
      'ci',
    ]);
    expect((await models(created.key)).status).toBe(200);
    const rotated = await s.cliJson<{ id: string; key: string; previous_valid_until: string }>([
      'keys',
      'rotate',
      created.id,
      '--grace',
      '1h',
    ]);
    expect(rotated.id).toBe(created.id);
    expect(rotated.key).not.toBe(created.key);
    expect(Date.parse(rotated.previous_valid_until) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect((await models(rotated.key)).status).toBe(200);
    expect((await models(created.key)).status).toBe(200);
    const immediate = await s.cliJson<{ key: string }>(['keys', 'rotate', created.id]);
    expect(await models(rotated.key)).toEqual({ status: 401, code: 'api_key_revoked' });
    expect((await models(immediate.key)).status).toBe(200);
    const human = await s.cli(['keys', 'rotate', created.id, '--grace', '30m']);
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain('the old secret works until');
    expect(human.stdout).toContain('only time the new key is shown');
    const bad = await s.cli(['keys', 'rotate', created.id, '--grace', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--grace');
    const owner = await signIn('owner@example.com', PASSWORD);
    const audit = await fetch(`${s.baseUrl}/dashboard/api/accounts/${accountId}/audit`, {
      headers: { cookie: owner.cookie ?? '' },
    });
    const events = (
      (await audit.json()) as { events: { action: string; actor: unknown; target: { id: string } }[] }
    ).events;
    expect(events.filter((e) => e.target.id === created.id).map((e) => [e.action, e.actor])).toEqual([
      ['key.rotated', { operator: 'cli' }],
      ['key.rotated', { operator: 'cli' }],
      ['key.rotated', { operator: 'cli' }],
      ['key.created', { operator: 'cli' }],
    ]);
  });

  it('limits a key to an IP allow-list from the command line, and lifts it', async () => {
    const created = await s.cliJson<{ id: string; key: string; ip_allowlist: string[] }>([
      'keys',
      'create',
      accountId,
      '--name',
      'office only',
      '--ip-allow',
      '10.0.0.0/8, 192.0.2.7',
    ]);
    expect(created.ip_allowlist).toEqual(['10.0.0.0/8', '192.0.2.7']);
    expect(await models(created.key)).toEqual({ status: 403, code: 'ip_not_allowed' });
    const lifted = await s.cliJson<{ ip_allowlist: string[] }>([
      'keys',
      'update',
      created.id,
      '--ip-allow',
      'none',
    ]);
    expect(lifted.ip_allowlist).toEqual([]);
    expect((await models(created.key)).status).toBe(200);
    const bad = await s.cli(['keys', 'update', created.id, '--ip-allow', 'office.example.com']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('office.example.com');
  });
});
