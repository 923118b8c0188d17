import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/** GET /metrics: who may scrape it, and what the exposition holds after real traffic. */
const TOKEN = 'metrics-token-for-tests-0123456789';
const hi = [{ role: 'user', content: 'Hi there' }];

function scrape(h: Harness, headers: Record<string, string> = {}) {
  return h.tollgate.app.inject({ method: 'GET', url: '/metrics', headers });
}

/** The value of one sample line, by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics on the API port, with TOLLGATE_METRICS_TOKEN set', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TOLLGATE_METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => h.close());

  it('refuses a scrape without the token or with a wrong one (401), and serves the right one', async () => {
    const none = await scrape(h);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await scrape(h, { authorization: `Bearer ${TOKEN}x` })).statusCode).toBe(401);
    expect((await scrape(h, { authorization: 'Bearer short' })).statusCode).toBe(401);
    expect((await scrape(h, { authorization: TOKEN })).statusCode).toBe(401);
    const ok = await scrape(h, { authorization: `Bearer ${TOKEN}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.body).toContain('process_cpu_seconds_total');
    expect(ok.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('labels requests by route template, model and provider, never by raw path or key', async () => {
    const user = await h.seed({ usd: '5' });
    const chat = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(user.key),
      payload: { model: 'flash', messages: hi, max_tokens: 50 },
    });
    expect(chat.statusCode).toBe(200);
    const model = await h.tollgate.app.inject({
      method: 'GET',
      url: '/v1/models/model-id-that-must-not-show?ref=query-secret',
      headers: bearer(user.key),
    });
    expect(model.statusCode).toBe(404);
    const unknown = await h.tollgate.app.inject({
      method: 'GET',
      url: '/nowhere/raw-path-that-must-not-show',
    });
    expect(unknown.statusCode).toBe(404);
    const broke = await h.seed({ usd: '0' });
    const refused = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(broke.key),
      payload: { model: 'flash', messages: hi },
    });
    expect(refused.statusCode).toBe(402);

    const text = (await scrape(h, { authorization: `Bearer ${TOKEN}` })).body;
    const served =
      'route="/v1/chat/completions",method="POST",status="200",model="deepseek/deepseek-v4-flash",provider="fake"';
    expect(sample(text, `tollgate_requests_total{${served}}`)).toBe(1);
    // Refused before any provider was chosen: the model is known (its configured id), the provider not.
    expect(
      sample(
        text,
        'tollgate_requests_total{route="/v1/chat/completions",method="POST",status="402",model="deepseek/deepseek-v4-flash",provider=""}',
      ),
    ).toBe(1);
    expect(text).toContain('tollgate_requests_total{route="/v1/models/*",method="GET",status="404"');
    expect(text).toContain('tollgate_requests_total{route="unmatched",method="GET",status="404"');
    for (const secret of ['model-id-that-must-not-show', 'query-secret', 'raw-path-that-must-not-show'])
      expect(text).not.toContain(secret);
    for (const secret of [user.key, user.keyId, user.accountId, broke.key])
      expect(text).not.toContain(secret);

    expect(sample(text, 'tollgate_request_duration_seconds_count{route="/v1/chat/completions"}')).toBe(2);
    expect(sample(text, 'tollgate_upstream_duration_seconds_count{provider="fake"}')).toBe(1);
    expect(sample(text, 'tollgate_added_duration_seconds_count{route="/v1/chat/completions"}')).toBe(1);
    expect(
      sample(text, 'tollgate_request_duration_seconds_bucket{route="/v1/chat/completions",le="+Inf"}'),
    ).toBe(2);
    const usage = h.upstream.usages.at(-1)!;
    const labels = 'model="deepseek/deepseek-v4-flash",provider="fake"';
    expect(sample(text, `tollgate_tokens_total{${labels},kind="prompt"}`)).toBe(usage.prompt_tokens);
    expect(sample(text, `tollgate_tokens_total{${labels},kind="completion"}`)).toBe(usage.completion_tokens);
    // 1 micro-USD a prompt token and 1000 a completion token, exported in USD.
    expect(sample(text, `tollgate_charged_usd_total{${labels}}`)).toBeCloseTo(
      (usage.prompt_tokens + 1000 * usage.completion_tokens) / 1e6,
      9,
    );
    expect(sample(text, 'tollgate_holds_in_flight')).toBe(0);
    expect(sample(text, 'tollgate_over_hold_settlements_total')).toBe(0);
    expect(sample(text, 'tollgate_dependency_up{dependency="database"}')).toBe(1);
    expect(sample(text, 'tollgate_cache_lookups_total{cache="keys",result="hit"}')).toBeGreaterThan(0);
  });

  it('counts provider errors by code and a deployment set aside after repeated failures', async () => {
    const user = await h.seed({ usd: '5' });
    const before = h.upstream.options;
    h.upstream.options = { ...before, failStatus: 503 };
    try {
      const failed = await h.tollgate.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: bearer(user.key),
        payload: { model: 'flash', messages: hi },
      });
      expect(failed.statusCode).toBe(502);
    } finally {
      h.upstream.options = before;
    }
    const text = (await scrape(h, { authorization: `Bearer ${TOKEN}` })).body;
    // Three attempts (routing.max_attempts), each a failure; the third sets the deployment aside.
    expect(sample(text, 'tollgate_provider_errors_total{provider="fake",code="upstream_error"}')).toBe(3);
    expect(sample(text, 'tollgate_provider_cooldowns_total{provider="fake"}')).toBe(1);
    expect(text).toContain(
      'tollgate_requests_total{route="/v1/chat/completions",method="POST",status="502",model="deepseek/deepseek-v4-flash",provider="fake"}',
    );
  });
});

describe('GET /metrics without a token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('is not served on the API port at all (404)', async () => {
    const response = await scrape(h, { authorization: `Bearer ${TOKEN}` });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('tollgate_');
  });
});

describe('GET /metrics on its own address (metrics.listen)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraYaml: 'metrics:\n  listen: 127.0.0.1:0' });
    await h.listen();
  });
  afterAll(() => h.close());

  it('is served there without a token, and not on the API port', async () => {
    const url = h.tollgate.metricsUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toBe(h.baseUrl);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('tollgate_requests_total');
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(404);
  });
});

describe('GET /metrics on its own address with a token set too', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      extraYaml: 'metrics:\n  listen: 127.0.0.1:0',
      env: { TOLLGATE_METRICS_TOKEN: TOKEN },
    });
    await h.listen();
  });
  afterAll(() => h.close());

  it('asks for the token there as well, and stays off the API port', async () => {
    const url = h.tollgate.metricsUrl();
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const main = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(main.status).toBe(404);
  });
});
