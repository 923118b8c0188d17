import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RateCounters } from '../../../ports/users.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The route a child store counts for: the plugin passes its merged options, the route under `routeInfo`. */
function scopeOf(options: unknown): string {
  const route = (options as { routeInfo?: { method?: string | string[]; url?: string } } | undefined)
    ?.routeInfo;
  const method = route?.method;
  return `${Array.isArray(method) ? method.join(',') : (method ?? '')} ${route?.url ?? ''}`;
}

/**
 * @fastify/rate-limit's store interface over the database's counters, so that every instance
 * counts the same requests. The plugin constructs the store itself: this builds its class.
 */
export function databaseRateLimitStore(counters: RateCounters, now: () => number): FastifyRateLimitStoreCtor {
  class DatabaseRateLimitStore implements FastifyRateLimitStore {
    private readonly scope: string;

    constructor(options?: unknown) {
      this.scope = scopeOf(options);
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      const at = now();
      counters.increment(`route:${this.scope}:${key}`, timeWindow, at).then(
        ({ count, resetsAt }) => callback(null, { current: count, ttl: Math.max(0, resetsAt - at) }),
        (error: Error) => callback(error),
      );
    }

    read(key: string, callback: Callback): void {
      const at = now();
      counters.read(`route:${this.scope}:${key}`, at).then(
        ({ count, resetsAt }) => callback(null, { current: count, ttl: Math.max(0, resetsAt - at) }),
        (error: Error) => callback(error),
      );
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      return new DatabaseRateLimitStore(routeOptions);
    }
  }
  return DatabaseRateLimitStore as unknown as FastifyRateLimitStoreCtor;
}
