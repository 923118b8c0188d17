import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedMember } from '../support/dashboard-fixture.js';
import { eventually, type Harness, startHarness } from '../support/harness.js';

/**
 * A key made in the dashboard, used by the official `openai` SDK against the real listening server:
 * rotation with a short grace period, an IP allow-list seen from a second loopback address
 * (127.0.0.2, a real local address rather than a forged X-Forwarded-For), and revocation.
 */
let h: Harness;
let accountId: string;
let browser: { cookie: string; csrf: string };
// undici takes localAddress at the top level of the Agent's options (inside `connect` it is ignored).
const fromSecondAddress = new Agent({ localAddress: '127.0.0.2' });

beforeAll(async () => {
  h = await startHarness();
  await h.listen();
  accountId = (await h.seed({ usd: '5.00' })).accountId;
  const owner = await seedMember(h, accountId, 'owner');
  const login = await fetch(`${h.baseUrl}/dashboard/api/auth/login`, {
    method: 'POST',
    // What a browser on the dashboard's own page sends: its Origin is the public URL.
    headers: { 'content-type': 'application/json', origin: h.baseUrl },
    body: JSON.stringify({ email: owner.email, password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  browser = { cookie, csrf: ((await login.json()) as { csrfToken: string }).csrfToken };
});
afterAll(async () => {
  await fromSecondAddress.close();
  await h.close();
});

async function dashboard(method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.baseUrl}/dashboard/api/accounts/${accountId}/${path}`, {
    method,
    headers: {
      cookie: browser.cookie,
      origin: h.baseUrl,
      'x-csrf-token': browser.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the answers' shapes are asserted by the tests themselves.
  return { status: response.status, body: (await response.json()) as any };
}

function sdk(apiKey: string, secondAddress = false): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `${h.baseUrl}/v1`,
    maxRetries: 0,
    ...(secondAddress
      ? {
          // undici's own fetch, whose dispatcher binds the client side of the connection to 127.0.0.2.
          fetch: ((url: string, init: object) =>
            undiciFetch(url, { ...init, dispatcher: fromSecondAddress })) as unknown as typeof fetch,
        }
      : {}),
  });
}

async function ask(client: OpenAI): Promise<string> {
  const completion = await client.chat.completions.create({
    model: 'mistral',
    messages: [{ role: 'user', content: 'Hi' }],
  });
  return completion.choices[0]?.message.content ?? '';
}

async function refusal(
  client: OpenAI,
): Promise<{ status: number | undefined; code: string | null | undefined }> {
  try {
    await ask(client);
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('the request was not refused');
}

describe('a dashboard key through the openai SDK', () => {
  it('works at once, with base URLs built from the address the server listens on', async () => {
    const created = await dashboard('POST', 'keys', { name: 'sdk' });
    expect(created.status).toBe(201);
    expect(created.body.baseUrls).toEqual([`${h.baseUrl}/v1`]);
    expect(await ask(sdk(created.body.secret))).toContain('tok0');
  });

  it('keeps the old secret working during a 2-second grace period, then refuses it as revoked', async () => {
    const created = await dashboard('POST', 'keys', { name: 'rotated' });
    const old = sdk(created.body.secret);
    expect(await ask(old)).toContain('tok0');
    const rotated = await dashboard('POST', `keys/${created.body.key.id}/rotate`, { graceSeconds: 2 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key.id).toBe(created.body.key.id);
    expect(await ask(old)).toContain('tok0');
    expect(await ask(sdk(rotated.body.secret))).toContain('tok0');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(await refusal(old)).toEqual({ status: 401, code: 'api_key_revoked' });
    expect(await ask(sdk(rotated.body.secret))).toContain('tok0');
  });

  it('refuses a request from 127.0.0.2 with 403 ip_not_allowed once the key is limited to 127.0.0.1', async () => {
    const created = await dashboard('POST', 'keys', { name: 'office' });
    expect(await ask(sdk(created.body.secret, true))).toContain('tok0');
    const limited = await dashboard('PATCH', `keys/${created.body.key.id}`, {
      ipAllowlist: ['127.0.0.1/32'],
    });
    expect(limited.status).toBe(200);
    expect(await refusal(sdk(created.body.secret, true))).toEqual({ status: 403, code: 'ip_not_allowed' });
    expect(await ask(sdk(created.body.secret))).toContain('tok0');
    await eventually(async () => {
      const list = await dashboard('GET', 'keys');
      const key = (list.body.keys as { id: string; lastClientIp: string | null }[]).find(
        (k) => k.id === created.body.key.id,
      );
      return key?.lastClientIp === '127.0.0.1';
    });
  });

  it('refuses a revoked key at once', async () => {
    const created = await dashboard('POST', 'keys', { name: 'revoked' });
    const client = sdk(created.body.secret);
    expect(await ask(client)).toContain('tok0');
    expect((await dashboard('POST', `keys/${created.body.key.id}/revoke`)).status).toBe(200);
    expect(await refusal(client)).toEqual({ status: 401, code: 'api_key_revoked' });
  });
});
