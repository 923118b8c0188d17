import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, type Seeded, startHarness } from '../support/harness.js';

/** In-process route tests (Fastify inject) for every way a request's credentials can be wrong. */
let h: Harness;
let user: Seeded;

beforeAll(async () => {
  h = await startHarness();
  user = await h.seed();
});
afterAll(() => h.close());

const chatBody = { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] };

function errorOf(response: { json(): unknown }) {
  return (response.json() as { error: { message: string; type: string; code: string; param: unknown } })
    .error;
}

describe('authentication under /v1', () => {
  it('answers 401 missing_api_key in the OpenAI envelope when no Authorization header is sent', async () => {
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chatBody,
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        code: 'missing_api_key',
        param: null,
      },
    });
    expect(response.headers['x-request-id']).toMatch(/^req_[0-9A-Za-z]{19}$/);
  });

  it('requires the key for model discovery too', async () => {
    const response = await h.tollgate.app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe('missing_api_key');
  });

  it.each([
    ['lower-case scheme', (key: string) => `bearer ${key}`],
    ['two spaces', (key: string) => `Bearer  ${key}`],
    ['no space', (key: string) => `Bearer${key}`],
    ['another scheme', (key: string) => `Basic ${key}`],
    ['the key alone', (key: string) => key],
    ['a key followed by more text', (key: string) => `Bearer ${key} extra`],
    ['a scheme with no key', () => 'Bearer'],
  ])('refuses a malformed header (%s) with 401 invalid_api_key', async (_name, header) => {
    const response = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { authorization: header(user.key) },
    });
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe('invalid_api_key');
    expect(errorOf(response).type).toBe('invalid_request_error');
  });

  it('refuses a mistyped key (checksum) and an unknown well-formed key alike, without echoing them', async () => {
    const typo = `${user.key.slice(0, 12)}${user.key[12] === 'a' ? 'b' : 'a'}${user.key.slice(13)}`;
    for (const key of [typo, 'llmbase_not-a-key', 'sk-proj-abcdefghijklmnopqrstuvwxyz']) {
      const response = await h.tollgate.app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: bearer(key),
      });
      expect(response.statusCode).toBe(401);
      expect(errorOf(response)).toMatchObject({ code: 'invalid_api_key', message: 'Invalid API key' });
      expect(response.body).not.toContain(key);
    }
  });

  it('accepts the exact format and lists the catalogue in OpenAI list format', async () => {
    const response = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: bearer(user.key),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      object: string;
      data: { id: string; object: string; owned_by: string }[];
    };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['deepseek/deepseek-v4-flash', 'mistral']);
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'fake', created: expect.any(Number) });
  });

  it('serves one model by id, slashes included, and by alias', async () => {
    const byId = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models/deepseek/deepseek-v4-flash',
      headers: bearer(user.key),
    });
    expect(byId.json()).toMatchObject({ id: 'deepseek/deepseek-v4-flash', object: 'model' });
    const unknown = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models/gpt-9',
      headers: bearer(user.key),
    });
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown).code).toBe('model_not_found');
  });

  it('refuses a revoked key from the very next request, with a code of its own', async () => {
    const other = await h.seed();
    const before = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/balance',
      headers: bearer(other.key),
    });
    expect(before.statusCode).toBe(200);
    expect(await h.tollgate.services.keys.revoke(other.keyId)).toBe('revoked');
    const after = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/balance',
      headers: bearer(other.key),
    });
    expect(after.statusCode).toBe(401);
    expect(errorOf(after).code).toBe('api_key_revoked');
    expect(errorOf(after).message).toMatch(/revoked/);
  });

  it('refuses a chat-agent key at /v1 and names the base URL where it works', async () => {
    const agent = await h.seed({ type: 'chat_agent' });
    expect(agent.key.startsWith('llmbase_chat_')).toBe(true);
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(agent.key),
      payload: chatBody,
    });
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).message).toContain('/api/v1/agents');
    expect(h.upstream.received.some((r) => r.headers.authorization?.includes(agent.key))).toBe(false);
  });

  it('answers 403 account_suspended for a suspended account, and serves it again once unsuspended', async () => {
    const other = await h.seed();
    await h.tollgate.services.accounts.setSuspended(other.accountId, true);
    const suspended = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: bearer(other.key),
    });
    expect(suspended.statusCode).toBe(403);
    expect(errorOf(suspended).code).toBe('account_suspended');
    await h.tollgate.services.accounts.setSuspended(other.accountId, false);
    const back = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: bearer(other.key),
    });
    expect(back.statusCode).toBe(200);
  });

  it.each(['api_key', 'key', 'token'])(
    'never accepts a key in the ?%s= query parameter, nor logs it',
    async (name) => {
      const response = await h.tollgate.app.inject({
        method: 'GET',
        url: `/v1/models?${name}=${user.key}`,
        headers: bearer(user.key),
      });
      expect(response.statusCode).toBe(401);
      expect(errorOf(response).code).toBe('api_key_in_query');
      expect(errorOf(response).message).toContain('Authorization header');
      expect(response.body).not.toContain(user.key);
      expect(h.logs.join('')).not.toContain(user.key);
    },
  );

  it('keeps keys out of every log line', async () => {
    await h.tollgate.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(user.key) });
    await h.tollgate.app.inject({ method: 'GET', url: '/v1/nope', headers: bearer(user.key) });
    const logs = h.logs.join('');
    expect(logs).toContain('request completed');
    expect(logs).not.toContain(user.key);
    expect(logs).not.toContain(user.key.slice(8, 30));
  });

  it('records when and from where a key was last used', async () => {
    const other = await h.seed();
    await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: bearer(other.key),
      remoteAddress: '203.0.113.7',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const listed = await h.tollgate.services.keys.list(other.accountId);
    if (!listed.ok) throw new Error(listed.error);
    expect(listed.value[0]?.lastUsedIp).toBe('203.0.113.7');
    expect(listed.value[0]?.lastUsedAt).toEqual(expect.any(Number));
  });
});
