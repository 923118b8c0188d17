import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/**
 * Which client address a key's IP allow-list sees: X-Forwarded-For counts only when it comes from a
 * trusted proxy (a listed address, or the nearest N hops), never from any client.
 */
async function keyAllowing(h: Harness, allowlist: string[]): Promise<string> {
  const { accountId } = await h.seed();
  const created = await h.tollgate.services.keys.create(accountId, 'office', 'inference', PREPAID_SPENDING, {
    ipAllowlist: allowlist,
  });
  if (!created.ok) throw new Error(created.error);
  return created.value.key;
}

function models(h: Harness, key: string, remoteAddress: string, forwardedFor?: string) {
  return h.tollgate.app.inject({
    method: 'GET',
    url: '/v1/models',
    remoteAddress,
    headers: { ...bearer(key), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
  });
}

describe('with trust_proxy listing the proxy', () => {
  let h: Harness;
  let key: string;
  beforeAll(async () => {
    h = await startHarness({ serverYaml: '  trust_proxy: [10.0.0.0/8]' });
    key = await keyAllowing(h, ['203.0.113.0/24']);
  });
  afterAll(() => h.close());

  it('takes the client address from X-Forwarded-For sent by the proxy', async () => {
    expect((await models(h, key, '10.1.2.3', '203.0.113.9')).statusCode).toBe(200);
    expect((await models(h, key, '10.1.2.3', '198.51.100.1')).statusCode).toBe(403);
  });

  it('ignores X-Forwarded-For sent by anyone else', async () => {
    const forged = await models(h, key, '198.51.100.1', '203.0.113.9');
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('ip_not_allowed');
  });
});

describe('with a hop count', () => {
  let h: Harness;
  let key: string;
  beforeAll(async () => {
    h = await startHarness({ serverYaml: '  trust_proxy: 1' });
    key = await keyAllowing(h, ['203.0.113.0/24']);
  });
  afterAll(() => h.close());

  it('trusts the nearest proxy only: the address it saw, not what the client claimed before it', async () => {
    expect((await models(h, key, '10.1.2.3', '203.0.113.9')).statusCode).toBe(200);
    expect((await models(h, key, '10.1.2.3', '203.0.113.9, 198.51.100.1')).statusCode).toBe(403);
    expect((await models(h, key, '10.1.2.3', '198.51.100.1, 203.0.113.9')).statusCode).toBe(200);
  });
});

describe('without trust_proxy', () => {
  let h: Harness;
  let key: string;
  beforeAll(async () => {
    h = await startHarness();
    key = await keyAllowing(h, ['203.0.113.0/24']);
  });
  afterAll(() => h.close());

  it('never reads X-Forwarded-For', async () => {
    expect((await models(h, key, '127.0.0.1', '203.0.113.9')).statusCode).toBe(403);
    expect((await models(h, key, '203.0.113.50')).statusCode).toBe(200);
  });
});
