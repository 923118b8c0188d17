import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../support/dashboard-client.js';
import { manualClock, signedInMember } from '../support/dashboard-fixture.js';
import { bearer, eventually, type Harness, startHarness } from '../support/harness.js';

/** The API Keys page's routes, and what they change on the API's request path. */
const clock = manualClock();
let h: Harness;
let accountId: string;
let owner: Awaited<ReturnType<typeof signedInMember>>;

const chat = { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] };

beforeAll(async () => {
  h = await startHarness({
    clock,
    serverYaml: '  public_url: https://llm.example.com',
    // The clock moves by hours here; the owner's session must outlive it.
    dashboardYaml: '  session: { idle_minutes: 600, absolute_hours: 24 }',
    extraYaml:
      'base_url_aliases:\n  - { path: /openai/v1, same_as: /v1 }\n  - { path: /agents, same_as: /api/v1/agents }',
  });
  accountId = (await h.seed({ usd: '50' })).accountId;
  owner = await signedInMember(h, accountId, 'owner');
});
afterAll(() => h.close());

async function createKey(body: Record<string, unknown>) {
  const response = await owner.client.call('POST', `accounts/${accountId}/keys`, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

function callV1(key: string, remoteAddress = '127.0.0.1', url = '/v1/models') {
  return h.tollgate.app.inject({ method: 'GET', url, headers: bearer(key), remoteAddress });
}

describe('creating a key', () => {
  it('shows the secret once, with the base URLs of its type from public_url and snippets that use them', async () => {
    const created = await createKey({
      name: 'backend',
      spendLimitUsd: '12.5',
      spendLimitPeriod: 'month',
    });
    expect(created.secret).toMatch(/^llmbase_[0-9A-Za-z]{28}$/);
    expect(created.baseUrls).toEqual(['https://llm.example.com/v1', 'https://llm.example.com/openai/v1']);
    for (const snippet of Object.values(created.snippets as Record<string, string>)) {
      expect(snippet).toContain('https://llm.example.com/v1');
      expect(snippet).toContain(created.secret);
    }
    expect(created.snippets.python).toContain('from openai import OpenAI');
    expect(created.snippets.javascript).toContain("import OpenAI from 'openai'");
    expect(created.key).toMatchObject({
      name: 'backend',
      type: 'inference',
      billing: 'prepaid',
      overflow: false,
      spendLimit: { usd: '12.500000', period: 'month' },
      ipAllowlist: [],
      createdBy: { userId: owner.userId, email: owner.email },
      lastUsedAt: null,
      spendThisPeriodUsd: '0.000000',
      spendPeriod: 'month',
      revokedAt: null,
      rotation: null,
    });
    expect(created.key.hint).toBe(`llmbase_…${created.secret.slice(-4)}`);
    expect((await callV1(created.secret)).statusCode).toBe(200);
    const list = await owner.client.call('GET', `accounts/${accountId}/keys`);
    expect(list.body).not.toContain(created.secret);
  });

  it('gives a chat-agent key the agents bases and every alias of them', async () => {
    const created = await createKey({ name: 'agent', type: 'chat_agent' });
    expect(created.baseUrls).toEqual([
      'https://llm.example.com/api/v1/agents',
      'https://llm.example.com/agents',
      'https://llm.example.com/api/chat-agent/v1',
    ]);
    expect(created.secret).toMatch(/^llmbase_chat_/);
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x', ipAllowlist: ['10.0.0.0/33'] }, 'ipAllowlist'],
    [{ name: 'x', ipAllowlist: ['example.com'] }, 'ipAllowlist'],
    [{ name: 'x', spendLimitUsd: '0' }, 'spendLimitUsd'],
    [{ name: 'x', spendLimitUsd: 'ten' }, 'spendLimitUsd'],
    [{ name: 'x', spendLimitPeriod: 'month' }, 'spendLimitPeriod'],
    [{ name: 'x', type: 'chat_agent', billing: 'subscription' }, undefined],
    [{ name: 'x', unknown: true }, undefined],
  ])('refuses %j with 400 invalid_request naming the field', async (body, field) => {
    const response = await owner.client.call('POST', `accounts/${accountId}/keys`, body);
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
    if (field) expect(response.json().error.field).toBe(field);
  });
});

describe('the key list', () => {
  it("shows the last use, the client address and this period's spend", async () => {
    const created = await createKey({ name: 'used' });
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(created.secret),
      payload: chat,
      remoteAddress: '192.0.2.44',
    });
    expect(response.statusCode).toBe(200);
    let key: Record<string, unknown> | undefined;
    await eventually(async () => {
      const list = (await owner.client.call('GET', `accounts/${accountId}/keys`)).json();
      key = list.keys.find((k: { id: string }) => k.id === created.key.id);
      return key?.lastClientIp === '192.0.2.44' && key?.spendThisPeriodUsd !== '0.000000';
    });
    expect(key?.lastUsedAt).toEqual(expect.any(String));
    expect(Number(key?.spendThisPeriodUsd)).toBeGreaterThan(0);
  });
});

describe('rotating a key', () => {
  it('keeps the id, name, settings and spend; the old secret works until the grace ends, then gets 401 api_key_revoked', async () => {
    const created = await createKey({ name: 'rotated', spendLimitUsd: '20', spendLimitPeriod: 'lifetime' });
    const old = created.secret as string;
    await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(old),
      payload: chat,
    });
    // Cached now: the expiry must still be checked on every request.
    expect((await callV1(old)).statusCode).toBe(200);
    const rotated = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {
      graceSeconds: 3600,
    });
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json();
    expect(body.secret).not.toBe(old);
    expect(body.key).toMatchObject({
      id: created.key.id,
      name: 'rotated',
      spendLimit: { usd: '20.000000', period: 'lifetime' },
      rotation: { previousValidUntil: new Date(clock.now() + 3_600_000).toISOString() },
    });
    expect(Number(body.key.spendThisPeriodUsd)).toBeGreaterThan(0);
    expect((await callV1(body.secret)).statusCode).toBe(200);
    expect((await callV1(old)).statusCode).toBe(200);
    clock.advance(3_599_000);
    expect((await callV1(old)).statusCode).toBe(200);
    clock.advance(1_000);
    const after = await callV1(old);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('api_key_revoked');
    expect((await callV1(body.secret)).statusCode).toBe(200);
    const list = (await owner.client.call('GET', `accounts/${accountId}/keys`)).json();
    expect(list.keys.find((k: { id: string }) => k.id === created.key.id).rotation).toBeNull();
  });

  it('without a grace period, refuses the old secret at once as revoked', async () => {
    const created = await createKey({ name: 'rotated now' });
    expect((await callV1(created.secret)).statusCode).toBe(200);
    const rotated = await owner.client.call(
      'POST',
      `accounts/${accountId}/keys/${created.key.id}/rotate`,
      {},
    );
    expect(rotated.statusCode).toBe(200);
    const old = await callV1(created.secret);
    expect(old.statusCode).toBe(401);
    expect(old.json().error.code).toBe('api_key_revoked');
  });

  it('keeps every earlier secret refused as revoked after several rotations', async () => {
    const created = await createKey({ name: 'rotated twice' });
    const first = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {});
    await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {});
    for (const secret of [created.secret, first.json().secret])
      expect((await callV1(secret)).json().error.code).toBe('api_key_revoked');
  });

  it('refuses to rotate a revoked key, or with a grace over 30 days', async () => {
    const created = await createKey({ name: 'gone' });
    const long = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {
      graceSeconds: 31 * 86_400,
    });
    expect(long.statusCode).toBe(400);
    await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/revoke`);
    const revoked = await owner.client.call(
      'POST',
      `accounts/${accountId}/keys/${created.key.id}/rotate`,
      {},
    );
    expect(revoked.statusCode).toBe(400);
  });
});

describe('revoking and changing a key', () => {
  it('revokes at once, old and rotated secrets alike', async () => {
    const created = await createKey({ name: 'to revoke' });
    const rotated = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {
      graceSeconds: 600,
    });
    expect((await callV1(created.secret)).statusCode).toBe(200);
    const revoked = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/revoke`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().key.revokedAt).toEqual(expect.any(String));
    for (const secret of [created.secret, rotated.json().secret])
      expect((await callV1(secret)).json().error.code).toBe('api_key_revoked');
  });

  it('applies an IP allow-list from the next request: 403 ip_not_allowed from elsewhere, IPv4 and IPv6', async () => {
    const created = await createKey({ name: 'office', ipAllowlist: ['192.0.2.0/24', '2001:db8::/32'] });
    expect((await callV1(created.secret, '192.0.2.9')).statusCode).toBe(200);
    expect((await callV1(created.secret, '2001:db8::7')).statusCode).toBe(200);
    expect((await callV1(created.secret, '::ffff:192.0.2.9')).statusCode).toBe(200);
    const outside = await callV1(created.secret, '198.51.100.3');
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error).toMatchObject({ code: 'ip_not_allowed', type: 'permission_error' });
    expect(outside.json().error.message).toContain('198.51.100.3');
    expect((await callV1(created.secret, '2001:db9::1')).statusCode).toBe(403);
    const cleared = await owner.client.call('PATCH', `accounts/${accountId}/keys/${created.key.id}`, {
      ipAllowlist: [],
    });
    expect(cleared.json().key.ipAllowlist).toEqual([]);
    expect((await callV1(created.secret, '198.51.100.3')).statusCode).toBe(200);
    const narrowed = await owner.client.call('PATCH', `accounts/${accountId}/keys/${created.key.id}`, {
      ipAllowlist: ['203.0.113.7'],
    });
    expect(narrowed.json().key.ipAllowlist).toEqual(['203.0.113.7']);
    expect((await callV1(created.secret, '192.0.2.9')).statusCode).toBe(403);
    expect((await callV1(created.secret, '203.0.113.7')).statusCode).toBe(200);
  });

  it('renames a key and sets or removes its spend limit', async () => {
    const created = await createKey({ name: 'limits' });
    const set = await owner.client.call('PATCH', `accounts/${accountId}/keys/${created.key.id}`, {
      name: 'limited',
      spendLimitUsd: '3',
      spendLimitPeriod: 'day',
    });
    expect(set.json().key).toMatchObject({
      name: 'limited',
      spendLimit: { usd: '3.000000', period: 'day' },
      spendPeriod: 'day',
    });
    const removed = await owner.client.call('PATCH', `accounts/${accountId}/keys/${created.key.id}`, {
      spendLimitUsd: null,
    });
    expect(removed.json().key.spendLimit).toBeNull();
  });
});

describe('the audit trail', () => {
  it('records who created, changed, rotated and revoked a key, the CLI included, newest first, without secrets', async () => {
    const created = await createKey({ name: 'audited' });
    await owner.client.call('PATCH', `accounts/${accountId}/keys/${created.key.id}`, { name: 'audited 2' });
    const rotated = await owner.client.call('POST', `accounts/${accountId}/keys/${created.key.id}/rotate`, {
      graceSeconds: 60,
    });
    await h.tollgate.services.keys.revoke(created.key.id);
    const audit = await owner.client.call('GET', `accounts/${accountId}/audit`);
    expect(audit.statusCode).toBe(200);
    const events = audit
      .json()
      .events.filter((e: { target: { id: string } }) => e.target.id === created.key.id)
      .map((e: { action: string; actor: unknown; details: unknown }) => [e.action, e.actor]);
    expect(events).toEqual([
      ['key.revoked', { operator: 'cli' }],
      ['key.rotated', { userId: owner.userId, email: owner.email }],
      ['key.updated', { userId: owner.userId, email: owner.email }],
      ['key.created', { userId: owner.userId, email: owner.email }],
    ]);
    expect(audit.body).not.toContain(created.secret);
    expect(audit.body).not.toContain(rotated.json().secret);
  });
});
