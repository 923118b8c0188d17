import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardClient, errorCode } from '../support/dashboard-client.js';
import {
  manualClock,
  PASSWORD,
  seedMember,
  signedInMember,
  uniqueEmail,
} from '../support/dashboard-fixture.js';
import { type Harness, startHarness } from '../support/harness.js';

/** Invites without SMTP: the link is shown once to the inviter, built from server.public_url. */
const clock = manualClock();
let h: Harness;
let accountId: string;
let owner: Awaited<ReturnType<typeof signedInMember>>;

beforeAll(async () => {
  h = await startHarness({
    clock,
    serverYaml: '  public_url: https://llm.example.com',
    dashboardYaml: '  session: { idle_minutes: 10080, absolute_hours: 720 }',
  });
  accountId = (await h.seed({ email: 'billing@acme.example' })).accountId;
  owner = await signedInMember(h, accountId, 'owner');
});
afterAll(() => h.close());

async function invite(email: string, role = 'viewer') {
  const response = await owner.client.call('POST', `accounts/${accountId}/invites`, { email, role });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json();
  const token = /^https:\/\/llm\.example\.com\/invite\/([A-Za-z0-9_-]{43})$/.exec(body.inviteUrl)?.[1];
  if (!token) throw new Error(`no invite link in ${body.inviteUrl}`);
  return { id: body.invite.id as string, token, body };
}

describe('an invite made in the dashboard', () => {
  it('is shown once to the inviter, listed as pending, and tells the invitee what it offers without using it', async () => {
    const email = uniqueEmail('teammate');
    const { id, token, body } = await invite(email.toUpperCase(), 'developer');
    expect(body.invite).toEqual({ id, email, role: 'developer', expiresAt: expect.any(String) });
    expect(Date.parse(body.invite.expiresAt) - clock.now()).toBe(7 * 86_400_000);
    const members = (await owner.client.call('GET', `accounts/${accountId}/members`)).json();
    expect(members.invites).toContainEqual(body.invite);
    expect(JSON.stringify(members)).not.toContain(token);
    const anonymous = new DashboardClient(h.tollgate.app);
    for (let i = 0; i < 2; i++) {
      const info = await anonymous.call('GET', `auth/invite/${token}`);
      expect(info.statusCode).toBe(200);
      expect(info.json()).toEqual({ email, accountName: 'billing@acme.example', role: 'developer' });
    }
  });

  it('creates the user, signs them in, and makes them a member once; a second use is refused', async () => {
    const email = uniqueEmail('newcomer');
    const { token } = await invite(email);
    const invitee = new DashboardClient(h.tollgate.app);
    const weak = await invitee.call('POST', 'auth/invite/accept', { token, password: 'qwertyuiop' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.field).toBe('password');
    const accepted = await invitee.call('POST', 'auth/invite/accept', { token, password: PASSWORD });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({
      user: { email, emailVerified: true },
      memberships: [{ accountId, role: 'viewer' }],
      csrfToken: expect.any(String),
    });
    expect(
      invitee.cookies.get('tollgate_session') ?? invitee.cookies.get('__Host-tollgate_session'),
    ).toBeDefined();
    expect((await invitee.call('GET', 'session')).statusCode).toBe(200);
    const again = await new DashboardClient(h.tollgate.app).call('POST', 'auth/invite/accept', {
      token,
      password: PASSWORD,
    });
    expect(again.statusCode).toBe(404);
    expect(errorCode(again)).toBe('invalid_link');
    expect((await new DashboardClient(h.tollgate.app).call('GET', `auth/invite/${token}`)).statusCode).toBe(
      404,
    );
    const audit = (await owner.client.call('GET', `accounts/${accountId}/audit`)).json();
    expect(audit.events.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['invite.created', 'invite.accepted', 'member.added']),
    );
  });

  it("asks an existing user for their own password: an invite never resets someone's password", async () => {
    const other = await h.seed();
    const existing = await seedMember(h, other.accountId, 'owner');
    const { token } = await invite(existing.email, 'admin');
    const wrong = await new DashboardClient(h.tollgate.app).call('POST', 'auth/invite/accept', {
      token,
      password: 'a brand new password',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.field).toBe('password');
    expect((await new DashboardClient(h.tollgate.app).login(existing.email, PASSWORD)).statusCode).toBe(200);
    const right = await new DashboardClient(h.tollgate.app).call('POST', 'auth/invite/accept', {
      token,
      password: PASSWORD,
    });
    expect(right.statusCode).toBe(200);
    expect(
      right
        .json()
        .memberships.map((m: { role: string }) => m.role)
        .sort(),
    ).toEqual(['admin', 'owner']);
  });

  it('refuses a revoked invite and an expired one', async () => {
    const revoked = await invite(uniqueEmail('revoked'));
    expect(
      (await owner.client.call('DELETE', `accounts/${accountId}/invites/${revoked.id}`)).statusCode,
    ).toBe(204);
    expect(
      (await owner.client.call('DELETE', `accounts/${accountId}/invites/${revoked.id}`)).statusCode,
    ).toBe(404);
    const expired = await invite(uniqueEmail('late'));
    clock.advance(7 * 86_400_000);
    // A week idle ends the owner's session too.
    expect((await owner.client.login(owner.email, PASSWORD)).statusCode).toBe(200);
    for (const token of [revoked.token, expired.token]) {
      const response = await new DashboardClient(h.tollgate.app).call('POST', 'auth/invite/accept', {
        token,
        password: PASSWORD,
      });
      expect(response.statusCode).toBe(404);
      expect(errorCode(response)).toBe('invalid_link');
    }
  });

  it('refuses to invite someone who is already a member', async () => {
    const member = await seedMember(h, accountId, 'viewer');
    const response = await owner.client.call('POST', `accounts/${accountId}/invites`, {
      email: member.email,
      role: 'admin',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.field).toBe('email');
  });

  it('never writes a link token into the log', async () => {
    const { token } = await invite(uniqueEmail('logged'));
    await new DashboardClient(h.tollgate.app).call('GET', `auth/invite/${token}`);
    await h.tollgate.app.inject({ method: 'GET', url: `/invite/${token}`, headers: { accept: 'text/html' } });
    await new DashboardClient(h.tollgate.app).call('POST', 'auth/invite/accept', {
      token,
      password: PASSWORD,
    });
    const logs = h.logs.join('');
    expect(logs).toContain('/dashboard/api/auth/invite/[redacted]');
    expect(logs).toContain('"/invite/[redacted]"');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(PASSWORD);
  });
});
