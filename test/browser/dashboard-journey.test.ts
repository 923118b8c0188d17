import OpenAI, { APIError } from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAdvice, chromiumMissing, launchChromium, newUserContext } from './support/chromium.js';
import { type DashboardServer, startDashboardServer } from './support/dashboard-server.js';
import { accessibilityViolations, screenshots, watchConsole } from './support/page-checks.js';

/**
 * The journey of issue 15 in real Chromium against a real `tollgate serve`: an operator's first
 * user signs in, invites a viewer, creates a key and uses it with the openai SDK, rotates it with a
 * grace period, restricts it to an address, revokes it; then the viewer joins and can change nothing.
 */

// Invites only, as by default (the harness already makes password hashing cheap for tests).
const DASHBOARD_YAML = '  signup: invite';

const OWNER = { email: 'ada@example.com', password: 'correct-horse-battery' };
const VIEWER = { email: 'grace@example.com', password: 'staple-lantern-orbit' };
const MODEL = 'deepseek/deepseek-v4-flash';
// Long enough that the old secret is certainly still valid when the test first uses it on a busy
// machine, short enough that waiting for its end keeps the suite quick.
const GRACE_SECONDS = 8;

const skipNote = chromiumMissing ? ` (skipped: ${chromiumAdvice})` : '';
// The default reporter shows a skipped file without its titles: say why where it will be read.
if (chromiumMissing) console.warn(`Browser tests skipped: ${chromiumAdvice}`);

describe.skipIf(chromiumMissing)(`The dashboard in Chromium${skipNote}`, () => {
  let server: DashboardServer;
  let browser: Browser;
  let ownerContext: BrowserContext;
  let page: Page;
  let problems: string[] = [];
  let accountId = '';
  let inviteUrl = '';
  let secret = '';

  async function checkPage(name: string, target: Page = page) {
    expect(await accessibilityViolations(target), `axe on ${name}`).toEqual([]);
    await screenshots(target, name);
  }

  function client(apiKey: string, localAddress?: string): OpenAI {
    if (!localAddress) return new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey, maxRetries: 0 });
    // All of 127.0.0.0/8 is loopback: a socket bound to 127.0.0.2 reaches the server from another address.
    // undici reads localAddress at the top level of the Agent's options, not inside `connect`.
    const dispatcher = new Agent({ localAddress });
    return new OpenAI({
      baseURL: `${server.baseUrl}/v1`,
      apiKey,
      maxRetries: 0,
      fetch: ((url: string, init: Parameters<typeof undiciFetch>[1]) =>
        undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch,
    });
  }

  async function chat(apiKey: string, localAddress?: string) {
    return client(apiKey, localAddress).chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
    });
  }

  /** 200 when the call succeeds, else the status the SDK reports. */
  async function statusOf(call: Promise<unknown>): Promise<number | undefined> {
    try {
      await call;
      return 200;
    } catch (error) {
      if (error instanceof APIError) return error.status;
      throw error;
    }
  }

  /** The refusal a call gets, as the SDK reports it; fails the test when the call succeeds. */
  async function refusal(call: Promise<unknown>): Promise<{ status: number | undefined; code: unknown }> {
    try {
      await call;
    } catch (error) {
      if (error instanceof APIError) return { status: error.status, code: error.code };
      throw error;
    }
    throw new Error('the call succeeded');
  }

  beforeAll(async () => {
    server = await startDashboardServer(DASHBOARD_YAML);
    browser = await launchChromium();
    ownerContext = await newUserContext(browser, server.baseUrl);
    page = await ownerContext.newPage();
    problems = watchConsole(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the signed-out pages, accessible and laid out at both widths', async () => {
    const visitor = await newUserContext(browser, server.baseUrl);
    const visit = await visitor.newPage();
    const seen = watchConsole(visit);
    const pages: [string, string, string][] = [
      ['sign-in', '/login', 'Sign in'],
      ['sign-up', '/signup', 'Create your account'],
      ['reset-request', '/reset', 'Reset your password'],
      ['reset', '/reset/not-a-real-token', 'Choose a new password'],
      ['verify', '/verify/not-a-real-token', 'Verify your email'],
      ['invite-expired', '/invite/not-a-real-token', 'Accept your invite'],
    ];
    for (const [name, url, heading] of pages) {
      await visit.goto(url);
      await visit.getByRole('heading', { level: 1, name: heading }).waitFor();
      if (name === 'invite-expired')
        await visit.getByText('This link has expired or was already used').waitFor();
      await checkPage(name, visit);
    }
    // A signed-out visit to a dashboard page lands on sign-in, and comes back after it.
    await visit.goto('/members');
    await visit.waitForURL('**/login?next=%2Fmembers');
    await visitor.close();
    expect(seen).toEqual([]);
  }, 180_000);

  it('1. an operator creates the first user from the CLI; the user signs in', async () => {
    const account = JSON.parse(
      await server.cli(['accounts', 'create', '--email', 'billing@example.com', '--json']),
    );
    accountId = account.id;
    await server.cli(['credits', 'add', accountId, '--usd', '5.00']);
    await server.cli(
      [
        'users',
        'create',
        '--email',
        OWNER.email,
        '--account',
        accountId,
        '--role',
        'owner',
        '--password-stdin',
      ],
      `${OWNER.password}\n`,
    );

    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBeTruthy();
    await checkPage('sign-in-refused');

    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/keys');
    await page.getByText('No API keys yet').waitFor();
    await checkPage('keys-empty');
  }, 180_000);

  it('2. the owner invites a teammate as a viewer and sees the invite link once', async () => {
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await page.getByRole('table', { name: 'Members of this account' }).getByText(OWNER.email).waitFor();
    await checkPage('members');

    await page.getByLabel('Email', { exact: true }).fill(VIEWER.email);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Send invite' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite created' });
    inviteUrl = await dialog.getByLabel('Invite link').inputValue();
    expect(inviteUrl).toMatch(new RegExp(`^${server.baseUrl}/invite/[^/]+$`));
    await checkPage('members-invite-link');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    // Only a pending invite remains: the link itself is never shown again.
    await page
      .getByRole('table', { name: 'Pending invites' })
      .getByRole('rowheader', { name: VIEWER.email })
      .waitFor();
    expect(await page.content()).not.toContain(inviteUrl);
  }, 180_000);

  it('3. the owner creates a key and copies it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).first().click();
    const form = page.getByRole('dialog', { name: 'Create an API key' });
    await form.getByLabel('Name').fill('Production backend');
    await form.getByLabel('Spend limit (USD, optional)').fill('2.50');
    await form.getByLabel('Limit period').selectOption('month');
    await checkPage('keys-create');
    await form.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: 'Your new API key' });
    secret = await shown.getByLabel('API key for Production backend').inputValue();
    expect(secret).toMatch(/^llmbase_[0-9A-Za-z]{28}$/);
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await expect
      .poll(() => shown.getByRole('listitem').first().textContent())
      .toContain(`${server.baseUrl}/v1`);
    await shown.getByRole('tab', { name: 'Python' }).click();
    await shown.getByRole('tabpanel').getByText('OpenAI', { exact: false }).first().waitFor();
    await checkPage('keys-secret');
    await shown.getByRole('button', { name: 'I have saved the key' }).click();

    const row = page.getByRole('row', { name: /Production backend/ });
    await row.waitFor();
    expect(await row.textContent()).toContain(`…${secret.slice(-4)}`);
    expect(await page.content()).not.toContain(secret);
    await checkPage('keys-list');
  }, 180_000);

  it('4. the key works through the openai SDK, and the list shows its use', async () => {
    const completion = await chat(secret);
    expect(completion.choices[0]?.message.content).toBeTruthy();

    // Key use is written in batches about once a second: reload until the list shows it.
    const row = page.getByRole('row', { name: /Production backend/ });
    await expect
      .poll(
        async () => {
          await page.reload();
          return (await row.textContent()) ?? '';
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain('from 127.0.0.1');
  }, 180_000);

  it('5. a rotated key: the old secret works during the grace period and gets 401 after it', async () => {
    const oldSecret = secret;
    await page.getByRole('button', { name: 'Rotate Production backend' }).click();
    const form = page.getByRole('dialog', { name: /Rotate/ });
    await form.getByLabel('Grace period').fill(String(GRACE_SECONDS));
    await form.getByLabel('Unit').selectOption('seconds');
    await checkPage('keys-rotate');
    await form.getByRole('button', { name: 'Rotate key' }).click();

    const shown = page.getByRole('dialog', { name: 'Your new secret' });
    secret = await shown.getByLabel('API key for Production backend').inputValue();
    expect(secret).not.toBe(oldSecret);
    await expect(chat(oldSecret)).resolves.toBeTruthy();
    await expect(chat(secret)).resolves.toBeTruthy();
    await shown.getByRole('button', { name: 'I have saved the key' }).click();

    // The expiry is checked on every request: poll until the grace period has run out.
    await expect
      .poll(() => statusOf(chat(oldSecret)), {
        timeout: (GRACE_SECONDS + 20) * 1000,
        interval: 500,
      })
      .toBe(401);
    expect(await refusal(chat(oldSecret))).toEqual({ status: 401, code: 'api_key_revoked' });
    await expect(chat(secret)).resolves.toBeTruthy();
  }, 180_000);

  it('6. with an IP allow-list, a request from another address is refused with 403', async () => {
    await page.getByRole('button', { name: 'Edit Production backend' }).click();
    const form = page.getByRole('dialog', { name: /Edit/ });
    await form.getByLabel('IP allow-list').fill('127.0.0.1/32');
    await checkPage('keys-edit');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => form.isVisible()).toBe(false);
    await page.getByText('IP allow-list: 1 range').waitFor();

    await expect(chat(secret, '127.0.0.1')).resolves.toBeTruthy();
    const refused = await refusal(chat(secret, '127.0.0.2'));
    expect(refused.status).toBe(403);
    expect(refused.code).toEqual(expect.any(String));
  }, 180_000);

  it('7. a revoked key gets 401 at once', async () => {
    await page.getByRole('button', { name: 'Revoke Production backend' }).click();
    const confirm = page.getByRole('dialog', { name: /Revoke/ });
    await checkPage('keys-revoke');
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await page
      .getByRole('row', { name: /Production backend/ })
      .getByText('Revoked')
      .waitFor();
    expect(await refusal(chat(secret))).toEqual({ status: 401, code: 'api_key_revoked' });
    await checkPage('keys-revoked');

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit trail' }).waitFor();
    await page.getByRole('table').waitFor();
    const trail = (await page.getByRole('table').textContent()) ?? '';
    expect(trail).toContain('Production backend');
    expect(trail).toContain(OWNER.email);
    await checkPage('audit');

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await checkPage('settings');
  }, 180_000);

  it('8. the viewer accepts the invite, signs in, and can neither create nor reveal a key', async () => {
    const viewerContext = await newUserContext(browser, server.baseUrl);
    const viewer = await viewerContext.newPage();
    const seen = watchConsole(viewer);
    await viewer.goto(inviteUrl);
    await viewer.getByText('You are joining').waitFor();
    await checkPage('invite-accept', viewer);
    await viewer.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await viewer.getByLabel('Confirm password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: /^Join/ }).click();
    await viewer.waitForURL('**/keys');

    // Signed out and in again with the password just chosen.
    await viewer.getByRole('button', { name: 'Sign out' }).click();
    await viewer.waitForURL('**/login');
    await viewer.getByLabel('Email').fill(VIEWER.email);
    await viewer.getByLabel('Password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.waitForURL('**/keys');

    await viewer.getByRole('row', { name: /Production backend/ }).waitFor();
    expect(await viewer.getByRole('button', { name: /Create key|Rotate|Revoke|Edit/ }).count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    expect(await viewer.content()).not.toContain(secret);
    await checkPage('keys-viewer', viewer);

    // The server refuses too, whatever the page shows: a viewer's create is 403 with the session's CSRF token.
    const status = await viewer.evaluate(`(async () => {
      const session = await (await fetch('/dashboard/api/session')).json();
      const response = await fetch('/dashboard/api/accounts/${accountId}/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ name: 'sneaky', type: 'inference', billing: 'prepaid', overflow: false }),
      });
      return response.status;
    })()`);
    expect(status).toBe(403);

    await viewer.getByRole('link', { name: 'Members' }).click();
    await viewer.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    expect(await viewer.getByRole('button', { name: /Send invite|Remove/ }).count()).toBe(0);
    await checkPage('members-viewer', viewer);
    await viewerContext.close();
    expect(seen).toEqual([]);
  }, 180_000);

  it('logs no page errors and no Content-Security-Policy refusals', () => {
    expect(problems).toEqual([]);
  });
});
