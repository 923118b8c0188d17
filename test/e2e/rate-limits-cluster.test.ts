import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from '../support/harness.js';
import {
  type PostgresServer,
  postgresMissing,
  type RedisServer,
  redisMissing,
  startPostgres,
  startRedis,
} from '../support/real-servers.js';
import { runCliJson, type ServeProcess, spawnServe, stopProcess } from '../support/tollgate-process.js';

/**
 * Two `tollgate serve` processes on one PostgreSQL and one Redis: an account's limit holds across
 * both, whichever instance each request reaches, and a tier set with the CLI applies on both.
 */
const skip = postgresMissing() ?? redisMissing();
if (skip) console.warn(`Skipping the two-instance rate limit test: ${skip}`);

describe.skipIf(skip)('rate limits across two instances', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let upstream: FakeUpstream;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const instances: ServeProcess[] = [];

  beforeAll(async () => {
    [postgres, redis, upstream] = await Promise.all([startPostgres(), startRedis(), startFakeUpstream()]);
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-limits-cluster-'));
    writeFileSync(
      path.join(dir, 'tollgate.yaml'),
      configYaml(
        upstream.url,
        '',
        'openai-compatible',
        `
cluster:
  instances: 2
tiers:
  - id: team
    requests_per_minute: 12
    concurrent_requests: 50
`,
      ),
    );
    env = {
      PATH: process.env.PATH,
      TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
      TOLLGATE_DATABASE_URL: await postgres.createDatabase(),
      TOLLGATE_REDIS_URL: redis.url,
      TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
      PORT: '0',
      HOST: '127.0.0.1',
    };
    // One after the other: both would migrate the same empty database at once otherwise.
    instances.push(await spawnServe(env, dir));
    instances.push(await spawnServe(env, dir));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => stopProcess(i.child)));
    await Promise.all([postgres?.stop(), redis?.stop(), upstream?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function chat(instance: ServeProcess, key: string) {
    const response = await fetch(`${instance.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flash', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    await response.arrayBuffer();
    return { status: response.status, limit: response.headers.get('x-ratelimit-limit-requests') };
  }

  it('admits the tier limit and no more of 30 requests spread over both instances', async () => {
    const account = await runCliJson<{ id: string }>(
      ['accounts', 'create', '--email', 'team@example.com'],
      env,
      dir,
    );
    await runCliJson(['credits', 'add', account.id, '--usd', '10'], env, dir);
    const { key } = await runCliJson<{ key: string }>(
      ['keys', 'create', account.id, '--name', 'k'],
      env,
      dir,
    );
    const tiered = await runCliJson<{ tier: string }>(['accounts', 'set-tier', account.id, 'team'], env, dir);
    expect(tiered.tier).toBe('team');

    // The change reaches both instances through Redis within a second.
    const started = Date.now();
    for (const instance of instances) {
      const deadline = Date.now() + 5_000;
      while ((await chat(instance, key)).limit !== '12' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Those two probes took 2 of the 12 (plus any untiered probe before the change landed, uncounted).
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(instances[i % 2]!, key)));
    const admitted = answers.filter((a) => a.status === 200).length;
    // 12 a minute refills one every 5 s: on a slow machine the burst may see one come back.
    const refilled = Math.floor((Date.now() - started) / 5_000);
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + refilled);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(30 - admitted);
    expect(new Set(answers.map((a) => a.limit))).toEqual(new Set(['12']));
  }, 60_000);
});
