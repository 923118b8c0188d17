import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardClient, errorCode } from '../support/dashboard-client.js';
import { PASSWORD, signedInMember, uniqueEmail } from '../support/dashboard-fixture.js';
import { type FakeSmtpServer, startFakeSmtpServer } from '../support/fake-smtp-server.js';
import { eventually, type Harness, startHarness } from '../support/harness.js';

/** Open sign-up and mailed links, through a fake SMTP server speaking the real protocol. */
let smtp: FakeSmtpServer;
let h: Harness;

beforeAll(async () => {
  smtp = await startFakeSmtpServer();
  h = await startHarness({
    serverYaml: '  public_url: https://llm.example.com',
    dashboardYaml: '  signup: open',
    extraYaml: `mail:\n  smtp_url: ${smtp.url}\n  from: Tollgate <no-reply@llm.example.com>`,
  });
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

async function linkTo(email: string, kind: 'verify' | 'reset' | 'invite' | 'login'): Promise<string> {
  let link: string | undefined;
  await eventually(() => {
    link = smtp.linkTo(email);
    return link?.includes(`/${kind}`) === true;
  });
  return link ?? '';
}

const tokenOf = (link: string) => link.split('/').at(-1) ?? '';

describe('open sign-up', () => {
  it('creates an account whose keys wait for the email address to be verified', async () => {
    const email = uniqueEmail('signup');
    const browser = new DashboardClient(h.tollgate.app);
    const weak = await browser.call('POST', 'auth/signup', { email, password: 'password1234' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.field).toBe('password');
    const signup = await browser.call('POST', 'auth/signup', { email, password: PASSWORD });
    expect(signup.statusCode).toBe(202);
    const link = await linkTo(email, 'verify');
    expect(link).toMatch(/^https:\/\/llm\.example\.com\/verify\/[A-Za-z0-9_-]{43}$/);
    expect(smtp.mails.at(-1)?.from).toBe('no-reply@llm.example.com');
    expect((await browser.login(email, PASSWORD)).statusCode).toBe(200);
    const session = await browser.session();
    expect(session?.user.emailVerified).toBe(false);
    expect(session?.memberships).toEqual([expect.objectContaining({ accountName: email, role: 'owner' })]);
    const accountId = session?.memberships[0]?.accountId ?? '';
    const early = await browser.call('POST', `accounts/${accountId}/keys`, { name: 'too soon' });
    expect(early.statusCode).toBe(403);
    expect(errorCode(early)).toBe('email_not_verified');
    const verified = await new DashboardClient(h.tollgate.app).call('POST', 'auth/verify', {
      token: tokenOf(link),
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toEqual({ verified: true });
    const again = await new DashboardClient(h.tollgate.app).call('POST', 'auth/verify', {
      token: tokenOf(link),
    });
    expect(again.statusCode).toBe(404);
    expect((await browser.session())?.user.emailVerified).toBe(true);
    expect((await browser.call('POST', `accounts/${accountId}/keys`, { name: 'verified' })).statusCode).toBe(
      201,
    );
  });

  it('answers a sign-up for a taken address exactly as for a new one, and leaves that account alone', async () => {
    const email = uniqueEmail('taken');
    const first = await new DashboardClient(h.tollgate.app).call('POST', 'auth/signup', {
      email,
      password: PASSWORD,
    });
    await linkTo(email, 'verify');
    const second = await new DashboardClient(h.tollgate.app).call('POST', 'auth/signup', {
      email,
      password: `${PASSWORD} other`,
    });
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.body).toBe(first.body);
    await linkTo(email, 'login');
    expect(smtp.mails.filter((m) => m.to.includes(email)).at(-1)?.data).toContain('already has an account');
    expect((await new DashboardClient(h.tollgate.app).login(email, PASSWORD)).statusCode).toBe(200);
    expect((await new DashboardClient(h.tollgate.app).login(email, `${PASSWORD} other`)).statusCode).toBe(
      401,
    );
  });
});

describe('mailed links', () => {
  it('mails a reset link to a known address only, and the link sets a new password', async () => {
    const seeded = await h.seed();
    const member = await signedInMember(h, seeded.accountId, 'viewer');
    const ghost = uniqueEmail('ghost');
    const anonymous = new DashboardClient(h.tollgate.app);
    expect((await anonymous.call('POST', 'auth/reset/request', { email: ghost })).statusCode).toBe(202);
    expect((await anonymous.call('POST', 'auth/reset/request', { email: member.email })).statusCode).toBe(
      202,
    );
    const link = await linkTo(member.email, 'reset');
    expect(link).toMatch(/^https:\/\/llm\.example\.com\/reset\//);
    expect(smtp.mails.some((m) => m.to.includes(ghost))).toBe(false);
    const newPassword = `${PASSWORD} mailed`;
    expect(
      (await anonymous.call('POST', 'auth/reset', { token: tokenOf(link), password: newPassword }))
        .statusCode,
    ).toBe(204);
    expect((await member.client.call('GET', 'session')).statusCode).toBe(401);
    expect((await anonymous.login(member.email, newPassword)).statusCode).toBe(200);
  });

  it('mails an invite instead of showing its link to the inviter', async () => {
    const seeded = await h.seed();
    const owner = await signedInMember(h, seeded.accountId, 'owner');
    const email = uniqueEmail('mailed-invite');
    const response = await owner.client.call('POST', `accounts/${seeded.accountId}/invites`, {
      email,
      role: 'developer',
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().inviteUrl).toBeUndefined();
    const link = await linkTo(email, 'invite');
    const info = await new DashboardClient(h.tollgate.app).call('GET', `auth/invite/${tokenOf(link)}`);
    expect(info.json()).toMatchObject({ email, role: 'developer' });
  });
});

describe('sign-up when it is not open', () => {
  it('answers 404, as for a route that does not exist', async () => {
    const closed = await startHarness();
    try {
      const response = await new DashboardClient(closed.tollgate.app).call('POST', 'auth/signup', {
        email: uniqueEmail('closed'),
        password: PASSWORD,
      });
      expect(response.statusCode).toBe(404);
      expect(errorCode(response)).toBe('not_found');
    } finally {
      await closed.close();
    }
  });
});
