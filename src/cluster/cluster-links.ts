import type { ChangeFeed } from '../ports/change-feed.js';
import { noChangeFeed } from '../ports/change-feed.js';
import type { Metrics } from '../ports/metrics.js';
import { connectRedis, type RedisConnection } from '../redis/connect.js';
import { reportRedisHealth } from '../redis/health-report.js';
import { FallbackChangeFeed } from './fallback-change-feed.js';
import { type NotifyPool, PgNotifyChangeFeed } from './pg-notify-change-feed.js';
import { RedisChangeFeed } from './redis-change-feed.js';

export interface ClusterLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** What ties one process to the others sharing its database. */
export interface ClusterLinks {
  /** Shared with rate limits; undefined without Redis. */
  readonly redis: RedisConnection | undefined;
  readonly feed: ChangeFeed;
  close(): Promise<void>;
}

/**
 * On PostgreSQL, changes travel over Redis when it is configured (every instance and the CLI meet
 * there), and over LISTEN/NOTIFY when a process cannot reach Redis (fallback-change-feed.ts); without
 * Redis, over LISTEN/NOTIFY alone, which serves one instance and the CLI. On SQLite, over nothing:
 * DataVersionWatch sees the CLI's commits and a server lock keeps the database to one instance, so
 * Redis, if configured, serves rate limits only (and its outage does not empty the caches).
 */
export function openClusterLinks(options: {
  readonly redisUrl: string | undefined;
  /** The database's URL when it is PostgreSQL. */
  readonly postgresUrl: string | undefined;
  /** The process's PostgreSQL pool, to send NOTIFY without opening a connection. */
  readonly postgresPool?: NotifyPool | undefined;
  readonly instanceId: string;
  /** A server reports Redis's health; the CLI only publishes its changes. */
  readonly role: 'server' | 'cli';
  readonly log: ClusterLog;
  readonly metrics: Metrics | undefined;
}): ClusterLinks {
  if (options.redisUrl) {
    const redis = connectRedis(options.redisUrl, { name: `tollgate-${options.instanceId}` });
    if (options.role === 'server' && options.metrics) reportRedisHealth(redis, options.log, options.metrics);
    const feed = options.postgresUrl
      ? new FallbackChangeFeed(
          new RedisChangeFeed(redis, options.instanceId, options.log),
          notifyFeed(options.postgresUrl, options),
        )
      : noChangeFeed;
    return {
      redis,
      feed,
      async close() {
        await feed.close();
        await redis.close();
      },
    };
  }
  if (options.postgresUrl) {
    const feed = notifyFeed(options.postgresUrl, options);
    return { redis: undefined, feed, close: () => feed.close() };
  }
  return { redis: undefined, feed: noChangeFeed, close: async () => {} };
}

function notifyFeed(
  url: string,
  options: Pick<Parameters<typeof openClusterLinks>[0], 'instanceId' | 'log' | 'postgresPool'>,
): PgNotifyChangeFeed {
  return new PgNotifyChangeFeed(url, options.instanceId, options.log, options.postgresPool);
}
