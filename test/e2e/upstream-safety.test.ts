import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/**
 * Safety at the upstream edge: only the operator's configuration chooses where requests go, and a
 * provider key never reaches a client or a log, even when the provider echoes it back.
 */
const PROVIDER_KEY = 'sk-test-provider-key-0123456789abcdef';
let attacker: FakeUpstream;
let h: Harness;

beforeAll(async () => {
  attacker = await startFakeUpstream();
  h = await startHarness({
    upstream: { expectedKey: 'the-provider-expects-another-key' },
    providerYaml: '    api_key_env: FAKE_PROVIDER_KEY',
    env: { FAKE_PROVIDER_KEY: PROVIDER_KEY },
  });
});
afterAll(async () => {
  await h.close();
  await attacker.close();
});

describe('the upstream edge', () => {
  it('sends nothing to a host named in the request, whatever field or header names it', async () => {
    const user = await h.seed();
    await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...bearer(user.key), 'x-forwarded-host': attacker.url, host: new URL(attacker.url).host },
      payload: {
        model: 'mistral',
        messages: [{ role: 'user', content: 'Hi' }],
        base_url: attacker.url,
        api_base: attacker.url,
      },
    });
    await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(user.key),
      payload: { model: attacker.url, messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(attacker.received).toHaveLength(0);
  });

  it('never shows the provider key to the client or writes it to a log, even when the provider echoes it', async () => {
    const user = await h.seed();
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(user.key),
      payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(h.upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: { code: 'upstream_error' } });
    expect(response.body).not.toContain(PROVIDER_KEY);
    expect(response.body).not.toContain(PROVIDER_KEY.slice(3, 20));
    expect(h.logs.join('')).not.toContain(PROVIDER_KEY.slice(3, 20));
  });
});
