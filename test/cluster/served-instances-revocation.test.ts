import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
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
import {
  cliRevoker,
  dashboardRevoker,
  measureRevocationLatency,
  type RevocationLatency,
} from '../support/revocation-latency.js';
import { withServicesBesideServer } from '../support/services-beside-server.js';
import {
  runCli,
  runCliJson,
  type ServeProcess,
  spawnServe,
  stopProcess,
} from '../support/tollgate-process.js';

/**
 * Real `tollgate serve` processes on one PostgreSQL database: how long an instance keeps accepting
 * a key revoked elsewhere, over many trials. Issue 16 asks for under a second, worst case.
 */

const skip = postgresMissing() ?? redisMissing();
if (skip) console.warn(`Skipping the served instances' revocation tests: ${skip}`);

const PASSWORD = ['revocation', 'latency', 'test', 'passphrase'].join(' ');
/** The CLI takes a second or more per run on this machine: fewer trials where it revokes. */
const CLI_TRIALS = 5;
const TRIALS = 10;

describe.skipIf(skip)('revocation across served instances on PostgreSQL', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let upstream: FakeUpstream;
  let dir: string;
  let databaseUrl: string;
  const servers: ServeProcess[] = [];

  beforeAll(async () => {
    [postgres, redis, upstream] = await Promise.all([startPostgres(), startRedis(), startFakeUpstream()]);
    databaseUrl = await postgres.createDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-instances-'));
    writeFileSync(path.join(dir, 'tollgate.yaml'), configYaml(upstream.url));
  });
  afterAll(async () => {
    for (const server of servers) await stopProcess(server.child);
    await Promise.all([postgres?.stop(), redis?.stop(), upstream?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    TOLLGATE_CONFIG: path.join(dir, 'tollgate.yaml'),
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    TOLLGATE_DATABASE_URL: databaseUrl,
    PORT: '0',
    ...extra,
  });

  async function serve(extra: NodeJS.ProcessEnv): Promise<ServeProcess> {
    const server = await spawnServe(env(extra), dir);
    servers.push(server);
    return server;
  }

  async function fundedAccount(): Promise<string> {
    const account = await runCliJson<{ id: string }>(
      ['accounts', 'create', '--email', `latency-${Date.now()}@example.com`],
      env(),
      dir,
    );
    await runCliJson(['credits', 'add', account.id, '--usd', '5'], env(), dir);
    return account.id;
  }

  /** A key made beside the servers, as the CLI would but without a process per trial. */
  const keyMaker = (accountId: string) => async () => {
    const config = loadConfig(path.join(dir, 'tollgate.yaml'), env());
    const created = await withServicesBesideServer(config, (s) =>
      s.keys.create(accountId, 'revocation latency', 'inference'),
    );
    if (!created.ok) throw new Error(created.error);
    return { key: created.value.key, keyId: created.value.record.id };
  };

  /** When the database recorded the revocation: the CLI takes a while to exit after committing. */
  async function revokedAt(keyId: string): Promise<number> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const result = await client.query<{ revoked_at: string }>(
        'SELECT revoked_at FROM api_keys WHERE id = $1',
        [keyId],
      );
      return Number(result.rows[0]?.revoked_at);
    } finally {
      await client.end();
    }
  }

  const report = (what: string, result: RevocationLatency) =>
    console.info(
      `${what}: worst ${result.worstMs} ms, p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms over ${result.trials} trials`,
      result.histogram,
    );

  it('one instance without Redis refuses a key the CLI revoked within a second (NOTIFY)', async () => {
    const server = await serve({});
    const accountId = await fundedAccount();
    const result = await measureRevocationLatency({
      observerUrl: server.baseUrl,
      newKey: keyMaker(accountId),
      revoke: cliRevoker(env(), dir),
      effectiveAt: revokedAt,
      trials: CLI_TRIALS,
    });
    report('CLI → one instance over NOTIFY', result);
    expect(result.worstMs).toBeLessThan(1_000);
    await stopProcess(server.child);
  });

  it('instance B refuses a key revoked through the dashboard of instance A within a second (Redis)', async () => {
    const cluster = { TOLLGATE_REDIS_URL: redis.url };
    const a = await serve({ ...cluster, TOLLGATE_INSTANCE_ID: 'a' });
    const b = await serve({ ...cluster, TOLLGATE_INSTANCE_ID: 'b' });
    const accountId = await fundedAccount();
    const email = `owner-${Date.now()}@example.com`;
    const created = await runCli(
      ['users', 'create', '--email', email, '--account', accountId, '--role', 'owner', '--password-stdin'],
      env(),
      dir,
      `${PASSWORD}\n`,
    );
    expect(created.code, created.stderr).toBe(0);
    const throughA = await dashboardRevoker({ baseUrl: a.baseUrl, email, password: PASSWORD, accountId });
    const result = await measureRevocationLatency({
      observerUrl: b.baseUrl,
      newKey: keyMaker(accountId),
      revoke: throughA,
      effectiveAt: revokedAt,
      trials: TRIALS,
    });
    report('dashboard of A → B over Redis', result);
    expect(result.worstMs).toBeLessThan(1_000);

    await redis.kill();
    const down = await measureRevocationLatency({
      observerUrl: b.baseUrl,
      newKey: keyMaker(accountId),
      revoke: throughA,
      effectiveAt: revokedAt,
      trials: TRIALS,
    });
    report('dashboard of A → B with Redis down', down);
    expect(down.worstMs).toBeLessThan(1_000);
    await redis.restart();
  });
});
