import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openClusterLinks } from '../../src/cluster/cluster-links.js';
import { PgNotifyChangeFeed } from '../../src/cluster/pg-notify-change-feed.js';
import { RedisChangeFeed } from '../../src/cluster/redis-change-feed.js';
import { HmacKeyHasher } from '../../src/crypto/hmac-key-hasher.js';
import { cryptoRandom, newId, systemClock } from '../../src/crypto/system.js';
import { blockListAllowlists } from '../../src/net/ip-allowlist.js';
import type { ChangeFeed } from '../../src/ports/change-feed.js';
import { InMemoryMetrics } from '../../src/ports/metrics.js';
import { connectRedis, type RedisConnection } from '../../src/redis/connect.js';
import { reportRedisHealth } from '../../src/redis/health-report.js';
import { ApiKeyService } from '../../src/services/api-keys.js';
import { ChangeAnnouncer } from '../../src/services/change-announcer.js';
import { KyselyAccountStore } from '../../src/store/kysely-accounts.js';
import { KyselyAuditLog } from '../../src/store/kysely-audit.js';
import { KyselyKeyStore } from '../../src/store/kysely-keys.js';
import { type OpenPostgres, openPostgres } from '../../src/store/open-database.js';
import { PostgresKeyActivity } from '../../src/store/postgres-key-activity.js';
import { BIN } from '../support/cli-server.js';
import { configYaml, TEST_KEY_SECRET } from '../support/harness.js';
import {
  freePort,
  type PostgresServer,
  postgresMissing,
  type RedisServer,
  redisMissing,
  startPostgres,
  startRedis,
} from '../support/real-servers.js';

/**
 * Instances on one PostgreSQL database, as the server wires them: credentials cached for a minute
 * behind a change feed. A revoked key that another instance stops accepting within a second can
 * only have been forgotten through the feed (or, with the feed down, its half-second emptying).
 */

const skip = postgresMissing() ?? redisMissing();
if (skip) console.warn(`Skipping the cross-instance change tests: ${skip}`);

const run = promisify(execFile);
const hasher = new HmacKeyHasher(TEST_KEY_SECRET);
const id = (prefix: string) => newId(prefix);
const CACHE_MS = 60_000;

interface Instance {
  readonly database: OpenPostgres;
  readonly keyActivity: PostgresKeyActivity;
  readonly feed: ChangeFeed;
  readonly keys: ApiKeyService;
}

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

function capture(lines: LogLine[]) {
  return {
    info: (_: Record<string, unknown>, message: string) => lines.push({ level: 'info', message }),
    warn: (_: Record<string, unknown>, message: string) => lines.push({ level: 'warn', message }),
    error: (_: Record<string, unknown>, message: string) => lines.push({ level: 'error', message }),
  };
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(skip)('instances sharing one PostgreSQL database', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let url: string;
  let dir: string;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    url = await postgres.createDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-feed-'));
    writeFileSync(path.join(dir, 'tollgate.yaml'), configYaml('http://127.0.0.1:9/v1'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    await Promise.all([postgres?.stop(), redis?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function instance(feedOf: (instanceId: string) => ChangeFeed): Promise<Instance> {
    const database = await openPostgres(url, 2);
    const keyActivity = new PostgresKeyActivity(database.pg, blockListAllowlists, { cacheMs: CACHE_MS });
    const feed = feedOf(newId('inst'));
    const announcer = new ChangeAnnouncer(feed, [keyActivity]);
    const keys = new ApiKeyService(
      'llmbase',
      new KyselyAccountStore(database.db),
      new KyselyKeyStore(database.db),
      hasher,
      cryptoRandom,
      systemClock,
      id,
      blockListAllowlists,
      new KyselyAuditLog(database.db, () => Date.now(), id),
      (change) => announcer.announce(change),
    );
    closers.push(async () => {
      await feed.close();
      await database.close();
    });
    return { database, keyActivity, feed, keys };
  }

  function redisConnection(): RedisConnection {
    const connection = connectRedis(redis.url);
    closers.push(() => connection.close());
    return connection;
  }

  const overRedis = (connection: RedisConnection) => (instanceId: string) =>
    new RedisChangeFeed(connection, instanceId, capture([]));
  const overNotify = () => (instanceId: string) => new PgNotifyChangeFeed(url, instanceId, capture([]));

  /** The feed as `tollgate serve` opens it on PostgreSQL with Redis. */
  const asServed = (instanceId: string) => {
    const links = openClusterLinks({
      redisUrl: redis.url,
      postgresUrl: url,
      instanceId,
      role: 'server',
      log: capture([]),
      metrics: undefined,
    });
    closers.push(() => links.close());
    return links.feed;
  };

  const live = (feed: ChangeFeed) =>
    poll('the feed is live', async () =>
      (feed as RedisChangeFeed | PgNotifyChangeFeed).isLive() ? true : undefined,
    );

  /** A key, and `instance`'s cache holding it as valid. */
  async function cachedKey(at: Instance): Promise<{ keyId: string; hash: string }> {
    const accountId = id('acct');
    await new KyselyAccountStore(at.database.db).create({
      id: accountId,
      email: `${accountId}@example.com`,
      now: Date.now(),
    });
    const created = await at.keys.create(accountId, 'feed test', 'inference');
    if (!created.ok) throw new Error(created.error);
    const hash = hasher.hash(created.value.key);
    expect((await at.keyActivity.findCredential(hash))?.revoked).toBe(false);
    return { keyId: created.value.record.id, hash };
  }

  /** How long after `since` the instance refuses the key. */
  const refusedAfter = (at: Instance, hash: string, since: number) =>
    poll('the revocation', async () =>
      (await at.keyActivity.findCredential(hash))?.revoked ? Date.now() - since : undefined,
    );

  async function revokedAt(database: OpenPostgres, keyId: string): Promise<number> {
    const row = await database.db
      .selectFrom('api_keys')
      .select('revoked_at')
      .where('id', '=', keyId)
      .executeTakeFirstOrThrow();
    return Number(row.revoked_at);
  }

  function cli(args: string[], env: NodeJS.ProcessEnv) {
    return run('node', [BIN, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        TOLLGATE_CONFIG: path.join(dir, 'tollgate.yaml'),
        TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
        TOLLGATE_DATABASE_URL: url,
        ...env,
      },
    });
  }

  it('a key revoked through one instance is refused by another within a second (Redis)', async () => {
    const a = await instance(overRedis(redisConnection()));
    const b = await instance(overRedis(redisConnection()));
    await Promise.all([live(a.feed), live(b.feed)]);
    const { keyId, hash } = await cachedKey(b);
    const started = Date.now();
    expect(await a.keys.revoke(keyId)).toBe('revoked');
    expect(await refusedAfter(b, hash, started)).toBeLessThan(1_000);
  });

  it('a key revoked by the CLI is refused by a running instance within a second (Redis)', async () => {
    const b = await instance(overRedis(redisConnection()));
    await live(b.feed);
    const { keyId, hash } = await cachedKey(b);
    await cli(['keys', 'revoke', keyId], { TOLLGATE_REDIS_URL: redis.url });
    const at = await revokedAt(b.database, keyId);
    expect(await refusedAfter(b, hash, at)).toBeLessThan(1_000);
  });

  it('a key revoked by a CLI that cannot reach Redis reaches an instance that can within a second (NOTIFY)', async () => {
    const b = await instance(asServed);
    await live(b.feed);
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    for (let trial = 0; trial < 3; trial++) {
      const { keyId, hash } = await cachedKey(b);
      // Watched while the CLI runs: what counts is when the instance learns, not when the CLI exits.
      const refused = poll(
        'the revocation',
        async () => ((await b.keyActivity.findCredential(hash))?.revoked ? Date.now() : undefined),
        20_000,
      );
      const { stderr } = await cli(['keys', 'revoke', keyId], { TOLLGATE_REDIS_URL: nowhere });
      expect(stderr).not.toMatch(/learn of these changes when their caches expire/);
      expect((await refused) - (await revokedAt(b.database, keyId))).toBeLessThan(1_000);
    }
  });

  it('without Redis, a key revoked by the CLI reaches the one instance through NOTIFY within a second', async () => {
    const b = await instance(overNotify());
    await live(b.feed);
    const { keyId, hash } = await cachedKey(b);
    await cli(['keys', 'revoke', keyId], {});
    const at = await revokedAt(b.database, keyId);
    expect(await refusedAfter(b, hash, at)).toBeLessThan(1_000);
  });

  it('with Redis down, caches last at most a second, the log and metrics say so once, and all recovers when Redis returns', async () => {
    const connection = redisConnection();
    const lines: LogLine[] = [];
    const metrics = new InMemoryMetrics();
    reportRedisHealth(connection, capture(lines), metrics);
    const b = await instance(overRedis(connection));
    await live(b.feed);
    expect(metrics.dependencies.get('redis')).toBe(true);
    lines.length = 0;

    // Redis up: a change nobody announces (a direct write) stays unseen, so the cache is in use.
    const unannounced = await cachedKey(b);
    await b.database.db
      .updateTable('api_keys')
      .set({ revoked_at: Date.now() })
      .where('id', '=', unannounced.keyId)
      .execute();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await b.keyActivity.findCredential(unannounced.hash))?.revoked).toBe(false);

    // Redis down: the same kind of change is seen within a second, with no feed at all.
    const during = await cachedKey(b);
    await redis.kill();
    await poll('Redis down', async () => (metrics.dependencies.get('redis') === false ? true : undefined));
    expect((await b.keyActivity.findCredential(unannounced.hash))?.revoked).toBe(true);
    for (let trial = 0; trial < 3; trial++) {
      const key = trial === 0 ? during : await cachedKey(b);
      const changed = Date.now();
      await b.database.db
        .updateTable('api_keys')
        .set({ revoked_at: changed })
        .where('id', '=', key.keyId)
        .execute();
      expect(await refusedAfter(b, key.hash, changed)).toBeLessThan(1_000);
    }
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/Redis is unreachable.*1 second/);

    // Redis back: the instance says so, and the feed carries changes again.
    await redis.restart();
    await live(b.feed);
    expect(metrics.dependencies.get('redis')).toBe(true);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([
      expect.stringMatching(/Redis answers/),
    ]);
    const a = await instance(overRedis(redisConnection()));
    await live(a.feed);
    const after = await cachedKey(b);
    const started = Date.now();
    await a.keys.revoke(after.keyId);
    expect(await refusedAfter(b, after.hash, started)).toBeLessThan(1_000);
  });
});
