import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, type Seeded, startHarness } from '../support/harness.js';

/** Every failure that is not about credentials: a clear error in the OpenAI envelope, never HTML or a stack. */
let h: Harness;
let user: Seeded;

beforeAll(async () => {
  h = await startHarness();
  user = await h.seed();
});
afterAll(() => h.close());

function expectEnvelope(
  response: { statusCode: number; json(): unknown; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/json');
  const { error } = response.json() as { error: Record<string, unknown> };
  expect(error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(response.body).not.toMatch(/<html|at .*\.(ts|js):\d+/i);
  return error;
}

const post = (payload: string | object, headers: Record<string, string> = {}) =>
  h.tollgate.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { ...bearer(user.key), 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('errors in the OpenAI envelope', () => {
  it('reports an unknown route under /v1 as 404 unknown_url, after authentication', async () => {
    const unauthenticated = await h.tollgate.app.inject({ method: 'GET', url: '/v1/engines' });
    expectEnvelope(unauthenticated, 401, 'missing_api_key');
    const authenticated = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/engines',
      headers: bearer(user.key),
    });
    const error = expectEnvelope(authenticated, 404, 'unknown_url');
    expect(error.message).toContain('GET /v1/engines');
  });

  it('reports an unknown route outside /v1 as 404 in the same envelope', async () => {
    const response = await h.tollgate.app.inject({ method: 'GET', url: '/wp-admin?x=1' });
    const error = expectEnvelope(response, 404, 'unknown_url');
    expect(error.message).not.toContain('x=1');
  });

  it('reports malformed JSON as 400 invalid_json', async () => {
    expectEnvelope(await post('{"model": "mistral", "messages": ['), 400, 'invalid_json');
  });

  it('reports an empty body as 400 invalid_json', async () => {
    expectEnvelope(await post(''), 400, 'invalid_json');
  });

  it('reports a body that is not JSON as 415', async () => {
    expectEnvelope(
      await post('model=mistral', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
  });

  it('reports a body over the limit as 413 request_too_large', async () => {
    const huge = { model: 'mistral', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] };
    expectEnvelope(await post(huge), 413, 'request_too_large');
  });

  it('names the invalid parameter of a well-formed but wrong body', async () => {
    const error = expectEnvelope(await post({ model: 'mistral', messages: 'hello' }), 400, 'invalid_request');
    expect(error.param).toBe('messages');
    const notObject = expectEnvelope(await post('[1,2]'), 400, 'invalid_request');
    expect(notObject.message).toContain('JSON object');
    expectEnvelope(await post({ messages: [{ role: 'user', content: 'Hi' }] }), 400, 'invalid_request');
    const tooMany = expectEnvelope(
      await post({ model: 'mistral', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5000 }),
      400,
      'invalid_request',
    );
    expect(tooMany.param).toBe('max_tokens');
  });

  it('reports an unknown model as 404 model_not_found without calling the upstream', async () => {
    const before = h.upstream.received.length;
    const error = expectEnvelope(
      await post({ model: 'gpt-7', messages: [{ role: 'user', content: 'Hi' }] }),
      404,
      'model_not_found',
    );
    expect(error.message).toContain('gpt-7');
    expect(h.upstream.received.length).toBe(before);
  });

  it('accepts a model alias and sends the upstream model name', async () => {
    const response = await post({ model: 'flash', messages: [{ role: 'user', content: 'Hi' }] });
    expect(response.statusCode).toBe(200);
    expect(h.upstream.received.at(-1)?.body.model).toBe('fake-model');
  });

  it('answers health checks without a key', async () => {
    const response = await h.tollgate.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('upstream failures', () => {
  it('answers 502 upstream_unavailable when the upstream cannot be reached, and charges nothing', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const port = (probe.address() as { port: number }).port;
        probe.close(() => resolve(port));
      });
    });
    const down = await startHarness({ upstreamUrl: `http://127.0.0.1:${closedPort}/v1` });
    try {
      const seeded = await down.seed({ usd: '1' });
      const response = await down.tollgate.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: bearer(seeded.key),
        payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
      });
      const error = expectEnvelope(response, 502, 'upstream_unavailable');
      expect(error.message).not.toContain(String(closedPort));
      const ledger = await down.ledgerOf(seeded.accountId);
      expect(ledger).toMatchObject({ balance: 1_000_000, sum: 1_000_000, openHolds: 0, settled: 0 });
    } finally {
      await down.close();
    }
  });

  it('answers 504 upstream_timeout when the upstream does not answer in time, and charges nothing', async () => {
    const slow = await startHarness({
      upstream: { firstByteDelayMs: 1_500 },
      providerYaml: '    timeouts: { first_byte_ms: 200 }',
    });
    try {
      const seeded = await slow.seed({ usd: '1' });
      const response = await slow.tollgate.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: bearer(seeded.key),
        payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
      });
      expectEnvelope(response, 504, 'upstream_timeout');
      expect(await slow.ledgerOf(seeded.accountId)).toMatchObject({ balance: 1_000_000, openHolds: 0 });
    } finally {
      await slow.close();
    }
  });

  it.each([
    [500, 502, 'upstream_error'],
    [429, 429, 'upstream_rate_limited'],
    [401, 502, 'upstream_error'],
    [400, 400, 'upstream_rejected_request'],
  ])('maps an upstream %i to %i %s and releases the hold', async (upstreamStatus, status, code) => {
    h.upstream.options = { failStatus: upstreamStatus };
    try {
      const seeded = await h.seed({ usd: '1' });
      const response = await h.tollgate.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: bearer(seeded.key),
        payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
      });
      expectEnvelope(response, status, code);
      expect(await h.ledgerOf(seeded.accountId)).toMatchObject({
        balance: 1_000_000,
        sum: 1_000_000,
        openHolds: 0,
      });
    } finally {
      h.upstream.options = {};
    }
  });
});
