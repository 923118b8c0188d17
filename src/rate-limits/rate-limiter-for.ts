import type { Config } from '../config/load-config.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Clock } from '../ports/system.js';
import type { RedisConnection } from '../redis/connect.js';
import { RedisRateLimiter } from '../redis/redis-rate-limiter.js';
import { type FailoverLog, FailoverRateLimiter } from './failover-rate-limiter.js';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.js';
import { leaseLifetimeMs } from './lease-lifetime.js';

/** In memory for one instance without Redis; in Redis, with the per-instance fallback, otherwise. */
export function rateLimiterFor(options: {
  readonly config: Pick<Config, 'providers' | 'routing' | 'cluster'>;
  readonly redis: RedisConnection | undefined;
  readonly clock: Clock;
  readonly log: FailoverLog;
}): RateLimiter {
  const leaseMs = leaseLifetimeMs(options.config);
  const local = new InMemoryRateLimiter(options.clock, leaseMs);
  if (!options.redis) return local;
  return new FailoverRateLimiter(
    new RedisRateLimiter(options.redis.commands, options.clock, leaseMs),
    local,
    options.redis,
    options.config.cluster.instances,
    options.log,
  );
}
