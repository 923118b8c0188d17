import { createHash } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardClient, errorCode } from '../support/dashboard-client.js';
import {
  manualClock,
  PASSWORD,
  seedMember,
  signedInMember,
  uniqueEmail,
} from '../support/dashboard-fixture.js';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/** Sessions per OWASP: cookie attributes, fixation, CSRF, timeouts, and what ends a session. */
let h: Harness;
let accountId: string;
let apiKey: string;

beforeAll(async () => {
  h = await startHarness({ serverYaml: '  public_url: http://127.0.0.1:8080' });
  const seeded = await h.seed();
  accountId = seeded.accountId;
  apiKey = seeded.key;
});
afterAll(() => h.close());

function sessionRows(): { id_hash: string; user_id: string }[] {
  const db = new SqliteDatabase(h.databaseFile, { readonly: true });
  try {
    return db.prepare('SELECT id_hash, user_id FROM sessions').all() as {
      id_hash: string;
      user_id: string;
    }[];
  } finally {
    db.close();
  }
}

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie without Secure for an http public URL, and stores only its hash', async () => {
    const member = await seedMember(h, accountId, 'developer');
    const client = new DashboardClient(h.tollgate.app);
    const response = await client.login(member.email, PASSWORD);
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'tollgate_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeUndefined();
    expect(cookie?.maxAge).toBeUndefined();
    const body = response.json();
    expect(body.user).toEqual({
      id: member.userId,
      email: member.email,
      operator: false,
      emailVerified: true,
    });
    expect(body.memberships).toEqual([
      expect.objectContaining({ accountId, role: 'developer', accountStatus: 'active' }),
    ]);
    expect(body.csrfToken).toEqual(expect.any(String));
    const token = cookie?.value ?? '';
    const rows = sessionRows().filter((r) => r.user_id === member.userId);
    expect(rows).toEqual([
      { id_hash: createHash('sha256').update(token).digest('hex'), user_id: member.userId },
    ]);
    expect(JSON.stringify(sessionRows())).not.toContain(token);
  });

  it('answers an unknown email and a wrong password with the same 401', async () => {
    const member = await seedMember(h, accountId, 'viewer');
    const client = new DashboardClient(h.tollgate.app, { remoteAddress: '198.51.100.1' });
    const wrong = await client.login(member.email, 'not the password at all');
    const unknown = await client.login(uniqueEmail('nobody'), 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(errorCode(wrong)).toBe('invalid_credentials');
    expect(wrong.cookies.find((c) => c.name === 'tollgate_session')).toBeUndefined();
  });

  it('gives a fresh session id at sign-in and ends the one the browser had (no fixation)', async () => {
    const { client, email } = await signedInMember(h, accountId, 'developer');
    const before = client.cookies.get('tollgate_session');
    const again = await client.login(email, PASSWORD);
    expect(again.statusCode).toBe(200);
    const after = client.cookies.get('tollgate_session');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const planted = new DashboardClient(h.tollgate.app);
    planted.cookies.set('tollgate_session', before ?? '');
    const stale = await planted.call('GET', 'session');
    expect(stale.statusCode).toBe(401);
    expect(errorCode(stale)).toBe('not_signed_in');
  });

  it('refuses a sign-in posted from another origin', async () => {
    const member = await seedMember(h, accountId, 'viewer');
    const foreign = new DashboardClient(h.tollgate.app, { origin: 'https://evil.example' });
    const refused = await foreign.login(member.email, PASSWORD);
    expect(refused.statusCode).toBe(403);
    expect(errorCode(refused)).toBe('csrf_invalid');
    const own = new DashboardClient(h.tollgate.app, { origin: 'http://127.0.0.1:8080' });
    expect((await own.login(member.email, PASSWORD)).statusCode).toBe(200);
  });

  it('never authenticates the dashboard API with an API key', async () => {
    const response = await h.tollgate.app.inject({
      method: 'GET',
      url: '/dashboard/api/session',
      headers: bearer(apiKey),
    });
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('not_signed_in');
    const keys = await h.tollgate.app.inject({
      method: 'GET',
      url: `/dashboard/api/accounts/${accountId}/keys`,
      headers: bearer(apiKey),
    });
    expect(keys.statusCode).toBe(401);
  });
});

describe('rate limits on the pre-session routes', () => {
  it('limits sign-in attempts per client address with @fastify/rate-limit, counted in the database', async () => {
    const from = new DashboardClient(h.tollgate.app, { remoteAddress: '198.51.100.77' });
    for (let i = 0; i < 60; i++)
      expect((await from.login(uniqueEmail('spray'), 'wrong password')).statusCode).toBe(401);
    const limited = await from.login(uniqueEmail('spray'), 'wrong password');
    expect(limited.statusCode).toBe(429);
    expect(errorCode(limited)).toBe('too_many_attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const db = new SqliteDatabase(h.databaseFile, { readonly: true });
    try {
      const row = db
        .prepare(
          "SELECT count FROM rate_limits WHERE key = 'route:POST /dashboard/api/auth/login:198.51.100.77'",
        )
        .get();
      expect(row).toEqual({ count: 61 });
    } finally {
      db.close();
    }
    const elsewhere = new DashboardClient(h.tollgate.app, { remoteAddress: '198.51.100.78' });
    expect((await elsewhere.login(uniqueEmail('spray'), 'wrong password')).statusCode).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a state-changing request without the token, and with the token of another session', async () => {
    const a = await signedInMember(h, accountId, 'owner');
    const b = await signedInMember(h, accountId, 'owner');
    const withoutToken = await a.client.call('POST', 'auth/logout', undefined, { 'x-csrf-token': '' });
    expect(withoutToken.statusCode).toBe(403);
    expect(errorCode(withoutToken)).toBe('csrf_invalid');
    const othersToken = await a.client.call(
      'POST',
      `accounts/${accountId}/keys`,
      { name: 'x' },
      {
        'x-csrf-token': b.client.csrfToken ?? '',
      },
    );
    expect(othersToken.statusCode).toBe(403);
    expect(errorCode(othersToken)).toBe('csrf_invalid');
    expect((await a.client.call('GET', 'session')).statusCode).toBe(200);
    const own = await a.client.call('POST', `accounts/${accountId}/keys`, { name: 'with token' });
    expect(own.statusCode).toBe(201);
  });

  it('refuses the token of an earlier session of the same browser after signing in again', async () => {
    const { client, email } = await signedInMember(h, accountId, 'owner');
    const oldToken = client.csrfToken ?? '';
    await client.login(email, PASSWORD);
    const stale = await client.call(
      'POST',
      `accounts/${accountId}/keys`,
      { name: 'x' },
      { 'x-csrf-token': oldToken },
    );
    expect(stale.statusCode).toBe(403);
    expect(errorCode(stale)).toBe('csrf_invalid');
  });

  it('changes nothing through GET: the logout route does not exist for GET', async () => {
    const { client } = await signedInMember(h, accountId, 'viewer');
    const get = await client.call('GET', 'auth/logout');
    expect(get.statusCode).toBe(404);
    expect((await client.call('GET', 'session')).statusCode).toBe(200);
  });
});

describe('ending sessions', () => {
  it('signs out of this session only', async () => {
    const member = await seedMember(h, accountId, 'developer');
    const laptop = new DashboardClient(h.tollgate.app);
    const phone = new DashboardClient(h.tollgate.app);
    await laptop.login(member.email, PASSWORD);
    await phone.login(member.email, PASSWORD);
    const out = await laptop.call('POST', 'auth/logout');
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'tollgate_session')?.value).toBe('');
    expect((await laptop.call('GET', 'session')).statusCode).toBe(401);
    expect((await phone.call('GET', 'session')).statusCode).toBe(200);
  });

  it('signs out everywhere', async () => {
    const member = await seedMember(h, accountId, 'developer');
    const laptop = new DashboardClient(h.tollgate.app);
    const phone = new DashboardClient(h.tollgate.app);
    await laptop.login(member.email, PASSWORD);
    await phone.login(member.email, PASSWORD);
    const leftover = phone.cookies.get('tollgate_session');
    expect((await laptop.call('POST', 'auth/logout-everywhere')).statusCode).toBe(204);
    expect((await laptop.call('GET', 'session')).statusCode).toBe(401);
    expect((await phone.call('GET', 'session')).statusCode).toBe(401);
    expect(sessionRows().filter((r) => r.user_id === member.userId)).toEqual([]);
    expect(leftover).toBeDefined();
  });

  it('ends the other sessions on a password change and gives this one a fresh id and CSRF token', async () => {
    const member = await seedMember(h, accountId, 'admin');
    const laptop = new DashboardClient(h.tollgate.app);
    const phone = new DashboardClient(h.tollgate.app);
    await laptop.login(member.email, PASSWORD);
    await phone.login(member.email, PASSWORD);
    const oldCookie = laptop.cookies.get('tollgate_session');
    const oldToken = laptop.csrfToken ?? '';
    const newPassword = `${PASSWORD} again`;
    const wrong = await laptop.call('POST', 'auth/password', {
      currentPassword: 'wrong password 1',
      newPassword,
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.field).toBe('currentPassword');
    const weak = await laptop.call('POST', 'auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'short',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.field).toBe('newPassword');
    const changed = await laptop.call('POST', 'auth/password', { currentPassword: PASSWORD, newPassword });
    expect(changed.statusCode).toBe(204);
    expect(laptop.cookies.get('tollgate_session')).not.toBe(oldCookie);
    expect((await phone.call('GET', 'session')).statusCode).toBe(401);
    const stale = await laptop.call(
      'POST',
      `accounts/${accountId}/keys`,
      { name: 'x' },
      { 'x-csrf-token': oldToken },
    );
    expect(errorCode(stale)).toBe('csrf_invalid');
    expect(await laptop.session()).toBeDefined();
    expect(
      (await laptop.call('POST', `accounts/${accountId}/keys`, { name: 'after change' })).statusCode,
    ).toBe(201);
    expect((await new DashboardClient(h.tollgate.app).login(member.email, PASSWORD)).statusCode).toBe(401);
    expect((await new DashboardClient(h.tollgate.app).login(member.email, newPassword)).statusCode).toBe(200);
  });

  it("ends every member's sessions when the account is suspended, and refuses new keys while it is", async () => {
    const other = await h.seed();
    const owner = await signedInMember(h, other.accountId, 'owner');
    const viewer = await signedInMember(h, other.accountId, 'viewer');
    const outsider = await signedInMember(h, accountId, 'viewer');
    const suspended = await h.tollgate.services.accounts.setSuspended(other.accountId, true);
    expect(suspended.ok).toBe(true);
    expect((await owner.client.call('GET', 'session')).statusCode).toBe(401);
    expect((await viewer.client.call('GET', 'session')).statusCode).toBe(401);
    expect((await outsider.client.call('GET', 'session')).statusCode).toBe(200);
    await owner.client.login(owner.email, PASSWORD);
    const session = await owner.client.session();
    expect(session?.memberships[0]?.accountStatus).toBe('suspended');
    const refused = await owner.client.call('POST', `accounts/${other.accountId}/keys`, { name: 'x' });
    expect(refused.statusCode).toBe(403);
    expect(errorCode(refused)).toBe('account_suspended');
    await h.tollgate.services.accounts.setSuspended(other.accountId, false);
  });

  it("ends a removed member's sessions", async () => {
    const owner = await signedInMember(h, accountId, 'owner');
    const developer = await signedInMember(h, accountId, 'developer');
    const removed = await owner.client.call('DELETE', `accounts/${accountId}/members/${developer.userId}`);
    expect(removed.statusCode).toBe(204);
    expect((await developer.client.call('GET', 'session')).statusCode).toBe(401);
    expect((await developer.client.login(developer.email, PASSWORD)).statusCode).toBe(200);
    const keys = await developer.client.call('GET', `accounts/${accountId}/keys`);
    expect(keys.statusCode).toBe(404);
  });
});

describe('password reset', () => {
  it('sets a new password through a one-time link, ends every session, and refuses the link a second time', async () => {
    const member = await seedMember(h, accountId, 'developer');
    const browser = new DashboardClient(h.tollgate.app);
    await browser.login(member.email, PASSWORD);
    const reset = await h.tollgate.services.dashboard.userAdmin.resetPassword(member.email);
    if (!reset.ok) throw new Error(reset.error);
    const link = reset.value.delivery.link ?? '';
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:8080\/reset\/[A-Za-z0-9_-]{43}$/);
    const token = link.split('/').at(-1) ?? '';
    const anonymous = new DashboardClient(h.tollgate.app);
    const weak = await anonymous.call('POST', 'auth/reset', { token, password: '1234567890' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.field).toBe('password');
    const newPassword = `${PASSWORD} reset`;
    expect((await anonymous.call('POST', 'auth/reset', { token, password: newPassword })).statusCode).toBe(
      204,
    );
    expect((await browser.call('GET', 'session')).statusCode).toBe(401);
    const again = await anonymous.call('POST', 'auth/reset', { token, password: `${newPassword}!` });
    expect(again.statusCode).toBe(404);
    expect(errorCode(again)).toBe('invalid_link');
    expect((await anonymous.login(member.email, newPassword)).statusCode).toBe(200);
  });

  it('answers a reset request with the same 202 whether or not the email has an account', async () => {
    const member = await seedMember(h, accountId, 'viewer');
    const client = new DashboardClient(h.tollgate.app);
    const known = await client.call('POST', 'auth/reset/request', { email: member.email });
    const unknown = await client.call('POST', 'auth/reset/request', { email: uniqueEmail('ghost') });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(known.body).toBe(unknown.body);
  });
});

describe('with https as the public URL', () => {
  let secure: Harness;
  beforeAll(async () => {
    secure = await startHarness({ serverYaml: '  public_url: https://llm.example.com' });
  });
  afterAll(() => secure.close());

  it('uses a __Host- cookie with Secure even though the request itself came over plain http', async () => {
    const seeded = await secure.seed();
    const member = await seedMember(secure, seeded.accountId, 'owner');
    const client = new DashboardClient(secure.tollgate.app);
    const response = await client.login(member.email, PASSWORD);
    expect(response.statusCode).toBe(200);
    const session = response.cookies.find((c) => c.name === '__Host-tollgate_session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(session?.domain).toBeUndefined();
    expect(response.cookies.find((c) => c.name === '__Host-tollgate_csrf')).toMatchObject({ secure: true });
    expect(response.headers['strict-transport-security']).toContain('max-age=');
    expect((await client.call('GET', 'session')).statusCode).toBe(200);
  });
});

describe('timeouts', () => {
  const clock = manualClock();
  let timed: Harness;
  beforeAll(async () => {
    timed = await startHarness({
      clock,
      dashboardYaml: '  session: { idle_minutes: 30, absolute_hours: 2 }',
    });
  });
  afterAll(() => timed.close());

  it('ends a session idle for longer than the idle timeout', async () => {
    const seeded = await timed.seed();
    const { client } = await signedInMember(timed, seeded.accountId, 'viewer');
    clock.advance(29 * 60_000);
    expect((await client.call('GET', 'session')).statusCode).toBe(200);
    clock.advance(29 * 60_000);
    expect((await client.call('GET', 'session')).statusCode).toBe(200);
    clock.advance(30 * 60_000 + 1);
    const expired = await client.call('GET', 'session');
    expect(expired.statusCode).toBe(401);
    expect(errorCode(expired)).toBe('not_signed_in');
  });

  it('ends a session at the absolute timeout even while it is in use', async () => {
    const seeded = await timed.seed();
    const { client } = await signedInMember(timed, seeded.accountId, 'viewer');
    for (let minutes = 20; minutes <= 100; minutes += 20) {
      clock.advance(20 * 60_000);
      expect((await client.call('GET', 'session')).statusCode).toBe(200);
    }
    clock.advance(20 * 60_000);
    expect((await client.call('GET', 'session')).statusCode).toBe(401);
  });

  it('throttles failed sign-ins per email and address for a bounded time, without locking the user out elsewhere', async () => {
    const seeded = await timed.seed();
    const member = await seedMember(timed, seeded.accountId, 'owner');
    const attacker = new DashboardClient(timed.tollgate.app, { remoteAddress: '203.0.113.66' });
    for (let i = 0; i < 5; i++)
      expect((await attacker.login(member.email, `wrong password ${i}`)).statusCode).toBe(401);
    const throttled = await attacker.login(member.email, PASSWORD);
    expect(throttled.statusCode).toBe(429);
    expect(errorCode(throttled)).toBe('too_many_attempts');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    const unknown = uniqueEmail('ghost');
    for (let i = 0; i < 5; i++) await attacker.login(unknown, `wrong password ${i}`);
    expect((await attacker.login(unknown, 'wrong password 6')).statusCode).toBe(429);
    const user = new DashboardClient(timed.tollgate.app, { remoteAddress: '192.0.2.10' });
    expect((await user.login(member.email, PASSWORD)).statusCode).toBe(200);
    clock.advance(15 * 60_000);
    expect((await attacker.login(member.email, PASSWORD)).statusCode).toBe(200);
  });

  it('throttles guessing spread over many addresses per email, for at most an hour', async () => {
    const seeded = await timed.seed();
    const member = await seedMember(timed, seeded.accountId, 'owner');
    for (let i = 0; i < 20; i++) {
      const from = new DashboardClient(timed.tollgate.app, { remoteAddress: `203.0.113.${100 + i}` });
      expect((await from.login(member.email, `wrong password ${i}`)).statusCode).toBe(401);
    }
    const user = new DashboardClient(timed.tollgate.app, { remoteAddress: '192.0.2.20' });
    expect((await user.login(member.email, PASSWORD)).statusCode).toBe(429);
    clock.advance(60 * 60_000);
    expect((await user.login(member.email, PASSWORD)).statusCode).toBe(200);
  });
});
