import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, eventually, type Harness, startHarness } from '../support/harness.js';
import { type RedisServer, redisMissing, startRedis } from '../support/real-servers.js';

/**
 * The server with its limits in a real Redis: while Redis answers, the headers report the tier's
 * limit as shared by every instance; when Redis dies, this instance serves on with its share of the
 * limit (cluster.instances: 2, so half), says so once in the log, and shares again once Redis is back.
 */
const skip = redisMissing();
if (skip) console.warn(`Skipping the rate limit tests with Redis: ${skip}`);

describe.skipIf(skip)('rate limits of a server with Redis', () => {
  let redis: RedisServer;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedis();
    h = await startHarness({
      extraYaml: `
redis:
  url: ${redis.url}
cluster:
  instances: 2
tiers:
  - id: free
    requests_per_minute: 10
default_tier: free
`,
    });
    await h.listen();
  });
  afterAll(async () => {
    await h?.close();
    await redis?.stop();
  });

  const chat = async (key: string) => {
    const response = await fetch(`${h.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flash', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    await response.arrayBuffer();
    return {
      status: response.status,
      limit: response.headers.get('x-ratelimit-limit-requests'),
      remaining: response.headers.get('x-ratelimit-remaining-requests'),
    };
  };

  it('counts in Redis, falls back to half the limit while Redis is down, and shares again when it is back', async () => {
    const user = await h.seed();
    await eventually(async () => (await chat(user.key)).limit === '10');
    const client = new Redis(redis.url);
    try {
      expect(await client.hget(`tollgate:limits:{${user.accountId}}`, 'rd')).not.toBeNull();
    } finally {
      client.disconnect();
    }

    await redis.kill();
    const other = await h.seed();
    const down: { status: number; limit: string | null }[] = [];
    for (let i = 0; i < 6; i++) down.push(await chat(other.key));
    expect(down.map((d) => d.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(down[0]?.limit).toBe('5');
    expect(h.logs.filter((line) => line.includes('rate limits counted by this instance alone'))).toHaveLength(
      1,
    );

    await redis.restart();
    await eventually(async () => (await chat(other.key)).limit === '10', 15_000);
    expect(h.logs.filter((line) => line.includes('rate limits shared through Redis again'))).toHaveLength(1);
  });
});
