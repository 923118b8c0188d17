import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { type RedisServer, redisMissing, startRedis } from '../support/real-servers.js';

const skip = redisMissing();
if (skip) console.warn(`Skipping the server's Redis outage test: ${skip}`);

async function poll(what: string, probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(skip)('a server configured with Redis', () => {
  let redis: RedisServer;
  let harness: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    harness = await startHarness({
      env: { TOLLGATE_REDIS_URL: redis.url, TOLLGATE_INSTANCE_ID: 'gw-test-1' },
    });
    await harness.listen();
  });
  afterAll(async () => {
    await harness?.close();
    await redis?.stop();
  });

  const lines = (pattern: RegExp) => harness.logs.filter((line) => pattern.test(line));
  /** What GET /metrics would say of Redis: 1, 0, or undefined before the first attempt ends. */
  const redisUp = async () => {
    const text = await harness.tollgate.services.metrics.exposition();
    return /^tollgate_dependency_up\{dependency="redis"\} (\d)/m.exec(text)?.[1];
  };

  it('keeps serving through a Redis outage, says so once in the log and in metrics, and recovers by itself', async () => {
    expect(harness.tollgate.instanceId).toBe('gw-test-1');
    await poll('Redis up', async () => (await redisUp()) === '1');
    const { key } = await harness.seed();
    const balance = () =>
      fetch(`${harness.baseUrl}/v1/balance`, { headers: { authorization: `Bearer ${key}` } });
    expect((await balance()).status).toBe(200);

    await redis.kill();
    await poll('Redis down in metrics', async () => (await redisUp()) === '0');
    for (let i = 0; i < 5; i++) {
      expect((await balance()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(lines(/Redis is unreachable/)).toHaveLength(1);
    expect(JSON.parse(lines(/Redis is unreachable/)[0]!).level).toBe(40);

    await redis.restart();
    await poll('Redis up again in metrics', async () => (await redisUp()) === '1', 10_000);
    expect(lines(/Redis answers/)).toHaveLength(2);
    expect((await balance()).status).toBe(200);
  });

  it('refuses a revoked key at once on the instance that revoked it', async () => {
    const { keyId, key } = await harness.seed();
    const call = () =>
      fetch(`${harness.baseUrl}/v1/balance`, { headers: { authorization: `Bearer ${key}` } });
    expect((await call()).status).toBe(200);
    await harness.tollgate.services.keys.revoke(keyId);
    const refused = await call();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('api_key_revoked');
  });
});
